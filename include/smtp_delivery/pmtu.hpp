// Path-MTU black-hole detection on TCP flows.
//
// A black hole shows as: a segment with DF set (or IPv6) larger than anything
// the peer has acknowledged, sent again and again with nothing covering it,
// while the peer still acknowledges smaller data (SACK, dup-ACKs), and no
// ICMP "fragmentation needed" / "packet too big" for the flow. The detector
// also recognises working PMTUD, senders that ignore it, and senders that
// recover by sending smaller segments.
#pragma once

#include "smtp_delivery/net.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace smtp_delivery {

enum class PmtuVerdict : std::uint8_t {
    none = 0,
    ok = 1,
    ptb_honoured = 2,
    ptb_ignored = 3,
    blackhole = 4,
    recovered = 5,
    inconclusive = 6,
};

constexpr std::string_view pmtu_verdict_label(PmtuVerdict v) noexcept
{
    switch (v) {
    case PmtuVerdict::ok: return "ok";
    case PmtuVerdict::ptb_honoured: return "ptb-honoured";
    case PmtuVerdict::ptb_ignored: return "ptb-ignored";
    case PmtuVerdict::blackhole: return "blackhole";
    case PmtuVerdict::recovered: return "recovered";
    case PmtuVerdict::inconclusive: return "inconclusive";
    default: return "";
    }
}

// Usual path-MTU plateaus (RFC 1191 table plus today's tunnels), largest first.
inline constexpr std::array<std::uint16_t, 7> kMtuPlateaus = {1500, 1492, 1480, 1454, 1400, 1280, 576};

struct PmtuSettings {
    unsigned transmissions = 3;      // transmissions of one segment before "probable black hole"
    unsigned min_size = 576;         // smallest IP packet that can be black-holed (IPv4 minimum MTU)
    std::size_t max_tracked = 64;    // outstanding segments tracked per direction
};

// What one frame shows about the path MTU of its flow.
struct PmtuFinding {
    PmtuVerdict verdict = PmtuVerdict::none;
    bool blackhole = false;         // a transmission covered by a black-hole verdict
    bool verdict_here = false;      // the black-hole verdict was reached on this frame
    bool ptb_here = false;          // an ICMP too-big for a tracked flow
    bool ptb_ignored_here = false;  // a segment over the MTU the sender was told
    bool recovered_here = false;    // the first smaller resend got acknowledged here
    bool stall = false;             // an SMTP message transfer stalled on this black hole
    bool tracking_limit = false;    // the direction has more segments in flight than are tracked
    std::uint32_t original_in = 0;  // frame of the first transmission
    std::uint32_t retransmissions = 0;
    std::uint32_t mtu_lower = 0;    // largest IP packet acknowledged
    std::uint32_t mtu_upper = 0;    // largest size the path may still carry
    std::uint32_t next_hop_mtu = 0; // from ICMP
    std::uint32_t packet_size = 0;  // IP size of the segment concerned
    std::uint32_t recovered_size = 0;
    std::uint32_t missing_bytes = 0;  // receiver side: bytes never seen before SACKed data
    std::int64_t recovery_ns = -1;

    bool present() const noexcept { return verdict != PmtuVerdict::none || ptb_here || tracking_limit; }
};

// One TCP segment as the detector sees it.
struct Segment {
    IpHeader ip;
    TcpHeader tcp;
    std::uint32_t payload = 0;
    std::uint32_t frame = 0;
    std::int64_t t_ns = 0;
};

