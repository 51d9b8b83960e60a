#!/usr/bin/env bash
# Runs every test of smtp-delivery: C++ unit tests (ctest) and tshark tests
# (pytest) against the host's Wireshark, then the same inside Debian trixie
# (Wireshark 4.4) and sid (Wireshark 4.6) chroots.
#
#   bash tests/run-all.sh            # everything (installs what it needs as root)
#   SD_SUITES="host" bash tests/run-all.sh      # host only
#   SD_SUITES="trixie sid" bash tests/run-all.sh
#
# Inside a chroot this script runs itself with --local (build + test here).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '\n=== %s\n' "$*"; }

local_run() {
  # Each step checked explicitly: `set -e` does not apply inside a function
  # called as `local_run || status=1`.
  local build=${SD_BUILD_DIR:-$ROOT/build}
  log "build ($(tshark --version 2>/dev/null | head -1)) in $build"
  cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || return 1
  cmake --build "$build" -j"$(nproc)" || return 1
  log "C++ unit tests"
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)" > "$build/ctest.log" 2>&1
  local ctest_status=$?
  tail -n 3 "$build/ctest.log"
  [[ $ctest_status -eq 0 ]] || { cat "$build/ctest.log"; return 1; }
  log "tshark tests"
  SD_BUILD_DIR="$build" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/pytest" ${SD_PYTEST_ARGS:-} \
    || return 1
}

if [[ "${1:-}" == "--local" ]]; then
  local_run || exit 1
  exit 0
fi

suites=${SD_SUITES:-host trixie sid}
bash "$ROOT/tests/install-deps.sh"

status=0
for suite in $suites; do
  case "$suite" in
    host)
      log "suite host"
      # The namespace lab needs root; it runs once, on the host.
      if [[ $(id -u) -eq 0 ]]; then export SD_LAB=${SD_LAB:-1}; fi
      # The real Wireshark GUI under Xvfb, once, on the host.
      export SD_GUI=${SD_GUI:-1}
      local_run || status=1
      # A short fuzzing round of the core, and of the plugin inside tshark
      # under ASan/UBSan; the long runs are in tests/fuzz/README.md.
      log "fuzzing (short round)"
      bash "$ROOT/tests/fuzz/run.sh" --seconds "${SD_FUZZ_SECONDS:-10}" || status=1
      bash "$ROOT/tests/fuzz/glue-fuzz.sh" --rounds "${SD_GLUE_ROUNDS:-20}" || status=1
      ;;
    trixie|sid)
      log "suite $suite"
      bash "$ROOT/.ci/chroot.sh" ensure "$suite"
      bash "$ROOT/.ci/chroot.sh" run "$suite" env SD_BUILD_DIR="/src/build-$suite" \
        SD_PYTEST_ARGS="${SD_PYTEST_ARGS:-}" bash /src/tests/run-all.sh --local || status=1
      ;;
    *)
      echo "unknown suite: $suite" >&2
      exit 2
      ;;
  esac
done
exit $status
