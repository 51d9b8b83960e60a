// The data path from captured packet bytes to the SMTP session: IP/TCP
// headers read from raw bytes, SMTP bytes delivered once and in stream
// order, who is the client, TLS.
#include "smtp_delivery/analysis.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smtp_delivery;

namespace {

using Packet = std::vector<std::uint8_t>;

void put16(Packet& p, std::size_t off, unsigned v)
{
    p[off] = static_cast<std::uint8_t>(v >> 8);
    p[off + 1] = static_cast<std::uint8_t>(v);
}

void put32(Packet& p, std::size_t off, std::uint32_t v)
{
    put16(p, off, v >> 16);
    put16(p, off + 2, v & 0xffffu);
}

Packet tcp_header(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint16_t flags)
{
    Packet t(20, 0);
    put16(t, 0, sport);
    put16(t, 2, dport);
    put32(t, 4, seq);
    t[12] = 0x50;
    t[13] = static_cast<std::uint8_t>(flags);
    put16(t, 14, 65535);
    return t;
}

// An IPv4 packet (DF set) carrying a TCP segment, plus `padding` bytes of
// link-layer padding after it.
Packet ipv4_tcp(std::uint32_t seq, std::string_view payload, std::uint16_t flags = kAck | kPsh,
                std::size_t padding = 0, std::uint16_t frag = 0x4000)
{
    Packet p = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 10, 198, 51, 100, 10};
    put16(p, 6, frag);
    const Packet t = tcp_header(40000, 25, seq, flags);
    p.insert(p.end(), t.begin(), t.end());
    p.insert(p.end(), payload.begin(), payload.end());
    put16(p, 2, static_cast<unsigned>(p.size()));
    p.resize(p.size() + padding, 0);
    return p;
}

Bytes bytes(const Packet& p) { return Bytes{p.data(), p.size()}; }

TEST(ReadSegment, Ipv4PayloadStopsAtTheIpLength)
{
    const Packet p = ipv4_tcp(1000, "EHLO a\r\n", kAck | kPsh, 6);
    Segment seg;
    Bytes payload;
    ASSERT_TRUE(read_tcp_segment(bytes(p), seg, payload));
    EXPECT_EQ(seg.payload, 8u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload.data), payload.size), "EHLO a\r\n");
    EXPECT_EQ(seg.tcp.seq, 1000u);
    EXPECT_TRUE(seg.ip.dont_fragment);
}

TEST(ReadSegment, CapturedShortOfThePayload)
{
    Packet p = ipv4_tcp(1, std::string(100, 'x'));
    p.resize(p.size() - 60);  // snap length
    Segment seg;
    Bytes payload;
    ASSERT_TRUE(read_tcp_segment(bytes(p), seg, payload));
    EXPECT_EQ(seg.payload, 100u);
    EXPECT_EQ(payload.size, 40u);
}

TEST(ReadSegment, ZeroTotalLengthMeansOffload)
{
    Packet p = ipv4_tcp(1, std::string(3000, 'x'));
    put16(p, 2, 0);
    Segment seg;
    Bytes payload;
    ASSERT_TRUE(read_tcp_segment(bytes(p), seg, payload));
    EXPECT_EQ(seg.payload, 3000u);
    EXPECT_EQ(seg.ip.packet_length, 3040u);
}

TEST(ReadSegment, FragmentsAndNonTcpAreRejected)
{
    Segment seg;
    Bytes payload;
    EXPECT_FALSE(read_tcp_segment(bytes(ipv4_tcp(1, "x", kAck, 0, 0x2000)), seg, payload));  // MF
    EXPECT_FALSE(read_tcp_segment(bytes(ipv4_tcp(1, "x", kAck, 0, 0x0010)), seg, payload));  // offset
    Packet udp = ipv4_tcp(1, "x");
    udp[9] = 17;
    EXPECT_FALSE(read_tcp_segment(bytes(udp), seg, payload));
    Packet cut = ipv4_tcp(1, "");
    cut.resize(30);
    EXPECT_FALSE(read_tcp_segment(bytes(cut), seg, payload));
}

