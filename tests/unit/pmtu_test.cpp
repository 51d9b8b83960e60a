#include "smtp_delivery/analysis.hpp"
#include "smtp_delivery/net.hpp"
#include "smtp_delivery/pmtu.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

using namespace smtp_delivery;

namespace {

constexpr std::int64_t ms = 1000000;

// Builds event sequences for one client -> server flow.
class Flow {
public:
    explicit Flow(bool df = true, std::uint16_t mss = 1460) : df_(df)
    {
        client_.family = server_.family = 4;
        client_.bytes = {192, 0, 2, 10};
        server_.bytes = {198, 51, 100, 10};
        // Handshake: both sides announce their MSS.
        send(true, 0, 0, kSyn, mss);
        send(false, 0, 0, kSyn | kAck, mss);
    }

    // Client data segment; `size` is the IP packet length (40 bytes of headers).
    std::uint32_t data(std::uint32_t seq, std::uint32_t size, bool df_override = true)
    {
        return send(true, seq, size - 40, kAck | kPsh, 0, df_override && df_);
    }

    // Server ACK with optional SACK blocks and window.
    std::uint32_t ack(std::uint32_t ack_no, std::vector<SackBlock> sacks = {}, std::uint16_t window = 500)
    {
        Segment s = base(false);
        s.tcp.ack = ack_no;
        s.tcp.flags = kAck;
        s.tcp.window = window;
        for (const auto& b : sacks)
            s.tcp.sack[s.tcp.sack_count++] = b;
        return feed(s);
    }

    std::uint32_t too_big(std::uint32_t seq, std::uint32_t mtu)
    {
        PacketTooBig p;
        p.mtu = mtu;
        p.src = client_;
        p.dst = server_;
        p.src_port = 40000;
        p.dst_port = 25;
        p.seq = seq;
        p.quoted_length = 1500;
        const std::uint32_t f = ++frame_;
        t_ += ms;
        analysis.on_packet_too_big(p, f);
        return f;
    }

    const PmtuFinding* finding(std::uint32_t frame) const
    {
        const FrameFindings* f = analysis.find_frame(frame);
        return f ? &f->pmtu : nullptr;
    }

    PmtuVerdict verdict_at(std::uint32_t frame) const
    {
        const PmtuFinding* f = finding(frame);
        return f ? f->verdict : PmtuVerdict::none;
    }

    bool blackhole_at(std::uint32_t frame) const
    {
        const PmtuFinding* f = finding(frame);
        return f && f->blackhole;
    }

    void wait(std::int64_t d) { t_ += d; }

    Analysis analysis;

private:
    Segment base(bool from_client)
    {
        Segment s;
        s.ip.src = from_client ? client_ : server_;
        s.ip.dst = from_client ? server_ : client_;
        s.ip.header_length = 20;
        s.tcp.src_port = from_client ? 40000 : 25;
        s.tcp.dst_port = from_client ? 25 : 40000;
        s.tcp.header_length = 20;
        return s;
    }

    std::uint32_t send(bool from_client, std::uint32_t seq, std::uint32_t payload, std::uint16_t flags,
                       std::uint16_t mss, bool df = true)
    {
        Segment s = base(from_client);
        s.tcp.seq = seq;
        s.tcp.ack = 1;
        s.tcp.flags = flags;
        s.tcp.mss = mss;
        s.tcp.window = 500;
        s.payload = payload;
        s.ip.packet_length = 40 + payload;
        s.ip.dont_fragment = df;
        return feed(s);
    }

    std::uint32_t feed(Segment& s)
    {
        s.frame = ++frame_;
        t_ += ms;
        s.t_ns = t_;
        analysis.on_tcp_segment(s);
        return s.frame;
    }

    IpAddress client_, server_;
    bool df_;
    std::uint32_t frame_ = 0;
    std::int64_t t_ = 0;
};

// The classic black hole: big segments vanish, the small tail is SACKed.
TEST(Pmtu, BlackholeOnThirdTransmission)
{
    Flow f;
    const auto first = f.data(1000, 1500);
    f.data(2460, 1500);
    f.data(3920, 600);
    f.ack(1000, {{3920, 4480}});  // tail arrived, head missing
    const auto second = f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(second));
    const auto third = f.data(1000, 1500);
    ASSERT_TRUE(f.blackhole_at(third));
    const PmtuFinding* v = f.finding(third);
    EXPECT_TRUE(v->verdict_here);
    EXPECT_EQ(v->verdict, PmtuVerdict::blackhole);
    EXPECT_EQ(v->original_in, first);
    EXPECT_EQ(v->retransmissions, 2u);
    EXPECT_EQ(v->mtu_lower, 600u);
    EXPECT_EQ(v->mtu_upper, 1499u);
    // Earlier transmissions of oversized segments are marked for a second pass.
    EXPECT_TRUE(f.blackhole_at(first));
    EXPECT_TRUE(f.blackhole_at(first + 1));
    EXPECT_FALSE(f.blackhole_at(first + 2));  // the tail
    const auto fourth = f.data(1000, 1500);
    EXPECT_TRUE(f.blackhole_at(fourth));
    EXPECT_FALSE(f.finding(fourth)->verdict_here);
}

