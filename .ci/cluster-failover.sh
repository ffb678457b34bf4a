#!/usr/bin/env bash
# Fault test on a real Flink cluster (deploy/local-cluster.sh: 1 JobManager + 2 TaskManagers, each
# its own JVM): runs a mixed manifest with --flinkMaster, kills one TaskManager with SIGKILL while
# images are being generated, starts a replacement, and checks that the run completes with
#   * the same images as an embedded run of the same manifest: byte for byte where the batches
#     match, and within one grey level per pixel where a restart re-batched the remaining images
#     (an image depends only on its seed and tier up to float rounding of the batch it ran in;
#     the count of byte-identical files is printed),
#   * no duplicate image record, accounting that counts every image once,
#   * a failover that really happened (the job's exception history is not empty).
# It prints what the kill cost: images written before the kill, skipped after the restart, and
# rewritten (an image file whose inode changed was written again).
#
# Needs pipelines/target/odelt-pipelines.jar (mvn package). Env: ODELT_TEST_REST_PORT (18081),
# ODELT_TEST_KEEP=1 keeps the work folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/pipelines/target/odelt-pipelines.jar"
PORT="${ODELT_TEST_REST_PORT:-18081}"
WORK="$(mktemp -d /tmp/odelt-failover.XXXXXX)"
export ODELT_CLUSTER_DIR="$WORK/cluster"
CLUSTER="$ROOT/deploy/local-cluster.sh"
[[ -f "$JAR" ]] || { echo "failover: $JAR is missing (mvn package)" >&2; exit 1; }

cleanup() {
  "$CLUSTER" stop >/dev/null 2>&1 || true
  if [[ "${ODELT_TEST_KEEP:-0}" != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "failover: kept $WORK"
  fi
}
trap cleanup EXIT

# A mixed manifest: three tiers (draft, standard, s4-b6), 480 images, one rejected request.
python3 - "$WORK/mixed.jsonl" <<'EOF'
import json, sys
tiers = [{"tier_name": "draft"}, {"tier_name": "standard"}, {"tier": {"steps": 4, "blocks": 6}}]
with open(sys.argv[1], "w") as f:
    for i in range(12):
        r = {"request_id": "r%03d" % i, "class_id": i % 10, "num_images": 40, "seed": 1000 + i}
        r.update(tiers[i % 3])
        f.write(json.dumps(r) + "\n")
    f.write(json.dumps({"request_id": "bad", "class_id": 12, "num_images": 2}) + "\n")
EOF
EXPECTED=480
JOB_ARGS=(--requests="$WORK/mixed.jsonl" --parallelism=2 --torchThreads=1 --progressSeconds=3)

echo "failover: embedded reference run"
set +e
java -jar "$JAR" "${JOB_ARGS[@]}" --output="$WORK/embedded" >"$WORK/embedded.log" 2>&1
rc=$?
set -e
[[ "$rc" == 3 ]] || { tail -30 "$WORK/embedded.log"; echo "failover: embedded run exit $rc" >&2; exit 1; }

"$CLUSTER" start --taskmanagers 2 --slots 1 --rest-port "$PORT" --heartbeat-timeout 6000
TM1_PID=$(cat "$ODELT_CLUSTER_DIR/pids/taskmanager-1.pid")

echo "failover: cluster run"
START=$(date +%s)
java -jar "$JAR" "${JOB_ARGS[@]}" --output="$WORK/cluster-out" --flinkMaster="localhost:$PORT" \
  --restartAttempts=10 --restartDelaySeconds=2 >"$WORK/cluster.log" 2>&1 &
LAUNCHER=$!

# Kill TaskManager 1 once a third of the images are written (generation is under way on both).
count_images() {
  find "$WORK/cluster-out/images" -name '*.png' 2>/dev/null | wc -l
}
while kill -0 "$LAUNCHER" 2>/dev/null && [[ $(count_images) -lt $((EXPECTED / 3)) ]]; do
  sleep 0.3
done
kill -0 "$LAUNCHER" 2>/dev/null || { tail -40 "$WORK/cluster.log"; echo "failover: the job ended before the kill" >&2; exit 1; }
kill -KILL "$TM1_PID"
KILLED_AT=$(date +%s)
find "$WORK/cluster-out/images" -name '*.png' -printf '%i %P\n' | sort -k2 >"$WORK/inodes-at-kill.txt"
echo "failover: killed taskmanager-1 (pid $TM1_PID) after $((KILLED_AT - START)) s with $(wc -l <"$WORK/inodes-at-kill.txt") images written"
"$CLUSTER" add-taskmanager

set +e
wait "$LAUNCHER"
rc=$?
set -e
END=$(date +%s)
grep '^odelt:' "$WORK/cluster.log" || true
[[ "$rc" == 3 ]] || { tail -60 "$WORK/cluster.log"; echo "failover: cluster run exit $rc (want 3)" >&2; exit 1; }

JID=$(curl -fsS "http://localhost:$PORT/jobs/overview" | python3 -c \
  'import json,sys; print(max(json.load(sys.stdin)["jobs"], key=lambda j: j["start-time"])["jid"])')
curl -fsS "http://localhost:$PORT/jobs/$JID/exceptions" >"$WORK/exceptions.json"

python3 - "$WORK" "$EXPECTED" "$((END - START))" <<'EOF'
import glob, hashlib, json, os, sys
work, expected, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def images(root):
    out = {}
    for p in glob.glob(os.path.join(root, "images", "**", "*.png"), recursive=True):
        with open(p, "rb") as f:
            out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out
def lines(pattern):
    rows = []
    for p in sorted(glob.glob(pattern)):
        with open(p) as f:
            rows += [json.loads(l) for l in f if l.strip()]
    return rows
fails = []
emb, clu = images(os.path.join(work, "embedded")), images(os.path.join(work, "cluster-out"))
if len(emb) != expected:
    fails.append("embedded run wrote %d images, want %d" % (len(emb), expected))
def pixels(path):
    # 8-bit, non-interlaced PNG as the job writes it: IHDR, IDAT chunks, per-row filters 0..4.
    import struct, zlib
    data = open(path, "rb").read()
    pos, idat, width, height, channels = 8, b"", 0, 0, 1
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], None
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i] if prev is not None else 0
            c = prev[i - channels] if prev is not None and i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return (width, height, channels), b"".join(rows)
