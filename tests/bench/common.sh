# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared by bench.sh and adversarial.sh (sourced, not run).
#
# tshark ignores WIRESHARK_PLUGIN_DIR and personal plugin folders when run as
# root, so every tshark here runs as nobody with a clean environment and
# WIRESHARK_PLUGIN_DIR pointing either at a private copy of the plugin
# ("with") or at an empty folder ("without"): both runs are otherwise the same.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
RUN_USER=${RUN_USER:-nobody}

die() { echo "error: $*" >&2; exit 2; }

# The work folder that bench.sh, instructions.sh and gui-load.sh share by
# default (--work overrides): the mixed capture is generated there once.
DEFAULT_WORKDIR=/tmp/smtp-delivery-bench

# The plugin of the checkout's build, when there is one (--plugin overrides).
DEFAULT_PLUGIN_SO=$(ls "$BENCH_DIR"/../../build/plugins/*/epan/smtp_delivery.so 2>/dev/null | head -n 1 || true)

need_time() {
  if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time (package 'time')" >&2
    timeout 300 apt-get install -y -q time >/dev/null || die "cannot install package 'time'"
  fi
}

# mixed_capture PACKETS SEED: sets CAP to the cached mixed capture of that
# size and seed in $WORK (named after a hash of the generator sources, so a
# changed generator makes a new file), generating it if it is missing.
mixed_capture() {
  local packets=$1 seed=$2 gen_id
  gen_id=$(cat "$BENCH_DIR"/gen_mixed.py "$BENCH_DIR"/pcapw.py "$BENCH_DIR"/tcpflow.py | sha256sum | cut -c1-10)
  CAP="$WORK/mixed-$packets-s$seed-$gen_id.pcap"
  if [[ ! -s $CAP ]]; then
    echo "generating $CAP"
    timeout 3600 "$PY" "$BENCH_DIR/gen_mixed.py" -o "$CAP.tmp" --packets "$packets" --seed "$seed" --stats
    mv "$CAP.tmp" "$CAP"
  fi
  chmod 644 "$CAP"
}

# packet_count CAPTURE: the number of packets capinfos counts in CAPTURE.
packet_count() {
  as_nobody without timeout 600 capinfos -M -c "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}'
}

# setup_work DIR PLUGIN_SO: private, world-readable work folder with a copy of
# the plugin (what is benchmarked does not change if the build is redone).
setup_work() {
  WORK=$1
  local so=$2
  [[ -f $so ]] || die "no plugin at $so (build it first)"
  mkdir -p "$WORK"/plugin/4.0/epan "$WORK"/noplugin "$WORK"/home "$WORK"/tmp
  chmod 755 "$WORK" "$WORK"/plugin "$WORK"/plugin/4.0 "$WORK"/plugin/4.0/epan "$WORK"/noplugin
  chmod 1777 "$WORK"/home "$WORK"/tmp
  # Copied beside and renamed into place: a tshark of another script still
  # running on this folder keeps the copy it loaded.
  local dest="$WORK"/plugin/4.0/epan/smtp_delivery.so
  cp -p "$so" "$dest.new"
  chmod 644 "$dest.new"
  mv -f "$dest.new" "$dest"
  PLUGIN_INFO="$so, modified $(date -u -r "$so" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$so" | cut -c1-16)"
  TSHARK_VERSION=$(tshark --version 2>/dev/null | head -1)
}

plugin_dir() { [[ $1 == with ]] && echo "$WORK/plugin" || echo "$WORK/noplugin"; }

# as_nobody with|without [VAR=value...] CMD...: runs CMD as nobody in the
# with/without setup; VAR=value words (env's) add to or override its
# environment.
as_nobody() {
  local side=$1; shift
  (cd "$WORK" && runuser -u "$RUN_USER" -- env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
    WIRESHARK_PLUGIN_DIR="$(plugin_dir "$side")" "$@")
}

check_plugin_loading() {
  as_nobody with timeout 120 tshark -G plugins 2>/dev/null | grep -q "$WORK/plugin/4.0/epan/smtp_delivery.so" \
    || die "plugin not loaded by tshark in the 'with' setup"
  if as_nobody without timeout 120 tshark -G plugins 2>/dev/null | grep -q smtp_delivery; then
    die "plugin loaded in the 'without' setup"
  fi
}

# measure with|without TIMEOUT TSHARK-ARGS...: runs tshark with stdout to
# /dev/null; prints "wall-seconds peak-RSS-KB user-seconds system-seconds"
# or "ERR rc" (stderr kept in $WORK/stderr.log). With PIN_CPU set, tshark
# runs on that CPU only.
measure() {
  local side=$1 limit=$2; shift 2
  local pin=()
  [[ -n ${PIN_CPU:-} ]] && pin=(taskset -c "$PIN_CPU")
  local tf
  tf=$(mktemp -p "$WORK/tmp" time.XXXXXX)
  chmod 666 "$tf"
  local rc=0
  echo "--- $side: tshark $*" >>"$WORK/stderr.log"
  (cd "$WORK" && timeout -k 30 "$limit" "${pin[@]}" runuser -u "$RUN_USER" -- env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
    WIRESHARK_PLUGIN_DIR="$(plugin_dir "$side")" \
    /usr/bin/time -o "$tf" -f '%e %M %U %S' tshark "$@" >/dev/null 2>>"$WORK/stderr.log") || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "ERR $rc"
  else
    tail -n 1 "$tf"
  fi
  rm -f "$tf"
}
