#!/usr/bin/env python3
"""Turns tshark output for one capture into libFuzzer seeds (see make-seeds.sh).

    seedgen.py OUTDIR CAPTURE

Writes into OUTDIR/<target>/ files named by their SHA-1 (so reruns and
duplicates collapse):
  fuzz_reply_line     every line of every TCP payload (terminator kept)
  fuzz_enhanced_code  mode byte 0 + the second token of each line
  fuzz_session        per TCP stream: limit bytes + direction/length chunks
  fuzz_net            mode byte + IP packets and ICMP messages from the frames
  fuzz_pmtu           the capture's TCP segments and ICMP too-bigs, encoded
                      in the FuzzedDataProvider layout fuzz_pmtu.cpp reads
"""
import hashlib
import json
import os
import struct
import subprocess
import sys

SMTP_PORTS = {25, 465, 587, 2525}
MAX_SEED = 16384


def tshark(args):
    r = subprocess.run(["tshark", "-n"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return r.stdout.decode("utf-8", "replace")


def write(outdir, target, blob):
    if not blob or len(blob) > MAX_SEED:
        return
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()), "wb") as f:
        f.write(blob)


def lines_of(payload):
    out, start = [], 0
    while start < len(payload):
        lf = payload.find(b"\n", start)
        end = len(payload) if lf < 0 else lf + 1
        out.append(payload[start:end])
        start = end
    return out


# --------------------------------------------------------------- SMTP payloads
def smtp_seeds(outdir, cap):
    text = tshark(["-r", cap, "-T", "fields", "-E", "separator=|", "-e", "tcp.stream",
                   "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload", "-Y", "tcp.len > 0"])
    streams = {}
    for row in text.splitlines():
        parts = row.split("|")
        if len(parts) != 4 or not parts[3]:
            continue
        stream, sport, dport = int(parts[0]), int(parts[1]), int(parts[2])
        payload = bytes.fromhex(parts[3].replace(":", ""))
        server = sport in SMTP_PORTS or (dport not in SMTP_PORTS and sport < dport)
        streams.setdefault(stream, []).append((server, payload))
        for line in lines_of(payload):
            if len(line) <= 600:
                write(outdir, "fuzz_reply_line", line)
                toks = line.split(b" ")
                if len(toks) > 1 and toks[1][:1].isdigit():
                    write(outdir, "fuzz_enhanced_code", b"\x00" + toks[1].rstrip(b"\r\n"))
    for segs in streams.values():
        for limits in (b"\x03\x04\x28\x1e", b"\x07\x07\x3f\x3f"):
            blob = bytearray(limits)
            for server, payload in segs:
                first = True
                for i in range(0, len(payload), 255):
                    piece = payload[i:i + 255]
                    h = (0x80 if server else 0) | (0 if first else 0x40)
                    if len(piece) < 63:
                        blob += bytes([h | len(piece)]) + piece
                    else:
                        blob += bytes([h | 63, len(piece)]) + piece
                    first = False
                if len(blob) > MAX_SEED:
                    break
            write(outdir, "fuzz_session", bytes(blob[:MAX_SEED]))


# ----------------------------------------------------------- raw IP / ICMP
def net_seeds(outdir, cap):
    raw = tshark(["-r", cap, "-T", "json", "-x", "-Y", "ip or ipv6"])
    try:
        frames = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError:
        return
    for fr in frames:
        layers = fr.get("_source", {}).get("layers", {})
        fraw = layers.get("frame_raw")
        if not fraw:
            continue
        data = bytes.fromhex(fraw[0])
        for proto in ("ip_raw", "ipv6_raw"):
            if proto in layers:
                off = layers[proto][1]
                write(outdir, "fuzz_net", b"\x00" + data[off:off + 120])
        for proto, mode in (("icmp_raw", 0), ("icmpv6_raw", 1)):
            if proto in layers:
                off = layers[proto][1]
                write(outdir, "fuzz_net", bytes([mode]) + data[off:off + 200])


# ------------------------------------------------------------- PMTU events
class Stream:
    """Bytes in the order FuzzedDataProvider consumes them from the end."""

    def __init__(self):
        self.b = bytearray()

    def integral(self, value, nbytes):  # most significant byte first
        for i in reversed(range(nbytes)):
            self.b.append((value >> (8 * i)) & 0xff)

    def u8(self, v): self.integral(v & 0xff, 1)
    def boolean(self, v): self.u8(1 if v else 0)
    def u16(self, v): self.integral(v & 0xffff, 2)
    def u32(self, v): self.integral(v & 0xffffffff, 4)

    def data(self):
        return bytes(reversed(self.b))


FIELDS = ["frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.len", "ipv6.plen",
          "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "tcp.srcport", "tcp.dstport", "tcp.seq",
          "tcp.ack", "tcp.flags", "tcp.len", "tcp.hdr_len", "tcp.window_size_value",
          "tcp.options.mss_val", "tcp.options.sack_le", "tcp.options.sack_re", "icmp.type",
          "icmp.code", "icmp.mtu", "icmpv6.type", "icmpv6.mtu"]


