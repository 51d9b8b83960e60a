#!/usr/bin/python3
"""Generates adversarial captures for smtp_delivery (classic pcap, deterministic).

Kinds:
  flows      N short TCP flows to port 25 (default 1,000,000), each: SYN,
             SYN-ACK, one 1500-byte DF data segment and 3 retransmissions of
             it at growing intervals, never acknowledged. Flows start every
             10 us and overlap (about 200,000 in flight at once), all with
             distinct 4-tuples. Only headers are captured (snaplen 96, the
             original length is recorded), which keeps the file small;
             checksums are still right for the full segment. --full
             captures whole frames (about 6 KB a flow).
  pipeline   One SMTP session whose client pipelines N commands (default
             1,000,000 "NOOP\\r\\n", 6 bytes each, packed into full segments
             that cut commands in two) that the server never answers.
  multiline  One failure reply of N lines (default 100,000: "550-000001 xxx..."
             ... "550 end") across full segments, answering EHLO. A failure,
             because every line of a multi-line failure is kept for an item
             of its own and its text is read (a success list is only counted).
  longline   One failure reply line of N bytes (default 1,048,576) without
             CRLF until its end, across full segments, answering EHLO.
  window     One bulk TCP transfer (not SMTP) of N 1500-byte DF segments
             (default 1,000,000) that always has 64 segments in flight, as
             many as the detector tracks per direction; the receiver ACKs
             every second segment one round trip later. Headers only
             (snaplen 96), like flows.

--scale S multiplies N (e.g. 0.1, 0.25, 0.5, 1) for linearity checks.
Only documentation addresses are used.

    /usr/bin/python3 gen_adversarial.py flows -o flows.pcap [--scale 0.25] [--n N]
"""
import argparse
import heapq
import os
import random
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pcapw import (ACK, PSH, SYN, PcapWriter, fold, ip4, mac, ones_sum, syn_options,  # noqa: E402
                   _pack_cs, _pack_ip4, _pack_tcp)
from tcpflow import Tcp  # noqa: E402

START = 1710226800.0
DEFAULT_N = {'flows': 1000000, 'pipeline': 1000000, 'multiline': 100000, 'longline': 1 << 20,
             'window': 1000000}
MAC_A = mac('02:00:5e:10:00:0a')
MAC_B = mac('02:00:5e:10:00:01')


