#!/usr/bin/env bash
# A Flink 1.19 session cluster on this machine, from Maven-resolved jars (no flink-dist):
# one JobManager and N TaskManagers, each its own JVM, bound to loopback only.
#
#   deploy/local-cluster.sh start [--taskmanagers N] [--slots S] [--rest-port P]
#                                 [--tm-memory SIZE] [--heartbeat-timeout MS] [-D key=value]...
#   deploy/local-cluster.sh add-taskmanager     one more TaskManager on the running cluster
#   deploy/local-cluster.sh status              what runs (pids, REST overview)
#   deploy/local-cluster.sh stop                stops exactly the processes it started
#
# Everything (config.yaml, logs, pid files) lives in $ODELT_CLUSTER_DIR (default
# /tmp/odelt-cluster), printed by every command. The class path is deploy/flink-lib/target/lib,
# built with `mvn -f deploy/flink-lib/pom.xml package` when missing. ODELT_TM_JAVA_OPTS adds JVM
# flags to every TaskManager (e.g. a flight recording; "{name}" in them becomes taskmanager-N). See deploy/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="${ODELT_FLINK_LIB:-$ROOT/deploy/flink-lib/target/lib}"
DIR="${ODELT_CLUSTER_DIR:-/tmp/odelt-cluster}"
CONF="$DIR/conf"
JAVA="${JAVA:-java}"
# slf4j-simple (the lib's logging backend) prints no time by default; the logs need it to line up
# what the JobManager scheduled with what each TaskManager did.
LOG_TIME=(-Dorg.slf4j.simpleLogger.showDateTime=true
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS")

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

die() {
  echo "local-cluster: $*" >&2
  exit 1
}

rest_port() {
  sed -n 's/^rest.port: *//p' "$CONF/config.yaml" 2>/dev/null || echo 8081
}

# True when the pid in $1 is alive and is a JVM started with this cluster's config directory
# (so a recycled pid is never signalled).
ours() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--configDir $CONF"
}

build_lib() {
  if [[ ! -f "$LIB/flink-runtime-1.19.0.jar" ]]; then
    echo "local-cluster: building the cluster class path ($LIB)"
    (cd "$ROOT" && mvn -B -q -f deploy/flink-lib/pom.xml package)
  fi
}