Packet ipv6_with(std::initializer_list<std::uint8_t> extensions, std::uint8_t first_next, std::string_view payload)
{
    Packet p(40, 0);
    p[0] = 0x60;
    p[6] = first_next;
    p[7] = 64;
    p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 0x10;
    p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[28] = 0x00, p[29] = 0x02, p[39] = 0x10;
    for (const std::uint8_t b : extensions)
        p.push_back(b);
    const Packet t = tcp_header(40000, 25, 7, kAck | kPsh);
    p.insert(p.end(), t.begin(), t.end());
    p.insert(p.end(), payload.begin(), payload.end());
    put16(p, 4, static_cast<unsigned>(p.size() - 40));
    return p;
}

TEST(ReadSegment, Ipv6ExtensionHeadersAreSkipped)
{
    // Hop-by-hop (8 bytes) then destination options (16 bytes) then TCP.
    const Packet p = ipv6_with({60, 0, 1, 4, 0, 0, 0, 0,  //
                                6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                               0, "250 ok\r\n");
    Segment seg;
    Bytes payload;
    ASSERT_TRUE(read_tcp_segment(bytes(p), seg, payload));
    EXPECT_EQ(seg.ip.header_length, 64u);
    EXPECT_EQ(seg.ip.protocol, 6);
    EXPECT_EQ(seg.tcp.seq, 7u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload.data), payload.size), "250 ok\r\n");
    EXPECT_EQ(seg.payload, 8u);
}

TEST(ReadSegment, Ipv6FragmentHeader)
{
    Segment seg;
    Bytes payload;
    // An atomic fragment (offset 0, no more fragments) is a whole packet.
    EXPECT_TRUE(read_tcp_segment(bytes(ipv6_with({6, 0, 0, 0, 0, 0, 0, 1}, 44, "x")), seg, payload));
    EXPECT_FALSE(read_tcp_segment(bytes(ipv6_with({6, 0, 0, 1, 0, 0, 0, 1}, 44, "x")), seg, payload));
    // A chain cut short is not read as TCP.
    Packet cut = ipv6_with({6, 0, 0, 0, 0, 0, 0, 1}, 44, "x");
    cut.resize(44);
    EXPECT_FALSE(read_tcp_segment(bytes(cut), seg, payload));
}

// Segments of one SMTP connection, fed as the plugin feeds them.
struct Flow {
    Analysis analysis;
    std::uint32_t frame = 0;
    std::uint32_t client_seq = 1000, server_seq = 5000;

    ConnectionRef send(bool from_client, std::string_view data, std::uint32_t seq, std::uint16_t flags = kAck | kPsh,
                       SmtpHint hint = {true, false, 0}, std::uint16_t client_port = 40000)
    {
        Segment s;
        s.ip.src.family = s.ip.dst.family = 4;
        s.ip.src.bytes[0] = from_client ? 192 : 198;
        s.ip.dst.bytes[0] = from_client ? 198 : 192;
        s.ip.packet_length = 40 + static_cast<std::uint32_t>(data.size());
        s.tcp.src_port = from_client ? client_port : 25;
        s.tcp.dst_port = from_client ? 25 : client_port;
        s.tcp.seq = seq;
        s.tcp.flags = flags;
        s.payload = static_cast<std::uint32_t>(data.size());
        s.frame = ++frame;
        s.t_ns = frame * 1000000LL;
        return analysis.on_tcp_segment(s, true, data, hint);
    }
    ConnectionRef client(std::string_view d, SmtpHint hint = {true, false, 0})
    {
        const ConnectionRef r = send(true, d, client_seq, kAck | kPsh, hint);
        client_seq += static_cast<std::uint32_t>(d.size());
        return r;
    }
    ConnectionRef server(std::string_view d, SmtpHint hint = {true, false, 0})
    {
        const ConnectionRef r = send(false, d, server_seq, kAck | kPsh, hint);
        server_seq += static_cast<std::uint32_t>(d.size());
        return r;
    }
    // "verb@request frame" of every reply, in order.
    std::vector<std::string> answered() const
    {
        std::vector<std::string> out;
        for (const ReplyRecord* r : replies())
            out.push_back(std::string(r->command.view()) + "@" + std::to_string(r->request_in));
        return out;
    }
    std::vector<const ReplyRecord*> replies() const
    {
        std::vector<const ReplyRecord*> out;
        for (std::uint32_t f = 1; f <= frame; ++f)
            if (const FrameFindings* ff = analysis.find_frame(f))
                for (const ReplyRecord& r : ff->replies)
                    out.push_back(&r);
        return out;
    }
};

