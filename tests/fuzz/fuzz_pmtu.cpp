// Fuzzes the path-MTU black-hole detector through Analysis::on_tcp_segment /
// on_packet_too_big (and PmtuDetector directly), with synthetic events on
// three flows (two IPv4, one IPv6): TCP segments with fuzzed seq/ack/flags/
// sizes/SACK/MSS/DF, ICMP too-big messages, and a little SMTP so stalls are
// tied to sessions. SMTP bytes arrive three ways: straight to the session,
// as segment payload through the stream reader (new data, resends, overlaps,
// holes, raw sequence numbers; hints on who the server is, TLS from the
// start), and as decrypted TLS records.
//
// Sequence numbers follow each direction's own counter most of the time
// (new data, retransmissions, ACKs of the peer's data) so the detector's
// interesting states are reachable; raw values are mixed in.
//
// Invariants: verdicts in range; a black-hole mark or verdict frame carries
// the black-hole verdict; a stall only on a verdict frame; segments in
// flight bounded by max_tracked (their storage by twice that);
// two runs over the same events agree.
#include "fuzz_common.hpp"

#include "smtp_delivery/analysis.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

using namespace smtp_delivery;

namespace {

constexpr int kFlows = 3;

struct Event {
    enum Kind : std::uint8_t { segment, too_big, client_data, server_data } kind = segment;
    int flow = 0;
    int dir = 0;  // 0: client -> server, 1: server -> client
    Segment seg;
    PacketTooBig ptb;
    std::string bytes;
    enum Path : std::uint8_t { direct, stream, decrypted } path = direct;
    SmtpHint hint;
};

struct Endpoint {
    IpAddress addr;
    std::uint16_t port = 0;
};

std::array<std::array<Endpoint, 2>, kFlows> make_flows()
{
    std::array<std::array<Endpoint, 2>, kFlows> f{};
    for (int i = 0; i < kFlows; ++i) {
        const std::uint8_t family = i == 2 ? 6 : 4;
        for (int d = 0; d < 2; ++d) {
            f[i][d].addr.family = family;
            f[i][d].addr.bytes[0] = static_cast<std::uint8_t>(d == 0 ? 10 : 192);
            f[i][d].addr.bytes[3] = static_cast<std::uint8_t>(1 + d);
            f[i][d].port = static_cast<std::uint16_t>(d == 0 ? 40000 + i : 25);
        }
    }
    // Flow 1 shares its server address and client address with flow 0, only
    // the client port differs (port-pair collisions are keyed correctly).
    return f;
}

bool verdict_ok(PmtuVerdict v) { return static_cast<unsigned>(v) <= static_cast<unsigned>(PmtuVerdict::inconclusive); }

void check_finding(const PmtuFinding& f)
{
    SD_CHECK(verdict_ok(f.verdict));
    if (f.blackhole)
        SD_CHECK(f.verdict == PmtuVerdict::blackhole);
    if (f.verdict_here) {
        SD_CHECK(f.verdict == PmtuVerdict::blackhole);
        SD_CHECK(f.blackhole);  // the verdict frame is itself a lost transmission
    }
    if (f.stall)
        SD_CHECK(f.verdict_here);
}

bool same_finding(const PmtuFinding& a, const PmtuFinding& b)
{
    return a.verdict == b.verdict && a.blackhole == b.blackhole && a.verdict_here == b.verdict_here &&
           a.ptb_here == b.ptb_here && a.ptb_ignored_here == b.ptb_ignored_here &&
           a.recovered_here == b.recovered_here && a.stall == b.stall && a.original_in == b.original_in &&
           a.retransmissions == b.retransmissions && a.mtu_lower == b.mtu_lower && a.mtu_upper == b.mtu_upper &&
           a.next_hop_mtu == b.next_hop_mtu && a.packet_size == b.packet_size &&
           a.recovered_size == b.recovered_size && a.missing_bytes == b.missing_bytes &&
           a.recovery_ns == b.recovery_ns;
}

const char* const kClientLines[] = {"EHLO x\r\n", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n", "DATA\r\n",
                                    "BDAT 100000 LAST\r\n", "Subject: x\r\n\r\nbody body body\r\n", ".\r\n",
                                    "QUIT\r\n"};
const char* const kServerLines[] = {"220 hi\r\n", "250 ok\r\n", "354 go ahead\r\n", "250 2.0.0 queued\r\n",
                                    "421 4.4.2 timeout\r\n", "221 bye\r\n"};

std::vector<Event> read_events(FuzzedDataProvider& in, const PmtuSettings& settings)
{
    const auto flows = make_flows();
    // Per flow and direction: next sequence number to send.
    std::array<std::array<std::uint32_t, 2>, kFlows> nxt{};
    // Per flow and direction: next byte of the SMTP stream (stream path).
    std::array<std::array<std::uint32_t, 2>, kFlows> stream{};
    for (int i = 0; i < kFlows; ++i)
        for (int d = 0; d < 2; ++d)
            nxt[i][d] = in.ConsumeBool() ? in.ConsumeIntegral<std::uint32_t>() : 1000u * (i + 1) + 1u + d * 500000u;
    std::vector<Event> events;
    std::uint32_t frame = 0;
    std::int64_t t = 0;
    static constexpr std::uint32_t kPayloads[] = {0,    1,    100,  536,  1000, 1188, 1200, 1228, 1240,
                                                  1348, 1360, 1380, 1400, 1420, 1440, 1448, 1460, 8948};
    static constexpr std::uint32_t kMtus[] = {0, 68, 576, 1280, 1400, 1454, 1480, 1492, 1500, 9000};

    while (in.remaining_bytes() > 0 && events.size() < 4096) {
        Event e;
        const std::uint8_t op = in.ConsumeIntegral<std::uint8_t>();
        e.flow = ((op >> 2) & 3) % kFlows;  // bits 2-3
        e.dir = (op >> 4) & 1;
        ++frame;
        t += in.ConsumeIntegralInRange<std::int64_t>(0, 2'000'000'000);
        const Endpoint& src = flows[e.flow][e.dir];
        const Endpoint& dst = flows[e.flow][1 - e.dir];
        const std::uint32_t ip_hdr = src.addr.family == 6 ? 40 : 20;

        switch (op & 3) {
        case 0:
        case 1: {
            e.kind = Event::segment;
            Segment& s = e.seg;
            s.frame = frame;
            s.t_ns = t;
            s.ip.src = src.addr;
            s.ip.dst = dst.addr;
            s.ip.protocol = 6;
            s.ip.header_length = ip_hdr;
            s.tcp.src_port = src.port;
            s.tcp.dst_port = dst.port;
            const std::uint8_t f = in.ConsumeIntegral<std::uint8_t>();
            s.tcp.flags = static_cast<std::uint16_t>((f & 0x1f) | kAck);
            if (f & 0x20)
                s.tcp.flags = static_cast<std::uint16_t>(s.tcp.flags & ~kAck);
            s.ip.dont_fragment = src.addr.family == 6 || (f & 0x40) == 0;
            s.ip.fragment = (f & 0x80) != 0 && in.ConsumeBool();
            s.payload = (op & 0x80) ? in.ConsumeIntegral<std::uint16_t>()
                                    : in.PickValueInArray(kPayloads);
            s.tcp.header_length = 20u + 4u * in.ConsumeIntegralInRange<std::uint32_t>(0, 10);
            s.ip.packet_length = ip_hdr + s.tcp.header_length + s.payload;
            if (in.ConsumeProbability<float>() < 0.05f)
                s.ip.packet_length = in.ConsumeIntegral<std::uint16_t>();
            // Sequence number: new data, a resend of recent data, or raw.
            std::uint32_t& n = nxt[e.flow][e.dir];
            switch (in.ConsumeIntegralInRange<int>(0, 5)) {
            case 0: case 1: case 2:
                s.tcp.seq = n;
                n += s.payload;
                break;
            case 3: case 4:
                s.tcp.seq = n - s.payload * in.ConsumeIntegralInRange<std::uint32_t>(1, 4);
                break;
            default:
                s.tcp.seq = in.ConsumeIntegral<std::uint32_t>();
                break;
            }
            // ACK of the peer's data: all of it, a little less, or raw.
            const std::uint32_t peer = nxt[e.flow][1 - e.dir];
            switch (in.ConsumeIntegralInRange<int>(0, 3)) {
            case 0: s.tcp.ack = peer; break;
            case 1: s.tcp.ack = peer - in.ConsumeIntegralInRange<std::uint32_t>(0, 20000); break;
            case 2: s.tcp.ack = peer - in.PickValueInArray(kPayloads) * in.ConsumeIntegralInRange<std::uint32_t>(1, 4); break;
            default: s.tcp.ack = in.ConsumeIntegral<std::uint32_t>(); break;
            }
            s.tcp.window = in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::uint16_t>();
            if (s.tcp.flags & kSyn)
                s.tcp.mss = in.ConsumeBool() ? static_cast<std::uint16_t>(in.PickValueInArray(kPayloads))
                                             : in.ConsumeIntegral<std::uint16_t>();
            s.tcp.sack_count = in.ConsumeIntegralInRange<std::uint8_t>(0, 4);
            for (std::uint8_t k = 0; k < s.tcp.sack_count; ++k) {
                const std::uint32_t left = s.tcp.ack + in.ConsumeIntegralInRange<std::uint32_t>(0, 30000) -
                                           (in.ConsumeBool() ? 20000u : 0u);
                s.tcp.sack[k] = SackBlock{left, left + in.ConsumeIntegralInRange<std::uint32_t>(0, 20000)};
            }
            break;
        }
        case 2: {
            e.kind = Event::too_big;
            PacketTooBig& p = e.ptb;
            p.mtu = in.ConsumeBool() ? in.PickValueInArray(kMtus) : in.ConsumeIntegral<std::uint32_t>();
            p.src = src.addr;
            p.dst = dst.addr;
            p.src_port = src.port;
            p.dst_port = dst.port;
            const std::uint32_t n = nxt[e.flow][e.dir];
            p.seq = in.ConsumeBool() ? n - in.PickValueInArray(kPayloads) * in.ConsumeIntegralInRange<std::uint32_t>(1, 3)
                                     : in.ConsumeIntegral<std::uint32_t>();
            p.quoted_length = in.ConsumeIntegralInRange<std::uint32_t>(0, 9100);
            e.seg.frame = frame;
            break;
        }
        default: {
            e.kind = in.ConsumeBool() ? Event::client_data : Event::server_data;
            e.seg.frame = frame;
            e.seg.t_ns = t;
            if (in.ConsumeBool())
                e.bytes = e.kind == Event::client_data ? in.PickValueInArray(kClientLines) : in.PickValueInArray(kServerLines);
            else
                e.bytes = in.ConsumeRandomLengthString(64);
            e.path = static_cast<Event::Path>(in.ConsumeIntegralInRange<int>(0, 2));
            if (e.path == Event::stream) {
                const int dir = e.kind == Event::client_data ? 0 : 1;
                const auto len = static_cast<std::uint32_t>(e.bytes.size());
                std::uint32_t& n = stream[e.flow][dir];
                switch (in.ConsumeIntegralInRange<int>(0, 5)) {
                case 0: case 1: case 2: e.seg.tcp.seq = n; n += len; break;                     // new
                case 3: e.seg.tcp.seq = n - in.ConsumeIntegralInRange<std::uint32_t>(0, 80); break;  // resend, overlap
                case 4: e.seg.tcp.seq = n + in.ConsumeIntegralInRange<std::uint32_t>(1, 80); n = e.seg.tcp.seq + len; break;  // hole
                default: e.seg.tcp.seq = in.ConsumeIntegral<std::uint32_t>(); break;
                }
                e.seg.tcp.flags = static_cast<std::uint16_t>(kAck | (in.ConsumeProbability<float>() < 0.05f ? kSyn : 0));
                e.hint.present = in.ConsumeProbability<float>() < 0.9f;
                e.hint.over_tls = in.ConsumeProbability<float>() < 0.1f;
                static constexpr std::uint16_t kPorts[] = {0, 25, 465, 40000, 40001};
                e.hint.server_port = in.PickValueInArray(kPorts);
            }
            break;
        }
        }
        events.push_back(std::move(e));
    }
    (void)settings;
    return events;
}

// Feeds the events to an Analysis; returns findings per frame.
std::map<std::uint32_t, PmtuFinding> run(const std::vector<Event>& events, const PmtuSettings& settings)
{
    const auto flows = make_flows();
    Analysis a(settings);
    std::map<std::uint32_t, PmtuFinding> out;
    for (const Event& e : events) {
        switch (e.kind) {
        case Event::segment: {
            const ConnectionRef ref = a.on_tcp_segment(e.seg);
            SD_CHECK(ref.conn != nullptr);
            break;
        }
        case Event::too_big:
            a.on_packet_too_big(e.ptb, e.seg.frame);
            break;
        case Event::client_data:
        case Event::server_data: {
            // The SMTP bytes ride on a bare ACK of the flow's client/server.
            Segment s;
            const int dir = e.kind == Event::client_data ? 0 : 1;
            s.ip.src = flows[e.flow][dir].addr;
            s.ip.dst = flows[e.flow][1 - dir].addr;
            s.tcp.src_port = flows[e.flow][dir].port;
            s.tcp.dst_port = flows[e.flow][1 - dir].port;
            s.frame = e.seg.frame;
            s.t_ns = e.seg.t_ns;
            if (e.path == Event::stream) {
                s.tcp.seq = e.seg.tcp.seq;
                s.tcp.flags = e.seg.tcp.flags;
                s.payload = static_cast<std::uint32_t>(e.bytes.size());
                s.ip.packet_length = (s.ip.src.family == 6 ? 40u : 20u) + 20u + s.payload;
                const ConnectionRef ref = a.on_tcp_segment(s, true, e.bytes, e.hint);
                SD_CHECK(ref.conn != nullptr);
                if (e.hint.present)
                    SD_CHECK(ref.conn->session() != nullptr || ref.conn->smtp_closed);
                break;
            }
            const ConnectionRef ref = a.on_tcp_segment(s);  // no flags, no payload: ignored by the detector
            if (e.path == Event::decrypted)
                a.add_decrypted(ref, s, e.bytes);
            else if (dir == 0)
                a.add_client_data(ref, e.bytes, s.frame, s.t_ns);
            else
                a.add_reply_data(ref, e.bytes, s.frame, s.t_ns);
            break;
        }
        }
        SD_CHECK(a.connection_count() <= kFlows);
    }
    for (const Event& e : events) {
        const std::uint32_t n = e.seg.frame;
        if (const FrameFindings* f = a.find_frame(n)) {
#ifdef SD_FUZZ_PMTU_TRACE
            // Seed checking: what the events of a capture lead to.
            if (f->pmtu.present())
                std::fprintf(stderr, "frame %u: verdict %u%s%s%s\n", n, static_cast<unsigned>(f->pmtu.verdict),
                             f->pmtu.verdict_here ? " here" : "", f->pmtu.ptb_here ? " ptb" : "",
                             f->pmtu.recovered_here ? " recovered" : "");
#endif
            check_finding(f->pmtu);
            SD_CHECK(f->lines.size() <= kMaxLinesPerFrame);
            out[n] = f->pmtu;
        }
    }
    return out;
}

// The detector alone, on directions that are never reset: bounded state.
void run_detector(const std::vector<Event>& events, const PmtuSettings& settings)
{
    PmtuDetector det(settings);
    std::array<std::array<PmtuDirection, 2>, kFlows> dirs{};
    std::map<std::uint32_t, PmtuFinding> frames;
    auto sink = [&frames](std::uint32_t frame) -> PmtuFinding& { return frames[frame]; };
    for (const Event& e : events) {
        PmtuDirection& snd = dirs[e.flow][e.dir];
#ifdef SD_FUZZ_PMTU_TRACE
        std::fprintf(stderr, "event %u: kind %d flow %d dir %d seq %u ack %u flags %#x len %u ip %u df %d mss %u sack %u win %u mtu %u\n",
                     e.seg.frame, static_cast<int>(e.kind), e.flow, e.dir, e.seg.tcp.seq, e.seg.tcp.ack,
                     e.seg.tcp.flags, e.seg.payload, e.seg.ip.packet_length, e.seg.ip.dont_fragment, e.seg.tcp.mss,
                     e.seg.tcp.sack_count, e.seg.tcp.window, e.ptb.mtu);
#endif
        if (e.kind == Event::segment) {
            const bool verdict = det.on_segment(snd, dirs[e.flow][1 - e.dir], e.seg, sink);
            if (verdict) {
                SD_CHECK(snd.verdict == PmtuVerdict::blackhole);
                SD_CHECK(frames[e.seg.frame].verdict_here);
            }
        } else if (e.kind == Event::too_big) {
            det.on_packet_too_big(snd, e.ptb, e.seg.frame, sink);
            SD_CHECK(frames[e.seg.frame].ptb_here);
        }
        for (const auto& pair : dirs)
            for (const PmtuDirection& d : pair) {
                SD_CHECK(d.in_flight_count() <= settings.max_tracked);
                SD_CHECK(d.acked_front <= d.outstanding.size());
                SD_CHECK(d.outstanding.size() <= 2 * settings.max_tracked + 1);
                SD_CHECK(verdict_ok(d.verdict));
                for (const auto& t : d.outstanding) {
                    SD_CHECK(t.transmissions >= 1);
                    SD_CHECK(t.frames_kept <= t.resend_frames.size());
                }
            }
    }
    for (const auto& [n, f] : frames)
        check_finding(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    PmtuSettings settings;
    settings.transmissions = in.ConsumeIntegralInRange<unsigned>(1, 12);
    settings.min_size = in.ConsumeBool() ? 576u : in.ConsumeIntegralInRange<unsigned>(0, 2000);
    settings.max_tracked = in.ConsumeIntegralInRange<std::size_t>(0, 64);
    const std::vector<Event> events = read_events(in, settings);

    run_detector(events, settings);
    const auto first = run(events, settings);
    const auto second = run(events, settings);
    SD_CHECK(first.size() == second.size());
    for (auto a = first.begin(), b = second.begin(); a != first.end(); ++a, ++b) {
        SD_CHECK(a->first == b->first);
        SD_CHECK(same_finding(a->second, b->second));
    }
    return 0;
}
