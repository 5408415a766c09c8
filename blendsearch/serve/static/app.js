// blendsearch web page: plain JS over the /v1 API (no build step, no CDN).
"use strict";

const CHANNEL_LABELS = { bm25: "BM25", metadata: "metadata", vector_image: "image vector", vector_text: "text vector" };
const PAGE_SIZE = 12;
const state = {
  fields: null, weights: {}, fusion: "minmax", image: null, imageName: "", filters: {}, offset: 0,
  similarTo: null, last: null, seq: 0,
};
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = (data && data.error) || { type: "http_error", message: response.statusText };
    throw Object.assign(new Error(error.message), { type: error.type, status: response.status });
  }
  return data;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// -- controls ---------------------------------------------------------------------------------------
function buildWeights(fields) {
  const box = $("#weights");
  box.textContent = "";
  for (const channel of fields.channels) {
    state.weights[channel] = fields.weights[channel] ?? 0;
    const row = el("div", { class: "weight" });
    const id = `w-${channel}`;
    const label = el("label", { for: id });
    label.append(el("span", { class: "swatch", style: `background: var(--${channel})` }), CHANNEL_LABELS[channel] || channel);
    const input = el("input", {
      id, type: "range", min: "0", max: "3", step: "0.05", value: String(state.weights[channel]),
      "data-channel": channel, "aria-label": `${CHANNEL_LABELS[channel] || channel} weight`,
    });
    const out = el("output", { for: id }, Number(state.weights[channel]).toFixed(2));
    input.addEventListener("input", () => {
      state.weights[channel] = Number(input.value);
      out.textContent = Number(input.value).toFixed(2);
      requery();
    });
    row.append(label, input, out);
    box.append(row);
  }
  const fusion = fields.combination === "rrf" ? "rrf" : fields.normalisation === "zscore" ? "zscore" : "minmax";
  state.fusion = fusion;
  const radio = document.querySelector(`input[name=fusion][value=${fusion}]`);
  if (radio) radio.checked = true;
}

function renderFacets(facets) {
  const box = $("#facets");
  box.textContent = "";
  const names = Object.keys(facets || {});
  if (!names.length) { box.append(el("p", { class: "muted" }, "No filters for this search.")); return; }
  for (const field of names) {
    const values = Object.entries(facets[field]);
    const chosen = state.filters[field] || [];
    for (const value of chosen) if (!facets[field][value]) values.push([value, 0]);
    if (!values.length) continue;
    const group = el("fieldset", { class: "facet" });
    group.append(el("h3", {}, field));
    for (const [value, count] of values.slice(0, 12)) {
      const label = el("label");
      const box2 = el("input", { type: "checkbox", value, "data-field": field });
      box2.checked = chosen.includes(value);
      box2.addEventListener("change", () => {
        const list = new Set(state.filters[field] || []);
        box2.checked ? list.add(value) : list.delete(value);
        state.filters[field] = [...list];
        state.offset = 0;
        search();
      });
      label.append(box2, ` ${value} `, el("span", { class: "count" }, `(${count})`));
      group.append(label);
    }
    box.append(group);
  }
}

function queryOptions() {
  const filters = [];
  for (const [field, values] of Object.entries(state.filters)) {
    if (values.length) filters.push({ kind: "terms", field, values });
  }
  const options = { k: PAGE_SIZE, offset: state.offset, filters, weights: { ...state.weights }, explain: true };
  if (state.fusion === "rrf") options.combination = "rrf";
  else { options.combination = "weighted_mean"; options.normalisation = state.fusion; }
  const minp = $("#min-probability").value;
  if (minp !== "") options.min_probability = Math.min(1, Math.max(0, Number(minp)));
  return options;
}

// -- searching --------------------------------------------------------------------------------------
async function search() {
  const text = $("#q").value.trim();
  const seq = ++state.seq;
  if (!text && !state.image && !state.similarTo) {
    setStatus("Type a query or drop a photo.");
    $("#results").textContent = "";
    $("#pager").hidden = true;
    return;
  }
  setStatus("Searching…");
  try {
    let result;
    if (state.similarTo) {
      result = await api(`/v1/documents/${encodeURIComponent(state.similarTo)}/similar`, queryOptions());
    } else {
      const body = { ...queryOptions(), facets: state.fields ? state.fields.facets : [] };
      if (text) body.text = text;
      if (state.image) body.image_base64 = state.image;
      result = await api("/v1/search", body);
    }
    if (seq !== state.seq) return; // a newer query is on its way
    state.last = result;
    render(result, text);
  } catch (error) {
    if (seq !== state.seq) return;
    $("#results").textContent = "";
    $("#pager").hidden = true;
    setStatus(`Error (${error.type || "error"}): ${error.message}`);
  }
}
const requery = debounce(() => { state.offset = 0; search(); }, 200);