TEST(Pmtu, TransmissionsThresholdIsASetting)
{
    Flow f;
    PmtuSettings s;
    s.transmissions = 4;
    f.analysis.set_pmtu_settings(s);
    f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}});
    f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 1500)));
    EXPECT_TRUE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, NoVerdictWithoutSignOfLife)
{
    // The path is down altogether: nothing comes back, no black hole claimed.
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 600);
    f.data(1000, 1500);
    f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, DuplicateAcksCountAsSignOfLife)
{
    Flow f;
    f.data(1000, 1500);
    f.ack(1000);
    f.data(1000, 1500);
    f.ack(1000);
    EXPECT_TRUE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, CongestionLossOfSizesThatGotThroughBefore)
{
    Flow f;
    f.data(1000, 1500);
    const auto full_size_acked = f.ack(2460);  // a full-size packet made it: the path carries 1500
    f.data(2460, 1500);
    f.data(3920, 600);
    f.ack(2460, {{3920, 4480}});
    f.data(2460, 1500);
    f.data(2460, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(2460, 1500)));
    EXPECT_EQ(f.verdict_at(full_size_acked), PmtuVerdict::ok);
}

TEST(Pmtu, NoDfNoBlackhole)
{
    Flow f(/*df=*/false);
    f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}});
    f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, ZeroWindowProbesAreNotBlackholes)
{
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}}, /*window=*/0);
    f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, OffloadSuperSegmentsAreIgnored)
{
    Flow f(true, 1460);
    f.data(1000, 8232);  // GSO: payload far above the MSS
    f.data(9192, 600);
    f.ack(1000, {{9192, 9752}});
    f.data(1000, 8232);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 8232)));
}

TEST(Pmtu, ResendsAfterPacketTooBigAreHonouredPmtud)
{
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 1500);
    const auto icmp = f.too_big(1000, 1400);
    const PmtuFinding* p = f.finding(icmp);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->ptb_here);
    EXPECT_EQ(p->next_hop_mtu, 1400u);
    EXPECT_EQ(p->original_in, 3u);
    const auto resend = f.data(1000, 1400);
    EXPECT_EQ(f.verdict_at(resend), PmtuVerdict::ptb_honoured);
    f.data(1000, 1500);  // stale copies in flight do not make a black hole
    f.data(1000, 1500);
    EXPECT_FALSE(f.blackhole_at(f.data(1000, 1500)));
}

TEST(Pmtu, SenderIgnoringPacketTooBig)
{
    Flow f;
    f.data(1000, 1500);
    f.too_big(1000, 1400);
    const auto after_one = f.data(1000, 1500);
    EXPECT_NE(f.verdict_at(after_one), PmtuVerdict::ptb_ignored);
    f.too_big(1000, 1400);
    const auto after_two = f.data(1000, 1500);
    EXPECT_EQ(f.verdict_at(after_two), PmtuVerdict::ptb_ignored);
    EXPECT_TRUE(f.finding(after_two)->ptb_ignored_here);
}

TEST(Pmtu, SenderRecoversWithSmallerSegments)
{
    Flow f;
    const auto first = f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}});
    f.data(1000, 1500);
    f.data(1000, 1500);
    f.wait(3000 * ms);
    f.data(1000, 1064);  // Linux MTU probing: 1024-byte payload
    const auto acked = f.ack(2024, {{2460, 3020}});
    const PmtuFinding* r = f.finding(acked);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->verdict, PmtuVerdict::recovered);
    EXPECT_TRUE(r->recovered_here);
    EXPECT_EQ(r->recovered_size, 1064u);
    EXPECT_EQ(r->original_in, first);
    EXPECT_GT(r->recovery_ns, 3000 * ms);
    // Recovery is reported once.
    f.data(2024, 476);
    const auto later = f.ack(3020);
    EXPECT_FALSE(f.finding(later) && f.finding(later)->recovered_here);
}

