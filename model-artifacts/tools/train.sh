#!/usr/bin/env bash
# Trains the default MNIST model (the recipe of MODEL_CARD.md) and exports it as a model package.
# The recipe is the trainer's defaults, the reference's (DESIGN.md §5, TrainOptions.Recipe), with
# the from-scratch choices of MODEL_CARD.md (learning rate, warm-up, EMA decay) passed below.
# odelt-mnist 1.0.0's recipe is LEGACY=1 (its flags; a batch's draws are made in another order
# since the reference recipe landed, so that is the same recipe, not the same bytes).
#
#   model-artifacts/tools/train.sh WORK_DIR [extra trainer options...]
#
# Environment: TOTAL_STEPS (default 5000, the shipped model's), THREADS (PyTorch threads, default
# 1: measured, a second thread made a step only ~15% faster, and it leaves a core free), PRESETS
# (the manifest's named tiers; default the shipped model's), VERSION (the package version),
# LEGACY=1 (odelt-mnist 1.0.0's recipe, 4200 steps).
#
# Checkpoints go to WORK_DIR/ckpt. The trainer checkpoints and exits every --stepsPerProcess
# steps and after any crash; this loop resumes it from the last checkpoint until the last step.
# Resuming is exact: every random draw of step k derives from (seed, k). The restarts also bound
# native memory, which grows during DJL training (see MODEL_CARD.md, "Known issues").
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: train.sh WORK_DIR [trainer options]}
shift
mkdir -p "$work"
if [ "${LEGACY:-0}" = 1 ]; then
  total=${TOTAL_STEPS:-4200}
  recipe=(--learningRate=2e-3 --warmupSteps=100 --emaDecay=0.995
    --selfConsistencyFraction=0.25 --lengthConsistencyFraction=0.25 --labelDropout=0.1
    --studentBlocks=full --lengthTeacher=deeper --flowTimeGrid=0 --dropoutRows=all
    --guidedFraction=0 --weightDecay=0.01 --weightDecayAll=false --positionLayout=ROW_FIRST)
else
  total=${TOTAL_STEPS:-5000}
  recipe=(--learningRate=2e-3 --warmupSteps=100 --emaDecay=0.995)
fi
start=$(date +%s)

mvn -B -q install -pl proto,model-artifacts -am -DskipTests
mvn -B -q dependency:build-classpath -pl model-artifacts -Dmdep.outputFile="$work/cp.txt"
cp="model-artifacts/target/classes:$(cat "$work/cp.txt")"

# libgomp spin-waits by default; on a shared machine that starved training 7x (measured).
export OMP_WAIT_POLICY=PASSIVE
for attempt in $(seq 1 100); do
  set +e
  java -Xmx4g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${THREADS:-1}" \
    -cp "$cp" dev.odelt.model.train.Train \
    --steps="$total" --batchSize=128 "${recipe[@]}" --threads="${THREADS:-1}" \
    --seed=0 --checkpointDir="$work/ckpt" --checkpointEvery=100 --logEvery=10 \
    --stepsPerProcess=500 "$@"
  rc=$?
  set -e
  step=$(sed -n 's/.*"step":\([0-9]*\).*/\1/p' "$work/ckpt/checkpoint.json" 2>/dev/null || true)
  echo "train.sh: attempt $attempt exited $rc at step ${step:-0}"
  if [ "${step:-0}" -ge "$total" ]; then
    break
  fi
done

# Wall-clock seconds of this invocation (a resumed run counts only its own part).
seconds=$(( $(date +%s) - start ))
echo "train.sh: training took $seconds s wall clock"
java -Dai.djl.offline=true -cp "$cp" dev.odelt.model.train.ExportModel \
  --checkpointDir="$work/ckpt" --output="$work/package" \
  --presets="${PRESETS:-draft:s1-b6-g3,standard:s2-b6-g3,premium:s16-b6-g1.5}" \
  --version="${VERSION:-0.0.0-dev}" --trainingSeconds="$seconds" \
  --recipe="model-artifacts/tools/train.sh (TOTAL_STEPS=$total${LEGACY:+, LEGACY=$LEGACY})"
echo "train.sh: package written to $work/package"
echo "train.sh: next, evaluate it (tools/evaluate.sh) and export again with --quality (MODEL_CARD.md)"