TEST(Stream, RetransmittedBytesReachTheSessionOnce)
{
    Flow f;
    f.server("220 mx ESMTP\r\n");
    f.send(false, "220 mx ESMTP\r\n", 5000);  // the same segment again
    f.client("EHLO a\r\n");
    f.server("250 mx\r\n");
    EXPECT_EQ(f.answered(), (std::vector<std::string>{"greeting@0", "EHLO@3"}));
}

TEST(Stream, OverlappingResendDeliversOnlyTheNewTail)
{
    Flow f;
    f.server("220 mx\r\n");
    f.client("MAIL FROM:<a@example.org>\r\n");
    // The resend repacketises the old command with a new one behind it.
    const std::uint32_t old_seq = f.client_seq - 27;
    f.send(true, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n", old_seq);
    f.client_seq = old_seq + 53;
    f.server("250 ok\r\n250 ok\r\n");
    EXPECT_EQ(f.answered(), (std::vector<std::string>{"greeting@0", "MAIL@2", "RCPT@3"}));
}

TEST(Stream, HoleDropsTheLineItCut)
{
    Flow f;
    f.server("220 mx\r\n");
    f.client("NOOP\r\n");
    f.server("250 a very long");  // start of a line ...
    f.server_seq += 20;            // ... whose next bytes were never captured
    f.server(" tail\r\n250 next\r\n");
    // Without the hole the cut line would be read as "250 a very long tail".
    // With it, " tail" stands alone: a line without a code, shown as
    // malformed, and "250 next" is intact.
    const auto r = f.replies();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[1]->code, 0u);
    EXPECT_EQ(r[1]->command.view(), "NOOP");
    EXPECT_EQ(r[2]->code, 250u);
    const FrameFindings* last = f.analysis.find_frame(f.frame);
    ASSERT_NE(last, nullptr);
    ASSERT_EQ(last->lines.size(), 1u);  // the malformed line; "250 next" is a clean one-liner
    EXPECT_NE(last->lines[0].problems & kNoCode, 0);
}

TEST(Stream, SessionReleasedWhenTheConnectionCloses)
{
    Flow f;
    f.server("220 mx\r\n");
    f.client("QUIT\r\n");
    f.send(false, "221 bye\r\n", f.server_seq, kAck | kPsh | kFin);
    f.server_seq += 9 + 1;
    ConnectionRef ref = f.send(true, "", f.client_seq, kAck | kFin);
    EXPECT_EQ(ref.conn->session(), nullptr);
    EXPECT_TRUE(ref.conn->smtp_closed);
    ASSERT_EQ(f.replies().size(), 2u);
    EXPECT_EQ(f.replies()[1]->command.view(), "QUIT");
    // A late resend of the server's last data opens nothing again.
    ref = f.send(false, "221 bye\r\n", f.server_seq - 10, kAck | kPsh | kFin);
    EXPECT_EQ(ref.conn->session(), nullptr);
    EXPECT_EQ(f.replies().size(), 2u);
}

TEST(Stream, ConnectionLookupsAcrossInterleavedFlowsAndClear)
{
    Flow f;
    const ConnectionRef a1 = f.server("220 a\r\n");
    const ConnectionRef a2 = f.client("NOOP\r\n");  // same connection, other direction
    EXPECT_EQ(a1.conn, a2.conn);
    EXPECT_NE(a1.forward, a2.forward);
    const ConnectionRef b = f.send(true, "", 1, kAck, {}, 41000);  // another client port
    EXPECT_NE(b.conn, a1.conn);
    EXPECT_EQ(f.server("250 ok\r\n").conn, a1.conn);
    EXPECT_EQ(f.analysis.connection_count(), 2u);
    // A new SYN on the same port pair after both sides spoke: a new connection.
    const ConnectionRef again = f.send(true, "", 77, kSyn, {});
    EXPECT_EQ(again.conn, a1.conn);
    EXPECT_EQ(again.conn->session(), nullptr);
    f.analysis.clear();
    EXPECT_EQ(f.analysis.connection_count(), 0u);
    f.server("220 again\r\n");
    EXPECT_EQ(f.analysis.connection_count(), 1u);
}

