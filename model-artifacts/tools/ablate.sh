#!/usr/bin/env bash
# Short training ablations: trains one recipe on a small budget and evaluates a few tiers, so
# recipes can be compared before a full run (MODEL_CARD.md, "Ablations").
#
#   model-artifacts/tools/ablate.sh WORK_DIR NAME STEPS [trainer options...]
#
# Writes WORK_DIR/NAME/{train.log,ckpt,package,eval,summary.txt}. Environment: THREADS (PyTorch threads, default
# 1, so two ablations can run side by side on two cores), PER_CLASS (evaluation images per digit,
# default 20), TIERS (default one step and 16 steps at every L).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: ablate.sh WORK_DIR NAME STEPS [trainer options]}
name=${2:?name}
steps=${3:?steps}
shift 3
dir="$work/$name"
mkdir -p "$dir"
if [ ! -f "$work/cp.txt" ]; then
  mvn -B -q dependency:build-classpath -pl model-artifacts -Dmdep.outputFile="$work/cp.txt"
fi
cp="model-artifacts/target/classes:$(cat "$work/cp.txt")"
export OMP_WAIT_POLICY=PASSIVE
start=$(date +%s)
java -Xmx3g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${THREADS:-1}" \
  -cp "$cp" dev.odelt.model.train.Train --steps="$steps" --seed=0 --logEvery=20 \
  --checkpointDir="$dir/ckpt" --checkpointEvery="$steps" "$@" >"$dir/train.log" 2>&1
echo "$name: trained $steps steps in $(( $(date +%s) - start )) s ($*)" | tee "$dir/summary.txt"
java -Dai.djl.offline=true -cp "$cp" dev.odelt.model.train.ExportModel --checkpointDir="$dir/ckpt" \
  --output="$dir/package" --presets=standard:s1-b6 --version=0.0.0-ablation >/dev/null
java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${THREADS:-1}" \
  -cp "$cp" dev.odelt.model.eval.EvaluateTiers --model="$dir/package" --out="$dir/eval" \
  --tiers="${TIERS:-s1-b2,s1-b4,s1-b6,s16-b2,s16-b4,s16-b6}" --perClass="${PER_CLASS:-20}" \
  --seed=0 --batch=100 >"$dir/eval.log" 2>&1
cat "$dir/eval/report.md" >>"$dir/summary.txt"
