# Shared by glue-fuzz.sh and valgrind.sh: builds the plugin and runs tshark
# with it from a private, world-readable plugin folder. Source it after
# setting ROOT, TMP and (optionally) SD_SANITIZE=ON|OFF.

# Builds the plugin in $1 with g++ (sanitizers per SD_SANITIZE) and lays out
# a plugin folder under $2: $2/plugins/<major.minor>/epan/smtp_delivery.so,
# plus $2/home (tshark's HOME) and $2/extcap (empty: extcap helpers such as
# androiddump can hang when tshark enumerates them).
glue_build() {
  local build=$1 work=$2
  if ! cmake -S "$ROOT" -B "$build" -DCMAKE_CXX_COMPILER="${GLUE_CXX:-g++}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSD_SANITIZE="${SD_SANITIZE:-OFF}" -DSD_BUILD_TESTS=OFF -DSD_FUZZ=OFF >"$work/cmake.log" 2>&1 \
     || ! cmake --build "$build" -j"$(nproc)" --target smtp_delivery >>"$work/cmake.log" 2>&1; then
    tail -n 40 "$work/cmake.log" >&2
    return 1
  fi
  mkdir -p "$work/plugins" "$work/home" "$work/extcap"
  cp -r "$build/plugins/." "$work/plugins/"
  chmod -R a+rX "$work"
  chmod 1777 "$work/home"
}

# Sets GLUE_CMD to the command prefix that runs a program (tshark) as an
# unprivileged user (root's tshark ignores WIRESHARK_PLUGIN_DIR), with the
# plugin folder and the extra environment in the GLUE_ENV array.
glue_prepare_cmd() {
  # TMPDIR: the caller's may not be writable by that user (valgrind needs one).
  local env=(HOME="$GLUE_WORK/home" TMPDIR="$GLUE_WORK/home" WIRESHARK_PLUGIN_DIR="$GLUE_WORK/plugins"
             WIRESHARK_EXTCAP_DIR="$GLUE_WORK/extcap" LANG=C.UTF-8 "${GLUE_ENV[@]}")
  if [[ $(id -u) -eq 0 ]]; then
    GLUE_CMD=(runuser -u nobody -- env "${env[@]}")
  else
    GLUE_CMD=(env "${env[@]}")
  fi
}

# Fails unless tshark lists the plugin from our folder.
glue_check_loaded() {
  local out
  out=$(timeout 120 "${GLUE_CMD[@]}" tshark -G plugins 2>&1) || true
  if ! grep -q "smtp_delivery.so.*$GLUE_WORK/plugins" <<<"$out"; then
    echo "$out" | tail -n 20 >&2
    echo "plugin not loaded from $GLUE_WORK/plugins" >&2
    return 1
  fi
  grep "smtp_delivery.so" <<<"$out"
}
