#!/usr/bin/env bash
# Hostile-input suite (issue 30): hostile_files.py writes bad checkpoints, packages, VAE folders
# and tensor files (and a few hundred seeded random mutants of valid ones); HostileInputs runs
# them all through the job jar's command line in one JVM under -Xmx, each within a time limit,
# and fails unless each ends in exit 2 with a one-line message and nothing written (mutants: 0 or
# 2), with the JVM's peak resident memory under a cap. A few cases run as their own processes
# (the job and velocity on /dev/zero weights under a small heap, resident memory from /proc).
#
# Usage (after `mvn package`):  model-artifacts/tools/hostile_fuzz.sh [work dir]
# Env: HOSTILE_SEED (default: random, printed), HOSTILE_MUTANTS (default 300),
#      HOSTILE_TIMEOUT (seconds per case, default 30).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
rm -rf "$work/cases" "$work/out" "$work/base" "$work/pkg" "$work/lpkg" "$work/vae" "$work/vae8"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
python=/usr/bin/python3
jar="$root/pipelines/target/odelt-pipelines.jar"
[[ -f "$jar" ]] || { echo "hostile_fuzz: build the jar first (mvn -B package)" >&2; exit 2; }
seed="${HOSTILE_SEED:-$((RANDOM * 32768 + RANDOM))}"
mutants="${HOSTILE_MUTANTS:-300}"
timeout="${HOSTILE_TIMEOUT:-30}"
echo "hostile_fuzz: seed $seed (replay: HOSTILE_SEED=$seed $0), $mutants mutants, work $work"
start=$SECONDS

runner() {  # case list, max resident MB
  java -Xmx768m -XX:+UseSerialGC -Dai.djl.offline=true -cp "$jar" \
    dev.odelt.pipelines.fuzz.HostileInputs "$1" --timeout="$timeout" --maxRssMb="$2" \
    > "$1.log" 2>"$1.err" || { grep -v '^ok ' "$1.log" | head -200; echo "see $1.log" >&2; exit 1; }
  tail -1 "$1.log"
}

"$python" "$here/hostile_files.py" setup "$work"
runner "$work/setup.tsv" 2048
"$python" "$here/hostile_files.py" cases "$work" --seed "$seed" --mutants "$mutants"
runner "$work/cases.tsv" 2560

# Separate processes: a small heap and a resident-memory check around the special files (peak
# resident memory: VmHWM of the java process, read from /proc while it runs).
separate() {  # name, max resident MB, args...
  local name="$1" cap="$2" rc=0 hwm=0 pid now
  shift 2
  java -Xmx256m -Dai.djl.offline=true -jar "$jar" "$@" > "$work/$name.out" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    now=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n "$now" ]] && hwm=$now
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; echo "FAIL $name: still running after 60 s"; exit 1
  fi
  wait "$pid" || rc=$?
  local rss=$(( hwm / 1024 ))
  if [[ $rc -ne 2 || $rss -gt $cap ]] || ! grep -q . "$work/$name.out"; then
    echo "FAIL $name: exit $rc, resident ${rss} MB (cap $cap MB)"; cat "$work/$name.out"; exit 1
  fi
  echo "ok   $name: exit 2, resident ${rss} MB: $(grep -v '^\[\|^SLF4J\|WARN\|INFO' "$work/$name.out" | head -1)"
}
separate job-dev-zero 1024 --requests="$work/base/requests.jsonl" \
  --output="$work/out/sep-job-dev-zero" --model="$work/cases/pkg-weights-dev-zero/manifest.json"
separate velocity-dev-urandom 1024 velocity \
  --model="$work/cases/pkg-weights-dev-urandom/manifest.json" \
  --inputs="$work/base/inputs.safetensors" --blocks=4 --output="$work/out/sep-v.safetensors"
separate import-mark-flood 1024 import-checkpoint \
  --checkpoint="$work/cases/pickle-mark-flood-10mb/ckpt.pkl" --output="$work/out/sep-ck" \
  --imageSize=8 --heads=4 --depthMin=2 --groupSize=2
echo "hostile_fuzz: passed in $((SECONDS - start)) s (seed $seed)"
