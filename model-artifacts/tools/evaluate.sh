#!/usr/bin/env bash
# Evaluates a model package over the model card's tier grid with the bundled MNIST classifier.
#
#   model-artifacts/tools/evaluate.sh [MODEL_LOCATION] [OUT_DIR] [PER_CLASS]
#
# Defaults: the shipped model, model-artifacts/eval, 20 images per digit (200 per tier).
# PRECISION=bf16 evaluates in bfloat16 (default: the package's recommendation, fp32 when none).
# Writes report.md / report.json / quality-table.json and one PNG grid per tier.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-classpath:/dev/odelt/models/mnist/manifest.json}
out=${2:-model-artifacts/eval}
per_class=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mvn -B -q install -pl proto,model-artifacts -am -DskipTests
mvn -B -q dependency:build-classpath -pl model-artifacts -Dmdep.outputFile="$work/cp.txt"
export OMP_WAIT_POLICY=PASSIVE
tiers="s1-b2,s1-b4,s1-b6,s2-b2,s2-b4,s2-b6,s4-b2,s4-b4,s4-b6,s8-b2,s8-b4,s8-b6"
tiers+=",s16-b2,s16-b4,s16-b6,s32-b2,s32-b4,s32-b6,s128-b2,s128-b4,s128-b6"
tiers+=",s8-b6-dopri5-tol0.01,s8-b6-dopri5"
tiers+=",s16-b6-g0,s16-b6-g1.5,s16-b6-g3"
# Guided tiers the presets are chosen from.
tiers+=",s1-b6-g3,s2-b6-g3,s4-b6-g1.5,s4-b6-g3,s8-b6-g3,s128-b6-g1.5"
java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${THREADS:-2}" \
  -cp "model-artifacts/target/classes:$(cat "$work/cp.txt")" dev.odelt.model.eval.EvaluateTiers \
  --model="$model" --out="$out" --tiers="$tiers" --perClass="$per_class" --seed=0 --batch=100 \
  ${PRECISION:+--precision="$PRECISION"}
