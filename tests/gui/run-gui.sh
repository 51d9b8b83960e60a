#!/usr/bin/env bash
# tests/gui/run-gui.sh - screenshots of smtp-delivery in the real Wireshark GUI.
#
#   bash tests/gui/run-gui.sh [--out DIR] [--keep] [SHOT...]
#
# SHOT is any of (default: all of them, in this order):
#   blackhole  packet list + SMTP Delivery tree of the black-hole frame 41
#              (test-captures/pmtu-blackhole-v4-1400.pcapng)
#   reply      the replies of postfix-replies.pcapng (display filter
#              smtp_delivery.reply) with frame 195 (450 4.7.25 reverse-dns) explained
#   expert     Analyze > Expert Information (wireshark -z expert) on the black hole
#   stats      Statistics > SMTP Delivery on postfix-replies.pcapng
#
# Wireshark runs under Xvfb, as `nobody` when started as root (Wireshark run
# as root ignores WIRESHARK_PLUGIN_DIR and the personal folders), with the
# freshly built plugin ($SD_BUILD_DIR/plugins, default build/plugins) and the
# "SMTP Delivery" profile (plugin/profile/), on copies in a temp dir. Nothing
# outside that temp dir is touched. Screenshots go to tests/gui/screenshots/
# (or --out DIR), each under 300 KB. Every wait is bounded: a window must
# appear within $SD_GUI_TIMEOUT seconds (default 60), each Wireshark run is
# killed after $SD_GUI_MAX seconds (default 180).
#
# Needs (Debian): wireshark-qt xvfb xdotool imagemagick x11-utils.
# Clicks land at fixed positions worked out for the 1400x900 layout this
# script sets up (1400x1050 screen, packet list 300 px high, byte view hidden).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SD_BUILD_DIR:-$ROOT/build}
WIRESHARK=${WIRESHARK:-wireshark}
TIMEOUT=${SD_GUI_TIMEOUT:-60}
MAXRUN=${SD_GUI_MAX:-180}
OUT=$ROOT/tests/gui/screenshots
KEEP=0
SCREEN_W=1400 SCREEN_H=1050
UPPER_PANE=300          # packet list height (recent: gui.geometry_main_upper_pane)
LIST_TOP=95             # y of the packet list header in the main window
PROFILE="SMTP Delivery"
MAX_BYTES=$((300 * 1024))

log() { printf '[run-gui] %s\n' "$*" >&2; }
die() { printf '[run-gui] ERROR: %s\n' "$*" >&2; exit 1; }

