#!/usr/bin/env bash
# Install with the test extras, lint, and run the whole test suite (servers start inside pytest fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
.venv/bin/ruff check blendsearch tests benchmarks examples
.venv/bin/python -m pytest "$@"