TEST(Pmtu, WindowsStyleShrinkBeforeVerdictStillRecovers)
{
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}});
    f.data(1000, 1500);
    f.data(1000, 576, /*df=*/false);  // DF cleared, 536-byte payload
    const auto acked = f.ack(1536, {{2460, 3020}});
    EXPECT_EQ(f.verdict_at(acked), PmtuVerdict::recovered);
}

TEST(Pmtu, FullSizeAckAfterVerdictMakesItInconclusive)
{
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 600);
    f.ack(1000, {{2460, 3020}});
    f.data(1000, 1500);
    f.data(1000, 1500);
    const auto late = f.ack(3020);
    EXPECT_EQ(f.verdict_at(late), PmtuVerdict::inconclusive);
}

TEST(Pmtu, ReceiverSideHoleIsInconclusive)
{
    // Seen at the receiver: only the tail arrives, the SACK shows a hole.
    Flow f;
    f.data(1000 + 7240, 1004);
    const auto sack = f.ack(1000, {{8240, 9204}});
    const PmtuFinding* p = f.finding(sack);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->verdict, PmtuVerdict::inconclusive);
    EXPECT_EQ(p->missing_bytes, 7240u);
}

TEST(Pmtu, TrackedSegmentsAreBounded)
{
    Flow f;
    PmtuSettings s;
    s.max_tracked = 8;
    f.analysis.set_pmtu_settings(s);
    std::vector<std::uint32_t> frames;
    for (std::uint32_t i = 0; i < 10000; ++i)
        frames.push_back(f.data(1000 + i * 1460, 1500));
    // Nothing acknowledged: 8 tracked, the ninth says the limit was reached, once.
    EXPECT_EQ(f.analysis.connection_count(), 1u);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const PmtuFinding* p = f.finding(frames[i]);
        EXPECT_EQ(p != nullptr && p->tracking_limit, i == 8) << i;
    }
}

// One connection's two directions fed straight to the detector: `data`
// sends from `snd` (DF set, `ip_len` bytes of IP packet), `ack` answers from
// the peer, `too_big` is an ICMP too-big for `snd`'s data.
struct Directions {
    PmtuSettings settings;
    PmtuDetector det{settings};
    PmtuDirection snd, rcv;
    std::map<std::uint32_t, PmtuFinding> found;
    std::uint32_t frame = 0;

    std::uint32_t data(std::uint32_t seq, std::uint32_t ip_len = 1500)
    {
        Segment s;
        s.tcp.flags = kAck;
        s.tcp.seq = seq;
        s.tcp.window = 500;
        s.payload = ip_len - 40;
        s.ip.packet_length = ip_len;
        s.ip.dont_fragment = true;
        s.frame = ++frame;
        det.on_segment(snd, rcv, s, sink());
        return s.frame;
    }

    void ack(std::uint32_t next, const std::vector<SackBlock>& sacks = {})
    {
        Segment s;
        s.tcp.flags = kAck;
        s.tcp.ack = next;
        s.tcp.window = 500;
        for (const auto& b : sacks)
            s.tcp.sack[s.tcp.sack_count++] = b;
        s.frame = ++frame;
        det.on_segment(rcv, snd, s, sink());
    }

    void too_big(const PacketTooBig& ptb) { det.on_packet_too_big(snd, ptb, ++frame, sink()); }

private:
    struct Sink {
        std::map<std::uint32_t, PmtuFinding>* found;
        PmtuFinding& operator()(std::uint32_t f) const { return (*found)[f]; }
    };
    Sink sink() { return Sink{&found}; }
};

// What only black holes, shrunk resends and ICMP too-big messages need is
// kept apart and made on the first such event: a direction whose data is
// simply sent and acknowledged never allocates it, and one told the path
// MTU keeps it (and reports it) from then on.
TEST(Pmtu, RareStateIsMadeOnlyWhenNeeded)
{
    Directions d;
    for (std::uint32_t i = 0; i < 100; ++i) {
        d.data(1000 + i * 1460);
        d.ack(1000 + (i + 1) * 1460);
    }
    EXPECT_EQ(d.snd.rare_state, nullptr);
    EXPECT_EQ(d.rcv.rare_state, nullptr);
    EXPECT_EQ(d.snd.mtu_upper(), 0u);

    PacketTooBig ptb;
    ptb.mtu = 1400;
    ptb.seq = 1000 + 100 * 1460;
    d.too_big(ptb);
    ASSERT_NE(d.snd.rare_state, nullptr);
    EXPECT_EQ(d.snd.mtu_upper(), 1400u);
    const std::uint32_t smaller = d.data(1000 + 100 * 1460, 1400);
    EXPECT_EQ(d.found[smaller].verdict, PmtuVerdict::ptb_honoured);
    EXPECT_EQ(d.found[smaller].next_hop_mtu, 1400u);
    EXPECT_EQ(d.rcv.rare_state, nullptr);
}

