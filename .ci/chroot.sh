#!/usr/bin/env bash
# .ci/chroot.sh - Debian chroots for building/testing smtp-delivery against
# other Wireshark versions (trixie = Wireshark 4.4, sid = Wireshark 4.6).
#
# Usage (as root, works with no stdin):
#   .ci/chroot.sh ensure SUITE        create the chroot for SUITE if missing
#   .ci/chroot.sh run SUITE CMD...    run CMD in the chroot, repo mounted at /src
#   .ci/chroot.sh versions            tshark version of host and each chroot
#   .ci/chroot.sh path SUITE          print the chroot directory
#   SUITE is trixie or sid.
#
# Environment:
#   SD_CHROOT_DIR   parent dir of the chroots (default /var/cache/smtp-delivery/chroot)
#   SD_MIRROR       Debian mirror (default: the host's deb.debian.org/debian)
#   SD_TIMEOUT      time limit for debootstrap / each apt step (default 20m)
#
# `run` does its mounts (/src, /proc, /dev, /dev/pts, /dev/shm, /sys) inside a
# private mount namespace (unshare), so they disappear when the command ends,
# even if this script is killed; an EXIT trap unmounts them explicitly too.
# Inside, the environment is reset (PATH, HOME=/root, LANG=C.UTF-8, TERM, CI);
# use `run SUITE env VAR=value CMD...` to pass more.  Exit status = CMD's.
#
# Example:
#   .ci/chroot.sh ensure trixie
#   .ci/chroot.sh run trixie sh -c 'cmake -S /src -B /src/build-trixie && cmake --build /src/build-trixie'
#   .ci/chroot.sh run trixie runuser -u nobody -- env HOME=/tmp tshark --version
#
# Plugin tests: tshark ignores plugin dirs when run as root, so run it as
# `nobody` (runuser is in the chroots).  WIRESHARK_PLUGIN_DIR=D makes tshark
# load D/<major.minor>/epan/*.so (e.g. D/4.4/epan/smtp-delivery.so); the
# directories and the .so must be readable by nobody.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(dirname "$(dirname "$SELF")")
CHROOT_BASE=${SD_CHROOT_DIR:-/var/cache/smtp-delivery/chroot}
MIRROR=${SD_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${SD_TIMEOUT:-20m}
SUITES="trixie sid"

# Packages installed in every chroot. "a|b" = first of a, b that the suite has.
PACKAGES=(
  build-essential cmake pkg-config
  libwireshark-dev libglib2.0-dev tshark
  python3 python3-pytest
  libgtest-dev libgmock-dev
  util-linux passwd
)

# Progress goes to the stderr we were started with (fd 8), even from code
# running under a redirection (e.g. an EXIT trap fired during apt-get >log).
exec 8>&2
log()  { printf '[chroot.sh] %s\n' "$*" >&8; }
die()  { printf '[chroot.sh] ERROR: %s\n' "$*" >&8; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

check_suite() {
  case " $SUITES " in
    *" $1 "*) ;;
    *) die "unknown suite '$1' (expected one of: $SUITES)";;
  esac
}

# Mount points at or below $1 in the current mount namespace (deepest first).
mounts_under() {
  local p=${1%/}
  awk -v p="$p" '{ t=$5; gsub(/\\040/, " ", t); if (t == p || index(t, p "/") == 1) print t }' \
    /proc/self/mountinfo | sort -r
}

# Unmount everything at/below $1; return non-zero if something is left.
unmount_under() {
  local m
  for m in $(mounts_under "$1"); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "WARNING: could not unmount $m"
  done
  [ -z "$(mounts_under "$1")" ]
}

# rm -rf only if nothing is mounted below the path.
safe_rm() {
  local d=$1
  [ -e "$d" ] || return 0
  if ! unmount_under "$d"; then
    die "refusing to remove $d: still has mounts under it: $(mounts_under "$d" | tr '\n' ' ')"
  fi
  rm -rf --one-file-system -- "$d"
}

