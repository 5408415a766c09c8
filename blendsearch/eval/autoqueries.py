"""Judged queries generated from a catalogue for ``calibrate --auto`` and ``tune --auto``, worded the ways
shoppers write: no hand-judged queries needed.

Each query is built from one real SOURCE product (kept apart from the products an evaluation reports on:
the catalogue's ``train`` split, or a seeded fraction of ids that evaluation must exclude): its kind
(the primary field) plus colour, gender and/or occasion, in the dev set's mix of shapes. It is judged by
the project's rule (:mod:`blendsearch.eval.judgements`): gain 2 when every ``match`` key holds.

Wordings (``kinds`` of each query):

- ``catalogue``: the catalogue's own words ("men blue shirts"); ``order``: the same words shuffled, with
  or without connectors ("shirts for men in blue");
- ``synonym``: the kind named by a phrase from the packaged expansion synonyms that maps to it
  ("slacks" for trousers); ``shade``: the colour named by a shade from the packaged shade table
  ("crimson" for red);
- ``phrasing``: the shopper named as "for him", "ladies", ..., the occasion as "everyday", "office", ...;
- ``typo``: one character edit in the longest word; ``missing``: connectors and plural endings left out,
  as in terse searches ("shirt blue men");
- ``unknown``: the kind named by a made-up word ("blue kavotes for men"): a shopper's word that neither
  the catalogue nor the expansion tables know, so only the other words can match.

Synonyms and shades come from the expansion's packaged tables, NOT from the evaluation's own word lists
(:mod:`blendsearch.eval.wordlists`), so a fit on these queries is measured on the project's unlike-wording
test set without having seen its words (common phrasings such as "for him" overlap; the lists are not
copied). Words the expander knows are easier than a shopper's unknown ones: the ablation in
docs/calibration.md measures whether the fit transfers anyway.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from blendsearch.eval.judgements import Catalog, JudgedQuery, judge
from blendsearch.eval.queries import QUERY_SHAPES, QueryFields, typo_longest
from blendsearch.eval.wordlists import COLOUR_FAMILIES, GENDER_GROUPS, TYPE_NAMES, colour_family
from blendsearch.exceptions import CatalogError

if TYPE_CHECKING:
    from blendsearch.engine import Engine

__all__ = [
    "AUTO_CAVEAT",
    "AUTO_IDS_FILE",
    "AutoQueries",
    "CATALOGUE_WORDINGS",
    "MIXED_WORDINGS",
    "WORDINGS",
    "auto_queries",
    "auto_source_ids",
    "generate_auto_queries",
]

#: Every wording :func:`generate_auto_queries` knows.
WORDINGS = ("catalogue", "order", "synonym", "shade", "phrasing", "typo", "missing", "unknown")
#: The default mix (one drawn per query). ``unknown`` is left out: on the fashion ablation it made the
#: fit under-confident on catalogue wording (docs/calibration.md).
MIXED_WORDINGS = WORDINGS[:-1]
#: The catalogue's own words only (the ablation's baseline).
CATALOGUE_WORDINGS = ("catalogue",)

#: What ``calibrate --auto``'s held-out figures do not show: they are measured on generated queries like
#: the fitted ones. On the fashion test index the fit was off by ECE 0.03-0.05 on the dev queries, 0.04-0.09
#: on the unlike-wording set and 0.08-0.15 on a hand-written set (six seeds; docs/calibration.md).
AUTO_CAVEAT = (
    "calibrate --auto is measured on generated queries; on queries worded otherwise its probabilities were "
    "off by ECE 0.04-0.15 in the fashion benchmark (docs/calibration.md). Where a threshold must hold, "
    "fit --queries on judged queries of your own"
)

#: Where ``calibrate --auto`` records the held-out source ids of a catalogue without a split column.
AUTO_IDS_FILE = "auto-source-ids.txt"

#: Fewest matches in the index for a generated query to be used. Drawn product by product, a quarter of
#: the generated queries match only one or two indexed products (median 17 matches, against 52 for the
#: fashion dev queries, whose rule keeps queries with at least 3): fitted on those, the fused calibration
#: expected too few matches on ordinary queries (seed 0: dev ECE 0.058 -> 0.040 with this floor,
#: unlike-wording 0.044 -> 0.050; trained model, full test index; other seeds in docs/calibration.md).
MIN_RELEVANT = 3

#: Other names of the shopper and the occasion, keyed by folded catalogue values (generic shop words).
_GENDER_WORDS = {
    "men": ["for him", "gents", "for a man", "menswear"],
    "women": ["for her", "ladies", "for a woman", "womenswear"],
    "boys": ["for boys", "for a boy", "kids"],
    "girls": ["for girls", "for a girl", "kids"],
}
_USAGE_WORDS = {
    "casual": ["everyday", "weekend", "relaxed"],
    "formal": ["office", "business", "smart"],
    "sports": ["gym", "workout", "running"],
    "ethnic": ["traditional", "festive"],
    "party": ["evening", "night out"],
}
_PASSES = 4
_CONNECTORS = frozenset({"for", "in", "with", "a", "the"})


def auto_source_ids(
    catalog: Catalog,
    *,
    split: str = "train",
    split_field: str = "split",
    fraction: float = 0.2,
    seed: int = 0,
    exclude: Sequence[str] = (),
) -> tuple[list[str], str]:
    """The products auto queries are built from, and how they were chosen.

    The catalogue's ``split`` rows when it has them (an evaluation reads the other split); else a seeded
    ``fraction`` of the ids (outside ``exclude``), which an evaluation must leave out.
    """
    chosen = catalog.ids(split, split_field)
    if chosen:
        return chosen, f"the {len(chosen)} products with {split_field}={split}"
    if not 0 < fraction < 1:
        raise ValueError("fraction must be between 0 and 1")
    excluded = set(exclude)
    ids = [i for i in catalog.ids() if i not in excluded]
    count = max(1, int(round(len(ids) * fraction)))
    picked = np.random.default_rng(seed).choice(len(ids), size=min(count, len(ids)), replace=False)
    return sorted(ids[int(i)] for i in picked), f"a seeded {fraction:.0%} of the ids ({count} products)"


def _fold(value: object) -> str:
    return " ".join(str(value or "").split()).casefold()


def _table_lines(name: str) -> list[list[str]]:
    from importlib import resources

    text = (resources.files("blendsearch.expansion") / "data" / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def _synonyms() -> dict[str, list[str]]:
    """Folded catalogue phrase -> shopper phrases that expand to it (the packaged synonyms, reversed)."""
    out: dict[str, list[str]] = {}
    for (line,) in (row[:1] for row in _table_lines("synonyms.txt")):
        if "=>" in line:
            left, right = line.split("=>", 1)
            sources, targets = left.split(","), right.split(",")
            for target in targets:
                out.setdefault(_fold(target), []).extend(_fold(s) for s in sources if _fold(s))
        else:
            group = [_fold(p) for p in line.split(",") if _fold(p)]
            for phrase in group:
                out.setdefault(phrase, []).extend(p for p in group if p != phrase)
    return {key: sorted(set(values)) for key, values in out.items()}


@functools.lru_cache(maxsize=1)
def _shades() -> dict[str, list[str]]:
    """Folded colour name -> shade names the packaged shade table maps to it (by family or target)."""
    out: dict[str, list[str]] = {}
    for row in _table_lines("colour_shades.tsv"):
        shade, family, targets = (row + ["", ""])[:3]
        if shade == "shade":
            continue
        for name in [family, *targets.split(",")]:
            if _fold(name):
                out.setdefault(_fold(name), []).append(_fold(shade))
    return {key: sorted(set(values)) for key, values in out.items()}


def _kind_synonyms(kind_word: str) -> list[str]:
    """Synonyms of a kind that do not repeat its own words ("high heels" is no other word for heels)."""
    own = set(kind_word.split())
    return [p for p in _synonyms().get(_fold(kind_word), []) if not own & set(p.split())]


def _colour_shades(colour_word: str) -> list[str]:
    """Shade names of a colour that do not repeat its own words ("jet black" is no other word for black)."""
    own = set(colour_word.split())
    return [p for p in _shades().get(colour_word, []) if not own & set(p.split())]


def _pseudo_word(rng: np.random.Generator) -> str:
    """A made-up word (consonant-vowel syllables): a kind named in words neither the catalogue nor the
    expansion tables know, as shoppers' own words often are."""
    syllables = ["".join((_pick("bdfgklmnprstvz", rng), _pick("aeiou", rng))) for _ in range(3)]
    return "".join(syllables) + _pick("lnrs", rng)


