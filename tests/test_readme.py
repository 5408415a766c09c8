"""The README's configuration example is a valid EngineConfig (a renamed setting breaks this test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from blendsearch.config import EngineConfig

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_config_example_validates() -> None:
    block = re.search(r"```json\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    config = EngineConfig.model_validate(json.loads(block.group(1)))
    assert config.fields.id == "sku" and config.search.max_query_words == 64
    assert config.ingest.allow_private_urls is False