shots=()
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; OUT=$2; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    blackhole|reply|expert|stats) shots+=("$1") ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
((${#shots[@]})) || shots=(blackhole reply expert stats)

for tool in "$WIRESHARK" Xvfb xdotool xwininfo import convert identify runuser; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install wireshark-qt xvfb xdotool imagemagick x11-utils)"
done
convert -version 2>/dev/null | grep -q ImageMagick || die "convert is not ImageMagick's (apt-get install imagemagick)"
RELEASE=$("$WIRESHARK" --version 2>/dev/null | sed -n 's/^Wireshark \([0-9]*\.[0-9]*\).*/\1/p' | head -n 1)
[[ -n "$RELEASE" ]] || die "cannot tell the version of $WIRESHARK"
[[ -f "$BUILD/plugins/$RELEASE/epan/smtp_delivery.so" ]] ||
  die "no plugin for Wireshark $RELEASE in $BUILD/plugins (cmake --build $BUILD)"

# --- a private, world-readable copy of everything Wireshark reads ------------
WORK=$(mktemp -d /tmp/sd-gui.XXXXXX)
XVFB_PID="" WS_PID=""
cleanup() {
  if [[ -n "$WS_PID" ]]; then kill "$WS_PID" 2>/dev/null || true; fi
  if [[ -n "$XVFB_PID" ]]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if ((KEEP)); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

chmod 755 "$WORK"
cp -r "$BUILD/plugins" "$WORK/plugins"
mkdir -p "$WORK/captures" "$WORK/home/xdg" "$WORK/home/.config/wireshark/profiles"
cp "$ROOT"/test-captures/*.pcapng "$WORK/captures/"
bash "$ROOT/plugin/profile/install-profile.sh" --dest "$WORK/home/.config/wireshark/profiles" >/dev/null
# Window geometry (recent_common) and pane layout (the profile's recent).
cat >"$WORK/home/.config/wireshark/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $SCREEN_W
gui.geometry_main_height: $SCREEN_H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
EOF
cat >"$WORK/home/.config/wireshark/profiles/$PROFILE/recent" <<EOF
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.geometry_main_upper_pane: $UPPER_PANE
gui.geometry_main_lower_pane: 400
column.width:
        %m, 60,
        %t, 95,
        %s, 112,
        %d, 112,
        %p, 62,
        "%Cus:smtp_delivery.reply.class", 100,
        "%Cus:smtp_delivery.reply.code", 45,
        "%Cus:smtp_delivery.reply.enhanced", 72,
        "%Cus:smtp_delivery.reply.cause", 150,
        "%Cus:smtp_delivery.reply.time", 100,
        "%Cus:smtp_delivery.pmtu.verdict", 82,
        %i, -1
EOF
chmod -R a+rX "$WORK"
chmod 700 "$WORK/home/xdg"
AS_USER=()
if [[ $(id -u) -eq 0 ]]; then
  chown -R nobody "$WORK/home"
  AS_USER=(runuser -u nobody --)
fi
RUN_ENV=(env HOME="$WORK/home" WIRESHARK_PLUGIN_DIR="$WORK/plugins" XDG_RUNTIME_DIR="$WORK/home/xdg"
         LANG=C.UTF-8 PATH=/usr/bin:/bin)

# --- X server ---------------------------------------------------------------
Xvfb -displayfd 3 -screen 0 "${SCREEN_W}x${SCREEN_H}x24" -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
for ((i = 0; i < TIMEOUT * 10; i++)); do
  [[ -s "$WORK/display" ]] && break
  kill -0 "$XVFB_PID" 2>/dev/null || die "Xvfb exited: $(cat "$WORK/xvfb.log")"
  sleep 0.1
done
[[ -s "$WORK/display" ]] || die "Xvfb did not start within ${TIMEOUT}s"
DISPLAY=":$(head -n 1 "$WORK/display")"
export DISPLAY
log "Xvfb on $DISPLAY, Wireshark $RELEASE, plugin from $BUILD/plugins"

# --- helpers ------------------------------------------------------------------
# start_ws CAPTURE ARGS...: starts Wireshark on a capture with the profile.
start_ws() {
  local capture=$1; shift
  timeout -k 5 "$MAXRUN" "${AS_USER[@]}" "${RUN_ENV[@]}" DISPLAY="$DISPLAY" \
    "$WIRESHARK" -C "$PROFILE" -r "$WORK/captures/$capture" "$@" >"$WORK/ws.out" 2>"$WORK/ws.err" &
  WS_PID=$!
}

# wait_window TITLE-REGEX: prints the id of the first visible window whose title matches.
wait_window() {
  local id
  for ((i = 0; i < TIMEOUT * 2; i++)); do
    id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n 1 || true)
    if [[ -n "$id" ]]; then echo "$id"; return 0; fi
    kill -0 "$WS_PID" 2>/dev/null || { cat "$WORK/ws.err" >&2; die "Wireshark exited before showing '$1'"; }
    sleep 0.5
  done
  cat "$WORK/ws.err" >&2
  die "no window '$1' within ${TIMEOUT}s"
}

# geometry WID: "X Y W H" of a window, absolute.
geometry() {
  xwininfo -id "$1" | awk '/Absolute upper-left X/ {x=$NF} /Absolute upper-left Y/ {y=$NF}
                          /Width:/ {w=$NF} /Height:/ {h=$NF} END {print x, y, w, h}'
}

click() { xdotool mousemove "$1" "$2" click 1; sleep 0.4; }
key() { local k; for k in "$@"; do xdotool key "$k"; sleep 0.35; done; }
park_mouse() { xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1)); sleep 0.5; }

# focus_main: a click on the status bar gives the main window the keyboard.
focus_main() { click $((SCREEN_W / 2)) $((SCREEN_H - 10)); }

# go_to FRAME: Go > Go to Packet (Ctrl+G), which also scrolls the list to it.
go_to() {
  focus_main
  key ctrl+g
  xdotool type --delay 50 "$1"
  key Return
  key Escape
}

# select_delivery: selects the last top-level item of the packet details (the
# post-dissector's "SMTP Delivery"; every item is collapsed at first).
select_delivery() {
  click 200 $((LIST_TOP + UPPER_PANE + 10))
  key End
}

# shot NAME [WID]: screenshot of the screen (or of window WID) as OUT/NAME.png, < 300 KB.
shot() {
  local wid=${2:-} raw="$WORK/$1.raw.png" out="$OUT/$1.png"
  park_mouse
  import -window root "$raw"
  if [[ -n "$wid" ]]; then
    read -r x y w h < <(geometry "$wid")
    convert "$raw" -crop "${w}x${h}+${x}+${y}" +repage "$raw"
  fi
  convert "$raw" -strip "$out"
  if (($(stat -c %s "$out") > MAX_BYTES)); then
    convert "$raw" -strip -colors 256 "PNG8:$out"
  fi
  local scale=90
  while (($(stat -c %s "$out") > MAX_BYTES && scale >= 50)); do
    convert "$raw" -strip -resize "${scale}%" -colors 256 "PNG8:$out"
    scale=$((scale - 10))
  done
  log "$out: $(identify -format '%wx%h' "$out"), $(($(stat -c %s "$out") / 1024)) KB"
}

# stop_ws: Ctrl+Q in the main window, then SIGTERM, then SIGKILL, each bounded.
stop_ws() {
  [[ -n "$WS_PID" ]] || return 0
  focus_main
  xdotool key ctrl+q 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$WS_PID" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$WS_PID" 2>/dev/null; then
    kill "$WS_PID" 2>/dev/null || true
    for ((i = 0; i < 10; i++)); do kill -0 "$WS_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$WS_PID" 2>/dev/null || true
  fi
  wait "$WS_PID" 2>/dev/null || true
  WS_PID=""
  if grep -Ei "smtp.?delivery|couldn't load|plugin" "$WORK/ws.err" >&2; then
    log "WARNING: Wireshark printed the lines above about plugins / smtp_delivery"
  fi
}

mkdir -p "$OUT"

# --- the screenshots ----------------------------------------------------------
shot_blackhole() {
  start_ws pmtu-blackhole-v4-1400.pcapng
  wait_window '^pmtu-blackhole-v4-1400' >/dev/null
  sleep 2
  go_to 41
  # SMTP Delivery, then its "Path MTU" and "Message transfer stalled" items,
  # one level each (the transaction summary stays collapsed): the whole
  # tree with every subtree open is taller than the screen.
  select_delivery
  key Right        # expand SMTP Delivery
  key Down Right   # Path MTU
  key End Up Right # last item is the transaction; the one above it the stall
  shot blackhole
  stop_ws
}

shot_reply() {
  start_ws postfix-replies.pcapng -Y smtp_delivery.reply
  wait_window '^postfix-replies' >/dev/null
  sleep 2
  go_to 195
  select_delivery
  key shift+Right  # View > Expand Subtrees
  shot reply
  stop_ws
}

shot_expert() {
  start_ws pmtu-blackhole-v4-1400.pcapng -z expert
  wait_window '^pmtu-blackhole-v4-1400' >/dev/null
  local dlg
  dlg=$(wait_window 'Expert Information')
  sleep 2
  xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 1000 380
  sleep 1
  # Expand the two SMTP Delivery groups (Error, then Warning: one frame each);
  # the first row is below the header (a click on the header would re-sort).
  click 60 42
  key Right
  key Down
  key Down
  key Right
  shot expert-info "$dlg"
  stop_ws
}

shot_stats() {
  start_ws postfix-replies.pcapng
  wait_window '^postfix-replies' >/dev/null
  sleep 2
  focus_main
  # Statistics menu (Alt+S); "SMTP Delivery" is its last entry.
  key alt+s
  key Up
  key Return
  local dlg
  dlg=$(wait_window 'SMTP Delivery · postfix' 2>/dev/null || wait_window 'SMTP Delivery')
  sleep 2
  xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 1000 900
  sleep 1.5
  click 275 22     # sort by the Count column (header row at the top of the dialog):
  click 275 22     # the first click sorts ascending, the second descending
  shot stats "$dlg"
  stop_ws
}

start=$SECONDS
for s in "${shots[@]}"; do
  log "shot: $s"
  "shot_$s"
done
log "done in $((SECONDS - start))s; screenshots in $OUT"