# The last $2 lines that BashJavaUtils marks as results (what flink-dist's config.sh does).
java_utils() {
  local out
  out=$("$JAVA" -cp "$LIB/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" \
    --configDir "$CONF" 2>&1) || die "BashJavaUtils $1 failed: $out"
  printf '%s\n' "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

wait_for() {
  local what="$1" seconds="$2"
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@"; then
      return 0
    fi
    sleep 0.5
  done
  die "$what did not come up within ${seconds}s; logs in $DIR/log"
}

rest_up() {
  curl -fsS "http://localhost:$(rest_port)/overview" >/dev/null 2>&1
}

registered() {
  local want="$1" n
  n=$(curl -fsS "http://localhost:$(rest_port)/overview" 2>/dev/null \
    | sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p')
  [[ -n "$n" && "$n" -ge "$want" ]]
}

start_taskmanager() {
  local i="$1" params jvm dynamic tm_opts="${ODELT_TM_JAVA_OPTS:-}"
  params=$(java_utils GET_TM_RESOURCE_PARAMS)
  jvm=$(printf '%s\n' "$params" | head -n1)
  dynamic=$(printf '%s\n' "$params" | tail -n1)
  # shellcheck disable=SC2086  # the flags are word lists by design
  nohup "$JAVA" $jvm "${LOG_TIME[@]}" -Dai.djl.offline=true -XX:+UseG1GC ${tm_opts//\{name\}/taskmanager-$i} \
    -Xlog:gc*:file="$DIR/log/taskmanager-$i.gc.log":time,uptime \
    -cp "$LIB/*" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
    --configDir "$CONF" $dynamic -D taskmanager.resource-id="taskmanager-$i" \
    >"$DIR/log/taskmanager-$i.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/taskmanager-$i.pid"
  echo "local-cluster: taskmanager-$i pid $! (log $DIR/log/taskmanager-$i.log)"
}

cmd_start() {
  local tms=2 slots=1 port="${ODELT_REST_PORT:-8081}" tm_memory="" heartbeat=50000
  local -a extra=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --taskmanagers) tms="$2"; shift 2 ;;
      --slots) slots="$2"; shift 2 ;;
      --rest-port) port="$2"; shift 2 ;;
      --tm-memory) tm_memory="$2"; shift 2 ;;
      --heartbeat-timeout) heartbeat="$2"; shift 2 ;;
      -D) extra+=("$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  [[ "$tms" =~ ^[1-9][0-9]*$ ]] || die "--taskmanagers must be >= 1"
  [[ "$slots" =~ ^[1-9][0-9]*$ ]] || die "--slots must be >= 1"
  [[ "$heartbeat" =~ ^[0-9]+$ && "$heartbeat" -ge 2000 ]] || die "--heartbeat-timeout: ms >= 2000"
  # 1536 MB per slot: a generation subtask writes four sort-merge partitions of at least 512
  # network buffers each, and network memory is a tenth of the process; with 1536 MB for two
  # slots the second subtask failed for buffers and waited for the first to finish.
  [[ -n "$tm_memory" ]] || tm_memory="$((1536 * slots))m"
  for f in "$DIR"/pids/*.pid; do
    [[ -f "$f" ]] && ours "$(cat "$f")" && die "already running ($DIR); stop it first"
  done
  if curl -fsS "http://localhost:$port/overview" >/dev/null 2>&1; then
    die "something already answers on localhost:$port"
  fi
  build_lib
  rm -rf "$DIR/pids" "$DIR/conf"
  mkdir -p "$CONF" "$DIR/log" "$DIR/pids" "$DIR/tmp"
  local interval=$((heartbeat / 5 < 10000 ? heartbeat / 5 : 10000))
  cat >"$CONF/config.yaml" <<EOF
# Written by deploy/local-cluster.sh: a loopback-only session cluster.
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $((port + 42))
jobmanager.bind-host: localhost
taskmanager.bind-host: localhost
taskmanager.host: localhost
rest.address: localhost
rest.bind-address: localhost
rest.port: $port
blob.server.port: 0
taskmanager.rpc.port: 0
taskmanager.data.port: 0
jobmanager.memory.process.size: 1024m
taskmanager.memory.process.size: $tm_memory
taskmanager.memory.managed.fraction: 0.2
taskmanager.numberOfTaskSlots: $slots
# The job is compute-heavy on little data: Flink's adaptive batch scheduler sizes every stage by
# its bytes (parallelism 1 here); its minimum makes each stage use all slots.
parallelism.default: $((tms * slots))
execution.batch.adaptive.auto-parallelism.min-parallelism: $((tms * slots))
io.tmp.dirs: $DIR/tmp
# Batch fault tolerance: restart only the failed region; keep blocking exchanges between
# stages so a restart reruns only the lost region and the producers of lost partitions.
jobmanager.execution.failover-strategy: region
execution.batch-shuffle-mode: ALL_EXCHANGES_BLOCKING
heartbeat.timeout: $heartbeat
heartbeat.interval: $interval
# The REST API refreshes metrics every 2 s (default 10 s): the launcher prints live progress.
metrics.fetcher.update-interval: 2000
# DJL and its PyTorch natives come from lib/ (a native library loads in one class loader only);
# the copies inside a job jar must not shadow them.
classloader.parent-first-patterns.additional: ai.djl.
EOF
  for kv in "${extra[@]+"${extra[@]}"}"; do
    [[ "$kv" == *=* ]] || die "-D wants key=value, got '$kv'"
    echo "${kv%%=*}: ${kv#*=}" >>"$CONF/config.yaml"
  done
  echo "local-cluster: directory $DIR"
  local jm
  jm=$(java_utils GET_JM_RESOURCE_PARAMS | head -n1)
  # shellcheck disable=SC2086
  nohup "$JAVA" $jm "${LOG_TIME[@]}" -cp "$LIB/*" \
    org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
    --configDir "$CONF" >"$DIR/log/jobmanager.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/jobmanager.pid"
  echo "local-cluster: jobmanager pid $! (log $DIR/log/jobmanager.log)"
  wait_for "the JobManager" 90 rest_up
  for ((i = 1; i <= tms; i++)); do
    start_taskmanager "$i"
  done
  wait_for "$tms TaskManager(s)" 120 registered "$tms"
  echo "local-cluster: up: REST http://localhost:$port, $tms TaskManager(s) x $slots slot(s)"
  echo "local-cluster: run the job with --flinkMaster=localhost:$port"
}

cmd_add_taskmanager() {
  ours "$(cat "$DIR/pids/jobmanager.pid" 2>/dev/null)" || die "no cluster runs in $DIR"
  local i=1
  while [[ -f "$DIR/pids/taskmanager-$i.pid" ]]; do
    i=$((i + 1))
  done
  start_taskmanager "$i"
}

cmd_status() {
  echo "local-cluster: directory $DIR"
  local any=0 f pid
  for f in "$DIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid=$(cat "$f")
    if ours "$pid"; then
      echo "  $(basename "$f" .pid): running, pid $pid"
      any=1
    else
      echo "  $(basename "$f" .pid): not running (pid $pid)"
    fi
  done
  if [[ "$any" == 0 ]]; then
    echo "local-cluster: nothing runs"
    return 3
  fi
  curl -fsS "http://localhost:$(rest_port)/overview" 2>/dev/null && echo \
    || echo "local-cluster: REST on localhost:$(rest_port) does not answer"
}

cmd_stop() {
  echo "local-cluster: directory $DIR"
  local f pid name
  # TaskManagers first, so none of them restarts work against a vanishing JobManager.
  for f in $(ls "$DIR"/pids/taskmanager-*.pid 2>/dev/null) "$DIR/pids/jobmanager.pid"; do
    [[ -f "$f" ]] || continue
    pid=$(cat "$f")
    name=$(basename "$f" .pid)
    if ours "$pid"; then
      kill -TERM "$pid"
      for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
      done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
      fi
      echo "  $name: stopped (pid $pid)"
    fi
    rm -f "$f"
  done
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
  start) cmd_start "$@" ;;
  add-taskmanager) cmd_add_taskmanager ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  *) usage ;;
esac