// Reads a TCP segment from the bytes of the IP packet carrying it (as far as
// they were captured). `payload` gets the TCP payload bytes that were
// captured, never more than the IP header announces (no link-layer padding).
// False for anything else: not TCP, an IP fragment, headers cut short.
inline bool read_tcp_segment(Bytes packet, Segment& seg, Bytes& payload) noexcept
{
    if (!parse_ip(packet, seg.ip) || seg.ip.protocol != 6 || seg.ip.fragment)
        return false;
    // IPv4 total length 0: captured before segmentation offload filled it in.
    if (seg.ip.src.family == 4 && seg.ip.packet_length == 0)
        seg.ip.packet_length = static_cast<std::uint32_t>(std::min<std::size_t>(packet.size, 0xffffffu));
    const Bytes tcp = packet.from(seg.ip.header_length);
    if (!parse_tcp(tcp, seg.tcp))
        return false;
    const std::uint32_t headers = seg.ip.header_length + seg.tcp.header_length;
    seg.payload = seg.ip.packet_length > headers ? seg.ip.packet_length - headers : 0;
    payload = tcp.from(seg.tcp.header_length);
    if (payload.size > seg.payload)
        payload.size = seg.payload;
    return true;
}

// Per-direction state of one TCP connection ("sender" = this direction).
class PmtuDirection {
public:
    struct Tracked {
        std::uint32_t seq = 0, end = 0;
        std::uint32_t ip_len = 0;
        std::uint32_t first_frame = 0;
        std::int64_t first_t = 0;
        std::uint16_t transmissions = 0;
        std::uint8_t frames_kept = 0;
        bool df = false;
        bool peer_alive = false;  // the peer acknowledged later data while this was missing
        std::array<std::uint32_t, 8> resend_frames{};
    };

    // What a black hole, a shrunk resend or an ICMP too-big leaves behind:
    // most directions never see one, so it lives apart (allocated on the
    // first such event) and keeps the state every segment reads small.
    struct Rare {
        std::uint32_t smallest_lost = 0;  // smallest DF packet black-holed
        std::uint32_t blackhole_seq = 0;
        std::uint32_t blackhole_first_frame = 0;
        std::uint32_t ptb_mtu = 0;
        std::uint32_t shrunk_size = 0;
        std::int64_t blackhole_first_t = 0;
    };

    // Read or written for every segment: one cache line (64 bytes) at most.
    PmtuVerdict verdict = PmtuVerdict::none;
    bool shrunk = false;
    bool ok_reported = false;
    bool hole_reported = false;
    bool limit_reported = false;
    bool have_snd_nxt = false;
    bool have_last_ack = false;
    bool peer_window_zero = false;       // the peer's last ACK closed its window
    std::uint16_t peer_mss = 0;          // MSS the peer advertised: our segments must fit
    std::uint16_t ptb_count = 0;         // ICMP too-big messages (stops counting at 65535)
    std::uint32_t max_sent = 0;          // largest IP packet sent
    std::uint32_t max_acked = 0;         // largest IP packet acknowledged
    std::uint32_t snd_nxt = 0;
    std::uint32_t last_ack = 0;          // last ACK number the peer sent for our data

    // Segments in flight, oldest first: outstanding[acked_front, size()).
    // A cumulative ACK moves acked_front instead of shifting the rest down;
    // the space before it is reused once it is as large as the part in
    // flight.
    std::uint32_t acked_front = 0;
    std::unique_ptr<Rare> rare_state;
    std::vector<Tracked> outstanding;

    // The rare state, made on first use.
    Rare& rare()
    {
        if (!rare_state)
            rare_state = std::make_unique<Rare>();
        return *rare_state;
    }
    std::uint32_t smallest_lost() const noexcept { return rare_state ? rare_state->smallest_lost : 0; }
    std::uint32_t ptb_mtu() const noexcept { return rare_state ? rare_state->ptb_mtu : 0; }

    struct Live {
        Tracked* first;
        Tracked* last;
        Tracked* begin() const noexcept { return first; }
        Tracked* end() const noexcept { return last; }
        std::size_t size() const noexcept { return static_cast<std::size_t>(last - first); }
        Tracked& operator[](std::size_t i) const noexcept { return first[i]; }
    };
    Live in_flight() noexcept
    {
        Tracked* base = outstanding.data();
        return Live{base + acked_front, base + outstanding.size()};
    }
    std::size_t in_flight_count() const noexcept { return outstanding.size() - acked_front; }

