"""Zero-downtime index migrations: build a new index beside the live one, then swap the alias atomically.

Searches go to the alias throughout; the swap is one ``_aliases`` request that removes the old index and
adds the new one, so no request ever sees no index or half an index. Use ``reindex=True`` when only the
mapping changed (the server copies documents, vectors included); use ``reingest`` when the model
changed, to write freshly encoded documents into the new index before the swap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from blendsearch.backends.cluster.client import call_client, dialect_for_client
from blendsearch.exceptions import BackendError, ConfigError

__all__ = [
    "MigrationResult",
    "alias_targets",
    "create_index",
    "migrate",
    "point_alias",
    "versioned_index_name",
]


def versioned_index_name(alias: str, version: int) -> str:
    """The concrete index behind an alias: ``products`` -> ``products-v1``; migrations bump the version."""
    return f"{alias}-v{version}"


class MigrationResult(BaseModel):
    """Which index the alias left and which it points at now."""

    alias: str
    previous: list[str]
    index: str
    copied: int = 0
    deleted_previous: bool = False


def alias_targets(client: Any, alias: str) -> list[str]:
    """The indices an alias points at (empty where the alias does not exist)."""
    dialect = dialect_for_client(client)
    if not call_client(dialect, "alias check", client.indices.exists_alias, name=alias):
        return []
    return sorted(call_client(dialect, "alias lookup", client.indices.get_alias, name=alias))


def point_alias(client: Any, alias: str, index: str) -> list[str]:
    """Atomically move ``alias`` to ``index`` (one ``_aliases`` request); returns the indices it left."""
    dialect = dialect_for_client(client)
    current = [i for i in alias_targets(client, alias) if i != index]
    actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in current]
    actions.append({"add": {"index": index, "alias": alias, "is_write_index": True}})
    call_client(dialect, "alias update", client.indices.update_aliases, body={"actions": actions})
    return current


def create_index(client: Any, index: str, body: dict[str, Any], alias: str | None = None) -> list[str]:
    """Create ``index`` with ``body`` and, if given, move ``alias`` to it; returns the indices it left."""
    call_client(dialect_for_client(client), "index creation", client.indices.create, index=index, body=body)
    return point_alias(client, alias, index) if alias else []


def _next_name(alias: str, current: list[str]) -> str:
    versions = [int(m.group(1)) for i in current if (m := re.fullmatch(re.escape(alias) + r"-v(\d+)", i))]
    return versioned_index_name(alias, max(versions, default=0) + 1)


def migrate(
    client: Any,
    alias: str,
    new_index_mapping: dict[str, Any],
    reindex: bool = True,
    *,
    new_index: str | None = None,
    reingest: Callable[[str], None] | None = None,
    delete_previous: bool = False,
) -> MigrationResult:
    """Create ``new_index`` (default ``<alias>-v<n+1>``) with the mapping, fill it, swap ``alias`` to it.

    ``reingest(name)`` is called after the optional reindex to write documents into the new index (for
    example an engine whose backend targets ``name``). Without either there would be nothing to swap
    to, which is refused. On a failed copy the new index is left in place for inspection and the alias
    is not touched.
    """
    dialect = dialect_for_client(client)
    current = alias_targets(client, alias)
    if not current and call_client(dialect, "index check", client.indices.exists, index=alias):
        raise ConfigError(
            f"{alias!r} is an index, not an alias: reindex it into '{alias}-v1', delete it and add the alias "
            "(blendsearch creates new indices behind an alias for this reason)"
        )
    if current and not reindex and reingest is None:
        raise ConfigError("migrate needs reindex=True or a reingest callback: the new index would be empty")
    name = new_index or _next_name(alias, current)
    call_client(dialect, "index creation", client.indices.create, index=name, body=new_index_mapping)
    copied = 0
    if reindex and current:
        body = {"source": {"index": alias}, "dest": {"index": name}}
        response = call_client(dialect, "reindex", client.reindex, body=body, refresh=True)
        if response.get("failures"):
            first = response["failures"][0]
            raise BackendError(f"reindex into {name} failed for {first.get('id')!r}: {first.get('cause')}")
        copied = int(response.get("total", 0))
    if reingest is not None:
        reingest(name)
        call_client(dialect, "refresh", client.indices.refresh, index=name)
    point_alias(client, alias, name)
    if delete_previous and current:
        call_client(dialect, "index deletion", client.indices.delete, index=",".join(current))
    return MigrationResult(
        alias=alias,
        previous=current,
        index=name,
        copied=copied,
        deleted_previous=delete_previous and bool(current),
    )