TEST(Stream, ClientFromTheSyn)
{
    Flow f;
    // SYN from the client, SYN-ACK; no hint about ports; the server speaks first.
    f.send(true, "", f.client_seq - 1, kSyn, {});
    f.send(false, "", f.server_seq - 1, kSyn | kAck, {});
    const ConnectionRef ref = f.server("220 mx\r\n");
    ASSERT_NE(ref.conn->session(), nullptr);
    EXPECT_EQ(ref.conn->smtp->client_is_a, ref.forward == false);
    ASSERT_EQ(f.replies().size(), 1u);
}

TEST(Stream, ClientFromTheSmtpPortWithoutSyn)
{
    Flow f;
    // Client data first (capture started mid-session); the hint names port 25.
    const ConnectionRef ref = f.client("NOOP\r\n", {true, false, 25});
    f.server("250 ok\r\n");
    EXPECT_EQ(ref.conn->smtp->client_is_a, ref.forward);
    const auto r = f.replies();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]->command.view(), "NOOP");
}

TEST(Stream, ClientFromTheFirstDataWithoutAnyHint)
{
    Flow f;
    const ConnectionRef ref = f.server("220 mx\r\n", {true, false, 0});
    EXPECT_EQ(ref.conn->smtp->client_is_a, !ref.forward);
    Flow g;
    const ConnectionRef ref2 = g.client("EHLO a\r\n", {true, false, 0});
    EXPECT_EQ(ref2.conn->smtp->client_is_a, ref2.forward);
}

TEST(Stream, NothingReadBeforeSmtpIsSeen)
{
    Flow f;
    f.server("220 mx\r\n", {});  // the dissection did not call it SMTP
    EXPECT_TRUE(f.replies().empty());
    EXPECT_EQ(f.analysis.connection_count(), 1u);
}

TEST(Stream, StarttlsStopsRawReadingAndDecryptedDataContinues)
{
    Flow f;
    f.server("220 mx\r\n");
    f.client("STARTTLS\r\n");
    const ConnectionRef ref = f.server("220 go ahead\r\n");
    f.client("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");  // ClientHello: never a command
    ASSERT_TRUE(ref.conn->session()->tls_started());
    EXPECT_EQ(f.replies().size(), 2u);

    Segment seg;
    seg.frame = ++f.frame;
    // A TLS 1.3 Finished message and a NewSessionTicket: TLS's own records.
    const std::string finished("\x14\x00\x00\x04" "abcd", 8);
    const std::string ticket("\x04\x00\x00\x02" "xy", 6);
    f.analysis.add_decrypted(ref, seg, finished + ticket);
    f.analysis.add_decrypted(ref, seg, std::string("\x01\x00", 2));  // alert
    f.analysis.add_decrypted(ref, seg, "250-mx\r\n250 STARTTLS\r\n");
    const auto r = f.replies();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[2]->code, 250u);
    EXPECT_EQ(r[2]->line_count, 2u);
}

TEST(Stream, ControlRecordsAreTellableFromText)
{
    EXPECT_TRUE(is_tls_control_record(std::string("\x02\x28", 2)));
    EXPECT_TRUE(is_tls_control_record(std::string("\x08\x00\x00\x02\x00\x00\x0b\x00\x00\x00", 10)));
    EXPECT_FALSE(is_tls_control_record("\r\n"));
    EXPECT_FALSE(is_tls_control_record("\r\n.\r\n"));
    EXPECT_FALSE(is_tls_control_record("250 ok\r\n"));
    EXPECT_FALSE(is_tls_control_record(std::string("\x14\x00\x00\x09" "abcd", 8)));  // length overruns
    EXPECT_FALSE(is_tls_control_record(""));
}

TEST(Stream, SmtpsFromTheStartReadsOnlyDecryptedData)
{
    Flow f;
    const ConnectionRef ref = f.server("\x17\x03\x03\x00\x20garbage", {true, true, 25});
    ASSERT_NE(ref.conn->session(), nullptr);
    EXPECT_TRUE(ref.conn->session()->tls_started());
    EXPECT_TRUE(f.replies().empty());
    Segment seg;
    seg.frame = ++f.frame;
    f.analysis.add_decrypted(ref, seg, "220 mx ESMTP\r\n");
    ASSERT_EQ(f.replies().size(), 1u);
    EXPECT_EQ(f.replies()[0]->command.view(), "greeting");
}

}  // namespace