    // Drops the `n` oldest segments in flight.
    void drop_oldest(std::size_t n) noexcept
    {
        acked_front += static_cast<std::uint32_t>(n);
        if (acked_front == outstanding.size()) {
            outstanding.clear();
            acked_front = 0;
        }
    }

    // Moves the segments in flight to the front of the storage.
    void compact()
    {
        if (acked_front == 0)
            return;
        outstanding.erase(outstanding.begin(), outstanding.begin() + acked_front);
        acked_front = 0;
    }

    void track(const Tracked& t)
    {
        if (acked_front > 0 && acked_front >= in_flight_count())
            compact();  // each segment is moved at most once on average
        outstanding.push_back(t);
    }

    std::uint32_t mtu_upper() const noexcept
    {
        if (const std::uint32_t ptb = ptb_mtu())
            return ptb;
        const std::uint32_t lost = smallest_lost();
        return lost ? lost - 1 : 0;
    }

    void release() noexcept
    {
        std::vector<Tracked>().swap(outstanding);
        acked_front = 0;
    }
};

static_assert(sizeof(PmtuDirection) <= 64, "what each segment reads of a direction fits one cache line");

// Plateaus that lie within [lower, upper]; the caller names them.
inline std::size_t plateaus_between(std::uint32_t lower, std::uint32_t upper, std::array<std::uint16_t, 7>& out)
{
    std::size_t n = 0;
    for (std::uint16_t p : kMtuPlateaus)
        if (p >= lower && p <= upper)
            out[n++] = p;
    return n;
}

}  // namespace smtp_delivery

namespace smtp_delivery {

// A connection's two endpoints in canonical order, so both directions of a
// flow find the same entry.
struct FlowKey {
    IpAddress a, b;
    std::uint16_t port_a = 0, port_b = 0;

    friend bool operator==(const FlowKey& x, const FlowKey& y) noexcept
    {
        return x.port_a == y.port_a && x.port_b == y.port_b && x.a == y.a && x.b == y.b;
    }
};

// Builds the canonical key of src->dst; `forward` tells whether src is the
// key's first endpoint (direction 0).
inline FlowKey make_flow_key(const IpAddress& src, std::uint16_t sport, const IpAddress& dst, std::uint16_t dport,
                             bool& forward) noexcept
{
    const int c = compare_bytes(src, dst);
    forward = c < 0 || (c == 0 && sport <= dport);
    FlowKey k;
    if (forward) {
        k.a = src, k.b = dst, k.port_a = sport, k.port_b = dport;
    } else {
        k.a = dst, k.b = src, k.port_a = dport, k.port_b = sport;
    }
    return k;
}

struct FlowKeyHash {
    // Word-wise multiply-xorshift mixing: every packet hashes its key, so
    // this stays a handful of instructions. IPv4 addresses keep the unused
    // bytes zero, so both families hash the same way.
    std::size_t operator()(const FlowKey& k) const noexcept
    {
        std::uint64_t w[4];
        std::memcpy(&w[0], k.a.bytes.data(), 16);
        std::memcpy(&w[2], k.b.bytes.data(), 16);
        std::uint64_t h = (std::uint64_t{k.port_a} << 16 | k.port_b) ^ 0x9e3779b97f4a7c15ULL;
        for (const std::uint64_t x : w) {
            h ^= x;
            h *= 0xff51afd7ed558ccdULL;
            h ^= h >> 32;
        }
        return static_cast<std::size_t>(h);
    }
};

// The detector's view of one connection. `Sink` is a callable
// `PmtuFinding& (std::uint32_t frame)` that returns the finding slot of a frame.
class PmtuDetector {
public:
    explicit PmtuDetector(PmtuSettings settings = {}) : settings_(settings) {}

