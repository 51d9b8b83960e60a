#!/usr/bin/env bash
# Fuzzes the plugin glue inside tshark, in the spirit of Wireshark's
# tools/fuzz-test.sh: the plugin is built with ASan+UBSan (g++,
# -DSD_SANITIZE=ON), the test captures are mutated with editcap -E (random
# byte errors; some rounds also cut packets with -s), and each mutated
# capture is dissected six ways: plain, -V, -2, -2 -V, -q -z expert, and
# -Y tcp (a tree in which nobody reads the plugin's items).
#
#   tests/fuzz/glue-fuzz.sh [--rounds N] [--jobs P] [--batch K] [--time-shift]
#                           [--findings DIR] [--build-dir DIR] [--keep]
#
#   --rounds N     mutated captures to try (default 100)
#   --jobs P       rounds run at once (default: number of CPUs)
#   --batch K      mutated captures appended into one file per tshark run
#                  (mergecap -a; default 1). Faster; a failing batch is
#                  re-run member by member to name the culprit.
#   --time-shift   also shift timestamps (editcap -t) in some rounds,
#                  up to centuries into the future
#   --keep         keep the work dir (mutated captures) afterwards
#
# A finding is a run that ends on a signal or sanitizer exit (status >= 128),
# hangs (timeout), or prints "ERROR: AddressSanitizer" / "runtime error:" on
# stderr; tshark's own malformed-packet handling is not a finding. Failing
# inputs and logs are kept in the findings dir (default
# ${TMPDIR:-/tmp}/sd-glue-findings). Inputs in tests/fuzz/regressions/glue/
# are replayed first. Exit status is non-zero when anything was found.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=${TMPDIR:-/tmp}
ROUNDS=100
JOBS=$(nproc)
BATCH=1
TIME_SHIFT=0
KEEP=0
FINDINGS=$TMP/sd-glue-findings
BUILD=$TMP/sd-glue-build-$(printf %s "$ROOT" | cksum | cut -d" " -f1)  # one per checkout
RUN_TIMEOUT=${SD_GLUE_TIMEOUT:-300}

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while (($#)); do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --time-shift) TIME_SHIFT=1; shift ;;
    --findings) FINDINGS=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "glue-fuzz.sh: unknown argument $1" >&2; usage ;;
  esac
done

for tool in tshark editcap mergecap cmake g++; do
  command -v "$tool" >/dev/null || { echo "glue-fuzz.sh: $tool not found" >&2; exit 2; }
done

GLUE_WORK=$(mktemp -d "$TMP/sd-glue.XXXXXX")
chmod 755 "$GLUE_WORK"
cleanup() { ((KEEP)) || rm -rf "$GLUE_WORK"; }
trap cleanup EXIT
mkdir -p "$FINDINGS" "$GLUE_WORK/in" "$GLUE_WORK/results"
chmod 755 "$GLUE_WORK/in"

# shellcheck source=glue-common.sh
source "$HERE/glue-common.sh"

echo "=== build sanitized plugin (g++, SD_SANITIZE=ON) in $BUILD"
SD_SANITIZE=ON glue_build "$BUILD" "$GLUE_WORK" || { echo "glue-fuzz: build failed" >&2; exit 2; }

# The plugin is instrumented, tshark is not: preload the runtime.
LIBASAN=$(g++ -print-file-name=libasan.so)
GLUE_ENV=(LD_PRELOAD="$LIBASAN"
          "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:symbolize=1"
          "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1")

glue_prepare_cmd
echo "=== plugin under the sanitizers"
glue_check_loaded || exit 2

shopt -s nullglob
CAPTURES=("$ROOT"/test-captures/*.pcapng "$ROOT"/test-captures/*.pcap)
((${#CAPTURES[@]})) || { echo "glue-fuzz: no test captures" >&2; exit 2; }
# editcap 4.0 refuses some captures tshark wrote ("can't be written as a
# pcapng file", e.g. with a decryption-secrets block): mutate a copy that
# tshark rewrote instead.
for idx in "${!CAPTURES[@]}"; do
  cap=${CAPTURES[idx]}
  if ! editcap "$cap" "$GLUE_WORK/probe.pcapng" >/dev/null 2>&1; then
    copy=$GLUE_WORK/$(basename "${cap%.*}").rewritten.pcapng
    if tshark -n -r "$cap" -F pcapng -w "$copy" >/dev/null 2>&1 && editcap "$copy" "$GLUE_WORK/probe.pcapng" >/dev/null 2>&1; then
      CAPTURES[idx]=$copy
      echo "  $(basename "$cap"): editcap cannot rewrite it; mutating a tshark-rewritten copy"
    else
      echo "  $(basename "$cap"): editcap cannot rewrite it; skipped" >&2
      unset 'CAPTURES[idx]'
    fi
  fi
done
rm -f "$GLUE_WORK/probe.pcapng"
CAPTURES=("${CAPTURES[@]}")
PROBS=(0.02 0.005 0.05 0.01 0.1 0.03 0.002)
WAYS=("plain" "-V" "-2" "-2 -V" "-q -z expert" "-Y tcp")

# Runs one capture file all ways; prints "FINDING <way> <reason>" lines.
# $1 = capture, $2 = log prefix
run_ways() {
  local cap=$1 prefix=$2 way status reason
  for way in "${WAYS[@]}"; do
    local args=()
    [[ $way != plain ]] && read -r -a args <<<"$way"
    timeout -k 10 "$RUN_TIMEOUT" "${GLUE_CMD[@]}" tshark -n -r "$cap" "${args[@]}" >/dev/null 2>"$prefix.stderr"
    status=$?
    reason=""
    if ((status == 124 || status == 137)); then
      reason="timeout after ${RUN_TIMEOUT}s"
    elif ((status >= 128)); then
      reason="exit status $status (signal $((status - 128)))"
    elif grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$prefix.stderr"; then
      reason="sanitizer report (exit status $status)"
    fi
    if [[ -n $reason ]]; then
      local w=${way// /}
      cp "$prefix.stderr" "$prefix.${w:-plain}.log"
      echo "FINDING ${w:-plain} $reason"
    fi
  done
  rm -f "$prefix.stderr"
}

# Keeps a failing input and says which way failed.
record() {
  local name=$1 cap=$2 lines=$3 prefix=$4
  local dest=$FINDINGS/$name.${cap##*.}
  cp "$cap" "$dest"
  for l in "$prefix".*.log; do cp "$l" "$FINDINGS/$name.$(basename "$l" | sed 's/.*\.\([^.]*\)\.log$/\1/').log"; done
  while read -r _ way reason; do
    echo "  FINDING $name: tshark $way: $reason -> $dest"
  done <<<"$lines"
}

# ------------------------------------------------------------ regressions
total_findings=0
regressions=0
echo "=== replay regression captures"
for cap in "$HERE"/regressions/glue/*.pcap*; do
  regressions=$((regressions + 1))
  cp "$cap" "$GLUE_WORK/in/"; chmod a+r "$GLUE_WORK/in/$(basename "$cap")"
  prefix=$GLUE_WORK/results/regression-$(basename "$cap")
  out=$(run_ways "$GLUE_WORK/in/$(basename "$cap")" "$prefix")
  if [[ -n $out ]]; then
    total_findings=$((total_findings + 1))
    record "regression-$(basename "${cap%.*}")" "$cap" "$out" "$prefix"
    grep -h -m1 -E 'runtime error:|SUMMARY' "$prefix".*.log | head -1 | sed 's/^/    /'
  else
    echo "  ok $(basename "$cap")"
  fi
done

# ------------------------------------------------------------ rounds
# Worker $1 of $JOBS takes batches w, w+JOBS, ...
worker() {
  local w=$1 b first i k cap prob members out extra
  local nbatches=$(((ROUNDS + BATCH - 1) / BATCH))
  for ((b = w; b < nbatches; b += JOBS)); do
    first=$((b * BATCH))
    members=()
    for ((k = 0; k < BATCH && first + k < ROUNDS; k++)); do
      i=$((first + k))
      cap=${CAPTURES[i % ${#CAPTURES[@]}]}
      prob=${PROBS[(i / ${#CAPTURES[@]}) % ${#PROBS[@]}]}
      extra=()
      ((i % 3 == 2)) && extra+=(-s $((54 + (i * 7919) % 1500)))
      if ((TIME_SHIFT && i % 5 == 4)); then
        extra+=(-t "$(((i * 104729) % 20000000000 - 10000000000))")
      fi
      local m=$GLUE_WORK/in/r$i-$(basename "${cap%.*}").pcapng
      if ! editcap -E "$prob" "${extra[@]}" "$cap" "$m" >/dev/null 2>&1; then
        echo "ROUND $i editcap-failed" >>"$GLUE_WORK/results/w$w"
        continue
      fi
      chmod a+r "$m"
      members+=("$m")
      echo "ROUND $i $(basename "$cap") -E $prob ${extra[*]}" >>"$GLUE_WORK/results/w$w"
    done
    ((${#members[@]})) || continue
    local input=${members[0]}
    if ((${#members[@]} > 1)); then
      input=$GLUE_WORK/in/batch$b.pcapng
      mergecap -a -F pcapng -w "$input" "${members[@]}" >/dev/null 2>&1 && chmod a+r "$input" || {
        echo "BATCH $b mergecap-failed" >>"$GLUE_WORK/results/w$w"; continue; }
    fi
    local prefix=$GLUE_WORK/results/b$b
    out=$(run_ways "$input" "$prefix")
    echo "RUNS $((${#WAYS[@]}))" >>"$GLUE_WORK/results/w$w"
    if [[ -n $out ]]; then
      if ((${#members[@]} == 1)); then
        echo "HIT batch$b" >>"$GLUE_WORK/results/w$w"
        record "round$first" "$input" "$out" "$prefix" >>"$GLUE_WORK/results/findings$w"
      else
        # Name the culprit(s); keep the batch when no member fails alone.
        local any=0 mo
        for m in "${members[@]}"; do
          mo=$(run_ways "$m" "$prefix-m")
          if [[ -n $mo ]]; then
            any=1
            echo "HIT $(basename "$m")" >>"$GLUE_WORK/results/w$w"
            record "$(basename "${m%.*}")" "$m" "$mo" "$prefix-m" >>"$GLUE_WORK/results/findings$w"
          fi
          rm -f "$prefix"-m.*.log
        done
        if ((!any)); then
          echo "HIT batch$b" >>"$GLUE_WORK/results/w$w"
          record "batch$b" "$input" "$out" "$prefix" >>"$GLUE_WORK/results/findings$w"
        fi
      fi
    fi
    rm -f "$prefix".*.log
    ((KEEP)) || rm -f "${members[@]}" "$GLUE_WORK/in/batch$b.pcapng"
  done
}

echo "=== $ROUNDS mutated captures, ${#WAYS[@]} ways each, batch $BATCH, $JOBS jobs"
start=$(date +%s)
for ((w = 0; w < JOBS; w++)); do
  worker "$w" &
done
wait
elapsed=$(($(date +%s) - start))

cat "$GLUE_WORK"/results/findings* 2>/dev/null
rounds_done=$(cat "$GLUE_WORK"/results/w* 2>/dev/null | grep -c '^ROUND .*-E' || true)
batches_hit=$(cat "$GLUE_WORK"/results/w* 2>/dev/null | grep -c '^HIT' || true)
runs=$(cat "$GLUE_WORK"/results/w* 2>/dev/null | awk '/^RUNS/ {s += $2} END {print s + 0}')
total_findings=$((total_findings + batches_hit))
echo "glue-fuzz: $rounds_done mutated captures, $runs tshark runs, $regressions regression captures, ${elapsed}s, $total_findings findings${total_findings:+ (in $FINDINGS)}"
((total_findings == 0))