if set(emb) != set(clu):
    fails.append("image names differ from the embedded run's: %s" % sorted(set(emb) ^ set(clu))[:3])
identical = sum(1 for k in emb if emb.get(k) == clu.get(k))
worst = 0
for k in sorted(k for k in set(emb) & set(clu) if emb[k] != clu[k]):
    (se, pe), (sc, pc) = pixels(os.path.join(work, "embedded", k)), pixels(os.path.join(work, "cluster-out", k))
    d = max(abs(x - y) for x, y in zip(pe, pc)) if se == sc else 256
    worst = max(worst, d)
    if d > 1:
        fails.append("%s differs from the embedded run's by up to %d levels" % (k, d))
print("failover: %d of %d image files byte-identical to the embedded run's; the others within %d"
      " level(s) per pixel" % (identical, len(emb), worst))
out = os.path.join(work, "cluster-out")
records = lines(os.path.join(out, "records", "*.jsonl"))
keys = [(r["request_id"], int(r.get("index", 0))) for r in records]
if len(keys) != len(set(keys)):
    fails.append("%d duplicate image records" % (len(keys) - len(set(keys))))
if len(set(keys)) != expected:
    fails.append("%d distinct image records, want %d" % (len(set(keys)), expected))
summary = json.load(open(os.path.join(out, "run.json")))
tiers = json.load(open(os.path.join(out, "accounting", "tiers.json")))
requests = lines(os.path.join(out, "accounting", "requests*.jsonl"))
for what, n in [("run.json images", int(summary.get("images", 0))),
                ("tiers.json images", sum(int(t.get("images", 0)) for t in tiers)),
                ("per-request images", sum(int(r.get("images", 0)) for r in requests))]:
    if n != expected:
        fails.append("%s = %d, want %d" % (what, n, expected))
generated = int(summary.get("imagesGenerated", summary.get("images_generated", 0)))
skipped = int(summary.get("imagesResumed", summary.get("images_resumed", 0)))
if generated + skipped != expected:
    fails.append("generated %d + skipped %d != %d" % (generated, skipped, expected))
history = json.load(open(os.path.join(work, "exceptions.json"))).get("exceptionHistory", {})
failovers = len(history.get("entries", []))
if failovers < 1:
    fails.append("no failover in the job's exception history: the kill came too late")
at_kill = {}
for line in open(os.path.join(work, "inodes-at-kill.txt")):
    inode, path = line.split(" ", 1)
    at_kill[path.strip()] = inode
rewritten = 0
for path, inode in at_kill.items():
    if str(os.stat(os.path.join(out, "images", path)).st_ino) != inode:
        rewritten += 1
print("failover: %d images in %d s; failovers %d; images written before the kill %d;"
      " after the restart %d skipped as already written, %d generated;"
      " images written before the kill and written again %d; duplicate records %d"
      % (expected, seconds, failovers, len(at_kill), skipped, generated, rewritten,
         len(keys) - len(set(keys))))
if fails:
    for f in fails:
        print("failover: FAIL " + f)
    sys.exit(1)
print("failover: OK")
EOF