    const PmtuSettings& settings() const noexcept { return settings_; }
    void set_settings(const PmtuSettings& s) noexcept { settings_ = s; }

    // One TCP segment travelling in direction `snd` (the other is `rcv`).
    // Returns true when a black-hole verdict was reached on this frame.
    template <typename Sink>
    bool on_segment(PmtuDirection& snd, PmtuDirection& rcv, const Segment& seg, Sink&& sink) const
    {
        const TcpHeader& tcp = seg.tcp;
        if (tcp.flags & kSyn) {
            if (tcp.mss)
                rcv.peer_mss = tcp.mss;  // what the other side may send to us
        }
        if (tcp.flags & kAck)
            on_ack(rcv, seg, sink);
        if (seg.payload == 0)
            return false;
        return on_data(snd, seg, sink);
    }

    // An ICMP too-big for data sent in direction `snd`.
    template <typename Sink>
    void on_packet_too_big(PmtuDirection& snd, const PacketTooBig& ptb, std::uint32_t frame, Sink&& sink) const
    {
        if (snd.ptb_count < 0xffff)
            ++snd.ptb_count;
        snd.rare().ptb_mtu = ptb.mtu;
        PmtuFinding& f = sink(frame);
        f.ptb_here = true;
        f.next_hop_mtu = ptb.mtu;
        f.packet_size = ptb.quoted_length;
        for (const auto& t : snd.in_flight())
            if (t.seq == ptb.seq) {
                f.original_in = t.first_frame;
                f.retransmissions = t.transmissions - 1u;
            }
        fill_bounds(snd, f);
        f.verdict = snd.verdict;
    }

private:
    template <typename Sink>
    void on_ack(PmtuDirection& s, const Segment& seg, Sink& sink) const
    {
        const TcpHeader& tcp = seg.tcp;
        s.peer_window_zero = tcp.window == 0 && !(tcp.flags & (kSyn | kFin | kRst));
        const bool dup_ack = s.have_last_ack && tcp.ack == s.last_ack && seg.payload == 0 &&
                             !(tcp.flags & (kSyn | kFin | kRst));
        s.last_ack = tcp.ack;
        s.have_last_ack = true;

        if (s.verdict == PmtuVerdict::blackhole ||
            (s.shrunk && s.verdict != PmtuVerdict::recovered && s.verdict != PmtuVerdict::ptb_honoured))
            ack_after_blackhole(s, seg, sink);

        if (tcp.sack_count == 0) {
            // Without SACK blocks only the cumulative ACK speaks. Segments
            // are tracked in sequence order, so it covers the oldest ones:
            // a bulk flow with many segments in flight pays for the ones
            // acknowledged, not for every one still outstanding.
            const PmtuDirection::Live live = s.in_flight();
            std::size_t done = 0;
            for (; done < live.size(); ++done) {
                PmtuDirection::Tracked& t = live[done];
                if (!seq_le(t.end, tcp.ack)) {
                    if (dup_ack && tcp.ack == t.seq)
                        t.peer_alive = true;
                    break;
                }
                acked(s, t, seg, true, sink);
            }
            s.drop_oldest(done);
            return;
        }
        s.compact();
        auto& out = s.outstanding;
        std::size_t keep = 0;
        for (std::size_t i = 0; i < out.size(); ++i) {
            auto& t = out[i];
            bool covered = seq_le(t.end, tcp.ack);
            bool later_sacked = false;
            for (std::uint8_t k = 0; k < tcp.sack_count; ++k) {
                const SackBlock& b = tcp.sack[k];
                if (seq_le(b.left, t.seq) && seq_le(t.end, b.right))
                    covered = true;
                else if (seq_le(t.end, b.left))
                    later_sacked = true;
            }
            if (covered) {
                acked(s, t, seg, seq_le(t.end, tcp.ack), sink);
                continue;
            }
            if (later_sacked || (dup_ack && tcp.ack == t.seq))
                t.peer_alive = true;
            if (keep != i)
                out[keep] = t;
            ++keep;
        }
        out.resize(keep);

        if (tcp.sack_count && s.verdict == PmtuVerdict::none && !s.hole_reported)
            check_receiver_hole(s, seg, sink);
    }

