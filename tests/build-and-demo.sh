#!/usr/bin/env bash
# Builds smtp-delivery, installs it where tshark finds it, and runs its main
# job on bundled captures: explain every failing SMTP reply, and find the
# PMTU black hole behind a stalled message.
#
#   sudo bash tests/build-and-demo.sh     # system plugin folder (root)
#   bash tests/build-and-demo.sh          # personal plugin folder (non-root,
#                                         # dependencies already installed)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build

echo
echo "=== installed: $(tshark -G plugins 2>/dev/null | grep smtp_delivery || echo 'NOT LOADED')"
echo
echo "=== Every failing reply in a Postfix capture, explained (tshark -Y 'smtp_delivery.reply.class >= 4')"
tshark -r test-captures/postfix-replies.pcapng -Y 'smtp_delivery.reply.class >= 4' -T fields \
  -E header=y -e frame.number -e smtp_delivery.reply.code -e smtp_delivery.reply.enhanced \
  -e smtp_delivery.reply.command -e smtp_delivery.reply.cause -e smtp_delivery.reply.advice
echo
echo "=== A message that never arrives: the PMTU black hole behind it (tshark -Y smtp_delivery.pmtu.blackhole)"
tshark -r test-captures/pmtu-blackhole-v4-1400.pcapng -Y 'smtp_delivery.pmtu.blackhole || smtp_delivery.reply' \
  -T fields -E header=y -e frame.number -e frame.time_relative -e smtp_delivery.reply.code \
  -e smtp_delivery.reply.command -e smtp_delivery.pmtu.verdict -e smtp_delivery.pmtu.original_in \
  -e smtp_delivery.pmtu.retransmissions -e smtp_delivery.pmtu.mtu_lower -e smtp_delivery.pmtu.mtu_upper \
  -e smtp_delivery.stall
echo
echo "=== Expert info"
tshark -r test-captures/pmtu-blackhole-v4-1400.pcapng -q -z expert,warn | sed -n '1,20p'
