"""``calibrate --auto``: judged queries generated from the catalogue (source products kept apart from the
evaluated ones, worded several ways), fused fits on feature subsets, and the vector temperature fitted on
query texts against images."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from blendsearch.backends.memory import MemoryBackend
from blendsearch.calibration import FEATURE_NAMES, fit_fused, fit_temperature, load_calibration
from blendsearch.calibration.fit import FEATURE_SETS, feature_set, fit_fused_subset
from blendsearch.calibration.vector import query_pairs
from blendsearch.cli import main
from blendsearch.documents import StoredDocument
from blendsearch.eval.autoqueries import (
    AUTO_CAVEAT,
    AUTO_IDS_FILE,
    CATALOGUE_WORDINGS,
    MIN_RELEVANT,
    MIXED_WORDINGS,
    auto_source_ids,
    generate_auto_queries,
)
from blendsearch.eval.judgements import Catalog, JudgedQuery, judge, load_queries

KINDS = ["Trousers", "Shirts", "Heels"]
COLOURS = ["Red", "Blue", "Black"]
GENDERS = ["Men", "Women"]
USAGES = ["Casual", "Formal"]


def _rows() -> list[dict[str, object]]:
    """72 products: every kind x colour x gender x usage, once in each split."""
    rows = []
    for split in ("train", "test"):
        for kind in KINDS:
            for colour in COLOURS:
                for gender in GENDERS:
                    for usage in USAGES:
                        rows.append(
                            {
                                "id": f"{split[:2]}{len(rows):03d}",
                                "split": split,
                                "title": f"Acme {gender} {colour} {kind}",
                                "articleType": kind,
                                "baseColour": colour,
                                "gender": gender,
                                "usage": usage,
                            }
                        )
    return rows


def _catalog(with_split: bool = True) -> Catalog:
    rows = _rows()
    if not with_split:
        rows = [{k: v for k, v in row.items() if k != "split"} for row in rows]
    return Catalog(rows)


def test_source_ids_are_the_train_split_or_a_seeded_fraction() -> None:
    catalog = _catalog()
    ids, how = auto_source_ids(catalog)
    assert ids == catalog.ids("train") and len(ids) == 36
    assert how == "the 36 products with split=train"

    plain = _catalog(with_split=False)
    first, how = auto_source_ids(plain, fraction=0.25, seed=3, exclude=["tr000"])
    again, _ = auto_source_ids(plain, fraction=0.25, seed=3, exclude=["tr000"])
    assert first == again and len(first) == 18 and "tr000" not in first
    assert how == "a seeded 25% of the ids (18 products)"


def test_generated_queries_are_judged_over_the_population_not_their_source() -> None:
    catalog = _catalog()
    source, population = catalog.ids("train"), catalog.ids("test")
    queries = generate_auto_queries(catalog, source, population, n=30, seed=0)
    assert len(queries) == 30
    assert len({q.query for q in queries}) == 30
    assert len({json.dumps(q.match, sort_keys=True) for q in queries}) == 30
    assert all(len(q.kinds) == 1 and q.kinds[0] in MIXED_WORDINGS for q in queries)
    assert set().union(*(q.kinds for q in queries)) == set(MIXED_WORDINGS)
    # relevant counts gain-2 products of the TEST split only (the train products they came from are apart).
    for query, judgement in zip(queries, judge(queries, catalog, population), strict=True):
        assert query.relevant == judgement.relevant
        assert set(judgement.gains) <= set(population)
    # The project's judgement rule: colour families and unisex-aware genders, the kind first.
    red = next(q for q in queries if "baseColour" in q.match and q.match["baseColour"][0] == "Red")
    assert red.match["baseColour"] == ["Red", "Maroon", "Burgundy"]
    assert next(iter(red.match)) == "articleType"


def test_each_wording_departs_from_the_catalogue_its_own_way() -> None:
    catalog = _catalog()
    source, population = catalog.ids("train"), catalog.ids("test")
    by_kind: dict[str, list[JudgedQuery]] = {}
    for wording in MIXED_WORDINGS:
        by_kind[wording] = generate_auto_queries(
            catalog, source, population, n=10, seed=1, wordings=[wording]
        )
    trousers = ("chinos", "culottes", "dress pants", "palazzo pants", "palazzos", "pants", "slacks")
    heels = ("court shoes", "pumps", "stilettos", "wedges")
    for query in by_kind["synonym"]:  # shirts have no packaged synonym: only trousers and heels appear
        assert query.match["articleType"] in (["Trousers"], ["Heels"])
        assert any(word in query.query for word in trousers + heels)
        assert "trousers" not in query.query.split() and "heels" not in query.query.split()
    for query in by_kind["shade"]:
        assert "baseColour" in query.match
        assert not {"red", "blue", "black"} & set(query.query.split())
    for query in by_kind["missing"]:
        assert not {"for", "in", "trousers", "shirts"} & set(query.query.split())
    for query in by_kind["catalogue"]:
        words = query.query.split()
        assert words[-1] in ("trousers", "shirts", "heels")
        assert set(words) <= {
            "men",
            "women",
            "casual",
            "formal",
            "red",
            "blue",
            "black",
            "trousers",
            "shirts",
            "heels",
        }
    catalogue_words = {q.query for q in generate_auto_queries(catalog, source, population, n=60, seed=1)}
    for query in by_kind["typo"]:
        assert query.query not in catalogue_words
    phrasings = {
        "for him",
        "gents",
        "for a man",
        "menswear",
        "for her",
        "ladies",
        "for a woman",
        "womenswear",
    }
    phrasings |= {"everyday", "weekend", "relaxed", "office", "business", "smart"}
    for query in by_kind["phrasing"]:
        assert any(phrase in query.query for phrase in phrasings)
    assert generate_auto_queries(catalog, source, population, n=5, wordings=CATALOGUE_WORDINGS)[0].kinds == [
        "catalogue"
    ]
    known = {"men", "women", "casual", "formal", "red", "blue", "black", "trousers", "shirts", "heels"}
    unknown = generate_auto_queries(catalog, source, population, n=10, seed=1, wordings=["unknown"])
    assert len(unknown) == 10 and "unknown" not in MIXED_WORDINGS
    for query in unknown:  # the kind is a made-up word of 3 syllables and an ending; the rest is catalogue
        made_up = [word for word in query.query.split() if word not in known]
        assert len(made_up) == 1 and len(made_up[0]) == 7 and made_up[0].isalpha()
    with pytest.raises(ValueError, match="wordings must be among"):
        generate_auto_queries(catalog, source, population, wordings=["slang"])


def test_a_feature_subset_fit_is_saved_over_every_feature_with_zero_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, len(FEATURE_NAMES)))
    y = (x[:, 0] + 0.5 * rng.standard_normal(300) > 0).astype(int)
    keep = feature_set("relative")
    subset = fit_fused_subset(x, y, keep)
    direct = fit_fused(x[:, [FEATURE_NAMES.index(n) for n in keep]], y, feature_names=keep)
    assert subset.feature_names == list(FEATURE_NAMES) and subset.current
    dropped = [j for j, name in enumerate(FEATURE_NAMES) if name not in keep]
    assert dropped and all(subset.coef[j] == 0.0 for j in dropped)
    np.testing.assert_allclose(
        subset.probability_of_features(x),
        direct.probability_of_features(x[:, [FEATURE_NAMES.index(n) for n in keep]]),
        rtol=1e-12,
    )
    assert not any(n.endswith(".log_raw") for n in FEATURE_SETS["transfer"])
    with pytest.raises(ValueError, match="valid: all, transfer, relative"):
        feature_set("some")


class _WordEncoder:
    """Texts: the mean of one basis vector per known word (colours and kinds)."""

    words = ("red", "blue", "trousers", "shirts")

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4))
        for row, text in enumerate(texts):
            for word in text.split():
                if word in self.words:
                    out[row, self.words.index(word)] = 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_query_pairs_label_matching_and_other_kind_images() -> None:
    catalog = Catalog(
        [
            {"id": "a", "kind": "Trousers", "colour": "Red"},
            {"id": "b", "kind": "Trousers", "colour": "Blue"},  # right kind, wrong colour: left out
            {"id": "c", "kind": "Shirts", "colour": "Red"},
            {"id": "d", "kind": "Shirts", "colour": "Blue"},
        ]
    )
    vectors = {"a": [1, 0, 1, 0], "b": [0, 1, 1, 0], "c": [1, 0, 0, 1], "d": [0, 1, 0, 1]}
    backend = MemoryBackend()
    backend.upsert(
        [
            StoredDocument(id=i, image_vector=np.asarray(v, dtype=np.float32) / np.sqrt(2))
            for i, v in vectors.items()
        ]
    )
    engine = SimpleNamespace(encoder=_WordEncoder(), backend=backend)
    query = JudgedQuery(qid="q", query="red trousers", match={"kind": ["Trousers"], "colour": ["Red"]})
    cosines, labels = query_pairs(engine, [query], catalog, pos_per_query=2, neg_per_pos=3)  # type: ignore[arg-type]
    assert labels.tolist() == [1, 0, 0]
    # red trousers vs a (red trousers) = 1; vs the shirts c (red) and d (blue) = 0.5 and 0.
    assert cosines[0] == pytest.approx(1.0)
    assert sorted(cosines[1:].tolist()) == pytest.approx([0.0, 0.5])


def test_vector_temperature_fits_on_query_pairs() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], [200, 600])
    cosines = np.where(labels == 1, 0.3, 0.0) + 0.1 * rng.standard_normal(800)
    fitted = fit_temperature(cosines, labels, scale=10.0, bias=-5.0)
    assert fitted.temperature > 0 and fitted.n == 800
    assert fitted.ece_after < fitted.ece_before
    assert fitted.brier_after < fitted.brier_before


def _write_catalog(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(str(row[c]) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_calibrate_auto_on_a_tiny_index(tmp_path: Path) -> None:
    rows = _rows()
    full = _write_catalog(tmp_path / "catalog.csv", rows)
    test_only = _write_catalog(tmp_path / "test.csv", [r for r in rows if r["split"] == "test"])
    index = tmp_path / "idx"
    attributes = [a for f in ("articleType", "baseColour", "gender", "usage") for a in ("--attribute", f)]
    ingest = CliRunner().invoke(main, ["ingest", str(test_only), "--index", str(index), *attributes])
    assert ingest.exit_code == 0, ingest.output
    saved = tmp_path / "auto.jsonl"
    args = ["calibrate", "--index", str(index), "--auto", "--catalog", str(full), "--auto-queries", "40"]
    result = CliRunner().invoke(
        main, [*args, "--features", "relative", "--save-queries", str(saved), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["auto"]["source"] == "the 36 products with split=train"
    generated = load_queries(saved)
    # 40 generated, 26 of them with at least MIN_RELEVANT (3) matches in the index: the ones fitted on
    assert summary["auto"]["queries"] == len(generated) == 26
    assert min(q.relevant for q in generated) == MIN_RELEVANT
    assert summary["queries"] == {"fit": 13, "holdout": 13}
    # Its held-out figures are on generated queries: the report says what they do not show.
    assert AUTO_CAVEAT in summary["messages"]
    calibration = load_calibration(index)
    assert calibration is not None and calibration.fused is not None and calibration.fused.current
    relative = set(FEATURE_SETS["relative"])
    assert all(
        c == 0.0 for n, c in zip(FEATURE_NAMES, calibration.fused.coef, strict=True) if n not in relative
    )
    assert not (index / AUTO_IDS_FILE).exists()

    misuse = CliRunner().invoke(main, ["calibrate", "--index", str(index), "--auto"])
    assert misuse.exit_code == 2 and "--auto needs --catalog" in misuse.output