    // An ACK after a black-hole verdict or a smaller resend: did the
    // black-holed data get through?
    template <typename Sink>
    SD_COLD void ack_after_blackhole(PmtuDirection& s, const Segment& seg, Sink& sink) const
    {
        const TcpHeader& tcp = seg.tcp;
        const PmtuDirection::Rare& r = s.rare();  // a verdict or a shrunk resend made it
        if (r.blackhole_first_frame && seq_lt(r.blackhole_seq, tcp.ack) && s.shrunk) {
            s.verdict = PmtuVerdict::recovered;
            s.max_acked = std::max(s.max_acked, r.shrunk_size);
            PmtuFinding& f = sink(seg.frame);
            f.verdict = s.verdict;
            f.recovered_here = true;
            f.recovered_size = r.shrunk_size;
            f.recovery_ns = seg.t_ns - r.blackhole_first_t;
            f.original_in = r.blackhole_first_frame;
            fill_bounds(s, f);
            s.shrunk = false;
        } else if (s.verdict == PmtuVerdict::blackhole && seq_lt(r.blackhole_seq, tcp.ack) && !s.shrunk) {
            // Acknowledged at full size after all: not a black hole.
            s.verdict = PmtuVerdict::inconclusive;
            PmtuFinding& f = sink(seg.frame);
            f.verdict = s.verdict;
            fill_bounds(s, f);
        }
    }

    // Seen from the receiver: it SACKs data beyond a hole this capture
    // never saw pass. A black hole upstream is possible but cannot be
    // confirmed from here.
    template <typename Sink>
    SD_COLD void check_receiver_hole(PmtuDirection& s, const Segment& seg, Sink& sink) const
    {
        const TcpHeader& tcp = seg.tcp;
        for (std::uint8_t k = 0; k < tcp.sack_count; ++k) {
            const SackBlock& b = tcp.sack[k];
            const std::uint32_t hole = b.left - tcp.ack;
            if (!seq_lt(tcp.ack, b.left) || hole < settings_.min_size || hole > (1u << 24))
                continue;
            bool seen = false;
            for (const auto& t : s.in_flight())
                if (seq_le(t.seq, tcp.ack) && seq_lt(tcp.ack, t.end))
                    seen = true;
            if (seen)
                continue;
            s.hole_reported = true;
            s.verdict = PmtuVerdict::inconclusive;
            PmtuFinding& f = sink(seg.frame);
            f.verdict = s.verdict;
            f.missing_bytes = hole;
            fill_bounds(s, f);
            break;
        }
    }

    // A tracked segment reached the peer; `in_order` when the cumulative ACK
    // covers it, so nothing before it is missing.
    template <typename Sink>
    void acked(PmtuDirection& s, const PmtuDirection::Tracked& t, const Segment& seg, bool in_order,
               Sink& sink) const
    {
        if (t.ip_len > s.max_acked)
            s.max_acked = t.ip_len;
        if (in_order && !s.ok_reported && s.verdict == PmtuVerdict::none && t.df && t.ip_len == s.max_sent &&
            t.ip_len > settings_.min_size)
            report_ok(s, t.ip_len, seg.frame, sink);
    }

    // The largest DF packet sent so far was acknowledged: the path carries it.
    template <typename Sink>
    SD_COLD static void report_ok(PmtuDirection& s, std::uint32_t size, std::uint32_t frame, Sink& sink)
    {
        s.ok_reported = true;
        s.verdict = PmtuVerdict::ok;
        PmtuFinding& f = sink(frame);
        f.verdict = s.verdict;
        f.packet_size = size;
        fill_bounds(s, f);
    }

