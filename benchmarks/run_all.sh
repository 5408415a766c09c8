#!/usr/bin/env bash
# Every benchmark of the closing note, on the shared fashion catalogue, each printing one JSON object
# into $OUT (default benchmarks/results). Needs the catalogue at ../shared/datasets/fashion-products.
# MODEL: a trained model folder; without it `bench quality` trains the default model first (8,000 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/datasets/fashion-products}
OUT=${OUT:-benchmarks/results}
BS=${BS:-.venv/bin/blendsearch}
[[ -f "$DATA/products.csv" ]] || { echo "fashion catalogue not found at $DATA: nothing to benchmark" >&2; exit 2; }
mkdir -p "$OUT"
MODEL_ARGS=()
[[ -n "${MODEL:-}" ]] && MODEL_ARGS=(--model "$MODEL")
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
for condition in full sparse images; do
  $BS bench quality --catalog "$DATA/products.csv" --queries "$DATA/queries-dev.jsonl" \
      --condition "$condition" "${MODEL_ARGS[@]}" --json > "$OUT/quality-dev-$condition.json"
done
for condition in full sparse; do
  for set in unlike shopper; do  # the generated unlike-wording set, the hand-written shopper set
    $BS bench quality --catalog "$DATA/products.csv" --queries "benchmarks/queries/$set-test.jsonl" \
        --condition "$condition" "${MODEL_ARGS[@]}" --no-pairs --json > "$OUT/quality-$set-$condition.json"
  done
done
# Calibration on the cached full-condition index that `bench quality` built (fused score: half the dev
# queries fit, the other half measure).
INDEX=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['index'])" "$OUT/quality-dev-full.json")
$BS calibrate --index "$INDEX" --queries "$DATA/queries-dev.jsonl" --catalog "$DATA/products.csv" \
    --plot "$OUT/reliability-full.png" --json > "$OUT/calibration-full.json"
# calibrate --auto's feature ablation with the reliability diagrams, and the choice of the fusion defaults
# (both read the indexes `bench quality` cached: test-* and tune-* beside $INDEX).
PY=${PY:-.venv/bin/python}
$PY benchmarks/calibration_auto_ablation.py --index "$INDEX" --catalog "$DATA/products.csv" \
    --out "$OUT/calibration-auto-ablation-trained.json" --plot-dir "$OUT"
# The fit itself. defaults-choice.json is the fit the shipped profiles came from, made before image feedback
# existed; with feedback on (today's default) the fit is defaults-choice-feedback.json, which docs/fusion.md
# says why was not shipped.
$PY benchmarks/choose_defaults.py --catalog "$DATA/products.csv" --bench-dir "$(dirname "$INDEX")" \
    --out "$OUT/defaults-choice-feedback.json"
# Image feedback's count and weight (fitted on the tune-* indexes, checked on test-*), and its latency.
$PY benchmarks/image_feedback.py --catalog "$DATA/products.csv" --bench-dir "$(dirname "$INDEX")" \
    --set shopper=benchmarks/queries/shopper-test.jsonl --out "$OUT/image-feedback.json"
$PY benchmarks/image_feedback.py --catalog "$DATA/products.csv" --bench-dir "$(dirname "$INDEX")" \
    --latency-only --out "$OUT/image-feedback-latency.json"
# The shipped defaults and calibrate --auto on all three wording sets (dev, unlike, shopper).
$PY benchmarks/choose_defaults.py --catalog "$DATA/products.csv" --bench-dir "$(dirname "$INDEX")" \
    --check-only --set shopper=benchmarks/queries/shopper-test.jsonl --out "$OUT/defaults-check.json"
$PY benchmarks/calibration_wording_diagnosis.py --index "$INDEX" --catalog "$DATA/products.csv" \
    --set shopper=benchmarks/queries/shopper-test.jsonl --seeds 0 1 2 3 4 5 \
    --out "$OUT/calibration-wording-diagnosis.json" --plot-dir "$OUT/diagnosis"
$BS bench ingest --catalog "$DATA/products.csv" "${MODEL_ARGS[@]}" --json > "$OUT/ingest.json"
$BS bench ingest --catalog "$DATA/products.csv" "${MODEL_ARGS[@]}" --no-enrichment --json \
    > "$OUT/ingest-no-enrichment.json"
# Warm latency of hybrid queries beside their parts, and the HTTP service under load, on the same index.
$BS bench latency --index "$INDEX" --queries "$DATA/queries-dev.jsonl" --json > "$OUT/latency.json"
$BS bench serve --index "$INDEX" --queries "$DATA/queries-dev.jsonl" --requests 300 --json > "$OUT/serve.json"
# Embedded beside the osmem-server and noida-db emulators (started and stopped by the command itself).
$BS bench backends --catalog "$DATA/products.csv" "${MODEL_ARGS[@]}" --json > "$OUT/backends.json"
# A synthetic 100k-product catalogue recombined from the real one, vectors precomputed (hash:64).
$BS bench scale --catalog "$DATA/products.csv" --products 100000 --json > "$OUT/scale-100k.json"
echo "results in $OUT"
