#!/usr/bin/env bash
# Whole-job benchmarks, printed as a table (docs/benchmarks.md records them):
#   bulk-enroll throughput on ../shared/faces/lfw with --jobs 1 and --jobs 2,
#   cold `faceatt identify` of one 640x480 photo,
#   `faceatt serve` POST /identify latency (p50, p99) and throughput at 1, 2, 8 clients,
#   bulk-enroll --jobs 2 against the naive pipeline (build/bench/naive_pipeline:
#   plain dlib, HOG on the full image, 68 landmarks, dlib's ResNet, 2 threads,
#   no flip) with the same ResNet, in interleaved rounds, with flip on and off.
# Everything runs in a temporary folder (its own config, data folder and port on
# 127.0.0.1); the user's database is never touched.
#
#   scripts/bench.sh [--skip-bulk] [--skip-serve] [--skip-naive] [--requests N] [--repeat N]
#                    [--rounds N]
#
# --repeat N runs bulk-enroll N times per --jobs value, alternating 1 and 2,
# and reports the fastest run of each with the range: on a shared machine
# another tenant slows single runs, and a run on two cores more than one on one.
# Environment: FACEATT_BUILD_DIR (default build), FACEATT_SHARED_DIR (default
# ../shared), FACEATT_BENCH_MODELS (default models/ if it has a recognizer, else
# $FACEATT_SHARED_DIR/models), FACEATT_BENCH_FACES (default .../faces/lfw),
# FACEATT_BENCH_RESNET (the ResNet in dlib's .dat form, for the naive pipeline
# and faceatt alike; default: dlib_face_recognition_resnet_model_v1.dat in the
# models folder), FACEATT_BENCH_LANDMARKS (default: the 68-point model faceatt uses).
#
# --rounds N (default 3) runs the naive pipeline, bulk-enroll --jobs 2 and
# bulk-enroll --jobs 2 without flip N times in turn and reports the medians and
# the ratio of each round: on a shared machine only runs made side by side compare.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$repo" && realpath -m "${FACEATT_BUILD_DIR:-build}")"
shared="$(realpath -m "${FACEATT_SHARED_DIR:-$repo/../shared}")"
faces="${FACEATT_BENCH_FACES:-$shared/faces/lfw}"
models="${FACEATT_BENCH_MODELS:-}"
if [ -z "$models" ]; then
  if ls "$repo"/models/*recognition*.dat >/dev/null 2>&1; then models="$repo/models"; else models="$shared/models"; fi
fi
skip_bulk=0 skip_serve=0 skip_naive=0 requests=100 repeat=1 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-bulk) skip_bulk=1 ;;
    --skip-serve) skip_serve=1 ;;
    --skip-naive) skip_naive=1 ;;
    --rounds) rounds="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --repeat) repeat="$2"; shift ;;
    *) echo "usage: scripts/bench.sh [--skip-bulk] [--skip-serve] [--skip-naive] [--requests N] [--repeat N] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done
case "$repeat" in ''|*[!0-9]*|0) echo "bench.sh: --repeat needs a positive whole number" >&2; exit 2 ;; esac
case "$rounds" in ''|*[!0-9]*|0) echo "bench.sh: --rounds needs a positive whole number" >&2; exit 2 ;; esac

faceatt="$build/faceatt"
client="$build/bench/faceatt_loadclient"
benchbin="$build/bench/faceatt_bench"
for b in "$faceatt" "$client" "$benchbin"; do
  [ -x "$b" ] || { echo "bench.sh: $b missing (cmake --build $build)" >&2; exit 2; }
done

work="$(mktemp -d /tmp/faceatt-bench-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.toml" <<TOML
[paths]
data_dir = "data"
models_dir = "$models"
log_dir = "logs"

[logging]
file = false
TOML
export FACEATT_CONFIG="$work/config.toml"
images=$(find "$faces" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | wc -l)

now() { date +%s.%N; }
rows=()
row() { rows+=("$(printf '%-44s %s' "$1" "$2")"); }

# --- bulk-enroll ---------------------------------------------------------
if [ "$skip_bulk" = 0 ]; then
  if "$faceatt" bulk-enroll --help >/dev/null 2>&1; then
    declare -A best worst wall
    for _ in $(seq 1 "$repeat"); do
      for jobs in 1 2; do
        rm -rf "$work/data"
        t0=$(now)
        "$faceatt" -q bulk-enroll "$faces" --jobs "$jobs" >"$work/bulk-$jobs.log" 2>&1 || true
        t1=$(now)
        r=$(echo "$images / ($t1 - $t0)" | bc -l)
        if [ -z "${best[$jobs]:-}" ] || [ "$(echo "$r > ${best[$jobs]}" | bc -l)" = 1 ]; then
          best[$jobs]=$r; wall[$jobs]=$(echo "$t1 - $t0" | bc -l)
        fi
        if [ -z "${worst[$jobs]:-}" ] || [ "$(echo "$r < ${worst[$jobs]}" | bc -l)" = 1 ]; then worst[$jobs]=$r; fi
      done
    done
    for jobs in 1 2; do
      spread=""
      [ "$repeat" -gt 1 ] && spread=$(printf ', best of %d (slowest %.1f)' "$repeat" "${worst[$jobs]}")
      row "bulk-enroll --jobs $jobs ($images photos)" "$(printf '%.1f images/s  (%.1f s wall, model load included%s)' "${best[$jobs]}" "${wall[$jobs]}" "$spread")"
    done
    row "bulk-enroll speed-up jobs 2 / jobs 1" "$(printf '%.2fx' "$(echo "${best[2]} / ${best[1]}" | bc -l)")"
  else
    row "bulk-enroll" "not built (no 'faceatt bulk-enroll')"
  fi
fi

# --- bulk-enroll against the naive pipeline -------------------------------
naive="$build/bench/naive_pipeline"
resnet="${FACEATT_BENCH_RESNET:-$models/dlib_face_recognition_resnet_model_v1.dat}"
landmarks="${FACEATT_BENCH_LANDMARKS:-}"
if [ -z "$landmarks" ]; then
  for f in "$models/shape_predictor_68_face_landmarks.dat" /usr/share/dlib/shape_predictor_68_face_landmarks.dat; do
    [ -f "$f" ] && { landmarks="$f"; break; }
  done
fi
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ "$skip_naive" = 0 ]; then
  if [ ! -x "$naive" ] || [ ! -f "$resnet" ] || [ -z "$landmarks" ]; then
    row "bulk-enroll vs naive" "skipped: needs $naive, the ResNet .dat ($resnet) and the 68-point landmarks"
  else
    bulk_rate() {  # images/s bulk-enroll reports (model loading excluded, as the naive program's)
      rm -rf "$work/data"
      FACEATT_MODELS_RECOGNIZER="$resnet" "$@" "$faceatt" -q bulk-enroll "$faces" --jobs 2 2>/dev/null \
        | sed -n 's/^time: .* s, \([0-9.]*\) images\/s.*/\1/p'
    }
    nv=() fa=() fa_nf=() r1=() r2=()
    for i in $(seq 1 "$rounds"); do
      n=$("$naive" --landmarks "$landmarks" --recognizer "$resnet" --threads 2 "$faces" \
          | sed -n 's/.* \([0-9.]*\) images\/s.*/\1/p')
      a=$(bulk_rate env)
      b=$(bulk_rate env FACEATT_RECOGNITION_FLIP=false)
      nv+=("$n"); fa+=("$a"); fa_nf+=("$b")
      r1+=("$(echo "$a / $n" | bc -l)"); r2+=("$(echo "$b / $n" | bc -l)")
      echo "bench.sh: round $i: naive $n, bulk-enroll $a, without flip $b images/s" >&2
    done
    row "naive pipeline, 2 threads (median of $rounds)" "$(printf '%.1f images/s  (%s)' "$(median "${nv[@]}")" "$(printf '%.1f ' "${nv[@]}")")"
    row "bulk-enroll --jobs 2, ResNet, flip on" "$(printf '%.1f images/s  (%s)' "$(median "${fa[@]}")" "$(printf '%.1f ' "${fa[@]}")")"
    row "bulk-enroll --jobs 2, ResNet, flip off" "$(printf '%.1f images/s  (%s)' "$(median "${fa_nf[@]}")" "$(printf '%.1f ' "${fa_nf[@]}")")"
    row "  vs naive, flip on (median of rounds)" "$(printf '%.2fx  (%s)' "$(median "${r1[@]}")" "$(printf '%.2f ' "${r1[@]}")")"
    row "  vs naive, flip off (median of rounds)" "$(printf '%.2fx  (%s)' "$(median "${r2[@]}")" "$(printf '%.2f ' "${r2[@]}")")"
  fi
