#!/usr/bin/env bash
# The GPU check in one call (at most 8 minutes). Needs the bundle from deploy/gpu/bundle.sh next to
# it, Python with torch, CMake and a C++ compiler; no JVM, no network. See deploy/gpu/README.md.
#
#   bash deploy/gpu/check.sh             # on the GPU machine
#   bash deploy/gpu/check.sh --dry-run   # on a CPU machine: the same steps on small shapes
#
# Steps, each under its own time limit, each recorded in status.json (a failed step does not stop
# the later ones):
#   1. torch facts (version, CUDA, C++ ABI, include/lib directories)        -> torch.json
#   2. DJL 0.33.0's PyTorch JNI compiled against that torch (deploy/gpu/jni)
#   3. GpuCheck on the jlink'd JRE, DJL loading that torch and that JNI     -> java/results.json
#      (matmul peak, parity, tiers, the out-of-memory split, and both VAE decoders, the full
#      Stable Diffusion one and the tiny TAESD, in fp32 and bf16 at batch 32: "decoders")
#   4. the authors' JAX DiT on the same tiers (deploy/gpu/jax_tiers.py)     -> jax.json
# Results go to $OUT (set by the device runner) or out/gpu-check; the exit code is 0 only when
# every step succeeded. JNI_LIB=/path/libdjl_torch.so reuses a JNI built earlier against the same
# torch (step 2 is then a copy); JAVA_HEAP, JAVA_TIMEOUT, JAX_BUDGET, JAX_TIMEOUT, PYTHON tune it.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bundle=$root/deploy/gpu/bundle
out=${OUT:-$root/out/gpu-check}
dry=0
if [[ ${1:-} == --dry-run ]]; then
  dry=1
fi
python=${PYTHON:-python3}
mkdir -p "$out"
exec > >(tee "$out/check.log") 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
statuses=()

step() { # name rc seconds
  statuses+=("{\"step\": \"$1\", \"rc\": $2, \"seconds\": $3}")
  echo "== $1: rc=$2 in ${3}s"
}

if [[ ! -x $bundle/jre/bin/java ]]; then
  echo "No bundle at $bundle: run deploy/gpu/bundle.sh first" >&2
  exit 2
fi

# 1. torch facts.
start=$SECONDS
timeout 60 "$python" - >"$out/torch.json" <<'EOF'
import glob, json, os
import torch
from torch.utils import cpp_extension
site = os.path.dirname(os.path.dirname(torch.__file__))
cudart = glob.glob(os.path.join(site, "nvidia", "**", "libcudart.so*"), recursive=True)
print(json.dumps({
    "version": torch.__version__,
    "cuda": torch.version.cuda,
    "cuda_available": torch.cuda.is_available(),
    "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    "include": cpp_extension.include_paths()[0],
    "lib": cpp_extension.library_paths()[0],
    "cxx11_abi": int(torch._C._GLIBCXX_USE_CXX11_ABI),
    "cudart_dirs": sorted({os.path.dirname(p) for p in cudart}),
}))
EOF
rc=$?
step torch $rc $((SECONDS - start))
cat "$out/torch.json"
fact() { "$python" -c "import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(':'.join(v) if isinstance(v, list) else v)" "$out/torch.json" "$1"; }
torch_version=$(fact version | grep -oE '^[0-9]+\.[0-9]+\.[0-9]+') # 2.11.0+cu130 -> 2.11.0
torch_include=$(fact include)
torch_lib=$(fact lib)
cxx11_abi=$(fact cxx11_abi)
cudart_dirs=$(fact cudart_dirs)
cuda=$(fact cuda)
pt_macro=""
case "$torch_version" in
  1.13.* | 2.0.* | 2.1.*) pt_macro=V1_13_X ;; # as DJL's own build.sh
esac

# 2. The JNI, against this torch. C++17 first (DJL's setting), C++20 if the headers demand it.
start=$SECONDS
jni=$work/jni
standard=prebuilt
rc=0
if [[ -n ${JNI_LIB:-} ]]; then # a JNI built earlier against this same torch: reuse it
  mkdir -p "$jni" && cp "$JNI_LIB" "$jni/libdjl_torch.so" || rc=1
else for standard in 17 20; do
  rm -rf "$jni"
  timeout 150 bash -c "cmake -S deploy/gpu/jni -B '$jni' -DDJL_DIR='$bundle/djl' \
      -DJNI_INCLUDE='$bundle/jni-include' -DTORCH_INCLUDE='$torch_include' \
      -DTORCH_LIB='$torch_lib' -DCXX11_ABI=$cxx11_abi -DPT_VERSION='$pt_macro' \
      -DCXX_STANDARD=$standard >'$out/jni-cmake.log' 2>&1 &&
    cmake --build '$jni' -j '$(nproc)' >'$out/jni-build.log' 2>&1"
  rc=$?
  if ((rc == 0)); then
    break
  fi
  tail -30 "$out/jni-build.log" "$out/jni-cmake.log" 2>/dev/null
done; fi
step "jni (C++$standard)" $rc $((SECONDS - start))

# 3. GpuCheck. DJL takes libtorch from PYTORCH_LIBRARY_PATH and the JNI from its engine cache
# (<ENGINE_CACHE_DIR>/pytorch/<version>-<flavor>-<platform>/0.33.0-libdjl_torch.so).
start=$SECONDS
if [[ -n $cuda && $cuda != None ]]; then
  flavor=cu${cuda//./}
else
  flavor=cpu
fi
export ENGINE_CACHE_DIR=$work/djl-cache
export PYTORCH_LIBRARY_PATH=$torch_lib
export PYTORCH_VERSION=$torch_version
export PYTORCH_FLAVOR=$flavor
cache=$ENGINE_CACHE_DIR/pytorch/$torch_version-$flavor-linux-x86_64
mkdir -p "$cache"
cp "$jni/libdjl_torch.so" "$cache/0.33.0-libdjl_torch.so" 2>/dev/null
java=("$bundle/jre/bin/java" "-Xmx${JAVA_HEAP:-24g}" -Dai.djl.offline=true
  "-Djna.library.path=$cudart_dirs" -cp "$bundle/lib/*")
if ((dry)); then
  check_args=(--quick --device=cpu)
else
  check_args=(--device=gpu --repeats=3)
fi
timeout "${JAVA_TIMEOUT:-210}" "${java[@]}" dev.odelt.model.tools.GpuCheck --out="$out/java" \
  "${check_args[@]}"
rc=$?
step gpucheck $rc $((SECONDS - start))

# 4. The authors' JAX code on the same tiers.
start=$SECONDS
if [[ -f $bundle/reference/model.py ]]; then
  jax_args=(--reference "$bundle/reference" --out "$out/jax.json" --budget-s "${JAX_BUDGET:-90}")
  if ((dry)); then
    jax_args+=(--quick)
  fi
  timeout "${JAX_TIMEOUT:-120}" "$python" deploy/gpu/jax_tiers.py "${jax_args[@]}"
  rc=$?
else
  echo "no reference/model.py in the bundle: JAX comparison skipped"
  rc=3
fi
step jax $rc $((SECONDS - start))

{
  echo "{\"dry_run\": $((dry)), \"steps\": ["
  (IFS=,; echo "${statuses[*]}")
  echo "]}"
} >"$out/status.json"
cat "$out/status.json"
for s in "${statuses[@]}"; do
  [[ $s == *'"rc": 0,'* ]] || exit 1
done
