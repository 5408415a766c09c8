"""Judged queries and their gains, computed from a catalogue's TRUE fields.

A query line is ``{"qid", "query", "match": {field: [values]}, "relevant"}``. A product's gain is 2 when
every ``match`` key holds for it (its field value is one of the listed values), 1 when only the first
(primary) key holds, else 0. Gains always come from the catalogue file, never from what was indexed, so a
product ingested with its image only is still judged by its real kind and colour.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, ValidationError, field_validator

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.exceptions import CatalogError, ConfigError
from blendsearch.ingest.readers import read_catalog as read_items

__all__ = [
    "Catalog",
    "JudgedQuery",
    "Judgement",
    "judge",
    "load_queries",
    "read_catalog",
    "write_queries",
]


class JudgedQuery(BaseModel):
    """One query with its judgement rule. ``kinds`` labels how it was worded (generated sets only)."""

    qid: str
    query: str = Field(min_length=1)
    match: dict[str, list[str]] = Field(min_length=1)
    relevant: int | None = None
    kinds: list[str] = Field(default_factory=list)

    @field_validator("match")
    @classmethod
    def _values_present(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if any(not values for values in value.values()):
            raise ValueError("every match key needs at least one value")
        return value

    @property
    def primary(self) -> str:
        """The first match key: the kind of product."""
        return next(iter(self.match))

    def to_line(self) -> str:
        data = self.model_dump(exclude_none=True)
        if not data["kinds"]:
            del data["kinds"]
        return json.dumps(data, ensure_ascii=False)


class Catalog:
    """A catalogue's rows by id, as read from its file: the ground truth that judgements use."""

    def __init__(self, rows: Iterable[dict[str, object]], id_field: str = "id") -> None:
        self.id_field = id_field
        self.rows: dict[str, dict[str, object]] = {}
        self._index: dict[str, dict[str, set[str]]] = {}
        for row in rows:
            key = str(row.get(id_field, "")).strip()
            if key:
                self.rows.setdefault(key, row)  # the first row of an id counts, as ingest keeps it

    def __len__(self) -> int:
        return len(self.rows)

    def ids(self, split: str | None = None, split_field: str = "split") -> list[str]:
        """Ids in file order, optionally only those whose ``split`` column equals ``split``."""
        if split is None:
            return list(self.rows)
        return [i for i, row in self.rows.items() if str(row.get(split_field, "")) == split]

    def value(self, id_: str, field: str) -> object:
        return self.rows[id_].get(field)

    def ids_with(self, field: str, values: Sequence[str]) -> set[str]:
        """Ids whose ``field`` (or, for a list, any of its items) is one of ``values``, case-insensitively."""
        index = self._index.get(field)
        if index is None:
            index = {}
            for id_, row in self.rows.items():
                value = row.get(field)
                for item in value if isinstance(value, list) else [value]:
                    if item is not None:
                        index.setdefault(str(item).strip().casefold(), set()).add(id_)
            self._index[field] = index
        out: set[str] = set()
        for wanted in values:
            out |= index.get(wanted.strip().casefold(), set())
        return out


def read_catalog(path: PathInput, id_field: str = "id", *, mapping: FieldMapping | None = None) -> Catalog:
    """Read a catalogue with ingest's reader (:func:`blendsearch.ingest.readers.read_catalog`), so judgements
    see exactly the rows ingest indexes: CSV/TSV, JSON Lines, JSON arrays and Parquet, gzipped or not,
    missing-value tokens as missing, ids normalised; rows ingest would reject (no id, bad types) are left
    out, and of a duplicated id the first row counts, as in ingest.

    ``mapping`` is the engine's field mapping where it is known (its ``id`` wins over ``id_field``).
    """
    mapping = mapping or FieldMapping(id=id_field)
    rows = (
        {**item.raw, mapping.id: item.document.id}
        for item in read_items(path, mapping)
        if item.document is not None
    )
    catalog = Catalog(rows, id_field=mapping.id)
    if not len(catalog):
        raise CatalogError(f"catalogue {path} has no rows with an {mapping.id!r} column")
    return catalog


def load_queries(path: PathInput) -> list[JudgedQuery]:
    """Read a judged query set (JSON lines); errors name the file and line."""
    file = Path(path)
    queries: list[JudgedQuery] = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ConfigError(f"query file {file} does not exist") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            queries.append(JudgedQuery.model_validate_json(line))
        except ValidationError as exc:
            raise ConfigError(f"{file}:{number}: not a judged query: {exc}") from exc
    if not queries:
        raise ConfigError(f"query file {file} holds no queries")
    return queries


def write_queries(path: PathInput, queries: Sequence[JudgedQuery]) -> None:
    """Write a judged query set as JSON lines."""
    Path(path).write_text("".join(q.to_line() + "\n" for q in queries), encoding="utf-8")


class Judgement(BaseModel):
    """The gains of one query over a population of products (only non-zero gains are kept)."""

    qid: str
    gains: dict[str, int]
    relevant: int

    def gains_of(self, ids: Sequence[str]) -> npt.NDArray[np.float64]:
        """Gains of ranked ids (0 for unjudged ones)."""
        return np.asarray([self.gains.get(i, 0) for i in ids], dtype=np.float64)

    def judged(self) -> npt.NDArray[np.float64]:
        """Every non-zero gain of the population: what the ideal ranking is built from."""
        return np.asarray(list(self.gains.values()), dtype=np.float64)


def judge(
    queries: Sequence[JudgedQuery],
    catalog: Catalog,
    ids: Sequence[str] | None = None,
    *,
    check_relevant: bool = True,
) -> list[Judgement]:
    """Gains of every product in ``ids`` (default: the whole catalogue) for each query.

    With ``check_relevant`` the recomputed number of gain-2 products must equal the ``relevant`` a query
    line gives (when it gives one): a mismatch means the query set was built for another population.
    """
    population = list(catalog.rows) if ids is None else list(ids)
    missing = [i for i in population if i not in catalog.rows]
    if missing:
        raise CatalogError(f"{len(missing)} ids are not in the catalogue, e.g. {missing[:3]}")
    allowed = set(population)
    out: list[Judgement] = []
    for query in queries:
        keys = list(query.match.items())
        primary = catalog.ids_with(*keys[0]) & allowed
        full = primary.intersection(*(catalog.ids_with(field, values) for field, values in keys[1:]))
        gains = {i: (2 if i in full else 1) for i in population if i in primary}
        relevant = len(full)
        if check_relevant and query.relevant is not None and query.relevant != relevant:
            raise ConfigError(
                f"query {query.qid} ({query.query!r}) says relevant={query.relevant} but the catalogue gives "
                f"{relevant} gain-2 products; was it built for another split or catalogue?"
            )
        out.append(Judgement(qid=query.qid, gains=gains, relevant=relevant))
    return out