function setStatus(message, notices = []) {
  const box = $("#status");
  box.textContent = message;
  for (const notice of notices) box.append(el("span", { class: "notice" }, `note: ${notice}`));
}

function render(result, text) {
  const grid = $("#results");
  grid.textContent = "";
  if (!state.similarTo) renderFacets(result.facets);
  const what = state.similarTo ? `similar to ${state.similarTo}` : [text && `“${text}”`, state.image && `photo ${state.imageName}`].filter(Boolean).join(" + ");
  if (result.no_good_match || !result.hits.length) {
    const box = el("div", { class: "nomatch", id: "no-match", role: "alert" });
    box.append(el("strong", {}, "No good match. "),
      result.no_good_match ? "Even the best result is below the minimum probability you set." : "Nothing matched this search and its filters.");
    grid.append(box);
    setStatus(`0 results for ${what}`, result.notices);
    $("#pager").hidden = true;
    return;
  }
  const first = state.offset + 1;
  const last = state.offset + result.hits.length;
  setStatus(`${first}–${last} of ${result.total_candidates} for ${what} · ${result.channels.join(", ")}`, result.notices);
  result.hits.forEach((hit, i) => grid.append(card(hit, state.offset + i + 1, text)));
  const pages = Math.ceil(result.total_candidates / PAGE_SIZE);
  const page = Math.floor(state.offset / PAGE_SIZE) + 1;
  $("#pager").hidden = pages <= 1;
  $("#page-info").textContent = `page ${page} of ${pages}`;
  $("#prev").disabled = page <= 1;
  $("#next").disabled = page >= pages;
}

function card(hit, rank, text) {
  const node = $("#card").content.firstElementChild.cloneNode(true);
  const doc = hit.document || { title: hit.id, attributes: {} };
  node.dataset.id = hit.id;
  const img = node.querySelector("img");
  const photo = node.querySelector(".photo");
  if (doc.image) {
    img.src = `/v1/documents/${encodeURIComponent(hit.id)}/image`;
    img.alt = doc.title || hit.id;
    img.addEventListener("error", () => { img.remove(); photo.classList.add("missing"); });
  } else { img.remove(); photo.classList.add("missing"); }
  node.querySelector(".title").textContent = `${rank}. ${doc.title || hit.id}`;
  const price = doc.attributes && doc.attributes.price;
  node.querySelector(".price").textContent = price !== undefined ? `€${price}` : "";
  for (const colour of hit.colours || []) node.querySelector(".colours").append(el("span", { class: "chip colour" }, colour));
  for (const tag of hit.tags || []) node.querySelector(".tags").append(el("span", { class: "chip" }, tag));
  const bar = node.querySelector(".bar");
  const parts = [];
  const total = Object.values(hit.channels || {}).reduce((s, c) => s + Math.max(0, c.contribution), 0) || 1;
  for (const [channel, score] of Object.entries(hit.channels || {})) {
    if (score.contribution <= 0) continue;
    const label = `${CHANNEL_LABELS[channel] || channel} +${score.contribution.toFixed(3)}`;
    parts.push(label);
    bar.append(el("span", { style: `width:${(100 * score.contribution / total).toFixed(1)}%;background:var(--${channel})`, title: label, "data-channel": channel }));
  }
  bar.setAttribute("aria-label", `score parts: ${parts.join(", ") || "none"}`);
  node.querySelector(".score").textContent = `score ${hit.score.toFixed(3)}`;
  node.querySelector(".prob").textContent = hit.probability == null ? "· p –" : `· p ${hit.probability.toFixed(2)}`;
  const why = node.querySelector(".why");
  const panel = node.querySelector(".why-panel");
  why.addEventListener("click", () => toggleWhy(hit, why, panel, text));
  node.querySelector(".similar").addEventListener("click", () => {
    state.similarTo = hit.id;
    state.offset = 0;
    const banner = $("#similar-banner");
    banner.hidden = false;
    banner.textContent = "";
    const back = el("button", { type: "button", id: "back" }, "← back to search");
    back.addEventListener("click", () => { state.similarTo = null; banner.hidden = true; state.offset = 0; search(); $("#q").focus(); });
    banner.append(`Products that look like ${doc.title || hit.id}`, back);
    search().then(() => back.focus());
  });
  return node;
}

