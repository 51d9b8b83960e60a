#!/usr/bin/env bash
# pmtu-lab.sh -- build a four-namespace lab and capture real Path-MTU
# black holes (and their controls) in an SMTP DATA transfer.
#
#   client ---- r1 ==narrow link== r2 ---- server
#   sdpm-cli    sdpm-r1            sdpm-r2   sdpm-srv
#
#   client  eth0 192.0.2.10/24     2001:db8:1::10/64   MTU 1500
#   r1      eth0 192.0.2.1/24      2001:db8:1::1/64    MTU 1500
#   r1      eth1 203.0.113.1/24    2001:db8:2::1/64    MTU narrow (1400/1280/1500)
#   r2      eth1 203.0.113.2/24    2001:db8:2::2/64    MTU narrow
#   r2      eth0 198.51.100.1/24   2001:db8:3::1/64    MTU 1500
#   server  eth0 198.51.100.10/24  2001:db8:3::10/64   MTU 1500
#
# Usage (root):  bash test-captures/pmtu-lab.sh [SCENARIO...|all|list]
#   OUTDIR=/some/dir  write the captures there (default: this directory)
#   KEEP_LOGS=1       keep the per-scenario work directory (swaks/server logs)
#
# Every scenario builds fresh namespaces (so no PMTU learned in one run can
# leak into the next), captures with dumpcap, sends one ~20 KB message with
# swaks to an aiosmtpd accept-and-discard server, and tears everything down.
# Only namespaces named sdpm-cli, sdpm-r1, sdpm-r2, sdpm-srv are created or
# deleted; only processes this script started (or that live inside those
# namespaces) are killed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/lab/pmtu
OUTDIR=${OUTDIR:-$HERE}
PY=/usr/bin/python3
NS_C=sdpm-cli NS_R1=sdpm-r1 NS_R2=sdpm-r2 NS_S=sdpm-srv
ALL_NS=("$NS_C" "$NS_R1" "$NS_R2" "$NS_S")

C4=192.0.2.10   R1C4=192.0.2.1    R1N4=203.0.113.1   R2N4=203.0.113.2   R2S4=198.51.100.1   S4=198.51.100.10
C6=2001:db8:1::10 R1C6=2001:db8:1::1 R1N6=2001:db8:2::1 R2N6=2001:db8:2::2 R2S6=2001:db8:3::1 S6=2001:db8:3::10

SCENARIOS=(blackhole-v4-1400 blackhole-v4-1280 blackhole-v6-1400 blackhole-v6-1280
           pmtud-ok-v4 pmtud-ok-v6 mtu-probing-v4 mtu-probing-v6 loss-v4 offload-v4)

CLIENT_RETRIES2=6        # client gives up on a black-holed segment after ~26 s
SWAKS_LIMIT=45           # hard wall-clock bound on one swaks run
CAPTURE_LIMIT=60         # hard bound on one dumpcap run (autostop)
LOSS_PERCENT=4
LOSS_TRIES=5

log() { printf '[pmtu-lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"
for t in ip nft ethtool dumpcap tshark swaks timeout flock; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY lacks aiosmtpd (apt-get install python3-aiosmtpd)"

# swaks needs IO::Socket::INET6 for IPv6 (Debian: libio-socket-inet6-perl).
ensure_swaks_v6() {
  local sup
  sup=$(swaks --support 2>&1 || true)
  [[ $sup == *"=== IPv6 supported"* ]] && return 0
  log "swaks lacks IPv6 support; installing libio-socket-inet6-perl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libio-socket-inet6-perl >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libio-socket-inet6-perl >/dev/null 2>&1; } ||
    die "could not install libio-socket-inet6-perl"
  sup=$(swaks --support 2>&1 || true)
  [[ $sup == *"=== IPv6 supported"* ]] || die "swaks still lacks IPv6"
}

# ---------------------------------------------------------------- cleanup
WORK=""
BG_PIDS=()
kill_pid() {  # kill one pid we started, bounded wait
  local p=$1 i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 30); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}
