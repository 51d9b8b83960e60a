"""Fast classic-pcap writing and packet building for the benchmark generators.

No scapy: headers are packed with struct and checksums summed with array,
which is fast enough for millions of packets. Classic pcap, microsecond
timestamps, LINKTYPE_ETHERNET. Only documentation addresses are used by the
callers (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
"""
import ipaddress
import struct
from array import array

LINKTYPE_ETHERNET = 1

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_pack_rec = struct.Struct('<IIII').pack
_pack_tcp = struct.Struct('!HHIIBBHHH').pack
_pack_ip4 = struct.Struct('!BBHHHBBH4s4s').pack
_pack_ip6 = struct.Struct('!IHBB16s16s').pack
_pack_udp = struct.Struct('!HHHH').pack
_pack_cs = struct.Struct('=H').pack  # checksums are summed in native order


def ones_sum(b):
    """Ones'-complement sum of 16-bit words in native byte order, unfolded."""
    if len(b) & 1:
        b = b + b'\0'
    return sum(array('H', b))


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(s):
    return ipaddress.IPv4Address(s).packed


def ip6(s):
    return ipaddress.IPv6Address(s).packed


def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))


class PcapWriter:
    def __init__(self, path, snaplen=262144):
        self.f = open(path, 'wb', buffering=4 << 20)
        self.snaplen = snaplen
        self.count = 0
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))

    def write(self, ts, frame):
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec += 1
            usec -= 1000000
        n = len(frame)
        if n > self.snaplen:
            self.f.write(_pack_rec(sec, usec, self.snaplen, n))
            self.f.write(frame[:self.snaplen])
        else:
            self.f.write(_pack_rec(sec, usec, n, n))
            self.f.write(frame)
        self.count += 1

    def write_truncated(self, ts, frame, orig_len):
        """A frame of which only the first bytes were captured."""
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec += 1
            usec -= 1000000
        self.f.write(_pack_rec(sec, usec, len(frame), orig_len))
        self.f.write(frame)
        self.count += 1

    def close(self):
        self.f.close()


def eth(dst, src, ethertype):
    return dst + src + struct.pack('!H', ethertype)


def tcp_header(sport, dport, seq, ack, flags, win, opts, src, dst, payload, v6=False, csum=True):
    thl = 20 + len(opts)
    h = _pack_tcp(sport, dport, seq & 0xffffffff, ack & 0xffffffff, (thl // 4) << 4, flags, win, 0, 0) + opts
    if not csum:
        return h
    tlen = thl + len(payload)
    if v6:
        pseudo = src + dst + struct.pack('!IxxxB', tlen, 6)
    else:
        pseudo = src + dst + struct.pack('!xBH', 6, tlen)
    c = fold(ones_sum(pseudo) + ones_sum(h) + ones_sum(payload))
    return h[:16] + _pack_cs(c) + h[18:]


def ipv4_header(src, dst, proto, payload_len, ipid, df=True, ttl=64, tos=0):
    h = _pack_ip4(0x45, tos, 20 + payload_len, ipid & 0xffff, 0x4000 if df else 0, ttl, proto, 0, src, dst)
    return h[:10] + _pack_cs(fold(ones_sum(h))) + h[12:]


def ipv6_header(src, dst, nh, payload_len, hlim=64, flow=0):
    return _pack_ip6(0x60000000 | flow, payload_len, nh, hlim, src, dst)


def tcp_frame(dmac, smac, src, dst, sport, dport, seq, ack, flags, win, payload=b'', opts=b'', ipid=0,
              df=True, ttl=64, v6=False, csum=True):
    th = tcp_header(sport, dport, seq, ack, flags, win, opts, src, dst, payload, v6, csum)
    if v6:
        return dmac + smac + b'\x86\xdd' + ipv6_header(src, dst, 6, len(th) + len(payload), ttl) + th + payload
    return dmac + smac + b'\x08\x00' + ipv4_header(src, dst, 6, len(th) + len(payload), ipid, df, ttl) + th + payload


def udp_frame(dmac, smac, src, dst, sport, dport, payload, ipid=0, ttl=64, v6=False):
    ulen = 8 + len(payload)
    h = _pack_udp(sport, dport, ulen, 0)
    if v6:
        pseudo = src + dst + struct.pack('!IxxxB', ulen, 17)
    else:
        pseudo = src + dst + struct.pack('!xBH', 17, ulen)
    c = fold(ones_sum(pseudo) + ones_sum(h) + ones_sum(payload)) or 0xffff
    h = h[:6] + _pack_cs(c)
    if v6:
        return dmac + smac + b'\x86\xdd' + ipv6_header(src, dst, 17, ulen, ttl) + h + payload
    return dmac + smac + b'\x08\x00' + ipv4_header(src, dst, 17, ulen, ipid, False, ttl) + h + payload


def icmp4_frame(dmac, smac, src, dst, icmp_type, code, rest4, data, ipid=0, ttl=64, df=False):
    """ICMPv4: type, code, checksum, 4 bytes (id/seq or unused/next-hop MTU), data."""
    h = struct.pack('!BBH', icmp_type, code, 0) + rest4
    c = fold(ones_sum(h) + ones_sum(data))
    h = h[:2] + _pack_cs(c) + h[4:]
    return dmac + smac + b'\x08\x00' + ipv4_header(src, dst, 1, len(h) + len(data), ipid, df, ttl) + h + data


def icmp6_frame(dmac, smac, src, dst, icmp_type, code, rest4, data, hlim=64):
    h = struct.pack('!BBH', icmp_type, code, 0) + rest4
    ln = len(h) + len(data)
    pseudo = src + dst + struct.pack('!IxxxB', ln, 58)
    c = fold(ones_sum(pseudo) + ones_sum(h) + ones_sum(data))
    h = h[:2] + _pack_cs(c) + h[4:]
    return dmac + smac + b'\x86\xdd' + ipv6_header(src, dst, 58, ln, hlim) + h + data


# TCP options
def syn_options(mss, wscale=4):
    return struct.pack('!BBH', 2, 4, mss) + b'\x01\x01\x04\x02' + b'\x01\x03\x03' + bytes([wscale])


def sack_option(blocks):
    o = b'\x01\x01' + struct.pack('!BB', 5, 2 + 8 * len(blocks))
    for l, r in blocks:
        o += struct.pack('!II', l & 0xffffffff, r & 0xffffffff)
    return o
