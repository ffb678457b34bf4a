#!/usr/bin/env bash
# Scale run: N one-image requests at the cheapest tier (1 step, the fewest blocks, no guidance),
# generated on embedded Flink and on the local cluster (deploy/local-cluster.sh) with the same
# parallelism and PyTorch threads, recording per run:
#   wall time (launcher process), images/s (N / wall), the job's own wall (run.json), and the peak
#   heap of every worker JVM, from its GC log (-Xlog:gc): "peak used" = the most heap in use when a
#   collection started, "peak live" = the most heap still in use after a collection (what a stage
#   holding O(requests) data makes grow with N).
# Embedded: one JVM, the launcher's. Cluster: each TaskManager (the JobManager is listed apart).
# CPU seconds (user + system) of every process of a run are written to <work>/<mode>/cpu.txt:
# the launcher JVM, and on the cluster each TaskManager and the JobManager, read from /proc before
# the cluster stops (so the cluster's start-up is included, as the embedded launcher's is).
# Every ODELT_SCALE_HEAP_SECONDS (default 30; 0: never) each worker JVM's live heap is measured
# exactly: `jcmd PID GC.class_histogram` collects fully and sums the objects still reachable;
# the largest of these is the row's "live after full GC" (the GC-log figures above also count
# old-generation garbage a young collection leaves). Each such collection pauses that JVM briefly.
# ODELT_SCALE_JFR=1 also records a Java flight recording (profile settings) of the embedded JVM and
# of each TaskManager into <work>/<mode>/*.jfr, to compare where their CPU goes.
# On the cluster it also saves what each stage did (/jobs/<id>/vertices/<vid>: parallelism,
# duration, records in/out per subtask) to show where the manifest is read and whether the work
# after it spreads over all subtasks.
#
# usage: deploy/scale-run.sh N [--taskmanagers T] [--slots S] [--only embedded|cluster]
#                              [--work DIR] [--chunk-size C] [--max-batch-size B]
#                              [--format png|webdataset|parquet|tfrecord] [--shard-images K]
# (--format and --shard-images pass through to the job: dataset shards instead of the PNG tree.)
# Results: <work>/results.md (one table row per run), <work>/<mode>/{run.log,gc logs,stages.txt};
# the work folder (default /tmp/odelt-scale-N, -N-<format> with --format) is kept. Needs pipelines/target/odelt-pipelines.jar
# (mvn package). Run it under `nice` on a shared machine; the numbers are then only comparable
# with each other. Env: ODELT_SCALE_REST_PORT (18281), ODELT_SCALE_TM_MEMORY (each TaskManager's
# process memory, local-cluster.sh --tm-memory; shard formats need 2048m per slot, see
# deploy/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/pipelines/target/odelt-pipelines.jar"
CLUSTER="$ROOT/deploy/local-cluster.sh"

die() {
  echo "scale-run: $*" >&2
  exit 2
}

[[ $# -ge 1 && "$1" =~ ^[1-9][0-9]*$ ]] || die "usage: deploy/scale-run.sh N [--taskmanagers T] [--slots S] [--only embedded|cluster] [--work DIR] [--chunk-size C] [--max-batch-size B] [--format F] [--shard-images K]"
N="$1"
shift
TMS=2
SLOTS=1
ONLY=""
WORK=""
CHUNK=""
BATCH=""
FORMAT=""
SHARD_IMAGES=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --taskmanagers) TMS="$2"; shift 2 ;;
    --slots) SLOTS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --chunk-size) CHUNK="$2"; shift 2 ;;
    --max-batch-size) BATCH="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --shard-images) SHARD_IMAGES="$2"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ "$TMS" =~ ^[1-9][0-9]*$ && "$SLOTS" =~ ^[1-9][0-9]*$ ]] || die "--taskmanagers and --slots must be >= 1"
WORK="${WORK:-/tmp/odelt-scale-$N${FORMAT:+-$FORMAT}}"
[[ -z "$ONLY" || "$ONLY" == embedded || "$ONLY" == cluster ]] || die "--only embedded|cluster"
[[ -f "$JAR" ]] || die "$JAR is missing (mvn -B package -DskipTests)"
PARALLELISM=$((TMS * SLOTS))
PORT="${ODELT_SCALE_REST_PORT:-18281}"
mkdir -p "$WORK"
export ODELT_CLUSTER_DIR="$WORK/cluster"

MANIFEST="$WORK/requests.jsonl"
if [[ ! -f "$MANIFEST" ]] || [[ $(wc -l <"$MANIFEST") != "$N" ]]; then
  python3 - "$MANIFEST" "$N" <<'EOF'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"request_id": "s%08d" % i, "class_id": i % 10, "num_images": 1,
                            "seed": i, "tier": {"steps": 1, "blocks": 2}},
                           separators=(",", ":")) + "\n")
