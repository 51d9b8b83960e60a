#!/usr/bin/env bash
# Installs the Wireshark configuration profile "SMTP Delivery" (columns,
# coloring rules and filter buttons for the smtp-delivery plugin).
#
#   plugin/profile/install-profile.sh            # same as --user
#   plugin/profile/install-profile.sh --user     # <Personal configuration>/profiles/SMTP Delivery
#                                                # (~/.config/wireshark/profiles/SMTP Delivery)
#   plugin/profile/install-profile.sh --system   # <Global configuration>/profiles/SMTP Delivery
#                                                # (/usr/share/wireshark/profiles/SMTP Delivery; root)
#   plugin/profile/install-profile.sh --dest DIR # DIR/SMTP Delivery (packaging, tests)
#   add --uninstall to remove it instead, -n to only print what would be done.
#
# The folders come from `tshark -G folders` when tshark is installed. Wireshark
# lists global profiles in Edit > Configuration Profiles and copies one into
# the personal folder the first time it is selected or changed; `wireshark -C
# "SMTP Delivery"` and `tshark -C "SMTP Delivery"` select it from the command
# line. Installing over an existing copy replaces the profile's own files
# (preferences, colorfilters, dfilter_buttons) and keeps the rest (recent, ...).
set -euo pipefail

NAME="SMTP Delivery"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$NAME"
FILES=(preferences colorfilters dfilter_buttons)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

mode=user dest="" uninstall=0 dry=0
while (($#)); do
  case "$1" in
    --user) mode=user ;;
    --system) mode=system ;;
    --dest) [[ $# -ge 2 ]] || usage; mode=dest dest=$2; shift ;;
    --dest=*) mode=dest dest=${1#--dest=} ;;
    --uninstall) uninstall=1 ;;
    -n|--dry-run) dry=1 ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
  shift
done

# One line of `tshark -G folders` ("Personal configuration:\t/path").
folder() {
  command -v tshark >/dev/null 2>&1 || return 0
  timeout 30 tshark -G folders 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p" | head -n 1
}

case "$mode" in
  user)
    conf=$(folder "Personal configuration")
    [[ -n "$conf" ]] || conf="${XDG_CONFIG_HOME:-$HOME/.config}/wireshark"
    base="$conf/profiles"
    ;;
  system)
    conf=$(folder "Global configuration")
    [[ -n "$conf" ]] || conf=/usr/share/wireshark
    base="$conf/profiles"
    ;;
  dest)
    [[ -n "$dest" ]] || usage
    base=$dest
    ;;
esac
target="$base/$NAME"

run() { if ((dry)); then printf '+ %q' "$1"; shift; printf ' %q' "$@"; echo; else "$@"; fi; }

if ((uninstall)); then
  if [[ -d "$target" ]]; then
    run rm -rf -- "$target"
    echo "removed $target"
  else
    echo "not installed: $target"
  fi
  exit 0
fi

for f in "${FILES[@]}"; do
  [[ -f "$SRC/$f" ]] || { echo "missing $SRC/$f" >&2; exit 1; }
done
run install -d -m 0755 "$target"
for f in "${FILES[@]}"; do
  run install -m 0644 "$SRC/$f" "$target/$f"
done
echo "installed profile \"$NAME\" in $target"
echo "use it with: wireshark -C \"$NAME\" ...   tshark -C \"$NAME\" ...   (or Edit > Configuration Profiles)"