// A bulk transfer with the tracking limit in flight the whole time: each
// cumulative ACK drops the oldest segments without moving the others, the
// storage stays within twice the limit, and resends and SACKs still find
// the segments in flight.
TEST(Pmtu, CumulativeAcksDropOnlyTheOldestSegments)
{
    Directions d;
    PmtuDirection& snd = d.snd;
    constexpr std::uint32_t kIsn = 0xfffff000u;  // the transfer wraps the sequence space
    auto seq_of = [](std::uint32_t i) { return kIsn + i * 1460u; };
    auto data = [&](std::uint32_t i) { d.data(seq_of(i)); };
    auto ack = [&](std::uint32_t next, std::vector<SackBlock> sacks = {}) { d.ack(seq_of(next), sacks); };

    const std::size_t limit = d.settings.max_tracked;
    std::uint32_t sent = 0;
    for (; sent < limit; ++sent)
        data(sent);
    for (std::uint32_t acked = 2; acked <= 2000; acked += 2) {
        ack(acked);
        ASSERT_EQ(snd.in_flight_count(), limit - 2);
        ASSERT_EQ(snd.in_flight()[0].seq, seq_of(acked));
        data(sent++);
        data(sent++);
        ASSERT_EQ(snd.in_flight_count(), limit);
        ASSERT_LE(snd.outstanding.size(), 2 * limit + 1);
    }
    EXPECT_EQ(snd.max_acked, 1500u);

    // A resend of the oldest segment in flight is found as such.
    const std::uint32_t oldest = 2000;
    data(oldest);
    EXPECT_EQ(snd.in_flight()[0].transmissions, 2u);
    EXPECT_EQ(snd.in_flight_count(), limit);

    // SACK for the third and fourth segment in flight: they leave, the two
    // before them are known to be missing while the peer is alive.
    ack(oldest, {{seq_of(oldest + 2), seq_of(oldest + 4)}});
    EXPECT_EQ(snd.acked_front, 0u);
    ASSERT_EQ(snd.in_flight_count(), limit - 2);
    EXPECT_EQ(snd.in_flight()[0].seq, seq_of(oldest));
    EXPECT_TRUE(snd.in_flight()[0].peer_alive);
    EXPECT_TRUE(snd.in_flight()[1].peer_alive);
    EXPECT_EQ(snd.in_flight()[2].seq, seq_of(oldest + 4));

    // Everything acknowledged: nothing left in flight.
    ack(sent);
    EXPECT_EQ(snd.in_flight_count(), 0u);
    EXPECT_TRUE(snd.outstanding.empty());
    for (const auto& [n, f] : d.found)
        EXPECT_FALSE(f.blackhole) << n;
}

TEST(Net, ParsesIpv4TcpWithSack)
{
    const std::uint8_t ip[] = {0x45, 0, 0x05, 0xdc, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 10, 198, 51, 100, 10};
    IpHeader h;
    ASSERT_TRUE(parse_ip(Bytes{ip, sizeof ip}, h));
    EXPECT_EQ(h.packet_length, 1500u);
    EXPECT_TRUE(h.dont_fragment);
    EXPECT_FALSE(h.fragment);
    EXPECT_EQ(h.protocol, 6);
    const std::uint8_t tcp[] = {0x9c, 0x40, 0, 25, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 0x80, 0x10, 0x01, 0xf4,
                                0, 0, 0, 0, 1, 1, 5, 10, 0, 0, 0x0b, 0xb8, 0, 0, 0x0f, 0xa0, 0, 0, 0, 0};
    TcpHeader t;
    ASSERT_TRUE(parse_tcp(Bytes{tcp, sizeof tcp}, t));
    EXPECT_EQ(t.src_port, 40000);
    EXPECT_EQ(t.seq, 1000u);
    EXPECT_EQ(t.header_length, 32u);
    ASSERT_EQ(t.sack_count, 1);
    EXPECT_EQ(t.sack[0].left, 3000u);
    EXPECT_EQ(t.sack[0].right, 4000u);
}

