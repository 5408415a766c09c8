#!/usr/bin/env bash
# Install blendsearch into ./.venv (idempotent). torch is pinned to the CPU wheel and installed first so that
# nothing that depends on it pulls a CUDA build. Pass "test" to add the test tools and WordNet.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install -q --upgrade pip
if ! "$VPY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  "$VPY" -m pip install -q "torch==2.13.0"
fi
if [[ "${1:-}" == "test" ]]; then
  "$VPY" -m pip install -q -e ".[test]"
  # WordNet for the expansion stage: nltk's downloader needs the internet, Debian's wordnet-base does not.
  if [[ ! -d /usr/share/wordnet ]] && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    (apt-get install -y -q wordnet-base >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wordnet-base >/dev/null; }) \
      || echo "note: wordnet-base could not be installed; WordNet tests will skip" >&2
  fi
  # Chromium for the serve page's browser test (Playwright drives this binary; it downloads no browser).
  if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
      || echo "note: chromium could not be installed; the browser test will skip" >&2
  fi
else
  "$VPY" -m pip install -q -e .
fi
