"""Generators of judged query sets from a catalogue, written in the same JSONL format as the dev set.

- :func:`generate_train_queries`: queries over ``split=train`` products for tuning blend weights. They use
  the catalogue's words but NOT the dev set's word orders ("shirts for men in blue", never "men blue
  shirt"), so a weight tuned on them is not tuned to the dev set's phrasing.
- :func:`generate_unlike_queries`: a second test set over ``split=test`` products worded unlike the
  catalogue: synonyms, shade names, other phrasings of gender and occasion, and typos, from the
  evaluation's own :mod:`blendsearch.eval.wordlists`.

Each query is built from one real product of the split (so it has at least one fully relevant item):
its kind (primary key), plus colour family, gender and/or occasion, in the same mix of shapes as the dev
set. ``relevant`` is counted over the population the set is meant to be evaluated on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel

from blendsearch.eval.judgements import Catalog, JudgedQuery, judge
from blendsearch.eval.wordlists import (
    COLOUR_FAMILIES,
    GENDER_GROUPS,
    GENDER_PHRASES,
    SHADE_NAMES,
    TYPE_NAMES,
    TYPE_SYNONYMS,
    USAGE_PHRASES,
    colour_family,
)

__all__ = [
    "QUERY_SHAPES",
    "QueryFields",
    "UNLIKE_KINDS",
    "generate_train_queries",
    "generate_unlike_queries",
    "typo",
    "typo_longest",
]

#: How an unlike query departs from the catalogue's words.
UNLIKE_KINDS = ("synonym", "shade", "phrasing", "typo")

#: Query shapes (besides the primary kind) and how often the fashion dev set uses each; the automatic
#: query sets (:mod:`.autoqueries`) draw from the same table.
QUERY_SHAPES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("colour", "gender"), 146),
    (("colour",), 85),
    (("gender",), 66),
    (("gender", "usage"), 62),
    (("usage",), 41),
)

#: QWERTY neighbours for substitution typos.
_KEYBOARD = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}  # fmt: skip


class QueryFields(BaseModel):
    """Catalogue columns the generators read: kind (primary), colour, gender, occasion."""

    kind: str = "articleType"
    colour: str = "baseColour"
    gender: str = "gender"
    usage: str = "usage"


class _Intent(BaseModel):
    """What a generated query asks for, before wording: catalogue values per slot."""

    kind: str
    colour: str | None = None
    gender: str | None = None
    usage: str | None = None

    def match(self, fields: QueryFields) -> dict[str, list[str]]:
        out = {fields.kind: [self.kind]}
        if self.colour:
            out[fields.colour] = COLOUR_FAMILIES[self.colour]
        if self.gender:
            out[fields.gender] = GENDER_GROUPS[self.gender]
        if self.usage:
            out[fields.usage] = [self.usage]
        return out


def typo(word: str, rng: np.random.Generator) -> str:
    """One deterministic (given the generator) character edit: swap, drop, double or a keyboard slip.

    The first letter is kept (people rarely mistype it, and typo correctors rely on that too).
    """
    if len(word) < 4:
        return word
    op = int(rng.integers(4))
    pos = int(rng.integers(1, len(word) - 1))
    if op == 0:
        return (
            word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
            if word[pos] != word[pos + 1]
            else (word[:pos] + word[pos + 1 :])
        )
    if op == 1:
        return word[:pos] + word[pos + 1 :]
    if op == 2:
        return word[:pos] + word[pos] + word[pos:]
    neighbours = _KEYBOARD.get(word[pos], "")
    if not neighbours:
        return word[:pos] + word[pos + 1 :]
    return word[:pos] + neighbours[int(rng.integers(len(neighbours)))] + word[pos + 1 :]


def typo_longest(text: str, rng: np.random.Generator) -> str | None:
    """``text`` with a :func:`typo` in its longest word (the first of equals); None where that word has
    fewer than four letters (too short to mistype recognisably)."""
    tokens = text.split()
    longest = max(range(len(tokens)), key=lambda i: (len(tokens[i]), -i))
    if len(tokens[longest]) < 4:
        return None
    tokens[longest] = typo(tokens[longest], rng)
    return " ".join(tokens)


def _intents(
    catalog: Catalog,
    ids: Sequence[str],
    fields: QueryFields,
    rng: np.random.Generator,
    allowed_kinds: set[str],
) -> list[_Intent]:
    """One candidate intent per product, in a seeded random order (products that fit no shape are skipped)."""
    shapes = [s for s, _ in QUERY_SHAPES]
    probs = np.asarray([w for _, w in QUERY_SHAPES], dtype=np.float64)
    probs /= probs.sum()
    out: list[_Intent] = []
    for index in rng.permutation(len(ids)):
        row = catalog.rows[ids[int(index)]]
        kind = str(row.get(fields.kind, ""))
        if kind not in allowed_kinds:
            continue
        shape = shapes[int(rng.choice(len(shapes), p=probs))]
        slots: dict[str, str | None] = {}
        if "colour" in shape:
            slots["colour"] = colour_family(str(row.get(fields.colour, "")))
        if "gender" in shape:
            gender = str(row.get(fields.gender, ""))
            slots["gender"] = gender if gender in GENDER_GROUPS else None
        if "usage" in shape:
            usage = str(row.get(fields.usage, ""))
            slots["usage"] = usage if usage in USAGE_PHRASES else None
        if any(value is None for value in slots.values()):
            continue
        out.append(_Intent(kind=kind, **slots))
    return out


def _generate(
    catalog: Catalog,
    population: Sequence[str] | None,
    source_ids: Sequence[str],
    n: int,
    seed: int,
    prefix: str,
    fields: QueryFields,
    allowed_kinds: set[str],
    word: Callable[[_Intent, np.random.Generator], tuple[str, list[str]] | None],
) -> list[JudgedQuery]:
    rng = np.random.default_rng(seed)
    if population is not None:
        allowed = set(population)
        source_ids = [i for i in source_ids if i in allowed]
    seen_match: set[str] = set()
    seen_text: set[str] = set()
    drafts: list[JudgedQuery] = []
    for intent in _intents(catalog, source_ids, fields, rng, allowed_kinds):
        if len(drafts) >= n:
            break
        key = json.dumps(intent.match(fields), sort_keys=True)
        if key in seen_match:
            continue
        worded = word(intent, rng)
        if worded is None or worded[0] in seen_text:
            continue
        seen_match.add(key)
        seen_text.add(worded[0])
        drafts.append(
            JudgedQuery(
                qid=f"{prefix}{len(drafts):04d}", query=worded[0], match=intent.match(fields), kinds=worded[1]
            )
        )
    judged = judge(drafts, catalog, source_ids if population is None else population, check_relevant=False)
    return [q.model_copy(update={"relevant": j.relevant}) for q, j in zip(drafts, judged, strict=True)]


def _pick(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _word_train(intent: _Intent, rng: np.random.Generator) -> tuple[str, list[str]]:
    kind = TYPE_NAMES[intent.kind]
    colour = intent.colour.lower() if intent.colour else ""
    gender = intent.gender.lower() if intent.gender else ""
    usage = intent.usage.lower() if intent.usage else ""
    if intent.colour and intent.gender:
        options = [
            f"{kind} for {gender} in {colour}",
            f"{colour} {kind} for {gender}",
            f"{gender}'s {colour} {kind}",
        ]
    elif intent.colour:
        options = [f"{kind} in {colour}", f"{colour} coloured {kind}"]
    elif intent.gender and intent.usage:
        options = [f"{usage} {kind} for {gender}", f"{gender}'s {kind} for {usage} wear"]
    elif intent.gender:
        options = [f"{kind} for {gender}", f"{gender}'s {kind}"]
    else:
        options = [f"{kind} for {usage} wear", f"{usage} wear {kind}"]
    return _pick(options, rng), ["catalogue-words"]


def _word_unlike(intent: _Intent, rng: np.random.Generator) -> tuple[str, list[str]] | None:
    applicable = ["typo"]
    if intent.kind in TYPE_SYNONYMS:
        applicable.append("synonym")
    if intent.colour and intent.colour in SHADE_NAMES:
        applicable.append("shade")
    if (intent.gender and intent.gender in GENDER_PHRASES) or intent.usage:
        applicable.append("phrasing")
    count = 2 if len(applicable) > 1 and rng.random() < 0.3 else 1
    kinds = sorted(str(k) for k in rng.choice(applicable, size=count, replace=False))
    if "synonym" in kinds:
        kind = _pick(TYPE_SYNONYMS[intent.kind], rng)
    else:
        kind = TYPE_NAMES[intent.kind]
    colour = ""
    if intent.colour:
        colour = _pick(SHADE_NAMES[intent.colour], rng) if "shade" in kinds else intent.colour.lower()
    gender = ""
    if intent.gender:
        gender = _pick(GENDER_PHRASES[intent.gender], rng) if "phrasing" in kinds else intent.gender.lower()
    usage = ""
    if intent.usage:
        usage = _pick(USAGE_PHRASES[intent.usage], rng) if "phrasing" in kinds else intent.usage.lower()
    text = " ".join(part for part in (usage, colour, kind, gender) if part)
    if "typo" in kinds:
        mistyped = typo_longest(text, rng)
        if mistyped is None:
            return None
        text = mistyped
    return text, kinds


def generate_train_queries(
    catalog: Catalog,
    split: str | None = "train",
    n: int = 300,
    seed: int = 0,
    *,
    population: Sequence[str] | None = None,
    fields: QueryFields | None = None,
    prefix: str = "t",
) -> list[JudgedQuery]:
    """Tuning queries in catalogue words but other orders than the dev set, built from ``split`` products.

    ``relevant`` counts gain-2 products over ``population`` (default: the same split), the index the
    set will be evaluated against; with a population, queries are built only from products in both.
    ``kinds`` is ``["catalogue-words"]``.
    """
    fields = fields or QueryFields()
    ids = catalog.ids(split)
    return _generate(catalog, population or ids, ids, n, seed, prefix, fields, set(TYPE_NAMES), _word_train)


def generate_unlike_queries(
    catalog: Catalog,
    split: str | None = "test",
    n: int = 300,
    seed: int = 0,
    *,
    population: Sequence[str] | None = None,
    fields: QueryFields | None = None,
    prefix: str = "u",
) -> list[JudgedQuery]:
    """Queries worded unlike the catalogue (synonym, shade, phrasing, typo; one or two per query).

    ``kinds`` lists which departures each query has, for per-kind breakdowns.
    """
    fields = fields or QueryFields()
    ids = catalog.ids(split)
    return _generate(catalog, population or ids, ids, n, seed, prefix, fields, set(TYPE_NAMES), _word_unlike)
