"""Schemathesis fuzzes every operation of /openapi.json: no 5xx, and every answer matches the schema.

Bounded (a few examples per operation, no shrinking) so it runs in seconds. The index is a private copy
of the calibrated shop index (probabilities on, so that path is fuzzed too) with an API key, so the write
endpoints are fuzzed as well.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz test needs schemathesis (test extra)")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from serve_helpers import API_KEY, SHOP  # noqa: E402

from blendsearch.serve import ServeSettings, create_app  # noqa: E402

EXAMPLES_PER_OPERATION = 10


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value) -> bytes:  # noqa: ANN001 - schemathesis' serializer hook
    return value.encode() if isinstance(value, str) else str(value).encode()


#: No 5xx; every status, content type and body as documented. (Not "positive data accepted": the
#: schema cannot say that a query needs text or an image, or the server's own k limit.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_every_operation_against_its_schema(calibrated_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(calibrated_index, index)
    app = create_app(index, ServeSettings(image_root=str(SHOP), api_key=API_KEY))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def check(case) -> None:  # noqa: ANN001 - a schemathesis Case
            case.call_and_validate(checks=CHECKS, headers={"X-API-Key": API_KEY})

        check()
        checked.append(operation.label)
    assert len(checked) == 14, checked
