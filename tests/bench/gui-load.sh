#!/usr/bin/env bash
# What the plugin costs in the Wireshark GUI: the CPU time Wireshark (Qt)
# takes to open the mixed capture, with the plugin installed and without it.
# Opening a file is where a user waits: Wireshark dissects every packet once,
# with a protocol tree for its colouring rules, and fills the packet list.
#
#   bash tests/bench/gui-load.sh [--packets N] [--rounds R] [--plugin PATH/smtp_delivery.so]
#        [--work DIR] [--seed S] [--timeout SECONDS] [--markdown PATH]
#
# Wireshark runs under its own Xvfb, as nobody, with the default profile of a
# fresh user (an empty home). A small Lua script (a tap listener that wakes
# only on the capture's last frame) writes Wireshark's CPU time once that
# frame has been dissected, and ends Wireshark there, so the time covers
# start-up and the whole first pass. In each round the two runs start
# together on one and the same CPU (which one starts first flips every
# round), as bench.sh --same-cpu does for tshark; Xvfb runs on another CPU
# when there is one. Start-up (Wireshark on the capture's first 10 packets,
# three pairs) is measured too and taken out for the "load" ratio. Peak RSS
# comes from GNU time.
#
# The capture is bench.sh's (cached in the same work folder, default
# 1,000,000 packets, seed 1). Nothing is asserted; the script exits 0
# unless something is broken (no plugin, Wireshark or Xvfb failing, the Lua
# timer not firing within --timeout, default 1800 s a run).
#
# Needs (Debian): wireshark-qt (built with Lua, as Debian's is), xvfb, time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKETS=1000000
ROUNDS=5
PLUGIN_SO=$DEFAULT_PLUGIN_SO
WORKDIR=$DEFAULT_WORKDIR
SEED=1
LIMIT=1800
MARKDOWN=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --packets) PACKETS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --plugin) PLUGIN_SO=$2; shift 2 ;;
    --work) WORKDIR=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --timeout) LIMIT=$2; shift 2 ;;
    --markdown) MARKDOWN=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
for tool in wireshark Xvfb taskset capinfos editcap; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install wireshark-qt xvfb util-linux)"
done
need_time
setup_work "$WORKDIR" "$PLUGIN_SO"
echo "plugin: $PLUGIN_INFO"
echo "wireshark: $(wireshark --version 2>/dev/null | head -n 1)"
check_plugin_loading
mixed_capture "$PACKETS" "$SEED"

GUI=$(mktemp -d "$WORK/tmp/gui.XXXXXX")
XVFB_PID=""
cleanup() {
  [[ -n $XVFB_PID ]] && kill "$XVFB_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$GUI"
}
trap cleanup EXIT
chmod 755 "$GUI"
mkdir -p "$GUI/home/.config/wireshark" "$GUI/home/xdg"
# No dialogs about privileges or capture interfaces at start; the main
# window fills the screen, as a user's would (its packet list is redrawn
# while the file loads).
cat >"$GUI/home/.config/wireshark/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1400
gui.geometry_main_height: 1000
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
EOF
cat >"$GUI/load-timer.lua" <<'EOF'
-- Wakes on the last frame only: writes the CPU time used so far and whether
-- the plugin's fields exist in this Wireshark, then ends Wireshark.
local last = tonumber(os.getenv("SD_LAST_FRAME"))
local out = os.getenv("SD_RESULT")
local plugin = pcall(Field.new, "smtp_delivery.reply.code")
local listener = Listener.new(os.getenv("SD_TAP"), "frame.number == " .. last)
function listener.packet()
  local f = io.open(out, "w")
  f:write(string.format("%.3f %s\n", os.clock(), plugin and "plugin" or "no-plugin"))
  f:close()
  os.exit(0)
end
EOF
chmod -R a+rX "$GUI"
chown -R "$RUN_USER" "$GUI/home"
chmod 700 "$GUI/home/xdg"

CPUS=$(nproc)
RUN_CPU=$((CPUS - 1))
XVFB_PIN=()
((CPUS > 1)) && XVFB_PIN=(taskset -c 0)
"${XVFB_PIN[@]}" Xvfb -displayfd 3 -screen 0 1400x1000x24 -nolisten tcp 3>"$GUI/display" >"$GUI/xvfb.log" 2>&1 &
XVFB_PID=$!
for ((i = 0; i < 300; i++)); do
  [[ -s $GUI/display ]] && break
  kill -0 "$XVFB_PID" 2>/dev/null || die "Xvfb exited: $(cat "$GUI/xvfb.log")"
  sleep 0.1
