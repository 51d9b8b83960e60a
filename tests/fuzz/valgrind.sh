#!/usr/bin/env bash
# Runs valgrind memcheck on tshark with the (unsanitized) plugin over every
# test capture (tshark -V -2, or --tshark-args) and reports the errors whose stack passes
# through plugin code (smtp_delivery.so, plugin/ or include/smtp_delivery/).
# Errors inside libwireshark, glib etc. alone are counted but ignored.
#
#   tests/fuzz/valgrind.sh [--jobs P] [--build-dir DIR] [--out DIR]
#                          [--tshark-args "ARGS"] [CAPTURE...]
#
# --tshark-args replaces "-V -2", e.g. "-Y tcp" for a tree in which nobody
# reads the plugin's items.
#
# Keeps valgrind's XML and a text summary per capture in the out dir
# (default ${TMPDIR:-/tmp}/sd-valgrind). Exit status is non-zero only when
# an error in plugin code was found or a run left no report.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=${TMPDIR:-/tmp}
JOBS=$(nproc)
BUILD=$TMP/sd-valgrind-build-$(printf %s "$ROOT" | cksum | cut -d" " -f1)  # one per checkout
OUT=$TMP/sd-valgrind
TSHARK_ARGS="-V -2"
CAPS=()
while (($#)); do
  case "$1" in
    --jobs) JOBS=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tshark-args) TSHARK_ARGS=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "valgrind.sh: unknown option $1" >&2; exit 2 ;;
    *) CAPS+=("$1"); shift ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not found" >&2; exit 2; }
if ((${#CAPS[@]} == 0)); then
  shopt -s nullglob
  CAPS=("$ROOT"/test-captures/*.pcapng "$ROOT"/test-captures/*.pcap)
fi

GLUE_WORK=$(mktemp -d "$TMP/sd-valgrind.XXXXXX")
chmod 755 "$GLUE_WORK"
trap 'rm -rf "$GLUE_WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT" "$GLUE_WORK/in"
chmod 777 "$OUT"

# shellcheck source=glue-common.sh
source "$HERE/glue-common.sh"
echo "=== build plugin (g++, no sanitizers) in $BUILD"
SD_SANITIZE=OFF glue_build "$BUILD" "$GLUE_WORK" || { echo "valgrind.sh: build failed" >&2; exit 2; }
GLUE_ENV=(G_SLICE=always-malloc G_DEBUG=gc-friendly)
glue_prepare_cmd
glue_check_loaded || exit 2

VG=(valgrind --tool=memcheck --error-limit=no --num-callers=40 --track-origins=yes
    --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --xml=yes)

run_one() {
  local cap=$1 name
  name=$(basename "${cap%.*}")
  cp "$cap" "$GLUE_WORK/in/" && chmod a+r "$GLUE_WORK/in/$(basename "$cap")"
  local args
  read -r -a args <<<"$TSHARK_ARGS"
  timeout -k 10 3600 "${GLUE_CMD[@]}" "${VG[@]}" --xml-file="$OUT/$name.xml" \
    tshark -n -r "$GLUE_WORK/in/$(basename "$cap")" "${args[@]}" >/dev/null 2>"$OUT/$name.stderr"
  echo $? >"$OUT/$name.status"
}

echo "=== valgrind over ${#CAPS[@]} captures, $JOBS at a time"
start=$(date +%s)
running=0
for cap in "${CAPS[@]}"; do
  run_one "$cap" &
  running=$((running + 1))
  if ((running >= JOBS)); then wait -n; running=$((running - 1)); fi
done
wait
elapsed=$(($(date +%s) - start))

python3 - "$OUT" "${CAPS[@]}" <<'PY'
import os, sys, xml.etree.ElementTree as ET
out, caps = sys.argv[1], sys.argv[2:]
PLUGIN_MARKS = ("smtp_delivery", "/plugin/packet-smtp-delivery", "/plugin/plugin.cpp", "/include/smtp_delivery/")
plugin_errors = other_errors = failed_runs = 0
lines = []
for cap in caps:
    name = os.path.splitext(os.path.basename(cap))[0]
    xml_path = os.path.join(out, name + ".xml")
    status = open(os.path.join(out, name + ".status")).read().strip()
    try:
        root = ET.parse(xml_path).getroot()
    except Exception as e:  # valgrind died or the XML is cut short
        lines.append(f"  FAILED   {name}: no valgrind report ({e}); exit status {status}")
        failed_runs += 1
        continue
    mine, others = [], 0
    for err in root.iter("error"):
        frames = []
        for st in err.iter("stack"):
            for fr in st.iter("frame"):
                obj = fr.findtext("obj") or ""
                fn = fr.findtext("fn") or "?"
                d, f, l = fr.findtext("dir") or "", fr.findtext("file") or "", fr.findtext("line") or ""
                frames.append((obj, fn, f"{d}/{f}:{l}" if f else ""))
        hit = any(any(m in obj or m in loc for m in PLUGIN_MARKS) for obj, _, loc in frames)
        if hit:
            kind = err.findtext("kind")
            what = err.findtext("what") or err.findtext("xwhat/text") or ""
            top = next(((fn, loc) for obj, fn, loc in frames if any(m in obj or m in loc for m in PLUGIN_MARKS)), ("?", ""))
            mine.append(f"{kind}: {what} [at {top[0]} {top[1]}]")
        else:
            others += 1
    plugin_errors += len(mine)
    other_errors += others
    mark = "FINDING " if mine else "ok      "
    lines.append(f"  {mark} {name}: {len(mine)} plugin errors, {others} others ignored (tshark exit {status})")
    lines += ["           " + m for m in mine]
print("\n".join(lines))
print(f"valgrind: {len(caps)} captures, {plugin_errors} errors in plugin code, {other_errors} elsewhere (ignored)"
      + (f", {failed_runs} runs without a report" if failed_runs else ""))
sys.exit(1 if plugin_errors or failed_runs else 0)
PY
rc=$?
echo "valgrind: ${elapsed}s; reports in $OUT"
exit $rc
