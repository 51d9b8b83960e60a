#!/usr/bin/env bash
# Builds the libFuzzer targets of the core, seeds them from the test
# captures, replays the committed regression inputs and fuzzes each target
# for a bounded time.
#
#   tests/fuzz/run.sh [--seconds N] [--runs N] [--parallel P] [--skip-known-bugs]
#                     [--build-dir DIR] [--corpus DIR] [--findings DIR] [--seed S]
#
#   --seconds N        fuzzing time per target (default 30; 0 = replay only)
#   --runs N           also stop a target after N inputs
#   --parallel P       targets fuzzed at once (default 1)
#   --skip-known-bugs  build with SD_FUZZ_SKIP_KNOWN_BUGS (regressions/README.md)
#   --seed S           libFuzzer -seed (default: random)
#   --targets "A B"    fuzz only these targets (regressions of all are replayed)
#   --max-len N        libFuzzer -max_len (default 16384; smaller is faster)
#
# Everything goes under ${TMPDIR:-/tmp}: build dir sd-fuzz-build, seeds
# sd-fuzz-corpus/<target>, new corpus entries sd-fuzz-work/<target>,
# crashing inputs and logs sd-fuzz-findings/. Exit status is non-zero when
# any target or regression input crashes, leaks, times out or trips UBSan.
# Last line: "fuzz: N targets, M executions, F findings".
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=${TMPDIR:-/tmp}
SECONDS_PER_TARGET=30
RUNS=""
PARALLEL=1
SKIP_KNOWN=OFF
SEED=""
BUILD=$TMP/sd-fuzz-build-$(printf %s "$ROOT" | cksum | cut -d" " -f1)  # one per checkout
CORPUS=$TMP/sd-fuzz-corpus
WORK=$TMP/sd-fuzz-work
FINDINGS=$TMP/sd-fuzz-findings
TARGETS=(fuzz_reply_line fuzz_enhanced_code fuzz_session fuzz_pmtu fuzz_net)
ALL_TARGETS=("${TARGETS[@]}")
MAX_LEN=16384

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while (($#)); do
  case "$1" in
    --seconds) SECONDS_PER_TARGET=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --skip-known-bugs) SKIP_KNOWN=ON; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --corpus) CORPUS=$2; shift 2 ;;
    --findings) FINDINGS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --targets) read -r -a TARGETS <<<"$2"; shift 2 ;;
    --max-len) MAX_LEN=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done

log() { printf '=== %s\n' "$*"; }

# ---------------------------------------------------------------- build
log "build fuzzers in $BUILD (skip known bugs: $SKIP_KNOWN)"
if ! CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DSD_FUZZ=ON -DSD_BUILD_PLUGIN=OFF -DSD_BUILD_TESTS=OFF -DSD_FUZZ_SKIP_KNOWN_BUGS=$SKIP_KNOWN >"$TMP/sd-fuzz-cmake.log" 2>&1 \
   || ! cmake --build "$BUILD" -j"$(nproc)" --target fuzzers >>"$TMP/sd-fuzz-cmake.log" 2>&1; then
  tail -n 40 "$TMP/sd-fuzz-cmake.log" >&2
  echo "fuzz: build failed" >&2
  exit 2
fi
BIN=$BUILD/tests/fuzz

# ---------------------------------------------------------------- seeds
log "seeds in $CORPUS"
bash "$HERE/make-seeds.sh" "$CORPUS" || echo "run.sh: seed generation failed; fuzzing from scratch" >&2

mkdir -p "$FINDINGS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

findings=0
total_exec=0
declare -A EXECS

# A libFuzzer log shows a finding when the run failed or a sanitizer spoke.
log_has_finding() {
  grep -qE '==[0-9]+==ERROR: |runtime error:|ERROR: libFuzzer|invariant violated|SUMMARY: (Address|Undefined|Leak)Sanitizer|Test unit written to' "$1"
}

# ---------------------------------------------------------------- regressions
log "replay regression inputs"
replayed=0
for t in "${ALL_TARGETS[@]}"; do
  dir=$HERE/regressions/$t
  [[ -d $dir ]] || continue
  for input in "$dir"/*; do
    [[ -f $input ]] || continue
    replayed=$((replayed + 1))
    out=$FINDINGS/regression-$t-$(basename "$input").log
    if "$BIN/$t" "$input" >"$out" 2>&1 && ! log_has_finding "$out"; then
      printf '  ok       %s/%s\n' "$t" "$(basename "$input")"
    else
      findings=$((findings + 1))
      printf '  FINDING  %s/%s (log: %s)\n' "$t" "$(basename "$input")" "$out"
      grep -m1 -E 'SUMMARY|invariant violated|runtime error' "$out" | sed 's/^/           /'
    fi
  done
done
echo "  $replayed regression inputs replayed"

# ---------------------------------------------------------------- fuzz
fuzz_one() {
  local t=$1
  local work=$WORK/$t
  mkdir -p "$work" "$CORPUS/$t"
  local args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len="$MAX_LEN"
              -artifact_prefix="$FINDINGS/$t-" -close_fd_mask=1)
  args+=(-max_total_time="$SECONDS_PER_TARGET")
  [[ -n $RUNS ]] && args+=(-runs="$RUNS")
  [[ -n $SEED ]] && args+=(-seed="$SEED")
  "$BIN/$t" "${args[@]}" "$work" "$CORPUS/$t" >"$FINDINGS/$t.log" 2>&1
  echo $? >"$FINDINGS/$t.status"
}

if [[ $SECONDS_PER_TARGET != 0 ]]; then
  log "fuzz ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each${RUNS:+, at most $RUNS runs}, $PARALLEL at a time"
  running=0
  for t in "${TARGETS[@]}"; do
    rm -f "$FINDINGS/$t.status"
    fuzz_one "$t" &
    running=$((running + 1))
    if ((running >= PARALLEL)); then
      wait -n
      running=$((running - 1))
    fi
  done
  wait
  for t in "${TARGETS[@]}"; do
    status=$(cat "$FINDINGS/$t.status" 2>/dev/null || echo 99)
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$FINDINGS/$t.log" | awk '{print $2}' | tail -1)
    execs=${execs:-0}
    EXECS[$t]=$execs
    total_exec=$((total_exec + execs))
    corpus_n=$(find "$WORK/$t" -type f | wc -l)
    if [[ $status == 0 ]] && ! log_has_finding "$FINDINGS/$t.log"; then
      printf '  ok       %-20s %12d executions, %5d new corpus files\n' "$t" "$execs" "$corpus_n"
    else
      findings=$((findings + 1))
      printf '  FINDING  %-20s %12d executions (exit %s, log: %s)\n' "$t" "$execs" "$status" "$FINDINGS/$t.log"
      grep -m2 -E 'SUMMARY|invariant violated|runtime error|Test unit written' "$FINDINGS/$t.log" | sed 's/^/           /'
    fi
  done
fi

echo "fuzz: ${#TARGETS[@]} targets, $total_exec executions, $findings findings"
((findings == 0))