done
[[ -s $GUI/display ]] || die "Xvfb did not start within 30 s"
DISPLAY_NAME=":$(head -n 1 "$GUI/display")"

# The tap the timer listens on: the last frame's IP version (every frame of
# the mixed capture is IP), so the frame tap, which the plugin watches for
# protocol statistics, keeps no listener.
last_frame_tap() {
  local cap=$1 n=$2 protos
  protos=$(as_nobody without timeout 900 tshark -r "$cap" -Y "frame.number == $n" -T fields -e frame.protocols 2>/dev/null)
  case ":$protos:" in
    *:ipv6:*) echo ipv6 ;;
    *:ip:*) echo ip ;;
    *) echo frame ;;
  esac
}

# gui_run with|without CAPTURE LAST TAP OUT: opens CAPTURE in Wireshark on
# RUN_CPU; OUT gets "cpu-seconds plugin|no-plugin peak-RSS-KB", or ERR.
gui_run() {
  local side=$1 cap=$2 last=$3 tap=$4 out=$5 rc=0
  : >"$out.lua"
  : >"$out.time"
  chmod 666 "$out.lua" "$out.time"
  # The GUI's own home (the variables given here override as_nobody's).
  as_nobody "$side" HOME="$GUI/home" XDG_RUNTIME_DIR="$GUI/home/xdg" DISPLAY="$DISPLAY_NAME" \
    SD_LAST_FRAME="$last" SD_TAP="$tap" SD_RESULT="$out.lua" \
    timeout -k 10 "$LIMIT" taskset -c "$RUN_CPU" /usr/bin/time -o "$out.time" -f '%M' \
    wireshark -X lua_script:"$GUI/load-timer.lua" -r "$cap" >>"$GUI/wireshark.log" 2>&1 || rc=$?
  if [[ ! -s $out.lua ]]; then
    echo "ERR $rc" >"$out"
  else
    echo "$(cat "$out.lua") $(tail -n 1 "$out.time")" >"$out"
  fi
}

# pair CAPTURE LAST TAP ROUND NAME: both sides together on RUN_CPU; prints
# "with-cpu without-cpu with-rss without-rss".
pair() {
  local cap=$1 last=$2 tap=$3 r=$4 w=$GUI/with.$5 wo=$GUI/without.$5
  if ((r % 2)); then
    gui_run with "$cap" "$last" "$tap" "$w" &
    gui_run without "$cap" "$last" "$tap" "$wo" &
  else
    gui_run without "$cap" "$last" "$tap" "$wo" &
    gui_run with "$cap" "$last" "$tap" "$w" &
  fi
  wait
  local a b ac ap ar bc bp br
  a=$(cat "$w") b=$(cat "$wo")
  if [[ $a == ERR* || $b == ERR* ]]; then
    die "Wireshark did not reach the last frame (with: $a, without: $b); its output ends: $(tail -n 5 "$GUI/wireshark.log")"
  fi
  read -r ac ap ar <<<"$a"
  read -r bc bp br <<<"$b"
  [[ $ap == plugin && $bp == no-plugin ]] || die "plugin loaded wrongly in the GUI (with: $ap, without: $bp)"
  echo "$ac $bc $ar $br"
}

NPKT=$(packet_count "$CAP")
SMALL="$GUI/first-10.pcap"
editcap -r "$CAP" "$SMALL" 1-10 && chmod 644 "$SMALL"
TAP=$(last_frame_tap "$CAP" "$NPKT")
SMALL_TAP=$(last_frame_tap "$SMALL" 10)
echo "capture: $CAP ($NPKT packets); Wireshark on CPU $RUN_CPU; timer on the $TAP tap"

RESULTS="$GUI/results.tsv"
: >"$RESULTS"
for r in 1 2 3; do
  res=$(pair "$SMALL" 10 "$SMALL_TAP" "$r" "startup$r")
  read -r ac bc _ _ <<<"$res"
  printf 'startup\t%s\t%s\t%s\n' "$r" "$ac" "$bc" | tee -a "$RESULTS"
done
for ((r = 1; r <= ROUNDS; r++)); do
  res=$(pair "$CAP" "$NPKT" "$TAP" "$r" "load$r")
  read -r ac bc ar br <<<"$res"
  printf 'load\t%s\t%s\t%s\t%s\t%s\n' "$r" "$ac" "$bc" "$ar" "$br" | tee -a "$RESULTS"
done

markdown=()
[[ -n $MARKDOWN ]] && markdown=(--markdown "$MARKDOWN")
"$PY" "$BENCH_DIR/report.py" gui "$RESULTS" --packets "$NPKT" "${markdown[@]}"