def _pick(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


class _Intent:
    """One source product's slots: (query word, match values) per field, the kind first."""

    def __init__(self, kind: str, slots: dict[str, tuple[str, str, list[str]]]) -> None:
        self.kind = kind
        #: slot name -> (catalogue field, catalogue word, match values)
        self.slots = slots

    def match(self) -> dict[str, list[str]]:
        return {field: values for field, _, values in self.slots.values()}


def _intent(row: dict[str, object], fields: QueryFields, shape: tuple[str, ...]) -> _Intent | None:
    kind = str(row.get(fields.kind) or "").strip()
    if not kind:
        return None
    slots = {"kind": (fields.kind, TYPE_NAMES.get(kind, kind.casefold()), [kind])}
    for slot in shape:
        field = getattr(fields, slot)
        value = str(row.get(field) or "").strip()
        if not value:
            return None
        if slot == "colour":
            family = colour_family(value)
            word, values = (
                (family.casefold(), COLOUR_FAMILIES[family]) if family else (value.casefold(), [value])
            )
        elif slot == "gender":
            word, values = value.casefold(), GENDER_GROUPS.get(value, [value])
        else:
            word, values = value.casefold(), [value]
        slots[slot] = (field, word, values)
    return _Intent(kind, slots)


def _applicable(intent: _Intent, wordings: Sequence[str]) -> list[str]:
    out = []
    for wording in wordings:
        if wording == "synonym" and not _kind_synonyms(intent.slots["kind"][1]):
            continue
        if wording == "shade" and (
            "colour" not in intent.slots or not _colour_shades(intent.slots["colour"][1])
        ):
            continue
        if wording == "phrasing" and not any(
            slot in intent.slots and intent.slots[slot][1] in table
            for slot, table in (("gender", _GENDER_WORDS), ("usage", _USAGE_WORDS))
        ):
            continue
        out.append(wording)
    return out


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _word(intent: _Intent, wording: str, rng: np.random.Generator) -> str | None:
    words = {slot: word for slot, (_, word, _) in intent.slots.items()}
    if wording == "synonym":
        words["kind"] = _pick(_kind_synonyms(words["kind"]), rng)
    elif wording == "shade":
        words["colour"] = _pick(_colour_shades(words["colour"]), rng)
    elif wording == "unknown":
        words["kind"] = _pseudo_word(rng)
    elif wording == "phrasing":
        for slot, table in (("gender", _GENDER_WORDS), ("usage", _USAGE_WORDS)):
            if slot in words and words[slot] in table:
                words[slot] = _pick(table[words[slot]], rng)
    order = [s for s in ("gender", "usage", "colour", "kind") if s in words]
    if wording == "order":
        text = " ".join(words[s] for s in rng.permutation(order))
        if "gender" in words and rng.random() < 0.5:
            rest = [words[s] for s in order if s != "gender"]
            text = f"{' '.join(rest)} for {words['gender']}"
    elif wording == "missing":
        tokens = [
            _singular(t)
            for s in ("kind", "colour", "gender", "usage")
            if s in words
            for t in words[s].split()
        ]
        text = " ".join(t for t in tokens if t not in _CONNECTORS and "'" not in t)
    else:
        text = " ".join(words[s] for s in order)
    if wording == "typo":
        return typo_longest(text, rng)
    return text.strip() or None


def generate_auto_queries(
    catalog: Catalog,
    source_ids: Sequence[str],
    population: Sequence[str] | None = None,
    *,
    n: int = 400,
    seed: int = 0,
    wordings: Sequence[str] = MIXED_WORDINGS,
    fields: QueryFields | None = None,
    prefix: str = "a",
) -> list[JudgedQuery]:
    """Up to ``n`` judged queries from ``source_ids`` products, each worded one of ``wordings`` (drawn
    uniformly among those that apply to it), distinct in rule and text; a product may give a query per
    shape when the source is small.

    ``relevant`` counts gain-2 products over ``population`` (default: the whole catalogue), the index the
    queries run against. Products whose fields the shape needs are missing are skipped.
    """
    unknown = set(wordings) - set(WORDINGS)
    if unknown or not wordings:
        raise ValueError(f"wordings must be among {', '.join(WORDINGS)}; got {sorted(unknown) or 'none'}")
    fields = fields or QueryFields()
    rng = np.random.default_rng(seed)
    shapes = [s for s, _ in QUERY_SHAPES]
    probs = np.asarray([w for _, w in QUERY_SHAPES], dtype=np.float64)
    probs /= probs.sum()
    seen_match: set[str] = set()
    seen_text: set[str] = set()
    drafts: list[JudgedQuery] = []
    # A small catalogue may give a product several queries (other shapes): up to _PASSES rounds over it.
    order = [int(i) for _ in range(_PASSES) for i in rng.permutation(len(source_ids))]
    for index in order:
        if len(drafts) >= n:
            break
        shape = shapes[int(rng.choice(len(shapes), p=probs))]
        intent = _intent(catalog.rows[source_ids[int(index)]], fields, shape)
        if intent is None:
            continue
        key = json.dumps(intent.match(), sort_keys=True)
        options = _applicable(intent, wordings)
        if key in seen_match or not options:
            continue
        wording = _pick(options, rng)
        text = _word(intent, wording, rng)
        if text is None or text in seen_text:
            continue
        seen_match.add(key)
        seen_text.add(text)
        drafts.append(
            JudgedQuery(qid=f"{prefix}{len(drafts):04d}", query=text, match=intent.match(), kinds=[wording])
        )
    judged = judge(drafts, catalog, population, check_relevant=False)
    return [q.model_copy(update={"relevant": j.relevant}) for q, j in zip(drafts, judged, strict=True)]


@dataclass
class AutoQueries:
    """The judged queries ``calibrate --auto`` generated, and which products they were built from."""

    queries: list[JudgedQuery]
    source_ids: list[str]
    source: str


def auto_queries(
    engine: Engine,
    catalog: Catalog,
    *,
    n: int = 400,
    wordings: Sequence[str] | None = None,
    split: str = "train",
    fraction: float = 0.2,
    seed: int = 0,
    fields: QueryFields | None = None,
    min_relevant: int = MIN_RELEVANT,
) -> AutoQueries:
    """Judged queries generated from the catalogue (:mod:`blendsearch.eval.autoqueries`), built from
    products outside the evaluation population (its ``split`` rows, else a seeded ``fraction`` of ids),
    judged over the products in the index; those with at least ``min_relevant`` matches there (all with a
    match when fewer than 4 reach it: a small catalogue)."""
    source_ids, source = auto_source_ids(catalog, split=split, fraction=fraction, seed=seed)
    population = [i for i in engine.backend.iter_ids() if i in catalog.rows]
    queries = generate_auto_queries(
        catalog, source_ids, population, n=n, seed=seed, wordings=wordings or MIXED_WORDINGS, fields=fields
    )
    usable = [q for q in queries if q.relevant >= min_relevant]
    if len(usable) < 4:
        usable = [q for q in queries if q.relevant]
    if len(usable) < 4:
        raise CatalogError(
            f"only {len(usable)} queries could be generated from {source} with a match in the index: "
            "does the catalogue have the kind/colour/gender/usage fields (see --kind-field)?"
        )
    return AutoQueries(queries=usable, source_ids=source_ids, source=source)
