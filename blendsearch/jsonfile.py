"""Reading JSON files, with one error wording for every such file.

- :func:`load_json_model`: a file the user wrote (a config): missing file, bad JSON and a bad field each
  become a :class:`~blendsearch.exceptions.ConfigError` that names the file (and, for a bad field,
  pydantic's own account of it).
- :func:`read_versioned_json` / :func:`load_versioned_model`: a file blendsearch wrote with a
  ``format_version`` (the index's ``blendsearch.json``, ``calibration.json``, a model folder's
  ``blendsearch_model.json``): absent is None, another version is an
  :class:`~blendsearch.exceptions.IndexFormatError`, a damaged file the caller's error class; every
  message names the file and ends with the caller's hint (what to run to get a good file back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from blendsearch._types import PathInput
from blendsearch.exceptions import BlendsearchError, ConfigError, IndexCorruptError, IndexFormatError

__all__ = ["load_json_model", "load_versioned_model", "read_versioned_json"]

M = TypeVar("M", bound=BaseModel)


def load_json_model(path: PathInput, model: type[M], what: str) -> M:
    """``model`` validated from the JSON in ``path``; ``what`` names the file in errors ("config file")."""
    file = Path(path)
    try:
        return model.model_validate(json.loads(file.read_text()))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {file} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {file} is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"{what} {file} is invalid:\n{exc}") from exc


def read_versioned_json(
    path: PathInput,
    version: int,
    *,
    hint: str,
    damaged: type[BlendsearchError] = IndexCorruptError,
    older: bool = False,
) -> dict[str, Any] | None:
    """The JSON object in ``path`` when its ``format_version`` is one this blendsearch reads; None when
    there is no such file.

    A file that cannot be read, is empty, is not JSON or holds no object raises ``damaged``; a version
    other than ``version`` (``older``: above it; the caller upgrades older ones) raises IndexFormatError.
    """
    file = Path(path)
    if not file.is_file():
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(f"{file} cannot be read ({exc}); {hint}") from exc
    if not text.strip():
        raise damaged(f"{file} is empty (a damaged file); {hint}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise damaged(f"{file} is not valid JSON ({exc}); {hint}") from exc
    if not isinstance(data, dict):
        raise damaged(f"{file} does not hold a JSON object; {hint}")
    found = data.get("format_version")
    known = isinstance(found, int) and not isinstance(found, bool)
    if not known or (found > version if older else found != version):
        reads = f"up to {version}" if older else f"version {version}"
        raise IndexFormatError(f"{file} has format version {found!r}; this blendsearch reads {reads}: {hint}")
    return data


def load_versioned_model(
    path: PathInput,
    model: type[M],
    version: int,
    *,
    what: str,
    hint: str,
    damaged: type[BlendsearchError] = IndexCorruptError,
) -> M | None:
    """``model`` validated from :func:`read_versioned_json`; fields that do not validate raise ``damaged``
    (``what`` names the file in that message: "index file")."""
    data = read_versioned_json(path, version, hint=hint, damaged=damaged)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise damaged(f"{Path(path)} is not a valid {what} ({exc}); {hint}") from exc
