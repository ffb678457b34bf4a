#!/usr/bin/env bash
# Parity of imported official-format checkpoints: for a tiny conditional model, an XL-like one
# (depth_min % G != 0) and an unconditional one, make_checkpoint.py writes a checkpoint in the
# paper's pickle format, the job jar imports it (import-checkpoint) and evaluates velocities
# (velocity), and flax_reference.py recomputes them straight from the pickle's Flax tree (numpy,
# never reading our tensor names, so a mapping error shows) and fails above the tolerance.
#
# Usage (after `mvn package`, from anywhere):  model-artifacts/tools/import_parity.sh [work dir]
# Env: PARITY_TOLERANCE (default 1e-4).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
tolerance="${PARITY_TOLERANCE:-1e-4}"
python=/usr/bin/python3
jar="$root/pipelines/target/odelt-pipelines.jar"
[[ -f "$jar" ]] || { echo "import_parity: build the jar first (mvn -B package)" >&2; exit 2; }

for spec in "tiny 8 4 2 2 2,4 --frozen=reduce" "xl-like 8 4 3 2 3,5,7 --numpy=2" \
    "uncond 8 4 2 2 2,4 --wrap"; do
  read -r family size heads dmin g blocks extra <<< "$spec"
  ck="$work/$family.pkl"
  rm -rf "${work:?}/$family"
  "$python" "$here/make_checkpoint.py" "$ck" --family "$family" --scale 0.1 $extra >/dev/null
  java -Dai.djl.offline=true -jar "$jar" import-checkpoint --checkpoint="$ck" \
    --output="$work/$family" --imageSize="$size" --heads="$heads" --depthMin="$dmin" \
    --groupSize="$g"
  "$python" "$here/flax_reference.py" inputs --checkpoint "$ck" --image-size "$size" --batch 4 \
    --output "$work/$family-in.safetensors"
  for L in ${blocks//,/ }; do
    java -Dai.djl.offline=true -jar "$jar" velocity --model="$work/$family/manifest.json" \
      --inputs="$work/$family-in.safetensors" --blocks="$L" \
      --output="$work/$family-java-$L.safetensors"
    "$python" "$here/flax_reference.py" velocity --checkpoint "$ck" \
      --inputs "$work/$family-in.safetensors" --blocks "$L" --heads "$heads" --group-size "$g" \
      --output "$work/$family-ref-$L.safetensors"
    echo -n "import parity $family L=$L: "
    "$python" "$here/flax_reference.py" compare --expected "$work/$family-ref-$L.safetensors" \
      --actual "$work/$family-java-$L.safetensors" --tolerance "$tolerance"
  done
done