namespace {

// The end-of-data line found byte by byte: the reference for the session's
// dot-to-dot scan. Returns the offset just past the end-of-data line, or npos.
std::size_t reference_end_of_data(std::string_view body)
{
    bool line_start = true;
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (line_start && body[i] == '.') {
            if (i + 1 < body.size() && body[i + 1] == '\n')
                return i + 2;
            if (i + 2 < body.size() && body[i + 1] == '\r' && body[i + 2] == '\n')
                return i + 3;
        }
        line_start = body[i] == '\n';
    }
    return std::string_view::npos;
}

TEST(Body, EndOfDataFoundWhereverTheSegmentsAreCut)
{
    const std::vector<std::string> bodies = {
        "Subject: a\r\n\r\nHello. World.\r\n..stuffed\r\n.\r\n",
        "x.y.z\r\n.\r\n",
        "line\n.\n",                      // bare line feeds
        ".\r\n",                          // empty body
        "a\r\n.x\r\n. \r\n.\r\n",         // dots that do not end it
        "QUJDRA==\r\nRUZHSA==\r\n.\r\n",  // base64: no dots before the end
        "\r\n\r\n.\r\n",
    };
    std::uint32_t seed = 12345;
    for (const std::string& body : bodies) {
        const std::size_t expected = reference_end_of_data(body);
        ASSERT_NE(expected, std::string_view::npos) << body;
        for (int trial = 0; trial < 200; ++trial) {
            SmtpSession s;
            LineRecord line;
            ReplyRecord reply;
            s.on_reply_line("220 hi\r\n", 1, 0, line, reply);
            s.on_client_data("DATA\r\n", 2, 0);
            s.on_reply_line("354 go\r\n", 3, 0, line, reply);
            ASSERT_TRUE(s.in_data());
            // Random cuts, then a command after the body in the last piece.
            const std::string stream = body + "QUIT\r\n";
            std::size_t at = 0;
            while (at < stream.size()) {
                seed = seed * 1103515245u + 12345u;
                const std::size_t len = 1 + (seed >> 16) % 7;
                s.on_client_data(std::string_view(stream).substr(at, len), 4, 0);
                at += len;
            }
            EXPECT_FALSE(s.in_data()) << body;
            // end-of-data, then QUIT, await replies: the body never leaked
            // into commands.
            EXPECT_EQ(s.pending(), 2u) << body;
        }
    }
}

}  // namespace

// The connection table keeps every record where it was put while it grows,
// finds each key (v4 and v6, keys that differ in one byte or one port) and
// nothing else, and starts empty after clear().
TEST(ConnectionTable, GrowsWithoutMovingRecords)
{
    const auto key = [](std::uint32_t n, std::uint8_t family) {
        FlowKey k;
        k.a.family = k.b.family = family;
        k.a.bytes[0] = family == 4 ? 192 : 0x20;
        k.a.bytes[3] = static_cast<std::uint8_t>(n >> 8);
        k.b.bytes[3] = static_cast<std::uint8_t>(n);
        k.port_a = static_cast<std::uint16_t>(1024 + n % 7);
        k.port_b = 25;
        return k;
    };
    ConnectionTable table;
    EXPECT_EQ(table.find(key(0, 4)), nullptr);
    std::vector<ConnectionTable::Entry*> added;
    for (std::uint32_t n = 0; n < 20000; ++n)
        for (const std::uint8_t family : {std::uint8_t{4}, std::uint8_t{6}}) {
            ASSERT_EQ(table.find(key(n, family)), nullptr);
            added.push_back(table.find_or_add(key(n, family)));
            added.back()->second.opener = family;
            ASSERT_EQ(table.find_or_add(key(n, family)), added.back());  // found, not added again
        }
    EXPECT_EQ(table.size(), 40000u);
    std::size_t i = 0;
    for (std::uint32_t n = 0; n < 20000; ++n)
        for (const std::uint8_t family : {std::uint8_t{4}, std::uint8_t{6}}) {
            ConnectionTable::Entry* e = table.find(key(n, family));
            ASSERT_EQ(e, added[i++]);
            EXPECT_EQ(e->first, key(n, family));
            EXPECT_EQ(e->second.opener, family);
        }
    FlowKey other = key(5, 4);
    other.port_b = 26;
    EXPECT_EQ(table.find(other), nullptr);
    table.clear();
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.find(key(5, 4)), nullptr);
    EXPECT_NE(table.find_or_add(key(5, 4)), nullptr);
    EXPECT_EQ(table.size(), 1u);
}