TEST(Net, RejectsTruncatedHeaders)
{
    const std::uint8_t ip[] = {0x45, 0, 0x05};
    IpHeader h;
    EXPECT_FALSE(parse_ip(Bytes{ip, sizeof ip}, h));
    EXPECT_FALSE(parse_ip(Bytes{}, h));
    TcpHeader t;
    EXPECT_FALSE(parse_tcp(Bytes{ip, sizeof ip}, t));
    // Options that claim more than is there stop the option walk, not the parse.
    const std::uint8_t tcp[] = {0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x10, 0, 0, 0, 0, 0, 0, 5, 40, 0, 0};
    ASSERT_TRUE(parse_tcp(Bytes{tcp, sizeof tcp}, t));
    EXPECT_EQ(t.sack_count, 0);
}

TEST(Net, ParsesFragmentationNeededWithQuotedTcp)
{
    const std::uint8_t icmp[] = {3, 4, 0, 0, 0, 0, 0x05, 0x78,
                                 0x45, 0, 0x05, 0xdc, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 10, 198, 51, 100, 10,
                                 0x9c, 0x40, 0, 25, 0, 0, 0x03, 0xe8};
    PacketTooBig p;
    ASSERT_TRUE(parse_packet_too_big(Bytes{icmp, sizeof icmp}, 4, p));
    EXPECT_EQ(p.mtu, 1400u);
    EXPECT_EQ(p.seq, 1000u);
    EXPECT_EQ(p.src_port, 40000);
    EXPECT_EQ(p.quoted_length, 1500u);
    // Echo reply, or a too-big quoting only 4 bytes of TCP, is not one.
    const std::uint8_t echo[] = {0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_FALSE(parse_packet_too_big(Bytes{echo, sizeof echo}, 4, p));
    EXPECT_FALSE(parse_packet_too_big(Bytes{icmp, sizeof icmp - 4}, 4, p));
}

TEST(Net, SequenceArithmeticWraps)
{
    EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
    EXPECT_FALSE(seq_lt(0x10u, 0xfffffff0u));
    EXPECT_TRUE(seq_le(5u, 5u));
}

}  // namespace

namespace {

// Found by fuzzing: the verdict reached on a resend beyond the frames kept
// per segment must still mark that frame.
TEST(Pmtu, VerdictFrameMarkedAfterManyResends)
{
    Flow f;
    f.data(1000, 1500);
    f.data(2460, 600);
    for (int i = 0; i < 9; ++i)
        f.data(1000, 1500);
    f.ack(1000, {{2460, 3020}});
    const auto verdict = f.data(1000, 1500);
    const PmtuFinding* v = f.finding(verdict);
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(v->verdict_here);
    EXPECT_TRUE(v->blackhole);
    EXPECT_EQ(v->verdict, PmtuVerdict::blackhole);
    EXPECT_EQ(v->packet_size, 1500u);
    EXPECT_EQ(v->retransmissions, 10u);
}

TEST(Session, ZeroPendingLimitIsClamped)
{
    SessionLimits limits;
    limits.max_pending_commands = 0;
    SmtpSession s(limits);
    s.on_client_data("EHLO x\r\nNOOP\r\n", 1, 0);
    EXPECT_EQ(s.pending(), 1u);
}

}  // namespace

// Flow keys order endpoints by their address bytes; the word-wise compare
// must agree with memcmp on every byte position, and equality must see the
// family as well as the bytes.
TEST(IpAddressCompare, AgreesWithMemcmpAndFamily)
{
    std::uint32_t state = 12345;
    const auto next = [&state] {
        state = state * 1103515245u + 12345u;
        return static_cast<std::uint8_t>(state >> 16);
    };
    const auto sign = [](int v) { return (v > 0) - (v < 0); };
    for (int round = 0; round < 20000; ++round) {
        IpAddress a, b;
        a.family = b.family = 6;
        for (auto& x : a.bytes)
            x = next();
        b.bytes = a.bytes;
        // Differ in one byte (or none), at every position in turn.
        const int pos = round % 17;
        if (pos < 16)
            b.bytes[static_cast<std::size_t>(pos)] = next();
        const int expected = sign(std::memcmp(a.bytes.data(), b.bytes.data(), 16));
        EXPECT_EQ(sign(compare_bytes(a, b)), expected) << "position " << pos;
        EXPECT_EQ(sign(compare_bytes(b, a)), -expected);
        EXPECT_EQ(a == b, expected == 0);
    }
    IpAddress v4, v6;
    v4.family = 4;
    v6.family = 6;
    EXPECT_EQ(compare_bytes(v4, v6), 0);
    EXPECT_FALSE(v4 == v6);
}
