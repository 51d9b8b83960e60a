#!/usr/bin/env bash
# Adversarial captures against smtp_delivery: time and peak memory with and
# without the plugin at several scales, so linear time and a constant
# per-flow memory cost can be read off. Never asserts anything about timing.
#
#   bash tests/bench/adversarial.sh [--scales "0.25 0.5 1"] [--kinds "flows pipeline multiline longline window"]
#        [--runs R] [--markdown PATH] [--plugin PATH/smtp_delivery.so] [--work DIR] [--timeout SECONDS]
#
# Kinds (see gen_adversarial.py): flows (1,000,000 never-acknowledged flows
# with retransmitted 1500-byte DF segments at scale 1), pipeline (1,000,000
# pipelined NOOPs without replies), multiline (a 100,000-line reply),
# longline (a 1 MB reply line), window (a bulk transfer of 1,000,000
# segments that keeps 64 in flight, as many as the detector tracks).
#
# Modes: "summary" = tshark -r F > /dev/null (dissects every packet, no
# protocol tree with or without the plugin), "expert" = tshark -r F -q -z
# expert. Plain "tshark -r F -q" is not measured: tshark
# then skips dissection altogether, so neither run dissects anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SCALES="0.25 0.5 1"
KINDS="flows pipeline multiline longline window"
RUNS=1
MARKDOWN=""
PLUGIN_SO=$DEFAULT_PLUGIN_SO
WORKDIR=/tmp/smtp-delivery-adversarial
LIMIT=3600
while [[ $# -gt 0 ]]; do
  case $1 in
    --scales) SCALES=$2; shift 2 ;;
    --kinds) KINDS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --markdown) MARKDOWN=$2; shift 2 ;;
    --plugin) PLUGIN_SO=$2; shift 2 ;;
    --work) WORKDIR=$2; shift 2 ;;
    --timeout) LIMIT=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done

T_START=$(date +%s)
need_time
setup_work "$WORKDIR" "$PLUGIN_SO"
echo "plugin: $PLUGIN_INFO"
echo "tshark: $TSHARK_VERSION"
check_plugin_loading

GEN_ID=$(cat "$BENCH_DIR"/gen_adversarial.py "$BENCH_DIR"/pcapw.py "$BENCH_DIR"/tcpflow.py | sha256sum | cut -c1-10)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS="$WORK/results-$(date +%Y%m%d-%H%M%S).tsv"
: >"$RESULTS"
for kind in $KINDS; do
  for scale in $SCALES; do
    cap="$WORK/$kind-$scale-$GEN_ID.pcap"
    if [[ ! -s $cap || ! -s $cap.info ]]; then
      echo "generating $cap"
      timeout 3600 "$PY" "$BENCH_DIR/gen_adversarial.py" "$kind" -o "$cap.tmp" --scale "$scale" >"$cap.info"
      mv "$cap.tmp" "$cap"
    fi
    chmod 644 "$cap"
    read -r n packets <"$cap.info"
    for ((r = 1; r <= RUNS; r++)); do
      for mode in summary expert; do
        if [[ $mode == summary ]]; then args=(-r "$cap"); else args=(-r "$cap" -q -z expert); fi
        if ((r % 2)); then sides=(with without); else sides=(without with); fi
        for side in "${sides[@]}"; do
          res=$(measure "$side" "$LIMIT" "${args[@]}")
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$scale" "$n" "$packets" "$mode" "$side" "$r" "$res" \
            >>"$RESULTS"
          printf '%-9s scale %-5s n=%-8s %8s pkts  %-7s %-8s %s\n' "$kind" "$scale" "$n" "$packets" "$mode" "$side" \
            "$res"
        done
      done
    done
  done
done

T_END=$(date +%s)
"$PY" "$BENCH_DIR/report.py" adversarial "$RESULTS" \
  --title "smtp_delivery adversarial captures (scales $SCALES, $RUNS run(s))" \
  --info "plugin: $PLUGIN_INFO" \
  --info "tshark: $TSHARK_VERSION; $(nproc) CPUs; $(uname -r)" \
  --info "modes: summary = tshark -r F > /dev/null; expert = tshark -r F -q -z expert" \
  --info "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)" \
  --info "total run time (incl. generation): $((T_END - T_START)) s" \
  ${MARKDOWN:+--markdown "$MARKDOWN"}
echo "raw results: $RESULTS; tshark stderr: $WORK/stderr.log"