    template <typename Sink>
    bool on_data(PmtuDirection& s, const Segment& seg, Sink& sink) const
    {
        const std::uint32_t seq = seg.tcp.seq;
        const std::uint32_t end = seq + seg.payload;
        const std::uint32_t size = seg.ip.packet_length;
        const bool df = seg.ip.dont_fragment && !seg.ip.fragment;
        const bool retransmission = s.have_snd_nxt && seq_lt(seq, s.snd_nxt);
        if (!s.have_snd_nxt || seq_lt(s.snd_nxt, end)) {
            s.snd_nxt = end;
            s.have_snd_nxt = true;
        }
        // Offload super-segments are larger than the MSS: not wire packets.
        if (s.peer_mss && seg.payload > s.peer_mss)
            return false;
        if (size > s.max_sent)
            s.max_sent = size;

        if (s.ptb_count > 0)
            data_after_ptb(s, seg, size, df, sink);

        if (!retransmission)
            return new_data(s, seg, end, size, df, sink);
        PmtuDirection::Tracked* t = nullptr;
        for (auto& x : s.in_flight())
            if (x.seq == seq) {
                t = &x;
                break;
            }
        if (!t) {
            if (const PmtuDirection::Rare* r = s.rare_state.get()) {
                if (r->blackhole_first_frame && seq == r->blackhole_seq && size < r->smallest_lost)
                    note_shrink(s, size);
            }
            if (s.verdict == PmtuVerdict::blackhole && df && size >= s.smallest_lost())
                mark(s, seg.frame, seg.frame, 0, size, sink);
            return false;
        }
        return resent(s, *t, seg, size, sink);
    }

    // Data after an ICMP too-big: does the sender listen?
    template <typename Sink>
    SD_COLD static void data_after_ptb(PmtuDirection& s, const Segment& seg, std::uint32_t size, bool df, Sink& sink)
    {
        const std::uint32_t ptb_mtu = s.ptb_mtu();
        if (size <= ptb_mtu) {
            if (s.verdict == PmtuVerdict::none || s.verdict == PmtuVerdict::ok ||
                s.verdict == PmtuVerdict::blackhole) {
                s.verdict = PmtuVerdict::ptb_honoured;
                PmtuFinding& f = sink(seg.frame);
                f.verdict = s.verdict;
                f.packet_size = size;
                f.next_hop_mtu = ptb_mtu;
                fill_bounds(s, f);
            }
        } else if (df && s.ptb_count >= 2) {
            s.verdict = PmtuVerdict::ptb_ignored;
            PmtuFinding& f = sink(seg.frame);
            f.verdict = s.verdict;
            f.ptb_ignored_here = true;
            f.packet_size = size;
            f.next_hop_mtu = ptb_mtu;
            fill_bounds(s, f);
        }
    }

    // Data never sent before: tracked until acknowledged, as far as the cap allows.
    template <typename Sink>
    bool new_data(PmtuDirection& s, const Segment& seg, std::uint32_t end, std::uint32_t size, bool df,
                  Sink& sink) const
    {
        if (s.in_flight_count() < settings_.max_tracked) {
            PmtuDirection::Tracked n;
            n.seq = seg.tcp.seq;
            n.end = end;
            n.ip_len = size;
            n.first_frame = seg.frame;
            n.first_t = seg.t_ns;
            n.transmissions = 1;
            n.df = df;
            s.track(n);
        } else if (!s.limit_reported) {
            s.limit_reported = true;  // said once per direction; the rest is not tracked
            sink(seg.frame).tracking_limit = true;
        }
        if (s.verdict == PmtuVerdict::blackhole && df && size >= s.smallest_lost())
            mark(s, seg.frame, seg.frame, 0, size, sink);
        return false;
    }

