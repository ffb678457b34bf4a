#!/usr/bin/env bash
# PyTorch parity check of the Java VAE decoders (dev.odelt.model.vae): tools/vae_reference.py writes
# small random diffusers AutoencoderKL folders (both attention namings, F32 and F16), random
# AutoencoderTiny (TAESD) folders (a small one and TAESD's own shape) and latents;
# the Java library imports each folder into a VAE package and decodes the latents; the reference
# decodes the same latents straight from the diffusers folder; the check fails when
# max|java - reference| / max|reference| exceeds VAE_PARITY_TOLERANCE (default 1e-4).
#
# Builds in the reactor (test-compile, never `mvn install`) and runs the Java side from the
# module's classes.
#
# Usage (from anywhere):  model-artifacts/tools/vae_parity.sh [--stable-diffusion] [work dir]
#   --stable-diffusion  also checks the Stable Diffusion configuration (128/256/512/512, 2 layers
#                       per block, 32 groups, random weights) on one 32x32 latent -> 256x256
#                       (slow: a few minutes on a busy 2-core machine).
# Env: MAVEN_ARGS (default "-B -q"; add -o to stay offline), VAE_PARITY_TOLERANCE.
set -euo pipefail

stable_diffusion=0
if [[ "${1:-}" == "--stable-diffusion" ]]; then
  stable_diffusion=1
  shift
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
tolerance="${VAE_PARITY_TOLERANCE:-1e-4}"
python=/usr/bin/python3   # Debian's interpreter, where python3-torch installs
reference="$here/vae_reference.py"

if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "vae parity: installing python3-torch (Debian)" >&2
  apt-get update -qq && apt-get install -y -qq python3-torch >/dev/null
fi

read -r -a mvn_args <<< "${MAVEN_ARGS:--B -q}"
cd "$root"
# One reactor call: compiles proto and model-artifacts (with test classes) and writes the test
# classpath, in which odelt-proto resolves to proto/target/classes, not to ~/.m2. With -am the
# goal runs for every module in reactor order, so model-artifacts writes the file last.
mvn "${mvn_args[@]}" -pl model-artifacts -am test-compile \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt"
classpath="model-artifacts/target/test-classes:model-artifacts/target/classes:$(cat "$work/classpath.txt")"
java_vae() {
  java -Xmx4g -Dai.djl.offline=true -cp "$classpath" dev.odelt.model.testing.VaeParity "$@"
}

check() {  # name, latent side, batch, make-diffusers|make-tiny, its options...
  local name="$1" side="$2" batch="$3" make="$4"
  shift 4
  local dir="$work/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$python" "$reference" "$make" --out "$dir/diffusers" "$@"
  "$python" "$reference" latents --out "$dir/latents.safetensors" --batch "$batch" \
    --height "$side" --width "$side"
  java_vae import "$dir/diffusers" "$dir/package" >/dev/null
  java_vae decode "$dir/package" "$dir/latents.safetensors" "$dir/java.safetensors"
  echo -n "vae parity $name: "
  "$python" "$reference" compare --diffusers "$dir/diffusers" --latents "$dir/latents.safetensors" \
    --java "$dir/java.safetensors" --tolerance "$tolerance"
}

check small-new 8 2 make-diffusers --block-out-channels 32,64 --layers-per-block 1 --norm-num-groups 8 \
  --naming new --seed 11
check small-old-conv-f16 8 2 make-diffusers --block-out-channels 32,64 --layers-per-block 2 --norm-num-groups 8 \
  --naming old-conv --dtype F16 --seed 12
check tiny-small 8 2 make-tiny --channels 16,16,16,16 --blocks 1,2,1,1 --seed 14
check taesd-f16 8 1 make-tiny --channels 64,64,64,64 --blocks 3,3,3,1 --dtype F16 --seed 15
if (( stable_diffusion )); then
  check stable-diffusion 32 1 make-diffusers --block-out-channels 128,256,512,512 --layers-per-block 2 \
    --norm-num-groups 32 --naming old --seed 13
fi
