"""Filtered HNSW returns k hits whenever k rows are allowed; HNSW recall against exact on a fixture."""

from __future__ import annotations

import numpy as np
import pytest

from blendsearch.backends.embedded.vectors import (
    EXACT_SUBSET_MAX,
    FieldVectors,
    HnswIndex,
    exact_cutoff,
    exact_search,
)

pytest.importorskip("faiss")


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def fixture() -> tuple[np.ndarray, HnswIndex]:
    matrix = _unit(np.random.default_rng(7), 3000, 16)
    return matrix, HnswIndex.build(matrix, m=16)


@pytest.mark.parametrize("allowed", [10, 11, 37, 300, 2999])
@pytest.mark.parametrize("k", [1, 10, 150])
def test_filtered_walk_returns_k_allowed_hits(
    fixture: tuple[np.ndarray, HnswIndex], allowed: int, k: int
) -> None:
    matrix, index = fixture
    rng = np.random.default_rng(allowed * 1000 + k)
    rows = np.sort(rng.choice(matrix.shape[0], size=allowed, replace=False)).astype(np.int64)
    for query in _unit(rng, 5, 16):
        # exact_below=0 forces the graph walk (with its exact fallback) whatever the set's size.
        positions, scores = index.search(query, k, ef_search=16, rows=rows, exact_below=0)
        assert positions.size == min(k, allowed)
        assert set(positions.tolist()) <= set(rows.tolist())
        assert np.all(np.diff(scores) <= 1e-6)  # best first


def test_a_walk_that_comes_back_short_is_redone_exactly(
    fixture: tuple[np.ndarray, HnswIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix, index = fixture
    rows = np.arange(0, 3000, 150, dtype=np.int64)  # 20 allowed rows
    query = _unit(np.random.default_rng(3), 1, 16)[0]
    # A graph walk that reaches only 3 allowed nodes (what faiss does when the filter cuts the graph).
    monkeypatch.setattr(index, "_walk", lambda q, k, ef, r: (r[:3], np.ones(3, dtype=np.float32)))
    before = index.fallbacks
    positions, scores = index.search(query, 10, rows=rows, exact_below=0)
    exact, exact_scores = exact_search(matrix, query, 10, rows)
    assert positions.tolist() == exact.tolist() and positions.size == 10
    np.testing.assert_allclose(scores, exact_scores, rtol=1e-6)
    assert index.fallbacks == before + 1


def test_selective_filters_are_scored_exactly(fixture: tuple[np.ndarray, HnswIndex]) -> None:
    matrix, index = fixture
    assert exact_cutoff(3000, 512) == EXACT_SUBSET_MAX  # small indexes: the floor
    assert exact_cutoff(1_000_000, 512) == int(np.sqrt(2 * 512 * 1_000_000))  # 32,000
    rows = np.arange(5, 3000, 7, dtype=np.int64)
    query = _unit(np.random.default_rng(4), 1, 16)[0]
    got = index.search(query, 10, rows=rows)
    want = exact_search(matrix, query, 10, rows)
    assert got[0].tolist() == want[0].tolist()
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


def test_recall_at_10_against_exact(fixture: tuple[np.ndarray, HnswIndex]) -> None:
    matrix, index = fixture
    queries = _unit(np.random.default_rng(11), 50, 16)
    found = [set(index.search(q, 10, ef_search=128)[0].tolist()) for q in queries]
    truth = [set(exact_search(matrix, q, 10)[0].tolist()) for q in queries]
    recall = np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


def test_filtered_recall_with_a_broad_filter(fixture: tuple[np.ndarray, HnswIndex]) -> None:
    matrix, index = fixture
    rows = np.arange(0, 3000, 2, dtype=np.int64)  # half the rows: the widened walk, not exact
    queries = _unit(np.random.default_rng(12), 50, 16)
    hits = []
    for q in queries:
        got = set(index.search(q, 10, ef_search=64, rows=rows, exact_below=0)[0].tolist())
        hits.append(len(got & set(exact_search(matrix, q, 10, rows)[0].tolist())) / 10)
    assert np.mean(hits) >= 0.95


def test_attaching_hnsw_shares_its_copy_of_the_vectors(fixture: tuple[np.ndarray, HnswIndex]) -> None:
    matrix, index = fixture
    keys = np.arange(3000, dtype=np.int64)
    field = FieldVectors(generation=1, keys=keys, ids=[f"p{i}" for i in range(3000)], matrix=matrix.copy())
    field.hnsw = index
    assert field.hnsw is index
    assert not field.matrix.flags.owndata and not field.matrix.flags.writeable
    np.testing.assert_array_equal(field.matrix, matrix)
    other = FieldVectors(generation=1, keys=keys[:2], ids=["a", "b"], matrix=matrix[:2].copy())
    other.hnsw = index  # a different size: the backend's own matrix is kept
    assert other.matrix.flags.owndata


def test_the_filter_bitmap_is_reused_for_the_same_allowed_set(fixture: tuple[np.ndarray, HnswIndex]) -> None:
    _, index = fixture
    rows = np.arange(1, 3000, 3, dtype=np.int64)
    first = index._selector(rows)
    assert index._selector(rows.copy()) is first  # same set, another array: the same bitmap
    assert index._selector(rows[1:]) is not first
    bits = np.unpackbits(first[0], bitorder="little")[:3000]
    assert np.flatnonzero(bits).tolist() == rows.tolist()
