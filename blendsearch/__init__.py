"""blendsearch: hybrid multimodal search for product catalogues.

The public API lives here; submodules are implementation detail unless documented in the README.
Importing blendsearch loads no model, no torch and no server client: those load on first use.
"""

import importlib
import typing

from blendsearch.exceptions import (
    BackendConnectionError,
    BackendError,
    BlendsearchError,
    CalibrationError,
    CatalogError,
    ConfigError,
    EncoderError,
    ImageError,
    IndexBusyError,
    IndexCorruptError,
    IndexError_,
    IndexFormatError,
    ItemError,
    MissingDependencyError,
    QueryError,
    RetryableBackendError,
)

if typing.TYPE_CHECKING:
    from blendsearch.backends.base import Backend, ChannelResult, LexicalRequest, QueryClause, VectorRequest
    from blendsearch.backends.memory import MemoryBackend
    from blendsearch.config import (
        CHANNELS,
        EncoderSettings,
        EngineConfig,
        EnrichmentSettings,
        ExpansionSettings,
        FieldMapping,
        IngestSettings,
        SearchSettings,
        load_config,
    )
    from blendsearch.documents import Document, Enrichment, StoredDocument
    from blendsearch.encoders.base import Encoder
    from blendsearch.encoders.fake import HashEncoder
    from blendsearch.encoders.registry import load_encoder, register_encoder
    from blendsearch.engine import Engine, IndexStats
    from blendsearch.filters import RangeFilter, TermFilter, TermsFilter, parse_filter
    from blendsearch.ingest.pipeline import IngestProgress, IngestSummary, Rejection
    from blendsearch.query.models import ChannelScore, Hit, HybridQuery, SearchResult

#: Where each public name lives: imported on first access (PEP 562), so ``import blendsearch.cli`` for one
#: command, or ``from blendsearch import Engine``, does not load every subsystem (ingest, encoders, ...).
_LAZY: dict[str, str] = {
    "blendsearch.backends.base": "Backend ChannelResult LexicalRequest QueryClause VectorRequest",
    "blendsearch.backends.memory": "MemoryBackend",
    "blendsearch.config": "CHANNELS EncoderSettings EngineConfig EnrichmentSettings "
    "ExpansionSettings FieldMapping IngestSettings SearchSettings load_config",
    "blendsearch.documents": "Document Enrichment StoredDocument",
    "blendsearch.encoders.base": "Encoder",
    "blendsearch.encoders.fake": "HashEncoder",
    "blendsearch.encoders.registry": "load_encoder register_encoder",
    "blendsearch.engine": "Engine IndexStats",
    "blendsearch.filters": "RangeFilter TermFilter TermsFilter parse_filter",
    "blendsearch.ingest.pipeline": "IngestProgress IngestSummary Rejection",
    "blendsearch.query.models": "ChannelScore Hit HybridQuery SearchResult",
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names.split()}


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'blendsearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendConnectionError",
    "BackendError",
    "BlendsearchError",
    "CHANNELS",
    "CalibrationError",
    "CatalogError",
    "ChannelResult",
    "ChannelScore",
    "ConfigError",
    "Document",
    "Encoder",
    "EncoderError",
    "EncoderSettings",
    "Engine",
    "EngineConfig",
    "Enrichment",
    "EnrichmentSettings",
    "ExpansionSettings",
    "FieldMapping",
    "HashEncoder",
    "Hit",
    "HybridQuery",
    "ImageError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexError_",
    "IndexFormatError",
    "IndexStats",
    "IngestProgress",
    "IngestSettings",
    "IngestSummary",
    "ItemError",
    "LexicalRequest",
    "MemoryBackend",
    "MissingDependencyError",
    "QueryClause",
    "QueryError",
    "RangeFilter",
    "Rejection",
    "RetryableBackendError",
    "SearchResult",
    "SearchSettings",
    "StoredDocument",
    "TermFilter",
    "TermsFilter",
    "VectorRequest",
    "__version__",
    "load_config",
    "load_encoder",
    "parse_filter",
    "register_encoder",
]
