"""blendsearch: hybrid multimodal search for product catalogues.

The public API lives here; submodules are implementation detail unless documented in the README.
Importing blendsearch loads no model, no torch and no server client: those load on first use.
"""

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
from blendsearch.exceptions import (
    BackendConnectionError,
    BackendError,
    BlendsearchError,
    CalibrationError,
    CatalogError,
    ConfigError,
    EncoderError,
    ImageError,
    IndexError_,
    IndexFormatError,
    ItemError,
    MissingDependencyError,
    RetryableBackendError,
)
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter, parse_filter
from blendsearch.ingest.pipeline import IngestProgress, IngestSummary, Rejection
from blendsearch.query.models import ChannelScore, Hit, HybridQuery, SearchResult

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
