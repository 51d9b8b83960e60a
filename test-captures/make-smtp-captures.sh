#!/bin/bash
# Regenerate the SMTP reply test captures of smtp-delivery.
#
#   sudo bash test-captures/make-smtp-captures.sh
#
# Builds two network namespaces joined by one veth pair (client 192.0.2.10 /
# 2001:db8:1::10, server 198.51.100.10.. / 2001:db8:2::10), runs real SMTP
# software in them (a private Postfix instance, aiosmtpd, a scripted Python
# server) and captures on the server side of the veth with dumpcap.
# Nothing leaves the namespaces.  Everything the script starts is stopped
# and the namespaces are deleted on exit, also on error.
#
# Needs: root, dumpcap/editcap (Wireshark 4.0), postfix, swaks, openssl,
# /usr/bin/python3 with aiosmtpd, iproute2, ethtool.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/lab/smtp
OUT=$HERE
PY=/usr/bin/python3
NS_C=sdsmtp-cli
NS_S=sdsmtp-srv
IF_C=sdsmtp-c
IF_S=sdsmtp-s
CLI4=192.0.2.10
CLI6=2001:db8:1::10
SRV4=198.51.100.10
SRV6=2001:db8:2::10

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
for c in dumpcap editcap tshark postfix postconf swaks openssl ip ss ethtool timeout; do
    command -v "$c" >/dev/null || { echo "missing command: $c" >&2; exit 1; }