def tcp_pkt(src, dst, sport, dport, seq, ack, flags, opts, plen, psum, ipid, ttl, win):
    """An IPv4 DF TCP frame from MAC_B to MAC_A (headers only) and its full
    length; `psum` is ones_sum() of the plen-byte payload, which is not
    included but counted in lengths and checksum."""
    thl = 20 + len(opts)
    h = _pack_tcp(sport, dport, seq, ack, (thl // 4) << 4, flags, win, 0, 0) + opts
    tlen = thl + plen
    c = fold(ones_sum(src + dst + struct.pack('!xBH', 6, tlen)) + ones_sum(h) + psum)
    h = h[:16] + _pack_cs(c) + h[18:]
    iph = _pack_ip4(0x45, 0, 20 + tlen, ipid, 0x4000, ttl, 6, 0, src, dst)
    iph = iph[:10] + _pack_cs(fold(ones_sum(iph))) + iph[12:]
    return MAC_B + MAC_A + b'\x08\x00' + iph + h, 14 + 20 + tlen


def gen_flows(w, n, seed, full=False):
    """SYN, SYN-ACK, data (1460 bytes payload, DF), 3 retransmissions.
    Everything follows from the flow's index (the seed is not needed)."""
    del seed
    clients = [ip4('192.0.2.%d' % i) for i in range(1, 255)] + [ip4('198.51.100.%d' % i) for i in range(1, 255)]
    servers = [ip4('203.0.113.%d' % i) for i in range(1, 251)]
    payload = (b'MAIL FROM:<bulk@example.org>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n' * 30)[:1460]
    psum = ones_sum(payload)
    mss_opt = syn_options(1460)
    dt = 0.00001
    rtt = 0.04
    rto = 0.3
    # packet kinds and their offsets from the flow's start
    offsets = [0.0, rtt, rtt + 0.00002, rtt + 0.00002 + rto, rtt + 0.00002 + 3 * rto, rtt + 0.00002 + 7 * rto]
    nclients = len(clients)

    def flow_params(i):
        cip = clients[i % nclients]
        sport = 1024 + (i // nclients) % 64000
        sip = servers[(i * 7) % len(servers)]
        # 4-tuples are distinct while i < 508 * 64000 (32.5 million); ISNs
        # come from a hash of i, so nothing is stored per flow
        x = (i * 2654435761) & 0xffffffff
        return cip, sip, sport, x, (x ^ 0x5bd1e995) & 0xffffffff

    def events(k):
        off = offsets[k]
        for i in range(n):
            yield (START + i * dt + off, i, k)

    for t, i, k in heapq.merge(*[events(k) for k in range(6)]):
        cip, sip, sport, cisn, sisn = flow_params(i)
        if k == 0:
            f, ln = tcp_pkt(cip, sip, sport, 25, cisn, 0, SYN, mss_opt, 0, 0, i & 0xffff, 64, 64240)
        elif k == 1:
            f, ln = tcp_pkt(sip, cip, 25, sport, sisn, cisn + 1 & 0xffffffff, SYN | ACK, mss_opt, 0, 0, 0, 52,
                            64240)
            f = MAC_A + MAC_B + f[12:]
        else:
            f, ln = tcp_pkt(cip, sip, sport, 25, cisn + 1 & 0xffffffff, sisn + 1 & 0xffffffff, PSH | ACK, b'',
                            len(payload), psum, (i + k) & 0xffff, 64, 4015)
        if full:
            f += payload if ln > len(f) else b''
            w.write(t, f)
        else:
            w.write_truncated(t, f, ln)


def gen_window(w, n, seed):
    """A sender that keeps 64 full segments in flight for the whole transfer:
    segment i >= 64 leaves when the ACK of segments i-64 and i-63 arrives.
    The capture point is at the sender, so every ACK covers the two oldest
    of 64 outstanding segments."""
    del seed
    cip, sip, cport, sport = ip4('192.0.2.80'), ip4('203.0.113.80'), 40080, 443
    cisn, sisn = 0x10000000, 0x70000000
    mss = 1460
    payload = bytes(range(256)) * 5 + bytes(range(180))
    psum = ones_sum(payload[:mss])
    in_flight, dt, rtt = 64, 0.000012, 0.02
    mss_opt = syn_options(mss)
    t = START
    f, ln = tcp_pkt(cip, sip, cport, sport, cisn, 0, SYN, mss_opt, 0, 0, 1, 64, 64240)
    w.write_truncated(t, f, ln)
    f, ln = tcp_pkt(sip, cip, sport, cport, sisn, cisn + 1, SYN | ACK, mss_opt, 0, 0, 1, 52, 64240)
    w.write_truncated(t + rtt, MAC_A + MAC_B + f[12:], ln)
    t += rtt + 0.00001
    f, ln = tcp_pkt(cip, sip, cport, sport, cisn + 1, sisn + 1, ACK, b'', 0, 0, 2, 64, 4015)
    w.write_truncated(t, f, ln)
    send = [0.0] * n
    pending = []  # (time, kind, index): kind 0 = data segment i, 1 = ACK of segments up to i
    for i in range(n):
        if i < in_flight:
            send[i] = t + 0.00001 + i * dt
        else:
            j = i - in_flight  # segments j and j+1 were acknowledged together
            send[i] = send[j | 1] + rtt + 0.000001 + (i - (j & ~1) - in_flight) * dt
        pending.append((send[i], 0, i))
        if i % 2 == 1 or i == n - 1:
            pending.append((send[i] + rtt, 1, i))
    pending.sort()
    for ts, kind, i in pending:
        if kind == 0:
            seq = (cisn + 1 + i * mss) & 0xffffffff
            f, ln = tcp_pkt(cip, sip, cport, sport, seq, sisn + 1, ACK, b'', mss, psum, (3 + i) & 0xffff, 64, 4015)
            w.write_truncated(ts, f, ln)
        else:
            ack = (cisn + 1 + (i + 1) * mss) & 0xffffffff
            f, ln = tcp_pkt(sip, cip, sport, cport, sisn + 1, ack, ACK, b'', 0, 0, (2 + i // 2) & 0xffff, 52, 4015)
            w.write_truncated(ts, MAC_A + MAC_B + f[12:], ln)


def smtp_conn(rng):
    c = Tcp(rng, False, ip4('192.0.2.25'), ip4('198.51.100.10'), 40000, 25, MAC_B, MAC_A, 's', 0.03)
    t = c.handshake(START)
    t = c.exchange(t, 's', b'220 mx.example.net ESMTP Postfix\r\n', 0.001)
    t = c.exchange(t, 'c', b'EHLO client.example.org\r\n', 0.001)
    return c, t


def finish(c, t, quit_reply=True):
    t = c.exchange(t, 'c', b'QUIT\r\n', 0.001)
    if quit_reply:
        t = c.exchange(t, 's', b'221 2.0.0 Bye\r\n', 0.0002)
    c.close(t, 's', 0.0001)


def write_events(w, ev):
    ev.sort(key=lambda e: e[0])
    for ts, f in ev:
        w.write(ts, f)


def gen_pipeline(w, n, seed):
    rng = random.Random(seed)
    c, t = smtp_conn(rng)
    t = c.exchange(t, 's', b'250-mx.example.net\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n',
                   0.0005)
    t = c.stream(c.resp(t, 'c', 0.001), 'c', b'NOOP\r\n' * n, bw_bps=100e6)
    # the server never answers; the client gives up and closes
    c.close(t + 300, 'c')
    write_events(w, c.ev)


def gen_multiline(w, n, seed):
    rng = random.Random(seed)
    c, t = smtp_conn(rng)
    lines = [b'550-%06d xxxxxxxxxxxxxxxxxxxx\r\n' % i for i in range(1, n)] + [b'550 end\r\n']
    t = c.stream(c.resp(t, 's', 0.0005), 's', b''.join(lines))
    finish(c, t)
    write_events(w, c.ev)


def gen_longline(w, n, seed):
    rng = random.Random(seed)
    c, t = smtp_conn(rng)
    t = c.stream(c.resp(t, 's', 0.0005), 's', b'550 ' + b'x' * max(0, n - 6) + b'\r\n')
    finish(c, t)
    write_events(w, c.ev)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kind', choices=sorted(DEFAULT_N))
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('--n', type=int, help='size at scale 1 (default: %s)' % DEFAULT_N)
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--full', action='store_true', help='flows: capture whole frames, not only headers')
    args = ap.parse_args()
    n = max(1, int(round((args.n or DEFAULT_N[args.kind]) * args.scale)))
    t0 = time.time()
    w = PcapWriter(args.output, snaplen=96 if args.kind == 'window' or (args.kind == 'flows' and not args.full) else 262144)
    if args.kind == 'flows':
        gen_flows(w, n, args.seed, args.full)
    else:
        {'pipeline': gen_pipeline, 'multiline': gen_multiline, 'longline': gen_longline,
         'window': gen_window}[args.kind](w, n, args.seed)
    w.close()
    sys.stderr.write('%s: %s n=%d, %d packets, %.1f s\n' % (args.output, args.kind, n, w.count, time.time() - t0))
    print('%d %d' % (n, w.count))


if __name__ == '__main__':
    main()