// Findings by frame: frames without findings read as none, records keep
// their address while more frames get theirs, clear() forgets them all.
TEST(FrameStore, FindsByFrameAndKeepsAddresses)
{
    FrameStore store;
    EXPECT_EQ(store.find(0), nullptr);
    EXPECT_EQ(store.find(1), nullptr);
    std::vector<const FrameFindings*> seen;
    for (std::uint32_t frame = 3; frame < 30000; frame += 3) {
        FrameFindings& f = store.get(frame);
        f.lines_dropped = frame;
        seen.push_back(&f);
    }
    EXPECT_EQ(store.size(), seen.size());
    EXPECT_EQ(&store.get(3), seen.front());  // a second get returns the same record
    EXPECT_EQ(store.size(), seen.size());
    for (std::uint32_t frame = 1; frame < 30010; ++frame) {
        const FrameFindings* f = store.find(frame);
        if (frame % 3 == 0 && frame < 30000) {
            ASSERT_NE(f, nullptr) << frame;
            EXPECT_EQ(f, seen[frame / 3 - 1]);
            EXPECT_EQ(f->lines_dropped, frame);
        } else {
            EXPECT_EQ(f, nullptr) << frame;
        }
    }
    EXPECT_EQ(store.find(4000000000u), nullptr);
    store.clear();
    EXPECT_EQ(store.size(), 0u);
    EXPECT_EQ(store.find(3), nullptr);
    EXPECT_EQ(store.get(5).lines_dropped, 0u);  // a new, empty record
}

// A frame's replies, lines and summaries are runs in stores shared by all
// frames: frames read in order keep theirs side by side; a caller that goes
// back to an earlier frame still finds all of that frame's records, in order,
// and the other frames' records unchanged.
TEST(FrameStore, RecordsOfAFrameStayTogether)
{
    FrameStore store;
    const auto reply = [](std::uint16_t code) {
        ReplyRecord r;
        r.code = code;
        return r;
    };
    FrameFindings& a = store.get(10);
    store.add_reply(a, reply(220));
    store.add_reply(a, reply(250));
    FrameFindings& b = store.get(11);
    store.add_reply(b, reply(354));
    store.add_reply(a, reply(421));  // back to frame 10 after frame 11
    store.add_reply(b, reply(550));
    store.add_reply(a, reply(221));

    const auto codes = [](const RecordRange<ReplyRecord>& r) {
        std::vector<unsigned> out;
        for (const ReplyRecord& x : r)
            out.push_back(x.code);
        return out;
    };
    EXPECT_EQ(codes(store.find(10)->replies), (std::vector<unsigned>{220, 250, 421, 221}));
    EXPECT_EQ(codes(store.find(11)->replies), (std::vector<unsigned>{354, 550}));
    EXPECT_EQ(store.find(10)->replies.size(), 4u);
    EXPECT_EQ(store.find(10)->replies[1].code, 250u);
    EXPECT_EQ(store.find(10)->replies.back().code, 221u);
    EXPECT_TRUE(store.find(10)->lines.empty());
    EXPECT_TRUE(store.find(10)->transactions.empty());

    TransactionSummary t;
    t.mail_from = std::string(40, 'x');  // on the heap: must survive frame 12's records moving to the end
    store.add_transaction(store.get(12), t);
    store.add_transaction(store.get(13), TransactionSummary{});
    store.add_transaction(store.get(12), TransactionSummary{});
    ASSERT_EQ(store.find(12)->transactions.size(), 2u);
    EXPECT_EQ(store.find(12)->transactions[0].mail_from, t.mail_from);
    EXPECT_EQ(store.find(13)->transactions.size(), 1u);

    store.clear();
    EXPECT_EQ(store.find(10), nullptr);
    EXPECT_TRUE(store.get(10).replies.empty());
}