# ---------------------------------------------------------------------------
# _mounted DIR SRC WORKDIR CMD...  (internal)
# Runs CMD chrooted in DIR with proc/dev/sys mounted and SRC (if non-empty)
# bind-mounted at /src.  Re-executes itself in a private mount namespace when
# possible so no mount can leak to the host.
# ---------------------------------------------------------------------------
MOUNTED=()
cleanup_mounts() {
  local i
  for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do
    umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null \
      || log "WARNING: could not unmount ${MOUNTED[i]}"
  done
  MOUNTED=()
}

do_mount() { # do_mount TARGET mount-args...
  local target=$1; shift
  mount "$@" "$target"
  MOUNTED+=("$target")
}

# run_fwd CMD...: run CMD as a child (stdin kept), forwarding INT/TERM/HUP to
# it.  Returns CMD's status; if a signal arrived, exits with it instead
# (so EXIT traps clean up) once CMD has ended.
FWD_PID='' FWD_SIG='' GOT_SIG=''
fwd_signal() {
  FWD_SIG=$1 GOT_SIG=$1
  [ -z "$FWD_PID" ] || kill -s "$1" "$FWD_PID" 2>/dev/null || true
}
run_fwd() {
  local rc=0
  exec 3<&0
  "$@" <&3 3<&- 8>&- &
  FWD_PID=$!
  exec 3<&-
  trap 'fwd_signal INT' INT
  trap 'fwd_signal TERM' TERM
  trap 'fwd_signal HUP' HUP
  while :; do
    FWD_SIG=
    rc=0; wait "$FWD_PID" || rc=$?
    [ -n "$FWD_SIG" ] || break
  done
  FWD_PID=
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  if [ -n "$GOT_SIG" ]; then
    log "interrupted by SIG$GOT_SIG"
    [ "$rc" -ne 0 ] || rc=$((128 + $(kill -l "$GOT_SIG")))
    exit "$rc"
  fi
  return "$rc"
}