teardown() {
  local p ns
  for p in "${BG_PIDS[@]}"; do kill_pid "$p"; done
  BG_PIDS=()
  for ns in "${ALL_NS[@]}"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill_pid "$p"; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}
on_exit() {
  local rc=$?
  teardown
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${KEEP_LOGS:-0} == 1 ]]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- topology
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# build_topo FAMILY(4|6) NARROW_MTU CLIENT_OFFLOAD(0|1)
build_topo() {
  local fam=$1 mtu=$2 coff=$3 ns dev
  teardown
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.disable_ipv6=$((fam == 4)) net.ipv6.conf.default.disable_ipv6=$((fam == 4))
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_C"  link add eth0 type veth peer name eth0 netns "$NS_R1"
  ip -n "$NS_R1" link add eth1 type veth peer name eth1 netns "$NS_R2"
  ip -n "$NS_S"  link add eth0 type veth peer name eth0 netns "$NS_R2"
  ip -n "$NS_R1" link set eth1 mtu "$mtu"
  ip -n "$NS_R2" link set eth1 mtu "$mtu"

  # No super-packets: segmentation/coalescing off everywhere (tx checksum off
  # too, so captured checksums are real).  The offload control keeps the
  # client's defaults.
  for ns_dev in "$NS_C:eth0" "$NS_R1:eth0" "$NS_R1:eth1" "$NS_R2:eth1" "$NS_R2:eth0" "$NS_S:eth0"; do
    ns=${ns_dev%%:*} dev=${ns_dev#*:}
    if [[ $ns == "$NS_C" && $coff == 1 ]]; then continue; fi
    nsx "$ns" ethtool -K "$dev" tso off gso off gro off tx off >/dev/null 2>&1 ||
      nsx "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
  done

  ip -n "$NS_C"  addr add $C4/24 dev eth0
  ip -n "$NS_R1" addr add $R1C4/24 dev eth0
  ip -n "$NS_R1" addr add $R1N4/24 dev eth1
  ip -n "$NS_R2" addr add $R2N4/24 dev eth1
  ip -n "$NS_R2" addr add $R2S4/24 dev eth0
  ip -n "$NS_S"  addr add $S4/24 dev eth0
  if [[ $fam == 6 ]]; then
    ip -n "$NS_C"  addr add $C6/64 dev eth0 nodad
    ip -n "$NS_R1" addr add $R1C6/64 dev eth0 nodad
    ip -n "$NS_R1" addr add $R1N6/64 dev eth1 nodad
    ip -n "$NS_R2" addr add $R2N6/64 dev eth1 nodad
    ip -n "$NS_R2" addr add $R2S6/64 dev eth0 nodad
    ip -n "$NS_S"  addr add $S6/64 dev eth0 nodad
  fi
  for ns_dev in "$NS_C:eth0" "$NS_R1:eth0" "$NS_R1:eth1" "$NS_R2:eth1" "$NS_R2:eth0" "$NS_S:eth0"; do
    ip -n "${ns_dev%%:*}" link set "${ns_dev#*:}" up
  done

  for ns in "$NS_R1" "$NS_R2"; do
    nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
    [[ $fam == 6 ]] && nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
  done
  ip -n "$NS_C"  route add default via $R1C4
  ip -n "$NS_R1" route add 198.51.100.0/24 via $R2N4
  ip -n "$NS_R2" route add 192.0.2.0/24 via $R1N4
  ip -n "$NS_S"  route add default via $R2S4
  if [[ $fam == 6 ]]; then
    ip -n "$NS_C"  -6 route add default via $R1C6
    ip -n "$NS_R1" -6 route add 2001:db8:3::/64 via $R2N6
    ip -n "$NS_R2" -6 route add 2001:db8:1::/64 via $R1N6
    ip -n "$NS_S"  -6 route add default via $R2S6
  fi
  # Client-side TCP knobs (per namespace).
  nsx "$NS_C" sysctl -qw net.ipv4.tcp_retries2=$CLIENT_RETRIES2 net.ipv4.tcp_mtu_probing=0
  # The warm-up connection must not leave cached RTT/ssthresh behind.
  for ns in "$NS_C" "$NS_S"; do nsx "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1; done
}

# nft on r1.  ICMP_MODE: drop (black hole) | count (let through, count).
# LOSS: 0 or percentage of forwarded TCP packets dropped at random.
setup_nft() {
  local mode=$1 loss=$2 verdict=""
  [[ $mode == drop ]] && verdict=drop
  {
    echo "table inet sdpm {"
    echo "  chain output { type filter hook output priority 0; policy accept;"
    echo "    icmp type destination-unreachable icmp code frag-needed counter $verdict"
    echo "    icmpv6 type packet-too-big counter $verdict"
    echo "  }"
    echo "  chain forward { type filter hook forward priority 0; policy accept;"
    if [[ $loss != 0 ]]; then
      echo "    meta l4proto tcp numgen random mod 100 < $loss counter drop"
    fi
    echo "  }"
    echo "}"
  } > "$WORK/r1.nft"
  nsx "$NS_R1" nft -f "$WORK/r1.nft"
}

nft_counter() {  # nft_counter CHAIN MATCH -> packets
  nsx "$NS_R1" nft list chain inet sdpm "$1" | grep -F "$2" | grep -o 'packets [0-9]*' | awk '{print $2}' | head -1
}

start_server() {
  local fam=$1 addr
  [[ $fam == 4 ]] && addr=$S4 || addr=$S6
  # Run `ip netns exec` directly (not via the nsx function) so that $! is the
  # server itself, not a subshell around it.
  ip netns exec "$NS_S" "$PY" "$LAB/sink.py" "$addr" >"$WORK/server.log" 2>&1 &
  BG_PIDS+=($!)
  local i
  for i in $(seq 1 50); do grep -q ready "$WORK/server.log" && return 0; sleep 0.1; done
  cat "$WORK/server.log" >&2; die "SMTP sink did not start"
}

warmup() {  # prove the path and the server work (and resolve neighbours) before capturing
  local fam=$1 i addr
  [[ $fam == 4 ]] && addr=$S4 || addr=$S6
  for i in 1 2 3 4 5; do
    nsx "$NS_C" timeout 5 "$PY" - "$addr" >/dev/null 2>&1 <<'PYEOF' && break
import socket, sys
s = socket.create_connection((sys.argv[1], 25), timeout=2)
assert s.recv(512).startswith(b"220")
s.sendall(b"QUIT\r\n"); s.recv(512); s.close()
PYEOF
    [[ $i == 5 ]] && die "no SMTP connectivity client -> server (IPv$fam)"
    sleep 0.5
  done
  sleep 1.5   # let link-up chatter (MLD reports) and the probe's FIN exchange finish
}

# start_capture NS DEV FILE -> sets CAP_PID
start_capture() {
  local ns=$1 dev=$2 file=$3 i
  ip netns exec "$ns" dumpcap -q -i "$dev" -s 0 -a duration:$CAPTURE_LIMIT -w "$file" \
      --capture-comment "smtp-delivery pmtu-lab.sh: ${CUR_SCENARIO:-?}, captured in $ns on $dev" >"$file.log" 2>&1 &
  CAP_PID=$!
  BG_PIDS+=($CAP_PID)
  for i in $(seq 1 50); do
    grep -q "Capturing on" "$file.log" 2>/dev/null && { sleep 0.3; return 0; }
    kill -0 $CAP_PID 2>/dev/null || break
    sleep 0.1
  done
  cat "$file.log" >&2; die "dumpcap did not start on $ns/$dev"
}
stop_capture() {
  local p=$1 i
  # SIGTERM, not SIGINT: background jobs of a non-interactive shell ignore SIGINT.
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

make_payload() {  # deterministic text attachment of N bytes
  local n=$1 f=$2
  awk -v n="$n" 'BEGIN { s = 0; i = 0;
      while (s < n) { l = sprintf("sdpm pmtu lab line %05d abcdefghijklmnopqrstuvwxyz 0123456789 ABCDEFGHIJ", i++);
                      print l; s += length(l) + 1 } }' > "$f"
}

# run_swaks FAM PAYLOAD -> sets SWAKS_RC.  Runs in the background and is
# waited for, so that a signal to this script is acted on at once.
run_swaks() {
  local fam=$1 payload=$2 srv sp
  [[ $fam == 4 ]] && srv=$S4 || srv=$S6
  ip netns exec "$NS_C" timeout -k 3 $SWAKS_LIMIT swaks -$fam --server "$srv" --port 25 \
      --helo client.example.org --from sender@example.org --to user@example.net \
      --header "Subject: sdpm pmtu lab" --header "Date: Thu, 01 Jan 2026 00:00:00 +0000" \
      --attach-type text/plain --attach-name pmtu-lab.txt --attach "@$payload" \
      --timeout 40 >"$WORK/swaks.log" 2>&1 </dev/null &
  sp=$!
  BG_PIDS+=($sp)
  set +e
  wait $sp
  SWAKS_RC=$?
  set -e
}

finish_file() {  # move a capture from the work dir to OUTDIR
  local src=$1 name=$2
  mkdir -p "$OUTDIR"
  mv -f "$src" "$OUTDIR/$name"
  chmod 0644 "$OUTDIR/$name"
  log "  wrote $OUTDIR/$name ($(stat -c %s "$OUTDIR/$name") bytes, $(capinfos -c -M "$OUTDIR/$name" 2>/dev/null | awk '/Number of packets/ {print $NF}') frames)"
}

# run_one FAM MTU ICMP_MODE PROBING LOSS CLIENT_OFFLOAD PAYLOAD_BYTES SERVER_CAP
# Leaves capture(s) in $WORK/client.pcapng (and $WORK/server.pcapng).
run_one() {
  local fam=$1 mtu=$2 icmp=$3 probing=$4 loss=$5 coff=$6 bytes=$7 scap=$8
  local srvcap=""
  rm -f "$WORK"/*.pcapng "$WORK"/*.pcapng.log
  build_topo "$fam" "$mtu" "$coff"
  nsx "$NS_C" sysctl -qw net.ipv4.tcp_mtu_probing="$probing"
  setup_nft "$icmp" "$loss"
  start_server "$fam"
  warmup "$fam"
  make_payload "$bytes" "$WORK/payload.txt"
  start_capture "$NS_C" eth0 "$WORK/client.pcapng"; local ccap=$CAP_PID
  if [[ $scap == 1 ]]; then start_capture "$NS_S" eth0 "$WORK/server.pcapng"; srvcap=$CAP_PID; fi
  local t0=$SECONDS
  run_swaks "$fam" "$WORK/payload.txt"
  local took=$((SECONDS - t0))
  sleep 1   # let the last FIN/ACK (or nothing, in a black hole) reach the capture
  stop_capture "$ccap"; [[ -n $srvcap ]] && stop_capture "$srvcap"
  ICMP_COUNT=$( { nft_counter output 'icmp type' ; } || echo '?')
  ICMP6_COUNT=$( { nft_counter output 'icmpv6 type' ; } || echo '?')
  LOSS_COUNT=0
  [[ $loss != 0 ]] && LOSS_COUNT=$(nft_counter forward 'numgen')
  local verb=counted; [[ $icmp == drop ]] && verb=dropped
  log "  swaks exit status: $SWAKS_RC  (swaks ran ${took} s)"
  log "  nft r1 output: ICMPv4 frag-needed $verb: ${ICMP_COUNT:-0}; ICMPv6 packet-too-big $verb: ${ICMP6_COUNT:-0}"
  [[ $loss != 0 ]] && log "  nft r1 forward: random drops: ${LOSS_COUNT:-0}"
  if grep -q '^<-  250 2.0.0 Ok: discarded' "$WORK/swaks.log"; then log "  message accepted by server (250 after DATA)"
  else log "  message NOT accepted; swaks tail: $(tail -n 2 "$WORK/swaks.log" | tr '\n' ' ')"; fi
  teardown
}

scenario() {
  local s=$1
  log "=== scenario $s"
  CUR_SCENARIO=$s
  case $s in
    blackhole-v4-1400|blackhole-v4-receiver)
      run_one 4 1400 drop 0 0 0 20000 1
      finish_file "$WORK/client.pcapng" pmtu-blackhole-v4-1400.pcapng
      finish_file "$WORK/server.pcapng" pmtu-blackhole-v4-receiver.pcapng ;;
    blackhole-v4-1280)
      run_one 4 1280 drop 0 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-blackhole-v4-1280.pcapng ;;
    blackhole-v6-1400)
      run_one 6 1400 drop 0 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-blackhole-v6-1400.pcapng ;;
    blackhole-v6-1280)
      run_one 6 1280 drop 0 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-blackhole-v6-1280.pcapng ;;
    pmtud-ok-v4)
      run_one 4 1400 count 0 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-pmtud-ok-v4.pcapng ;;
    pmtud-ok-v6)
      run_one 6 1400 count 0 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-pmtud-ok-v6.pcapng ;;
    mtu-probing-v4)
      run_one 4 1400 drop 1 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-mtu-probing-v4.pcapng ;;
    mtu-probing-v6)
      run_one 6 1400 drop 1 0 0 20000 0
      finish_file "$WORK/client.pcapng" pmtu-mtu-probing-v6.pcapng ;;
    loss-v4)
      # All links 1500; r1 drops LOSS_PERCENT % of forwarded TCP at random.
      # Retry (bounded) until the capture holds a retransmitted full-size segment.
      local try full
      for try in $(seq 1 $LOSS_TRIES); do
        run_one 4 1500 count 0 $LOSS_PERCENT 0 100000 0
        full=$(tshark -r "$WORK/client.pcapng" -Y 'tcp.analysis.retransmission && tcp.len >= 1448' -T fields -e frame.number 2>/dev/null | wc -l || true)
        log "  try $try: $full retransmitted full-size segment(s) in capture"
        [[ $SWAKS_RC == 0 && $full -ge 1 ]] && break
        [[ $try == "$LOSS_TRIES" ]] && log "  WARNING: giving up after $LOSS_TRIES tries; keeping the last capture"
      done
      finish_file "$WORK/client.pcapng" pmtu-loss-v4.pcapng ;;
    offload-v4)
      # Working path (all links 1500), client keeps TSO/GSO on: capture shows
      # super-segments larger than the MSS, none of which is lost.
      run_one 4 1500 count 0 0 1 20000 0
      finish_file "$WORK/client.pcapng" pmtu-offload-v4.pcapng ;;
    *) die "unknown scenario: $s (try: list)" ;;
  esac
}

main() {
  local args=("$@")
  [[ ${#args[@]} -eq 0 ]] && args=(all)
  if [[ ${args[0]} == list ]]; then printf '%s\n' "${SCENARIOS[@]}" blackhole-v4-receiver; exit 0; fi
  [[ ${args[0]} == all ]] && args=("${SCENARIOS[@]}")

  # One lab at a time on this machine (the namespace names are fixed).
  exec 9>/run/sdpm-pmtu-lab.lock
  flock -w 300 9 || die "another pmtu-lab.sh run holds /run/sdpm-pmtu-lab.lock"

  for s in "${args[@]}"; do
    [[ $s == *-v6* ]] && { ensure_swaks_v6; break; }
  done
  WORK=$(mktemp -d /tmp/sdpm-pmtu-lab.XXXXXX)
  local start=$SECONDS s
  for s in "${args[@]}"; do scenario "$s"; done
  log "done: ${#args[@]} scenario(s) in $((SECONDS - start)) s; captures in $OUTDIR"
}

main "$@"