fi

# --- cold identify -------------------------------------------------------
"$benchbin" --frame 640x480 "$work/probe.jpg"
if [ ! -f "$work/data/faceatt.db" ]; then
  # Someone to be compared with: enroll a few LFW people the slow way.
  for person in $(ls "$faces" | head -20); do
    "$faceatt" -q enroll --name "$person" --largest --force "$faces/$person"/* >/dev/null 2>&1 || true
  done
fi
"$faceatt" -q identify "$work/probe.jpg" >/dev/null 2>&1 || true  # page cache warm: "cold" = fresh process
times=()
for i in 1 2 3 4 5; do
  t0=$(now)
  "$faceatt" -q identify "$work/probe.jpg" >/dev/null 2>&1 || true
  t1=$(now)
  times+=("$(echo "$t1 - $t0" | bc -l)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
row "cold identify, 640x480, 1 face (median of 5)" "$(printf '%.3f s wall' "$median")"

# --- serve ---------------------------------------------------------------
if [ "$skip_serve" = 0 ]; then
  if "$faceatt" serve --help >/dev/null 2>&1; then
    port=$(( 20000 + RANDOM % 20000 ))
    FACEATT_SERVER_HOST=127.0.0.1 FACEATT_SERVER_PORT=$port FACEATT_SERVER_WORKERS=2 FACEATT_SERVER_QUEUE_LENGTH=64 \
      "$faceatt" -q serve >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
      curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
      sleep 0.2
    done
    if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      for clients in 1 2 8; do
        out=$("$client" --port "$port" --image "$work/probe.jpg" --clients "$clients" \
                --requests $(( requests / clients > 10 ? requests / clients : 10 )) --warmup 2 || true)
        p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
        p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
        rps=$(sed -n 's/.*throughput_rps=\([0-9.]*\).*/\1/p' <<<"$out")
        bad=$(sed -n 's/.*non200=\([0-9]*\) failures=\([0-9]*\).*/\1 non-200, \2 failed/p' <<<"$out")
        row "serve /identify, $clients client(s)" "p50 ${p50:-?} ms  p99 ${p99:-?} ms  ${rps:-?} req/s  (${bad:-no answer})"
      done
    else
      row "serve" "did not answer /health (see log below)"
      tail -5 "$work/serve.log" >&2
    fi
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  else
    row "serve" "not built (no 'faceatt serve')"
  fi
fi

echo
echo "faceatt whole-job benchmarks  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; models: $models"
printf '%s\n' "-----------------------------------------------------------------------------------------"
printf '%s\n' "${rows[@]}"
