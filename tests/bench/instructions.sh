#!/usr/bin/env bash
# Deterministic companion to bench.sh: instructions executed per packet by
# tshark with and without the plugin, counted by valgrind (callgrind), with
# tshark's start-up (measured on a one-packet file) taken out. Unlike wall
# time it does not move with other load on the machine.
#
# With --cache, cachegrind also simulates the caches (those of this machine)
# and each row adds estimated cycles per packet, the usual estimate
# (KCachegrind's): instructions + 10 x first-level misses (instruction and
# data) + 100 x last-level misses. Instructions alone do not see that code
# run once per packet is fetched from beyond the first-level cache.
#
#   bash tests/bench/instructions.sh [--packets N] [--tree-packets N] [--plugin PATH/smtp_delivery.so]
#        [--work DIR] [--cache]
#
# Uses the mixed capture of bench.sh (generated here if missing): its first
# N packets (default 100000) for the modes without a tree, the first
# --tree-packets (default 30000) for the others.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKETS=100000
TREE_PACKETS=30000
PLUGIN_SO=$DEFAULT_PLUGIN_SO
WORKDIR=$DEFAULT_WORKDIR
CACHE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --packets) PACKETS=$2; shift 2 ;;
    --tree-packets) TREE_PACKETS=$2; shift 2 ;;
    --plugin) PLUGIN_SO=$2; shift 2 ;;
    --work) WORKDIR=$2; shift 2 ;;
    --cache) CACHE=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
command -v valgrind >/dev/null || die "valgrind is needed (apt-get install valgrind)"
setup_work "$WORKDIR" "$PLUGIN_SO"
# The same capture as bench.sh's default (1,000,000 packets, seed 1): slices
# of it are what is counted.
mixed_capture 1000000 1
SLICE=${CAP%.pcap}-first   # slices are named after the capture they come from
for n in 1 "$PACKETS" "$TREE_PACKETS"; do
  [[ -s $SLICE-$n.pcap ]] || editcap -r "$CAP" "$SLICE-$n.pcap" "1-$n"
  chmod 644 "$SLICE-$n.pcap"
done

# count with|without SLICE ARGS...: "instructions estimated-cycles" of one
# tshark run (estimated cycles 0 without --cache).
count() {
  local side=$1 slice=$2; shift 2
  local out
  if ((CACHE)); then
    out=$(as_nobody "$side" timeout 3600 valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null \
          tshark -r "$SLICE-$slice.pcap" "$@" 2>&1 >/dev/null | "$PY" -c '
import re, sys
t = sys.stdin.read()
def n(label):
    m = re.search(label + r":\s+([\d,]+)", t)
    return int(m.group(1).replace(",", "")) if m else 0
ir = n("I   refs")
print(ir, ir + 10 * (n("I1  misses") + n("D1  misses")) + 100 * n("LL misses"))')
  else
    out=$(as_nobody "$side" timeout 3600 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
          tshark -r "$SLICE-$slice.pcap" "$@" 2>&1 >/dev/null | grep -oP 'Collected : \K[0-9]+')
    out="$out 0"
  fi
  echo "${out:-0 0}"
}

FIELDS=(-T fields -e frame.number -e tcp.seq -e smtp.response.code)
if ((CACHE)); then
  printf '%-34s %8s %14s %14s %9s %14s %14s %9s\n' mode packets "instr/pkt w/o" "instr/pkt with" ratio \
    "cycles/pkt w/o" "cycles/pkt with" ratio
else
  printf '%-34s %8s %14s %14s %9s\n' mode packets "instr/pkt w/o" "instr/pkt with" ratio
fi
row() {  # name slice vs-args|- args...
  local name=$1 slice=$2 vs=$3; shift 3
  local base_args=("$@")
  [[ $vs != - ]] && read -r -a base_args <<<"$vs"
  local s0 s1 w0 w1
  s0=$(count without 1 "${base_args[@]}") s1=$(count with 1 "$@")
  w0=$(count without "$slice" "${base_args[@]}") w1=$(count with "$slice" "$@")
  "$PY" - "$name" "$slice" "$CACHE" $s0 $s1 $w0 $w1 <<'PY'
import sys
name, n, cache = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
s0i, s0c, s1i, s1c, w0i, w0c, w1i, w1c = map(int, sys.argv[4:12])
a, b = (w0i - s0i) / n, (w1i - s1i) / n
line = '%-34s %8d %14.0f %14.0f %8.3fx' % (name, n, a, b, b / a)
if cache:
    c, d = (w0c - s0c) / n, (w1c - s1c) / n
    line += ' %14.0f %14.0f %8.3fx' % (c, d, d / c)
print(line)
PY
}
row "default" "$PACKETS" - 
row "two-pass (-2)" "$PACKETS" - -2
row "expert (-q -z expert)" "$PACKETS" - -q -z expert
row "fields (-T fields)" "$TREE_PACKETS" - "${FIELDS[@]}"
row "+fields + plugin field" "$TREE_PACKETS" "${FIELDS[*]} -e smtp.rsp.parameter" "${FIELDS[@]}" -e smtp_delivery.reply.cause
row "filter (-Y smtp)" "$TREE_PACKETS" - -Y smtp
row "+filter -Y smtp_delivery" "$TREE_PACKETS" "-Y smtp" -Y smtp_delivery
row "verbose (-V)" "$TREE_PACKETS" - -V