    // A retransmission of a tracked segment.
    template <typename Sink>
    SD_COLD bool resent(PmtuDirection& s, PmtuDirection::Tracked& t, const Segment& seg, std::uint32_t size,
                        Sink& sink) const
    {
        if (size < t.ip_len) {
            if (t.transmissions >= 2 && t.df && t.ip_len > s.max_acked && s.ptb_count == 0) {
                PmtuDirection::Rare& r = s.rare();
                if (!r.blackhole_first_frame) {
                    r.blackhole_seq = t.seq;
                    r.blackhole_first_frame = t.first_frame;
                    r.blackhole_first_t = t.first_t;
                    r.smallest_lost = t.ip_len;
                }
                note_shrink(s, size);
            }
            return false;
        }
        if (t.transmissions < 0xffff)
            ++t.transmissions;
        if (t.frames_kept < t.resend_frames.size())
            t.resend_frames[t.frames_kept++] = seg.frame;

        if (s.verdict == PmtuVerdict::blackhole) {
            if (t.df && t.ip_len >= s.smallest_lost())
                mark(s, seg.frame, t.first_frame, t.transmissions - 1u, t.ip_len, sink);
            return false;
        }
        const bool probable = t.df && s.ptb_count == 0 && t.ip_len > s.max_acked &&
                              t.ip_len >= settings_.min_size && t.transmissions >= settings_.transmissions &&
                              t.peer_alive && !s.peer_window_zero &&
                              (s.verdict == PmtuVerdict::none || s.verdict == PmtuVerdict::ok ||
                               s.verdict == PmtuVerdict::inconclusive);
        if (!probable)
            return false;

        s.verdict = PmtuVerdict::blackhole;
        PmtuDirection::Rare& r = s.rare();
        r.smallest_lost = t.ip_len;
        for (const auto& x : s.in_flight())
            if (x.df && x.ip_len > s.max_acked && x.ip_len < r.smallest_lost && x.transmissions >= 2)
                r.smallest_lost = x.ip_len;
        r.blackhole_seq = t.seq;
        r.blackhole_first_frame = t.first_frame;
        r.blackhole_first_t = t.first_t;
        // Everything oversized still in flight is covered by the verdict,
        // earlier frames included (seen on a second pass).
        for (const auto& x : s.in_flight()) {
            if (!x.df || x.ip_len < r.smallest_lost)
                continue;
            mark(s, x.first_frame, x.first_frame, 0, x.ip_len, sink);
            for (std::uint8_t i = 0; i < x.frames_kept; ++i)
                mark(s, x.resend_frames[i], x.first_frame, i + 1u, x.ip_len, sink);
        }
        // This transmission carries the verdict even when it is past the
        // resend frames kept per segment.
        mark(s, seg.frame, t.first_frame, t.transmissions - 1u, t.ip_len, sink);
        PmtuFinding& f = sink(seg.frame);
        f.verdict_here = true;
        return true;
    }

    template <typename Sink>
    SD_COLD void mark(const PmtuDirection& s, std::uint32_t frame, std::uint32_t original, std::uint32_t resends,
              std::uint32_t size, Sink& sink) const
    {
        PmtuFinding& f = sink(frame);
        f.verdict = PmtuVerdict::blackhole;
        f.blackhole = true;
        f.original_in = original;
        f.retransmissions = resends;
        f.packet_size = size;
        fill_bounds(s, f);
    }

    // The black-holed data was resent in a smaller packet of `size` bytes.
    SD_COLD static void note_shrink(PmtuDirection& s, std::uint32_t size)
    {
        PmtuDirection::Rare& r = s.rare();
        if (s.shrunk && r.shrunk_size <= size)
            return;
        s.shrunk = true;
        r.shrunk_size = size;
    }

    static void fill_bounds(const PmtuDirection& s, PmtuFinding& f)
    {
        f.mtu_lower = s.max_acked;
        f.mtu_upper = s.mtu_upper();
    }

    PmtuSettings settings_;
};

}  // namespace smtp_delivery
