#!/usr/bin/env bash
# Installs what building and testing smtp-delivery needs on Debian 12
# (as root; a non-root caller must have them installed already).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libwireshark-dev libglib2.0-dev tshark
  libgtest-dev
  python3 python3-pytest
  debootstrap util-linux
  # the namespace lab (test-captures/pmtu-lab.sh, tests/pytest/test_lab.py)
  iproute2 nftables ethtool swaks python3-aiosmtpd
  libio-socket-inet6-perl libnet-ssleay-perl
  # fuzzing (tests/fuzz): libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev valgrind
  # the GUI test (tests/pytest/test_gui.py) and tests/gui/run-gui.sh
  wireshark-qt xvfb x11-utils xdotool imagemagick
  # GNU time for the benchmark scripts (tests/pytest/test_bench_gui_load.py runs one)
  time
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Answer wireshark-common's question (may non-root users capture?) up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
timeout 20m apt-get update -q
timeout 30m apt-get install -y -q --no-install-recommends "${missing[@]}"
