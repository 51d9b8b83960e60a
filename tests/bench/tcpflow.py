"""One TCP connection as seen from a capture point at one of its ends.

Events are (timestamp, frame) pairs collected in a list; the generator sorts
each flow's list by time (stably) and merges flows. Sequence and
acknowledgement numbers are kept consistent: a side acknowledges what the
other has delivered to it. `local` names the side the capture runs on: a
packet from the remote side reaches the capture one round trip after the
packet it answers, a packet from the local side leaves right after the
local processing time.
"""
from pcapw import ACK, FIN, PSH, RST, SYN, sack_option, syn_options, tcp_frame

OTHER = {'c': 's', 's': 'c'}


class Tcp:
    def __init__(self, rng, v6, cip, sip, cport, sport, cmac, smac, local, rtt,
                 mss_c=None, mss_s=None, csum=True):
        self.rng = rng
        self.v6 = v6
        self.ip = {'c': cip, 's': sip}
        self.port = {'c': cport, 's': sport}
        self.mac = {'c': cmac, 's': smac}
        self.local = local
        self.rtt = rtt
        base = 1440 if v6 else 1460
        self.mss_ann = {'c': mss_c or base, 's': mss_s or base}   # announced in SYN
        # what each side may send: the peer's announced MSS
        self.mss = {'c': self.mss_ann['s'], 's': self.mss_ann['c']}
        self.nxt = {'c': rng.getrandbits(32), 's': rng.getrandbits(32)}
        self.rcv = {'c': None, 's': None}   # what each side has received in order
        self.ipid = {'c': rng.getrandbits(16), 's': rng.getrandbits(16)}
        self.ttl = {'c': 64 if local == 'c' else rng.choice((49, 52, 55, 57, 113, 117, 241)),
                    's': 64 if local == 's' else rng.choice((48, 51, 54, 58, 116, 243))}
        self.win = {'c': 4015, 's': 4015}   # x16 (window scale 4) = 64240, as in the SYN
        self.csum = csum
        self.ev = []
        self.last = {'c': 0.0, 's': 0.0}
        self.sent_ack = {'c': None, 's': None}   # arrival order of a remote sender's packets is kept

    # --- time -------------------------------------------------------------
    def resp(self, t, who, proc=0.0):
        """Capture time of a packet `who` sends in answer to one captured at t."""
        if who == self.local:
            return t + proc + 0.000015
        t = t + proc + self.rtt * self.rng.uniform(0.98, 1.04)
        if t <= self.last[who]:
            t = self.last[who] + 0.000002
        self.last[who] = t
        return t

    # --- packets ----------------------------------------------------------
    def seg(self, t, who, flags, payload=b'', seq=None, ack=None, opts=b'', advance=True, deliver=True):
        o = OTHER[who]
        if seq is None:
            seq = self.nxt[who]
            if advance:
                self.nxt[who] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xffffffff
        if ack is None:
            ack = self.rcv[who] if self.rcv[who] is not None else 0
        self.sent_ack[who] = ack
        if deliver and self.rcv[o] is not None and seq == self.rcv[o]:
            self.rcv[o] = (seq + len(payload) + (1 if flags & FIN else 0)) & 0xffffffff
        self.ipid[who] = (self.ipid[who] + 1) & 0xffff
        frame = tcp_frame(self.mac[o], self.mac[who], self.ip[who], self.ip[o], self.port[who], self.port[o],
                          seq, ack if flags & ACK else 0, flags, self.win[who] if not flags & SYN else 64240,
                          payload, opts, self.ipid[who], True, self.ttl[who], self.v6, self.csum)
        self.ev.append((t, frame))
        return seq

    def handshake(self, t):
        c_isn = self.nxt['c']
        self.seg(t, 'c', SYN, opts=syn_options(self.mss_ann['c']))
        self.rcv['s'] = (c_isn + 1) & 0xffffffff
        t = self.resp(t, 's')
        s_isn = self.nxt['s']
        self.seg(t, 's', SYN | ACK, opts=syn_options(self.mss_ann['s']))
        self.rcv['c'] = (s_isn + 1) & 0xffffffff
        t = self.resp(t, 'c')
        self.seg(t, 'c', ACK)
        return t

    def ack(self, t, who, opts=b''):
        self.seg(t, who, ACK, opts=opts)

    def send(self, t, who, data, spacing=0.00002):
        """A small write: one segment per MSS, back to back; returns time of the last."""
        mss = self.mss[who]
        for i in range(0, len(data), mss):
            self.seg(t, who, PSH | ACK if i + mss >= len(data) else ACK, data[i:i + mss])
            if i + mss < len(data):
                t += spacing
        return t

    def exchange(self, t, who, data, proc, delayed_ack=True):
        """`who` answers the last packet (captured at t) with data after `proc`
        seconds; a delayed ACK goes first when it thinks for longer than 40 ms
        (unless what it answers is already acknowledged)."""
        if proc > 0.04 and delayed_ack and self.sent_ack[who] != self.rcv[who]:
            self.ack(self.resp(t, who, 0.04), who)
        t = self.resp(t, who, proc)
        return self.send(t, who, data)

    def stream(self, t, who, data, mss=None, cwnd=10, max_cwnd=None, bw_bps=None):
        """Bulk data with slow start, limited by the receiver's 64240-byte
        window; the receiver ACKs every second segment and the end of each
        burst. Returns the capture time of the last ACK."""
        o = OTHER[who]
        mss = mss or self.mss[who]
        if max_cwnd is None:
            max_cwnd = 64240 // mss - 4
        if bw_bps is None:
            bw_bps = 1e9 if who == self.local else self.rng.choice((20e6, 50e6, 100e6, 200e6))
        hdr = 60 if self.v6 else 40
        spacing = (mss + hdr + 14) * 8 / bw_bps
        n = len(data)
        off = 0
        last_ack = t
        while off < n:
            ts = t
            seg_times = []
            k = 0
            while k < cwnd and off < n:
                chunk = data[off:off + mss]
                off += len(chunk)
                self.seg(ts, who, PSH | ACK if (off >= n or k == cwnd - 1) else ACK, chunk)
                seg_times.append((ts, self.nxt[who]))
                ts += spacing
                k += 1
            for j, (st, end) in enumerate(seg_times):
                if j % 2 == 1 or j == len(seg_times) - 1:
                    at = self.resp(st, o, 0.00004)
                    self.seg(at, o, ACK, ack=end)
                    last_ack = at
            cwnd = min(cwnd * 2, max_cwnd)
            t = self.resp(last_ack, who, 0.00001) if off < n else last_ack
        return last_ack

    def close(self, t, first, proc=0.0):
        t = self.resp(t, first, proc)
        self.seg(t, first, FIN | ACK)
        o = OTHER[first]
        t = self.resp(t, o, 0.0001)
        self.seg(t, o, FIN | ACK)
        t = self.resp(t, first, 0.00001)
        self.seg(t, first, ACK)
        return t

    def reset(self, t, who):
        self.seg(t, who, RST | ACK, advance=False)
        return t

    def sack(self, t, who, blocks):
        """A duplicate ACK from `who` carrying SACK blocks."""
        self.seg(t, who, ACK, opts=sack_option(blocks))
