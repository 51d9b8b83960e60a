#!/usr/bin/env bash
# Builds seed corpora for the libFuzzer targets from the test captures.
#
#   tests/fuzz/make-seeds.sh [CORPUS_DIR]     (default /tmp/sd-fuzz-corpus)
#
# Writes CORPUS_DIR/<target>/: SMTP lines and client/server payload streams,
# enhanced-code tokens, raw IP packets and ICMP messages, and each capture's
# TCP/ICMP events in the encoding fuzz_pmtu reads (tests/fuzz/seedgen.py),
# plus the hand-picked seeds committed under tests/fuzz/seeds/<target>/.
# Needs tshark and python3. Files are named by content hash: reruns add
# nothing twice.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-/tmp/sd-fuzz-corpus}
TARGETS=(fuzz_reply_line fuzz_enhanced_code fuzz_session fuzz_pmtu fuzz_net)

for t in "${TARGETS[@]}"; do
  mkdir -p "$OUT/$t"
  if [[ -d "$HERE/seeds/$t" ]]; then
    cp -f "$HERE/seeds/$t"/* "$OUT/$t/" 2>/dev/null || true
  fi
done

if ! command -v tshark >/dev/null; then
  echo "make-seeds: tshark not found; only the committed seeds are in $OUT" >&2
  exit 0
fi

shopt -s nullglob
captures=("$ROOT"/test-captures/*.pcapng)
for cap in "${captures[@]}"; do
  python3 "$HERE/seedgen.py" "$OUT" "$cap"
done

for t in "${TARGETS[@]}"; do
  printf 'make-seeds: %-20s %5d files\n' "$t" "$(find "$OUT/$t" -type f | wc -l)"
done
