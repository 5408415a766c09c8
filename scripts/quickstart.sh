#!/usr/bin/env bash
# The main job on a fresh machine: install, ingest the example shop into an embedded index, search it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
BS=.venv/bin/blendsearch
INDEX=${INDEX:-.cache/quickstart-index}
rm -rf "$INDEX"
echo "== ingest examples/shop/catalog.jsonl (no model: BM25 + metadata + colours)"
$BS ingest examples/shop/catalog.jsonl --index "$INDEX" --numeric price --rejects "$INDEX/rejects.jsonl"
echo "== search 'red dress'"
$BS search "red dress" --index "$INDEX" --k 3
echo "== search 'sneakers' for women under 60"
$BS search "sneakers" --index "$INDEX" --filter gender=Women --filter "price<60" --k 3
echo "== search 'yellow' (finds the image-only item by its generated colour)"
$BS search "yellow" --index "$INDEX" --k 3
$BS stats --index "$INDEX"
