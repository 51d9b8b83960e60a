#!/usr/bin/env bash
# summarize.sh FILE...  -- print the data phase (from the 354 reply on) of
# each PMTU-lab capture as a tab-separated table, for writing frame-exact tests.
set -euo pipefail
FIELDS=(frame.number frame.time_relative ip.src ipv6.src ip.flags.df ip.len ipv6.plen
        tcp.seq tcp.len tcp.ack tcp.analysis.retransmission icmp.type icmpv6.type icmp.mtu icmpv6.mtu)
args=()
for f in "${FIELDS[@]}"; do args+=(-e "$f"); done
for cap in "$@"; do
  first=$(tshark -r "$cap" -Y 'smtp.response.code == 354' -T fields -e frame.number 2>/dev/null | head -1)
  echo "## $(basename "$cap")  (data phase: frames >= ${first:-1})"
  (IFS=$'\t'; echo "${FIELDS[*]}")
  tshark -r "$cap" -Y "frame.number >= ${first:-1}" -T fields "${args[@]}" 2>/dev/null
  echo
done
