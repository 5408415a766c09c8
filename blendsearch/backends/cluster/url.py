"""Backends from a URL: ``opensearch+https://user:pass@host:9200/index?verify_certs=false``.

Schemes: ``opensearch+http``, ``opensearch+https``, ``elasticsearch+http``, ``elasticsearch+https``.
The path names the index (or alias); without one, ``index_name`` is used. Query options:

==================  ==========================================================================
``verify_certs``    true/false (default true for https)
``ca_certs``        path to a CA bundle
``api_key``         API key (Elasticsearch ``api_key``; OpenSearch ``Authorization: ApiKey``)
``timeout``         request timeout in seconds (default 30)
``vectors``         true/false: skip the k-NN capability probe
``alias``           true/false: create new indices behind an alias (default true)
``dim`` ...         any :class:`~.mappings.MappingSettings` field (engine, m, similarity, ...)
``chunk_size`` ...  any :class:`~.bulk.BulkSettings` field
==================  ==========================================================================
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ValidationError

from blendsearch.backends.base import Backend
from blendsearch.backends.cluster.bulk import BulkSettings
from blendsearch.config import EngineConfig
from blendsearch.exceptions import ConfigError
from blendsearch.mappings.settings import MappingSettings

__all__ = ["BackendURL", "backend_from_url", "client_from_url", "is_cluster_url", "parse_backend_url"]

_PRODUCTS = ("opensearch", "elasticsearch")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class BackendURL(BaseModel):
    """A parsed backend URL (the password is kept out of ``repr``)."""

    product: str
    scheme: str
    host: str
    port: int
    index: str | None = None
    username: str | None = None
    password: str | None = None
    options: dict[str, str] = {}

    @property
    def node(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __repr_args__(self):  # noqa: ANN204 - pydantic's own hook
        return [(k, "***" if k == "password" and v else v) for k, v in super().__repr_args__()]


def is_cluster_url(value: str | None) -> bool:
    """Whether ``EngineConfig.backend`` names a cluster (not an embedded folder)."""
    if not value or "://" not in value:
        return False
    product, plus, _ = value.split("://", 1)[0].partition("+")
    return bool(plus) and product in _PRODUCTS


def parse_backend_url(url: str) -> BackendURL:
    """Split a backend URL into product, node, credentials, index and options."""
    parts = urlsplit(url)
    product, plus, scheme = parts.scheme.partition("+")
    if product not in _PRODUCTS or not plus or scheme not in ("http", "https"):
        raise ConfigError(
            f"backend URL {url!r} must start with opensearch+http(s):// or elasticsearch+http(s)://"
        )
    if not parts.hostname:
        raise ConfigError(f"backend URL {url!r} names no host")
    try:
        port = parts.port or 9200
    except ValueError as exc:
        raise ConfigError(f"backend URL {url!r} has an invalid port") from exc
    index = unquote(parts.path.strip("/")) or None
    return BackendURL(
        product=product,
        scheme=scheme,
        host=parts.hostname,
        port=port,
        index=index,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        options=dict(parse_qsl(parts.query)),
    )


def _flag(options: dict[str, str], name: str, default: bool | None) -> bool | None:
    value = options.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"backend URL option {name}={value!r} must be true or false")


def _model_options(model: type[BaseModel], options: dict[str, str]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in model.model_fields}


def client_from_url(parsed: BackendURL) -> Any:
    """An opensearch-py or elasticsearch-py client for the URL's node, auth and TLS options."""
    options = parsed.options
    verify = _flag(options, "verify_certs", parsed.scheme == "https")
    timeout = float(options.get("timeout", 30))
    auth = (parsed.username, parsed.password or "") if parsed.username else None
    tls: dict[str, Any] = {}
    if parsed.scheme == "https":
        tls = {"verify_certs": bool(verify)}
        if options.get("ca_certs"):
            tls["ca_certs"] = options["ca_certs"]
    if parsed.product == "opensearch":
        from opensearchpy import OpenSearch

        headers = {"Authorization": f"ApiKey {options['api_key']}"} if options.get("api_key") else None
        return OpenSearch(
            hosts=[parsed.node],
            http_auth=auth,
            use_ssl=parsed.scheme == "https",
            ssl_show_warn=bool(verify),
            timeout=timeout,
            headers=headers,
            **tls,
        )
    from elasticsearch import Elasticsearch

    return Elasticsearch(
        parsed.node, basic_auth=auth, api_key=options.get("api_key"), request_timeout=timeout, **tls
    )


def backend_from_url(
    url: str, index_name: str = "blendsearch", config: EngineConfig | None = None
) -> Backend:
    """The OpenSearch or Elasticsearch backend a URL names, with mapping settings from the config.

    The config contributes the numeric attribute fields and the synonym file (the server-side synonym
    filter is on only where ``config.expansion.synonyms`` is off); URL options override mapping and
    bulk settings one by one.
    """
    parsed = parse_backend_url(url)
    config = config or EngineConfig()
    options = parsed.options
    mapping_values: dict[str, Any] = {
        "numeric_fields": list(config.fields.numeric),
        "synonyms_file": config.expansion.synonyms_file,
        # The expansion stage already adds synonyms (weighted, vocabulary-checked); a server-side filter
        # on top would expand twice. It is on where client-side synonym expansion is off.
        "synonyms": not config.expansion.synonyms,
    }
    mapping_values.update(_model_options(MappingSettings, options))
    try:
        mapping = MappingSettings.model_validate(mapping_values)
        bulk = BulkSettings.model_validate(_model_options(BulkSettings, options))
    except ValidationError as exc:
        raise ConfigError(f"backend URL options are invalid:\n{exc}") from exc
    client = client_from_url(parsed)
    kwargs: dict[str, Any] = {
        "mapping": mapping,
        "bulk": bulk,
        "supports_vectors": _flag(options, "vectors", None),
        "use_alias": bool(_flag(options, "alias", True)),
    }
    index = parsed.index or index_name
    if parsed.product == "opensearch":
        from blendsearch.backends.cluster.opensearch import OpenSearchBackend

        return OpenSearchBackend(client, index, **kwargs)
    from blendsearch.backends.cluster.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(client, index, **kwargs)
