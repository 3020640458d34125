#!/usr/bin/env bash
# Several `faceatt serve` nodes on one database (docs/scale-out.md), printed as a table:
#   - POST /identify (with recording) p50/p99 and throughput through 1 node and
#     through N nodes, the clients spread over the nodes;
#   - gallery sync: M enrollments on node 1, each timed from its answer until
#     node N's /health counts the person (median and worst);
#   - the database part of an identify: the "record" stage (the attendance
#     row's transaction) from the nodes' /metrics.
# The nodes share a temporary data folder (thumbnails, crops) and its SQLite
# database, or the database FACEATT_STORE_URL names. Loopback only.
#
#   scripts/bench-scaleout.sh [--nodes N] [--clients C] [--requests R] [--enrollments M]
#
# Defaults: 3 nodes, 6 clients, 120 requests in all, 100 enrollments. Environment:
# FACEATT_BUILD_DIR (default build), FACEATT_SHARED_DIR (default ../shared),
# FACEATT_BENCH_MODELS (default models/ if it has a recognizer, else
# $FACEATT_SHARED_DIR/models), FACEATT_STORE_URL (default: SQLite).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$repo" && realpath -m "${FACEATT_BUILD_DIR:-build}")"
shared="$(realpath -m "${FACEATT_SHARED_DIR:-$repo/../shared}")"
models="${FACEATT_BENCH_MODELS:-}"
if [ -z "$models" ]; then
  if ls "$repo"/models/*recognition*.dat >/dev/null 2>&1; then models="$repo/models"; else models="$shared/models"; fi
fi
nodes=3 clients=6 requests=120 enrollments=100
usage="usage: scripts/bench-scaleout.sh [--nodes N] [--clients C] [--requests R] [--enrollments M]"
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --enrollments) enrollments="$2"; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
for v in "$nodes" "$clients" "$requests" "$enrollments"; do
  case "$v" in ''|*[!0-9]*|0) echo "bench-scaleout.sh: counts are positive whole numbers" >&2; exit 2 ;; esac
done
faceatt="$build/faceatt"
client="$build/bench/faceatt_loadclient"
for b in "$faceatt" "$client"; do
  [ -x "$b" ] || { echo "bench-scaleout.sh: $b missing (cmake --build $build)" >&2; exit 2; }
done
lfw="$shared/faces/lfw"
probe_dir="$shared/faces/people/face_recognition/obama"
[ -d "$lfw" ] && [ -d "$probe_dir" ] || { echo "bench-scaleout.sh: photos missing under $shared/faces" >&2; exit 2; }

work="$(mktemp -d /tmp/faceatt-scaleout-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ports=()
for i in $(seq 1 "$nodes"); do
  cat >"$work/node$i.toml" <<TOML
[paths]
data_dir = "$work/data"
models_dir = "$models"
log_dir = "$work/logs$i"

[logging]
file = false
TOML
  # One at a time: the first creates the database (SQLite's migrations are not
  # meant to run from several processes at once).
  "$faceatt" --config "$work/node$i.toml" serve --port 0 >"$work/node$i.log" 2>&1 &
  pids+=($!)
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/node$i.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.2
  done
  [ -n "$port" ] || { echo "bench-scaleout.sh: node $i did not start:" >&2; tail -5 "$work/node$i.log" >&2; exit 1; }
  ports+=("$port")
done
url() { echo "http://127.0.0.1:${ports[$(( $1 - 1 ))]}"; }
ms() { date +%s%3N; }
people() { curl -fs "$(url "$1")/health" | jq -r '.gallery_people // -1'; }
rows=()
row() { rows+=("$(printf '%-46s %s' "$1" "$2")"); }

# The probe's person, then the load: 1 node, then all nodes.
curl -fs -F name="Barack Obama" -F image=@"$probe_dir/obama.jpg" "$(url 1)/enroll" >/dev/null
cp "$probe_dir/obama2.jpg" "$work/probe.jpg"
per_client=$(( requests / clients > 5 ? requests / clients : 5 ))
load() {  # label, comma-separated ports
  local out p50 p99 rps bad
  out=$("$client" --port "$2" --image "$work/probe.jpg" --clients "$clients" \
          --requests "$per_client" --warmup 2 || true)
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  rps=$(sed -n 's/.*throughput_rps=\([0-9.]*\).*/\1/p' <<<"$out")
  bad=$(sed -n 's/.*non200=\([0-9]*\) failures=\([0-9]*\).*/\1 non-200, \2 failed/p' <<<"$out")
  row "$1" "p50 ${p50:-?} ms  p99 ${p99:-?} ms  ${rps:-?} req/s  (${bad:-no answer})"
}
load "identify, 1 node, $clients clients" "${ports[0]}"
all_ports=$(IFS=,; echo "${ports[*]}")
[ "$nodes" -gt 1 ] && load "identify, $nodes nodes, $clients clients" "$all_ports"

# The record stage: the attendance row's transaction (sum / count over the nodes).
record_sum=0 record_count=0
for i in $(seq 1 "$nodes"); do
  m=$(curl -fs "$(url "$i")/metrics")
  s=$(sed -n 's/^faceatt_stage_duration_seconds_sum{stage="record"} \(.*\)/\1/p' <<<"$m")
  c=$(sed -n 's/^faceatt_stage_duration_seconds_count{stage="record"} \(.*\)/\1/p' <<<"$m")
  record_sum=$(echo "$record_sum + ${s:-0}" | bc -l)
  record_count=$(echo "$record_count + ${c:-0}" | bc -l)
done
if [ "$(echo "$record_count > 0" | bc -l)" = 1 ]; then
  row "record stage (attendance transaction), mean" "$(printf '%.2f ms over %d identifies' "$(echo "1000 * $record_sum / $record_count" | bc -l)" "${record_count%.*}")"
fi

# Gallery sync: enroll on node 1, time until node N counts the person.
last=$nodes
before=$(people "$last")
lat=()
n=0
for dir in "$lfw"/*/; do
  [ "$n" -ge "$enrollments" ] && break
  photo=$(find "$dir" -type f -iname '*.jpg' | sort | head -1)
  [ -n "$photo" ] || continue
  if ! curl -fs -F name="$(basename "$dir")" -F image=@"$photo" "$(url 1)/enroll" >/dev/null; then
    continue  # a photo enroll refuses (no face, someone else's face) is skipped
  fi
  t0=$(ms)
  want=$(( before + n + 1 ))
  while [ "$(people "$last")" -lt "$want" ]; do
    [ $(( $(ms) - t0 )) -gt 10000 ] && { echo "bench-scaleout.sh: node $last never saw enrollment $want" >&2; exit 1; }
    sleep 0.005
  done
  lat+=($(( $(ms) - t0 )))
  n=$(( n + 1 ))
done
if [ "${#lat[@]}" -gt 0 ]; then
  sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
  row "gallery sync, node 1 -> node $last" "median ${sorted[$(( ${#sorted[@]} / 2 ))]} ms  worst ${sorted[-1]} ms  (${#sorted[@]} enrollments)"
fi

store="SQLite (shared data folder)"
[ -n "${FACEATT_STORE_URL:-}" ] && store="PostgreSQL"  # never the URL: it may hold a password
echo "faceatt scale-out: $nodes nodes, store $store, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${rows[@]}"