EOF
fi
JOB_ARGS=(--requests="$MANIFEST" --parallelism="$PARALLELISM" --torchThreads=1 --progressSeconds=10)
[[ -n "$CHUNK" ]] && JOB_ARGS+=(--chunkSize="$CHUNK")
[[ -n "$BATCH" ]] && JOB_ARGS+=(--maxBatchSize="$BATCH")
[[ -n "$FORMAT" ]] && JOB_ARGS+=(--format="$FORMAT")
[[ -n "$SHARD_IMAGES" ]] && JOB_ARGS+=(--shardImages="$SHARD_IMAGES")
RESULTS="$WORK/results.md"
if [[ ! -f "$RESULTS" ]]; then
  {
    echo "| mode | requests | parallelism | wall s | images/s | job wall s (run.json) | worker | peak used MB | peak live MB | live after full GC MB |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
  } >"$RESULTS"
fi

# "<peak used MB> <peak live MB>" from a -Xlog:gc log ("... 120M->30M(512M) ..." per pause).
gc_peaks() {
  python3 - "$1" <<'EOF'
import re, sys
used = live = 0
for line in open(sys.argv[1], errors="replace"):
    for a, b in re.findall(r"(\d+)M->(\d+)M\(\d+M\)", line):
        used, live = max(used, int(a)), max(live, int(b))
print(used, live)
EOF
}

# Prints the CPU seconds of each process of a run and their sum.
cpu_summary() {
  awk '{printf "scale-run: cpu %s %.1f s (user %.1f, system %.1f)\n", $1, $2 + $3, $2, $3; s += $2 + $3}
       END {printf "scale-run: cpu all processes %.1f s\n", s}' "$1"
}

row() { # mode wall job_wall worker used live full_gc_live
  local rate
  rate=$(python3 -c "print('%.1f' % ($N / max(1e-9, float('$2'))))")
  echo "| $1${FORMAT:+ ($FORMAT)} | $N | $PARALLELISM | $2 | $rate | $3 | $4 | $5 | $6 | $7 |" | tee -a "$RESULTS"
}

HEAP_SECONDS="${ODELT_SCALE_HEAP_SECONDS:-30}"

# Appends "<name> <live bytes>" to $3 every HEAP_SECONDS while JVM $1 runs (a full collection each).
sample_live() {
  local pid="$1" name="$2" file="$3" total
  [[ "$HEAP_SECONDS" -gt 0 ]] || return 0
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$HEAP_SECONDS"
    total=$(jcmd "$pid" GC.class_histogram 2>/dev/null | awk '$1 == "Total" {print $3}')
    [[ -n "$total" ]] && echo "$name $total" >>"$file"
  done
}

# The largest live heap sampled for worker $2 in file $1, in MB ("-" when none was sampled).
max_live() {
  awk -v n="$2" '$1 == n && $2 > m {m = $2} END {print (m > 0 ? sprintf("%.0f", m / 1048576) : "-")}' \
    "$1" 2>/dev/null || echo "-"
}

job_wall() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("wallSeconds", d.get("wall_seconds", "?")))' "$1/run.json"
}

check_run() { # rc out log
  if [[ "$1" != 0 ]]; then
    tail -30 "$3"
    die "the run into $2 exited $1"
  fi
  python3 - "$2" "$N" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1] + "/run.json"))
n = int(d.get("images", 0))
if n != int(sys.argv[2]):
    sys.exit("scale-run: run.json counts %d images, want %s" % (n, sys.argv[2]))
EOF
}

# Starts each run from the same file-system state: the previous run's output (hundreds of thousands
# of files) is deleted and written back first, and, when allowed (root), the page cache is dropped;
# otherwise that write-back ran during the next run (the same 30,000-request embedded run took 45 s
# with 5 s of system time once, 63 s with 23 s another time).
settle() {
  sync
  if [[ -w /proc/sys/vm/drop_caches ]]; then
    echo 3 >/proc/sys/vm/drop_caches
  fi
}

run_embedded() {
  local dir="$WORK/embedded" start end rc
  rm -rf "$dir"
  mkdir -p "$dir"
  settle
  echo "scale-run: embedded, $N requests, parallelism $PARALLELISM"
  start=$(date +%s.%N)
  set +e
  local -a jfr=()
  [[ "${ODELT_SCALE_JFR:-0}" == 1 ]] && jfr=(-XX:StartFlightRecording=filename="$dir/embedded.jfr",settings=profile)
  /usr/bin/time -f "launcher %U %S" -o "$dir/cpu.txt" \
    java "${jfr[@]+"${jfr[@]}"}" -Xlog:gc:file="$dir/gc.log":uptime -jar "$JAR" "${JOB_ARGS[@]}" \
    --output="$dir/out" >"$dir/run.log" 2>&1 &
  local tpid=$! jpid="" tries=0
  while [[ -z "$jpid" && $tries -lt 50 ]]; do
    sleep 0.1
    jpid=$(pgrep -P "$tpid" java || true)
    tries=$((tries + 1))
  done
  [[ -n "$jpid" ]] && sample_live "$jpid" "launcher" "$dir/live.txt" &
  wait "$tpid"
  rc=$?
  set -e
  end=$(date +%s.%N)
  check_run "$rc" "$dir/out" "$dir/run.log"
  cpu_summary "$dir/cpu.txt"
  read -r used live < <(gc_peaks "$dir/gc.log")
  row embedded "$(python3 -c "print('%.1f' % ($end - $start))")" "$(job_wall "$dir/out")" \
    "launcher JVM" "$used" "$live" "$(max_live "$dir/live.txt" launcher)"
}