// -- the "why" panel: the debug tool's view of one hit -------------------------------------------------
async function toggleWhy(hit, button, panel, text) {
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open));
  panel.hidden = open;
  if (open) return;
  panel.textContent = "";
  panel.append(channelTable(hit));
  const body = { top: Math.min(100, state.offset + PAGE_SIZE) };
  if (text && !state.similarTo) body.text = text;
  if (state.image && !state.similarTo) body.image_base64 = state.image;
  if (!body.text && !body.image_base64) return;
  const loading = el("p", { class: "muted" }, "Asking the score debugger…");
  panel.append(loading);
  try {
    const report = await api("/v1/debug-scores", body);
    loading.remove();
    const rows = report.candidates.filter((c) => c.id === hit.id);
    for (const row of rows) {
      const chain = el("p", { class: "chain" });
      const fmt = (v, d = 3) => (v == null ? "–" : Number(v).toFixed(d));
      chain.textContent = `${row.query} query: cosine ${fmt(row.cosine)} → logit ${fmt(row.logit)} → sigmoid ${fmt(row.sigmoid)} → calibrated ${fmt(row.probability)}`;
      panel.append(chain);
    }
    if (!rows.length) panel.append(el("p", { class: "muted" }, "This hit is not among the debugger's top hits for the query."));
    if (report.model) panel.append(el("p", { class: "muted" }, `model ${report.model} (${report.loss || "?"} loss, scale ${report.logit_scale}, bias ${report.logit_bias})`));
    for (const warning of report.warnings) panel.append(el("p", { class: "warn" }, `⚠ ${warning}`));
    if (report.verdict) panel.append(el("p", {}, report.verdict));
  } catch (error) {
    loading.textContent = `Score debugger: ${error.message}`;
  }
}

function channelTable(hit) {
  const table = el("table");
  const head = el("tr");
  for (const h of ["channel", "raw", "norm", "rank", "+score"]) head.append(el("th", {}, h));
  table.append(head);
  for (const [channel, s] of Object.entries(hit.channels || {})) {
    const row = el("tr");
    const fmt = (v) => (v == null ? "–" : Number(v).toFixed(3));
    row.append(el("td", {}, CHANNEL_LABELS[channel] || channel), el("td", {}, fmt(s.raw)), el("td", {}, fmt(s.normalised)),
      el("td", {}, s.rank == null ? (s.unseen ? "unseen" : "–") : String(s.rank)), el("td", {}, fmt(s.contribution)));
    table.append(row);
  }
  return table;
}

// -- image query ---------------------------------------------------------------------------------------
function setImage(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    state.image = String(reader.result).split(",", 2)[1];
    state.imageName = file.name;
    $("#drop-text").textContent = `photo: ${file.name}`;
    $("#drop").classList.add("has-image");
    $("#clear-image").hidden = false;
    state.similarTo = null;
    $("#similar-banner").hidden = true;
    state.offset = 0;
    search();
  };
  reader.readAsDataURL(file);
}

function clearImage() {
  state.image = null;
  state.imageName = "";
  $("#image").value = "";
  $("#drop-text").textContent = "+ photo";
  $("#drop").classList.remove("has-image");
  $("#clear-image").hidden = true;
  state.offset = 0;
  search();
}

// -- wiring -------------------------------------------------------------------------------------------
async function init() {
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.similarTo = null;
    $("#similar-banner").hidden = true;
    state.offset = 0;
    search();
  });
  $("#image").addEventListener("change", (event) => setImage(event.target.files[0]));
  $("#clear-image").addEventListener("click", clearImage);
  const drop = $("#drop");
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); $("#image").click(); }
  });
  for (const name of ["dragenter", "dragover"]) drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.remove("over"); });
  drop.addEventListener("drop", (event) => setImage(event.dataTransfer.files[0]));
  for (const radio of document.querySelectorAll("input[name=fusion]")) {
    radio.addEventListener("change", () => { state.fusion = radio.value; requery(); });
  }
  $("#min-probability").addEventListener("input", requery);
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); search(); });
  $("#next").addEventListener("click", () => { state.offset += PAGE_SIZE; search(); });
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && document.activeElement.tagName !== "INPUT") { event.preventDefault(); $("#q").focus(); }
    if (event.key === "Escape") {
      for (const button of document.querySelectorAll(".why[aria-expanded=true]")) button.click();
    }
  });
  if (window.matchMedia("(max-width: 700px)").matches) {
    for (const details of document.querySelectorAll(".side details")) details.open = false; // results first
  }
  try {
    state.fields = await api("/v1/fields");
    buildWeights(state.fields);
  } catch (error) {
    setStatus(`Cannot read the index's fields: ${error.message}`);
  }
  const q = new URLSearchParams(location.search).get("q");
  if (q) { $("#q").value = q; search(); } else { setStatus("Type a query or drop a photo."); }
  $("#q").focus();
}

init();