done
"$PY" -c 'import aiosmtpd' || { echo "$PY lacks aiosmtpd (python3-aiosmtpd)" >&2; exit 1; }
perl -MNet::SSLeay -e 1 2>/dev/null ||
    { echo "swaks --tls needs Net::SSLeay (apt-get install libnet-ssleay-perl)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sdsmtp.XXXXXX)
chmod 755 "$WORK"
PF=$WORK/pf
CAP_PID=
SRV_PID=
PF_RUNNING=

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
    set +e
    if [ -n "$CAP_PID" ]; then kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    if [ -n "$PF_RUNNING" ]; then
        timeout 20 ip netns exec "$NS_S" postfix -c "$PF/etc" stop >/dev/null 2>&1 ||
            timeout 10 ip netns exec "$NS_S" postfix -c "$PF/etc" abort >/dev/null 2>&1
    fi
    for ns in "$NS_C" "$NS_S"; do
        ip netns list | grep -qw "^$ns" && ip netns del "$ns"
    done
    if [ -n "${KEEP_WORK:-}" ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run a command in the client namespace, bounded, never fatal
cli() { timeout 30 ip netns exec "$NS_C" "$@" >>"$WORK/client.log" 2>&1 || true; }
raw() { echo "--- rawclient $*" >>"$WORK/client.log"; cli "$PY" "$LAB/rawclient.py" "$@"; }
swk() { echo "--- swaks $*" >>"$WORK/client.log";
        cli swaks --timeout 20 --ehlo client.example.org --from sender@example.org "$@"; }

# wait (bounded) until something listens on ADDR:PORT in the server namespace
wait_listen() {
    local i
    for i in $(seq 1 50); do
        ip netns exec "$NS_S" ss -Hltn "src $1 and sport = :$2" | grep -q . && return 0
        sleep 0.2
    done
    echo "nothing listens on $1:$2" >&2; return 1
}

cap_start() {   # cap_start NAME
    CAP_FILE=$WORK/$1.pcapng
    : >"$WORK/dumpcap.err"
    ip netns exec "$NS_S" dumpcap -q -i "$IF_S" -f tcp -w "$CAP_FILE" -a duration:240 \
        2>"$WORK/dumpcap.err" &
    CAP_PID=$!
    local i
    for i in $(seq 1 50); do
        grep -q "Capturing on" "$WORK/dumpcap.err" && break
        sleep 0.2
    done
    grep -q "Capturing on" "$WORK/dumpcap.err" || { cat "$WORK/dumpcap.err" >&2; return 1; }
    sleep 0.5
}

cap_stop() {    # cap_stop -> leaves $CAP_FILE
    sleep 0.7
    kill -INT "$CAP_PID"
    timeout 10 tail --pid="$CAP_PID" -f /dev/null || kill -KILL "$CAP_PID"
    wait "$CAP_PID" 2>/dev/null || true
    CAP_PID=
}

publish() {     # publish NAME  (copy capture from $CAP_FILE, optionally with keys)
    local dst=$OUT/$1.pcapng
    if [ -n "${2:-}" ]; then
        editcap --inject-secrets "tls,$2" "$CAP_FILE" "$dst"
    else
        cp "$CAP_FILE" "$dst"
    fi
    chmod 644 "$dst"
    log "wrote $dst ($(stat -c %s "$dst") bytes)"
}

# ------------------------------------------------------------------ network
log "network namespaces"
for ns in "$NS_C" "$NS_S"; do
    ip netns list | grep -qw "^$ns" && ip netns del "$ns"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S"
for pair in "$NS_C $IF_C" "$NS_S $IF_S"; do
    set -- $pair
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf."$2".accept_ra=0 \
        net.ipv6.conf."$2".router_solicitations=0
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
done
ip -n "$NS_C" addr add "$CLI4/24" dev "$IF_C"
ip -n "$NS_C" addr add "$CLI6/64" dev "$IF_C" nodad
ip -n "$NS_S" addr add "$SRV4/24" dev "$IF_S"
ip -n "$NS_S" addr add "$SRV6/64" dev "$IF_S" nodad
for h in 11 12 13 14 15 $(seq 101 122) $(seq 201 224); do
    ip -n "$NS_S" addr add "198.51.100.$h/24" dev "$IF_S"
done
ip -n "$NS_C" link set "$IF_C" up
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_C" route add 198.51.100.0/24 dev "$IF_C"
ip -n "$NS_C" -6 route add 2001:db8:2::/64 dev "$IF_C"
ip -n "$NS_S" route add 192.0.2.0/24 dev "$IF_S"
ip -n "$NS_S" -6 route add 2001:db8:1::/64 dev "$IF_S"
# static neighbour entries, so the captures carry no ARP / neighbour discovery
MAC_C=$(ip -n "$NS_C" -br link show "$IF_C" | awk '{print $3}')
MAC_S=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')
for a in $(ip -n "$NS_S" -br addr show dev "$IF_S" | cut -d' ' -f2- | tr ' ' '\n' | grep -v '^fe80' | grep / | cut -d/ -f1); do
    ip -n "$NS_C" neigh replace "$a" lladdr "$MAC_S" dev "$IF_C" nud permanent
done
for a in "$CLI4" "$CLI6"; do
    ip -n "$NS_S" neigh replace "$a" lladdr "$MAC_C" dev "$IF_S" nud permanent
done

# --------------------------------------------------------------- test data
{   printf 'From: <sender@example.org>\r\nTo: <alice@example.net>\r\n'
    printf 'Subject: smtp-delivery test capture\r\n'
    printf 'Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n'
    printf 'Message-Id: <capture-small@client.example.org>\r\n\r\n'
    printf 'Small test message.\r\n'
} >"$WORK/small.eml"
{   printf 'From: <sender@example.org>\r\nTo: <alice@example.net>\r\n'
    printf 'Subject: smtp-delivery test capture (too big)\r\n'
    printf 'Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n'
    printf 'Message-Id: <capture-big@client.example.org>\r\n\r\n'
    for i in $(seq -w 1 300); do
        printf 'line %s of a body that is larger than message_size_limit\r\n' "$i"
    done
} >"$WORK/big.eml"     # ~18 KB, limit is 10240

# ----------------------------------------------------------------- postfix
log "private postfix instance in $PF"
mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/tls"
for f in main.cf master.cf; do
    sed "s#@DIR@#$PF#g" "$LAB/postfix/$f.in" >"$PF/etc/$f"
done
cp "$LAB/postfix/local_recipients" "$LAB/postfix/recipient_access" \
   "$LAB/postfix/client_blocklist.cidr" "$PF/etc/"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mx.example.net" \
    -keyout "$PF/tls/mx.key" -out "$PF/tls/mx.crt" >/dev/null 2>&1
chown -R postfix "$PF/data"
postfix -c "$PF/etc" check >>"$WORK/postfix-start.log" 2>&1
PF_RUNNING=1
ip netns exec "$NS_S" postfix -c "$PF/etc" start >>"$WORK/postfix-start.log" 2>&1
wait_listen "$SRV4" 25
wait_listen "$SRV4" 587
wait_listen 198.51.100.15 25

# 1. postfix-replies
log "capture postfix-replies"
cap_start postfix-replies
swk --server "$SRV4" --to alice@example.net --data "@$WORK/small.eml"
swk --server "$SRV4" --pipeline --to alice@example.net,nobody-here@example.net \
    --data "@$WORK/small.eml"
raw pf_errors "$SRV4" 25
raw pf_policy "$SRV4" 25
swk --server "$SRV4" --to alice@example.net --data "@$WORK/big.eml"
raw pf_linelimit "$SRV4" 25
raw pf_client_check 198.51.100.11 25
raw pf_vrfy_disabled 198.51.100.11 25
raw pf_client_check 198.51.100.12 25
cap_stop
publish postfix-replies

# 1b. postfix-limits: connection count, idle timeout, error limit
log "capture postfix-limits"
cap_start postfix-limits
raw pf_hold 198.51.100.15 25 &
HOLD=$!
sleep 1
raw pf_client_check 198.51.100.15 25
wait "$HOLD" || true
raw pf_timeout 198.51.100.13 25
raw pf_errorlimit 198.51.100.14 25
cap_stop
publish postfix-limits

# 1c. postfix-bdat
log "capture postfix-bdat"
cap_start postfix-bdat
raw pf_bdat "$SRV4" 25
cap_stop
publish postfix-bdat

# 2. submission with TLS required; the TLS session keys are embedded
log "capture submission-587-starttls-required"
cap_start submission
raw sub_notls "$SRV4" 587
raw sub_tls "$SRV4" 587 --keylog "$WORK/sub-keylog.txt"
cap_stop
publish submission-587-starttls-required "$WORK/sub-keylog.txt"

# 4. plain SMTP on 2525, IPv4 and IPv6
log "capture nonstandard-port"
cap_start nonstandard-port
swk --server "$SRV4" --port 2525 --to alice@example.net --data "@$WORK/small.eml"
swk --server "$SRV6" --port 2525 --to bob@example.net --data "@$WORK/small.eml"
cap_stop
publish nonstandard-port

log "stop postfix"
timeout 20 ip netns exec "$NS_S" postfix -c "$PF/etc" stop >>"$WORK/postfix-start.log" 2>&1
PF_RUNNING=
for i in $(seq 1 50); do
    ip netns exec "$NS_S" ss -Hltn "sport = :25" | grep -q . || break
    sleep 0.2
done

# 3. aiosmtpd with STARTTLS required and a key log
log "capture starttls-keylog"
timeout 90 ip netns exec "$NS_S" "$PY" "$LAB/tls_server.py" "$SRV4" 25 \
    "$PF/tls/mx.crt" "$PF/tls/mx.key" "$WORK/aiosmtpd-keylog.txt" --lifetime 80 \
    >"$WORK/tls_server.log" 2>&1 &
SRV_PID=$!
wait_listen "$SRV4" 25
cap_start starttls-keylog
swk --server "$SRV4" --tls --to alice@example.net --data "@$WORK/small.eml"
# same server without STARTTLS: 530 to MAIL FROM
swk --server "$SRV4" --to alice@example.net --data "@$WORK/small.eml"
cap_stop
kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=
publish starttls-keylog "$WORK/aiosmtpd-keylog.txt"

# 5. vendor replies from the scripted server
log "capture vendor-replies"
timeout 150 ip netns exec "$NS_S" "$PY" "$LAB/scripted_server.py" vendor --lifetime 140 \
    >"$WORK/vendor_server.log" 2>&1 &
SRV_PID=$!
wait_listen 198.51.100.122 25
cap_start vendor-replies
while read -r addr name; do
    case $name in
        *auth*) swk --server "$addr" --to alice@example.com --data "@$WORK/small.eml" \
                    --auth PLAIN --auth-user alice --auth-password wrong-password ;;
        *)      swk --server "$addr" --to alice@example.com --data "@$WORK/small.eml" ;;
    esac
done < <("$PY" "$LAB/scripted_server.py" vendor --list)
cap_stop
kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=
publish vendor-replies

# 6. malformed and oddly segmented replies from the scripted server
log "capture malformed-replies"
timeout 150 ip netns exec "$NS_S" "$PY" "$LAB/scripted_server.py" malformed --lifetime 140 \
    >"$WORK/malformed_server.log" 2>&1 &
SRV_PID=$!
wait_listen 198.51.100.224 25
cap_start malformed-replies
while read -r addr name; do
    case $name in
        banner-*) raw scripted_banner_only "$addr" 25 ;;
        *)        raw scripted_noop "$addr" 25 ;;
    esac
done < <("$PY" "$LAB/scripted_server.py" malformed --list)
cap_stop
kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=
publish malformed-replies

cp "$WORK/client.log" "$WORK/last-client.log" 2>/dev/null || true
log "done"