run_cluster() {
  local dir="$WORK/cluster-run" start end rc jid wall i
  rm -rf "$dir"
  mkdir -p "$dir"
  settle
  trap '"$CLUSTER" stop >/dev/null 2>&1 || true' EXIT
  if [[ "${ODELT_SCALE_JFR:-0}" == 1 ]]; then
    export ODELT_TM_JAVA_OPTS="-XX:StartFlightRecording=filename=$dir/{name}.jfr,settings=profile"
  fi
  "$CLUSTER" start --taskmanagers "$TMS" --slots "$SLOTS" --rest-port "$PORT" \
    ${ODELT_SCALE_TM_MEMORY:+--tm-memory "$ODELT_SCALE_TM_MEMORY"}
  echo "scale-run: cluster, $N requests, $TMS TaskManager(s) x $SLOTS slot(s)"
  for ((i = 1; i <= TMS; i++)); do
    sample_live "$(cat "$ODELT_CLUSTER_DIR/pids/taskmanager-$i.pid")" "taskmanager-$i" \
      "$dir/live.txt" &
  done
  start=$(date +%s.%N)
  set +e
  /usr/bin/time -f "launcher %U %S" -o "$dir/cpu.txt" \
    java -jar "$JAR" "${JOB_ARGS[@]}" --output="$dir/out" --flinkMaster="localhost:$PORT" \
    >"$dir/run.log" 2>&1
  rc=$?
  set -e
  end=$(date +%s.%N)
  check_run "$rc" "$dir/out" "$dir/run.log"
  wall=$(python3 -c "print('%.1f' % ($end - $start))")
  jid=$(curl -fsS "http://localhost:$PORT/jobs/overview" | python3 -c \
    'import json,sys; print(max(json.load(sys.stdin)["jobs"], key=lambda j: j["start-time"])["jid"])')
  python3 - "http://localhost:$PORT" "$jid" >"$dir/stages.txt" <<'EOF'
import json, sys, urllib.request
base, jid = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(base + p))
job = get("/jobs/" + jid)
print("stage (first 70 chars) | parallelism | seconds | records in per subtask | records out per subtask")
for v in sorted(job["vertices"], key=lambda v: v["start-time"]):
    d = get("/jobs/%s/vertices/%s" % (jid, v["id"]))
    ins = [s["metrics"]["read-records"] for s in d["subtasks"]]
    outs = [s["metrics"]["write-records"] for s in d["subtasks"]]
    print("%s | %d | %.1f | %s | %s" % (v["name"][:70], v["parallelism"], v["duration"] / 1000,
                                       ins, outs))
EOF
  local f pid tck
  tck=$(getconf CLK_TCK)
  for f in "$ODELT_CLUSTER_DIR"/pids/*.pid; do
    pid=$(cat "$f")
    # /proc/PID/stat fields 14 and 15: user and system time in clock ticks (after the ")").
    awk -v n="$(basename "$f" .pid)" -v t="$tck" '{sub(/^.*\) /, ""); printf "%s %.2f %.2f\n", n, $12 / t, $13 / t}' \
      "/proc/$pid/stat" >>"$dir/cpu.txt" 2>/dev/null || true
  done
  "$CLUSTER" stop >/dev/null
  trap - EXIT
  unset ODELT_TM_JAVA_OPTS
  cp "$ODELT_CLUSTER_DIR"/log/*.gc.log "$dir/" 2>/dev/null || true
  cpu_summary "$dir/cpu.txt"
  for ((i = 1; i <= TMS; i++)); do
    read -r used live < <(gc_peaks "$dir/taskmanager-$i.gc.log")
    row cluster "$wall" "$(job_wall "$dir/out")" "taskmanager-$i" "$used" "$live" \
      "$(max_live "$dir/live.txt" "taskmanager-$i")"
  done
  echo "scale-run: stages of the cluster job in $dir/stages.txt"
}

[[ "$ONLY" == cluster ]] || run_embedded
[[ "$ONLY" == embedded ]] || run_cluster
echo "scale-run: results in $RESULTS"