cmd_mounted() {
  local dir=$1 src=$2 workdir=$3; shift 3
  [ $# -gt 0 ] || die "no command given"
  if [ -z "${SD_IN_MOUNT_NS:-}" ] && unshare --mount --propagation private true 2>/dev/null; then
    # Same PID from here on, so signals sent to the caller reach us.
    SD_IN_MOUNT_NS=1 exec unshare --mount --propagation private \
      bash "$SELF" _mounted "$dir" "$src" "$workdir" "$@"
  fi
  trap cleanup_mounts EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  do_mount "$dir/proc" -t proc proc
  do_mount "$dir/sys" -t sysfs sysfs 2>/dev/null || do_mount "$dir/sys" --bind /sys
  do_mount "$dir/dev" --bind /dev
  if mountpoint -q /dev/pts && [ -d "$dir/dev/pts" ]; then do_mount "$dir/dev/pts" --bind /dev/pts; fi
  if [ -d "$dir/dev/shm" ]; then
    if mountpoint -q /dev/shm; then do_mount "$dir/dev/shm" --bind /dev/shm
    else do_mount "$dir/dev/shm" -t tmpfs -o mode=1777 shm; fi
  fi
  if [ -n "$src" ]; then
    mkdir -p "$dir/src"
    do_mount "$dir/src" --bind "$src"
  fi

  local rc=0
  run_fwd chroot "$dir" /usr/bin/env -i \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" \
      DEBIAN_FRONTEND=noninteractive ${CI:+CI="$CI"} \
      /bin/sh -c 'cd "$1" || exit 125; shift; exec "$@"' sd-chroot "$workdir" "$@" || rc=$?
  cleanup_mounts
  trap - EXIT
  return "$rc"
}

# Run CMD in the chroot from a child process (cmd_mounted may exec).
in_chroot() { run_fwd bash "$SELF" _mounted "$@"; }

# ---------------------------------------------------------------------------
# ensure SUITE
# ---------------------------------------------------------------------------
ENSURE_TMP='' ENSURE_SUITE=''
ensure_cleanup() {
  local rc=$?
  if [ -n "$ENSURE_TMP" ]; then
    log "$ENSURE_SUITE: failed (rc=$rc); removing incomplete $ENSURE_TMP"
    safe_rm "$ENSURE_TMP" || log "WARNING: could not remove $ENSURE_TMP"
  fi
}

has_tshark() { [ -x "$1/usr/bin/tshark" ] && [ -x "$1/usr/bin/g++" ] && [ -f "$1/.sd-chroot-complete" ]; }

cmd_ensure() {
  local suite=$1
  check_suite "$suite"
  need_root
  local dest=$CHROOT_BASE/$suite
  if has_tshark "$dest"; then
    log "$suite: chroot present at $dest (nothing to do)"
    return 0
  fi
  mkdir -p "$CHROOT_BASE"
  # Serialise concurrent `ensure` of the same suite.
  exec 9>"$CHROOT_BASE/.$suite.lock"
  if ! flock -n 9; then
    log "$suite: another ensure is running, waiting for it..."
    flock 9
  fi
  if has_tshark "$dest"; then
    log "$suite: chroot present at $dest (created concurrently)"
    return 0
  fi
  command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"

  # Remove leftovers of interrupted runs (only when nothing is mounted there).
  local old
  for old in "$CHROOT_BASE/.$suite.tmp."*; do
    [ -e "$old" ] || continue
    log "$suite: removing leftover $old"
    safe_rm "$old"
  done
  if [ -e "$dest" ]; then
    log "$suite: $dest exists but is incomplete; recreating"
    safe_rm "$dest"
  fi

  local tmp start
  tmp=$(mktemp -d "$CHROOT_BASE/.$suite.tmp.XXXXXX")
  ENSURE_TMP=$tmp ENSURE_SUITE=$suite
  chmod 755 "$tmp"   # mktemp makes it 0700; `nobody` must traverse / in the chroot
  start=$(date +%s)
  # On failure: unmount anything left and remove the temp dir.
  trap ensure_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  log "$suite: [1/4] debootstrap --variant=minbase $suite from $MIRROR into $tmp (timeout $TIMEOUT)"
  run_fwd timeout --kill-after=60s "$TIMEOUT" \
    debootstrap --variant=minbase --include=debconf,util-linux,passwd \
      "$suite" "$tmp" "$MIRROR" </dev/null >"$CHROOT_BASE/$suite.debootstrap.log" 2>&1 || {
        tail -n 30 "$CHROOT_BASE/$suite.debootstrap.log" >&2 || true
        tail -n 30 "$tmp/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        die "$suite: debootstrap failed (log: $CHROOT_BASE/$suite.debootstrap.log)"
      }
  rm -f "$CHROOT_BASE/$suite.debootstrap.log"

  log "$suite: [2/4] configuring apt/dpkg/debconf"
  cat >"$tmp/etc/apt/apt.conf.d/99smtp-delivery" <<'EOF'
// written by smtp-delivery .ci/chroot.sh
Acquire::Check-Valid-Until "false";
Acquire::Retries "3";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Get::Assume-Yes "true";
Dpkg::Use-Pty "0";
Dpkg::Options { "--force-confdef"; "--force-confold"; };
EOF
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/99smtp-delivery-nodoc" <<'EOF'
# written by smtp-delivery .ci/chroot.sh: keep the chroot small
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
EOF
  printf 'deb %s %s main\n' "$MIRROR" "$suite" >"$tmp/etc/apt/sources.list"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  printf '%s\n' "$suite" >"$tmp/etc/debian_chroot"
  in_chroot "$tmp" "" / sh -c \
    'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections'

  log "$suite: [3/4] apt-get update && install (timeout $TIMEOUT each)"
  local alog=$CHROOT_BASE/$suite.apt.log
  : >"$alog"
  in_chroot "$tmp" "" / timeout --kill-after=60s "$TIMEOUT" apt-get -q update </dev/null >>"$alog" 2>&1 || {
    tail -n 30 "$alog" >&2; die "$suite: apt-get update failed (log: $alog)"; }
  # Resolve "a|b" alternatives against what this suite has.
  local spec alt pkgs=() found
  for spec in "${PACKAGES[@]}"; do
    found=
    for alt in ${spec//|/ }; do
      if in_chroot "$tmp" "" / sh -c 'apt-cache show "$1" >/dev/null 2>&1' sh "$alt" </dev/null 2>/dev/null; then
        found=$alt; break
      fi
    done
    [ -n "$found" ] || die "$suite: none of '$spec' is available"
    pkgs+=("$found")
  done
  log "$suite: installing: ${pkgs[*]}"
  in_chroot "$tmp" "" / timeout --kill-after=60s "$TIMEOUT" \
    apt-get -q install -y --no-install-recommends "${pkgs[@]}" </dev/null >>"$alog" 2>&1 || {
    tail -n 30 "$alog" >&2; die "$suite: apt-get install failed (log: $alog)"; }
  grep -E '^[0-9]+ upgraded|^Need to get|^After this operation' "$alog" | sed "s/^/[chroot.sh] $suite:   /" >&2 || true
  in_chroot "$tmp" "" / apt-get clean

  log "$suite: [4/4] checking the result"
  in_chroot "$tmp" "" / sh -c '
    set -e
    tshark --version 2>/dev/null | sed -n 1p
    pkg-config --modversion wireshark >/dev/null
    command -v runuser >/dev/null
    getent passwd nobody >/dev/null
    test -e /usr/include/gtest/gtest.h' </dev/null
  mkdir -p "$tmp/src"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/.sd-chroot-complete"

  [ -z "$(mounts_under "$tmp")" ] || die "$suite: mounts left under $tmp"
  mv -T "$tmp" "$dest"
  trap - EXIT INT TERM HUP
  ENSURE_TMP=
  rm -f "$alog"
  log "$suite: ready at $dest in $(( $(date +%s) - start ))s ($(du -sh --one-file-system "$dest" | cut -f1))"
}

# ---------------------------------------------------------------------------
cmd_run() {
  local suite=$1; shift
  check_suite "$suite"
  need_root
  [ $# -gt 0 ] || die "usage: $0 run SUITE CMD..."
  local dest=$CHROOT_BASE/$suite
  has_tshark "$dest" || die "$suite: no chroot at $dest; run: $0 ensure $suite"
  log "$suite: running in $dest (repo $REPO at /src): $*"
  # exec keeps our PID, so a signal sent to this script reaches the runner.
  SD_RUN_SUITE=$suite exec bash "$SELF" _mounted "$dest" "$REPO" /src "$@"
}

cmd_versions() {
  local v suite
  v=$(tshark --version 2>/dev/null | sed -n 1p) || true
  printf '%-8s %s\n' host "${v:-(tshark not installed)}"
  for suite in $SUITES; do
    if has_tshark "$CHROOT_BASE/$suite"; then
      v=$(chroot "$CHROOT_BASE/$suite" /usr/bin/env -i PATH=/usr/bin:/bin tshark --version 2>/dev/null | sed -n 1p) || true
      printf '%-8s %s\n' "$suite" "$v"
    else
      printf '%-8s %s\n' "$suite" "(no chroot at $CHROOT_BASE/$suite)"
    fi
  done
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1; shift
  case "$cmd" in
    ensure)   [ $# -eq 1 ] || usage; cmd_ensure "$1";;
    run)      [ $# -ge 2 ] || usage; cmd_run "$@";;
    versions) cmd_versions;;
    path)     [ $# -eq 1 ] || usage; check_suite "$1"; echo "$CHROOT_BASE/$1";;
    _mounted)
      local rc=0
      cmd_mounted "$@" || rc=$?
      [ "$rc" -eq 0 ] || [ -z "${SD_RUN_SUITE:-}" ] || log "$SD_RUN_SUITE: command exited with status $rc"
      return "$rc";;
    -h|--help|help) usage;;
    *) usage;;
  esac
}

main "$@"