def pmtu_seeds(outdir, cap):
    args = ["-r", cap, "-o", "tcp.relative_sequence_numbers:FALSE", "-o", "tcp.analyze_sequence_numbers:TRUE",
            "-T", "fields", "-E", "separator=|"]
    for f in FIELDS:
        args += ["-e", f]
    rows = []
    for line in tshark(args).splitlines():
        p = line.split("|")
        if len(p) == len(FIELDS):
            rows.append(dict(zip(FIELDS, [x.split(",") if x else [] for x in p])))
    if not rows:
        return

    def last(r, k, conv=int, default=0):
        v = r[k]
        if not v:
            return default
        try:
            return conv(v[-1], 0) if conv is int else conv(v[-1])
        except ValueError:
            return default

    s = Stream()
    s.u8(3 - 1)     # settings.transmissions = 3
    s.boolean(True)  # min_size = 576
    s.u8(64)         # max_tracked = 64
    for _ in range(6):
        s.boolean(False)  # sequence counters start at their defaults
    flows = {}
    prev_t = None
    for r in rows:
        v6 = bool(r["ipv6.src"])
        sport, dport = last(r, "tcp.srcport"), last(r, "tcp.dstport")
        if not sport and not dport:
            continue
        src = (r["ipv6.src"] or r["ip.src"])[-1]
        dst = (r["ipv6.dst"] or r["ip.dst"])[-1]
        if dport in SMTP_PORTS or (sport not in SMTP_PORTS and sport > dport):
            key, direction = (src, sport, dst, dport), 0
        else:
            key, direction = (dst, dport, src, sport), 1
        if key not in flows:
            if v6:
                flows[key] = 2
            else:
                used = [f for f in flows.values() if f < 2]
                if len(used) >= 2:
                    continue
                flows[key] = len(used)
        flow = flows[key]
        if v6 != (flow == 2):
            continue
        t = float(r["frame.time_epoch"][0]) if r["frame.time_epoch"] else 0.0
        dt = 0 if prev_t is None else max(0, min(2_000_000_000, int(round((t - prev_t) * 1e9))))
        prev_t = t
        icmp = (last(r, "icmp.type", default=-1) == 3 and last(r, "icmp.code", default=-1) == 4) or \
            last(r, "icmpv6.type", default=-1) == 2
        if icmp:
            s.u8(2 | (flow << 2) | (direction << 4))
            s.integral(dt, 4)
            s.boolean(False)
            s.u32(last(r, "icmpv6.mtu" if v6 else "icmp.mtu"))
            s.boolean(False)
            s.u32(last(r, "tcp.seq"))
            ql = last(r, "ipv6.plen") + 40 if v6 else last(r, "ip.len")
            s.integral(min(ql, 9100), 2)
            continue
        flags = last(r, "tcp.flags")
        payload = last(r, "tcp.len")
        hdr = last(r, "tcp.hdr_len", default=20)
        df = v6 or last(r, "ip.flags.df") == 1
        frag = not v6 and (last(r, "ip.flags.mf") == 1 or last(r, "ip.frag_offset") != 0)
        iplen = last(r, "ipv6.plen") + 40 if v6 else last(r, "ip.len")
        s.u8(0 | (flow << 2) | (direction << 4) | 0x80)
        s.integral(dt, 4)
        f = (flags & 0x1f) | (0 if flags & 0x10 else 0x20) | (0 if df else 0x40) | (0x80 if frag else 0)
        s.u8(f)
        if f & 0x80:
            s.boolean(True)
        s.u16(payload)
        s.u8(max(0, min(10, (hdr - 20) // 4)))
        computed = (40 if v6 else 20) + 20 + 4 * max(0, min(10, (hdr - 20) // 4)) + payload
        if computed != iplen:
            s.u32(0)          # probability 0.0: take the next value as the IP length
            s.u16(iplen)
        else:
            s.u32(0xffffffff)
        s.u8(5)
        s.u32(last(r, "tcp.seq"))
        s.u8(3)
        s.u32(last(r, "tcp.ack"))
        win = last(r, "tcp.window_size_value")
        s.boolean(win == 0)
        if win != 0:
            s.u16(win)
        if flags & 0x02:
            s.boolean(False)
            s.u16(last(r, "tcp.options.mss_val"))
        les = [int(x) for x in r["tcp.options.sack_le"]][:4]
        res = [int(x) for x in r["tcp.options.sack_re"]][:4]
        n = min(len(les), len(res))
        s.u8(n)
        ack = last(r, "tcp.ack")
        for le, re_ in zip(les[:n], res[:n]):
            d = (le - ack) & 0xffffffff
            if d <= 30000:
                s.integral(d, 2)
                s.boolean(False)
            else:
                d2 = (le + 20000 - ack) & 0xffffffff
                s.integral(d2 if d2 <= 30000 else 0, 2)
                s.boolean(True)
            s.integral(min(20000, (re_ - le) & 0xffffffff), 2)
        if len(s.b) > MAX_SEED - 64:
            break
    write(outdir, "fuzz_pmtu", s.data())


def main():
    outdir, cap = sys.argv[1], sys.argv[2]
    smtp_seeds(outdir, cap)
    net_seeds(outdir, cap)
    pmtu_seeds(outdir, cap)


if __name__ == "__main__":
    main()
