#include "smtp_delivery/analysis.hpp"
#include "smtp_delivery/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smtp_delivery;

namespace {

constexpr std::int64_t ms = 1000000;

// Feeds a reply (one or more lines) and returns the completed record.
struct Harness {
    SmtpSession session;
    std::vector<ReplyRecord> replies;
    std::vector<LineRecord> lines;

    void reply(std::initializer_list<const char*> raw_lines, std::uint32_t frame, std::int64_t t)
    {
        for (const char* l : raw_lines) {
            LineRecord line;
            ReplyRecord r;
            if (session.on_reply_line(l, frame, t, line, r))
                replies.push_back(r);
            lines.push_back(line);
        }
    }
};

// The plugin passes a verb to Wireshark as a C string: it must stay
// NUL-terminated however long the client's verb was.
TEST(Verb, StaysNulTerminatedWhenCut)
{
    const Verb short_verb = Verb::from("rcpt");
    EXPECT_STREQ(short_verb.c_str(), "RCPT");
    const Verb long_verb = Verb::from("averyveryverylongverb");
    EXPECT_EQ(long_verb.view().size(), 11u);
    EXPECT_EQ(std::string(long_verb.c_str()), std::string(long_verb.view()));
    EXPECT_EQ(long_verb.c_str()[long_verb.view().size()], '\0');
}

TEST(Session, GreetingThenCommandsInOrder)
{
    Harness h;
    h.reply({"220 mx.example.net ESMTP\r\n"}, 1, 0);
    h.session.on_client_data("EHLO client.example.org\r\n", 3, 10 * ms);
    h.reply({"250-mx.example.net\r\n", "250-PIPELINING\r\n", "250 8BITMIME\r\n"}, 4, 12 * ms);
    ASSERT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.replies[0].command.view(), "greeting");
    EXPECT_EQ(h.replies[0].request_in, 0u);
    EXPECT_LT(h.replies[0].time_ns, 0);
    EXPECT_EQ(h.replies[1].command.view(), "EHLO");
    EXPECT_EQ(h.replies[1].request_in, 3u);
    EXPECT_EQ(h.replies[1].time_ns, 2 * ms);
    EXPECT_EQ(h.replies[1].line_count, 3u);
    EXPECT_FALSE(h.replies[1].code_mismatch);
    ASSERT_EQ(h.lines.size(), 4u);
    EXPECT_EQ(h.lines[2].index, 1u);
    EXPECT_TRUE(h.lines[2].continued);
    EXPECT_FALSE(h.lines[3].continued);
}

TEST(Session, OnlyLinesThatSaySomethingOfTheirOwnAreNotable)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("EHLO client.example.org\r\n", 2, 0);
    // A success list (EHLO capabilities): the reply's line count says it all.
    h.reply({"250-mx.example.net\r\n", "250-PIPELINING\r\n", "250 8BITMIME\r\n"}, 3, 0);
    h.session.on_client_data("MAIL FROM:<a@example.org>\r\n", 4, 0);
    // A multi-line failure: every line.
    h.reply({"421-4.7.0 Try again later\r\n", "421 4.7.0 closing\r\n"}, 5, 0);
    h.session.on_client_data("RSET\r\n", 6, 0);
    // A success list whose second line disagrees on both codes: that line only.
    h.reply({"250-2.0.0 ok\r\n", "251-2.1.5 odd\r\n", "250 2.0.0 done\r\n"}, 7, 0);
    // A malformed single line.
    h.reply({"25O bad\r\n"}, 8, 0);
    std::vector<bool> notable;
    for (const LineRecord& l : h.lines)
        notable.push_back(l.notable);
    EXPECT_EQ(notable, (std::vector<bool>{false, false, false, false, true, true, false, true, false, true}));
}

TEST(Session, PipelinedCommandsAnsweredInOrder)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("MAIL FROM:<a@example.org>\r\n", 5, 100 * ms);
    h.session.on_client_data("RCPT TO:<b@example.net>\r\n", 5, 100 * ms);
    h.session.on_client_data("RCPT TO:<c@example.net>\r\n", 5, 100 * ms);
    h.session.on_client_data("DATA\r\n", 5, 100 * ms);
    h.reply({"250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "550 5.1.1 <c@example.net>: Recipient address rejected: "
                                                     "User unknown in local recipient table\r\n",
             "354 End data with <CR><LF>.<CR><LF>\r\n"},
            6, 103 * ms);
    ASSERT_EQ(h.replies.size(), 5u);
    EXPECT_EQ(h.replies[1].command.view(), "MAIL");
    EXPECT_EQ(h.replies[2].command.view(), "RCPT");
    EXPECT_EQ(h.replies[3].command.view(), "RCPT");
    EXPECT_EQ(h.replies[3].enhanced, (EnhancedCode{5, 1, 1}));
    EXPECT_EQ(h.replies[4].command.view(), "DATA");
    for (int i = 1; i < 5; ++i) {
        EXPECT_EQ(h.replies[i].request_in, 5u);
        EXPECT_EQ(h.replies[i].time_ns, 3 * ms);
    }
    EXPECT_TRUE(h.session.in_data());
    h.session.on_client_data("Subject: hi\r\n\r\n..dot-stuffed line\r\n", 7, 150 * ms);
    EXPECT_TRUE(h.session.in_data());
    h.session.on_client_data("last line\r\n.", 8, 190 * ms);
    EXPECT_TRUE(h.session.in_data());
    h.session.on_client_data("\r\n", 9, 200 * ms);
    EXPECT_FALSE(h.session.in_data());
    h.reply({"250 2.0.0 Ok: queued as ABC\r\n"}, 10, 250 * ms);
    EXPECT_EQ(h.replies.back().command.view(), "end-of-data");
    EXPECT_EQ(h.replies.back().request_in, 9u);
    EXPECT_EQ(h.replies.back().time_ns, 50 * ms);
}

TEST(Session, ReplySpanningSegments)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("EHLO x\r\n", 2, 0);
    h.reply({"250-first\r\n"}, 3, ms);
    EXPECT_EQ(h.replies.size(), 1u);
    h.reply({"250 last\r\n"}, 4, 2 * ms);
    ASSERT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.replies[1].first_frame, 3u);
    EXPECT_EQ(h.replies[1].line_count, 2u);
    EXPECT_EQ(h.replies[1].command.view(), "EHLO");
}

TEST(Session, MultilineCodeMismatchAndEnhancedOnEveryLine)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("EHLO x\r\n", 2, 0);
    h.reply({"250-first\r\n", "251 second\r\n"}, 3, 0);
    EXPECT_TRUE(h.replies.back().code_mismatch);

    h.session.on_client_data("MAIL FROM:<>\r\n", 4, 0);
    h.reply({"421-4.7.0 one\r\n", "421-4.7.0 two\r\n", "421 4.7.28 three\r\n"}, 5, 0);
    EXPECT_FALSE(h.replies.back().code_mismatch);
    EXPECT_TRUE(h.replies.back().enhanced_mismatch);
    EXPECT_EQ(h.replies.back().enhanced, (EnhancedCode{4, 7, 0}));
    EXPECT_EQ(h.lines.back().enhanced, (EnhancedCode{4, 7, 28}));
}

TEST(Session, LineWithoutCodeEndsTheReply)
{
    Harness h;
    h.reply({"hello there\r\n"}, 1, 0);
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_TRUE(h.replies[0].problems & kNoCode);
    EXPECT_EQ(h.replies[0].code, 0);
}

TEST(Session, AuthExchangeAndStarttls)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("AUTH LOGIN\r\n", 2, 0);
    h.reply({"334 VXNlcm5hbWU6\r\n"}, 3, 0);
    h.session.on_client_data("dXNlcg==\r\n", 4, 0);
    h.reply({"334 UGFzc3dvcmQ6\r\n"}, 5, 0);
    h.session.on_client_data("c2VjcmV0\r\n", 6, 0);  // unknown mechanism lines look like commands
    h.reply({"535 5.7.8 Error: authentication failed\r\n"}, 7, 0);
    ASSERT_EQ(h.replies.size(), 4u);
    EXPECT_EQ(h.replies[1].command.view(), "AUTH");
    EXPECT_EQ(h.replies[2].command.view(), "AUTH");
    EXPECT_EQ(h.replies[2].request_in, 4u);
    EXPECT_EQ(h.replies[3].command.view(), "AUTH");
    EXPECT_EQ(h.replies[3].request_in, 6u);

    h.session.on_client_data("STARTTLS\r\n", 8, 0);
    h.reply({"220 2.0.0 Ready to start TLS\r\n"}, 9, 0);
    EXPECT_EQ(h.replies.back().command.view(), "STARTTLS");
    EXPECT_TRUE(h.session.tls_started());
}

TEST(Session, BdatChunksAnswerBdat)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    // Chunk data follows the command at once and may hold anything,
    // including text that looks like commands.
    h.session.on_client_data("BDAT 14\r\nQUIT\r\nRSET\r\n12", 2, 0);
    h.session.on_client_data("bdat 5 LAST\r\n.\r\n.\n", 3, 0);
    h.reply({"250 2.0.0 14 octets received\r\n"}, 4, 0);
    h.reply({"250 2.0.0 Ok: queued\r\n"}, 5, 0);
    ASSERT_EQ(h.replies.size(), 3u);
    EXPECT_EQ(h.replies[1].command.view(), "BDAT");
    EXPECT_EQ(h.replies[1].request_in, 2u);
    EXPECT_EQ(h.replies[2].command.view(), "BDAT");
    EXPECT_EQ(h.replies[2].request_in, 3u);
    EXPECT_EQ(h.session.pending(), 0u);
}

TEST(Session, RefusedDataKeepsReadingCommands)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("DATA\r\n", 2, 0);
    h.reply({"503 5.5.1 Error: need RCPT command\r\n"}, 3, 0);
    EXPECT_FALSE(h.session.in_data());
    h.session.on_client_data("MAIL FROM:<a@example.org>\r\n", 4, 0);
    h.reply({"250 2.1.0 Ok\r\n"}, 5, 0);
    EXPECT_EQ(h.replies.back().command.view(), "MAIL");
    EXPECT_EQ(h.replies.back().request_in, 4u);
}

TEST(Session, EndOfDataPipelinedWithQuit)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("DATA\r\n", 2, 0);
    h.reply({"354 go\r\n"}, 3, 0);
    h.session.on_client_data("body\r\n.\r\nQUIT\r\n", 4, 0);
    h.reply({"250 2.0.0 Ok: queued\r\n", "221 2.0.0 Bye\r\n"}, 5, 0);
    ASSERT_EQ(h.replies.size(), 4u);
    EXPECT_EQ(h.replies[2].command.view(), "end-of-data");
    EXPECT_EQ(h.replies[3].command.view(), "QUIT");
    EXPECT_EQ(h.replies[3].request_in, 4u);
}

TEST(Session, CommandLineSplitAcrossSegments)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("MAIL FR", 2, 0);
    h.session.on_client_data("OM:<a@example.org>\r\nRC", 3, 0);
    h.session.on_client_data("PT TO:<b@example.net>\r\n", 4, 0);
    h.reply({"250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n"}, 5, 0);
    ASSERT_EQ(h.replies.size(), 3u);
    EXPECT_EQ(h.replies[1].command.view(), "MAIL");
    EXPECT_EQ(h.replies[1].request_in, 3u);
    EXPECT_EQ(h.replies[2].command.view(), "RCPT");
    EXPECT_EQ(h.replies[2].request_in, 4u);
}

TEST(Session, OverlongCommandLineCountsOnce)
{
    SessionLimits limits;
    limits.max_command_line = 16;
    SmtpSession s(limits);
    s.on_client_data("NOOP " + std::string(100, 'x'), 1, 0);
    s.on_client_data(std::string(100, 'y') + "\r\nQUIT\r\n", 2, 0);
    EXPECT_EQ(s.pending(), 2u);
}

TEST(Session, ServerSpeaksDuringBodyAnswersEndOfData)
{
    Harness h;
    h.reply({"220 hi\r\n"}, 1, 0);
    h.session.on_client_data("DATA\r\n", 2, 0);
    h.reply({"354 go\r\n"}, 3, 0);
    h.reply({"421 4.4.2 mx.example.net Error: timeout exceeded\r\n"}, 90, 0);
    EXPECT_EQ(h.replies.back().command.view(), "end-of-data");
    EXPECT_EQ(h.replies.back().request_in, 0u);
    EXPECT_FALSE(h.session.in_data());
}

TEST(Session, LimitsBoundMemory)
{
    SessionLimits limits;
    limits.max_pending_commands = 4;
    limits.max_reply_lines = 10;
    limits.max_reply_text = 64;
    SmtpSession s(limits);
    for (std::uint32_t i = 0; i < 1000; ++i)
        s.on_client_data("NOOP\r\n", i + 1, 0);
    EXPECT_EQ(s.pending(), 4u);
    LineRecord line;
    ReplyRecord r;
    bool done = false;
    for (int i = 0; i < 100000 && !done; ++i)
        done = s.on_reply_line("250-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 1, 0, line, r);
    EXPECT_FALSE(done);
    ASSERT_TRUE(s.on_reply_line("250 end\r\n", 2, 0, line, r));
    EXPECT_TRUE(r.lines_truncated);
    EXPECT_TRUE(r.pending_overflow);
    EXPECT_EQ(r.line_count, 100001u);
    EXPECT_EQ(r.request_in, 997u);  // the oldest commands were dropped
}

// A segment of a flow between two documentation addresses.
Segment segment(std::uint8_t client_last_octet, std::uint16_t client_port, bool from_client, std::uint32_t frame)
{
    Segment s;
    IpAddress client, server;
    client.family = server.family = 4;
    client.bytes[0] = 192, client.bytes[2] = 2, client.bytes[3] = client_last_octet;
    server.bytes[0] = 198, server.bytes[1] = 51, server.bytes[2] = 100, server.bytes[3] = 10;
    s.ip.src = from_client ? client : server;
    s.ip.dst = from_client ? server : client;
    s.ip.packet_length = 40;
    s.tcp.src_port = from_client ? client_port : 25;
    s.tcp.dst_port = from_client ? 25 : client_port;
    s.tcp.flags = kAck;
    s.frame = frame;
    return s;
}

TEST(Analysis, StoresFindingsPerFrameAndClears)
{
    Analysis a;
    const ConnectionRef c1 = a.on_tcp_segment(segment(10, 40000, false, 1));
    a.add_reply_data(c1, "220 hi\r\n", 1, 0);
    a.add_reply_data(a.on_tcp_segment(segment(10, 40000, false, 2)), "451-a\r\n", 2, 0);
    const ConnectionRef c2 = a.on_tcp_segment(segment(11, 40000, false, 2));
    a.add_reply_data(c2, "220 other session\r\n", 2, 0);
    const FrameFindings* f1 = a.find_frame(1);
    ASSERT_NE(f1, nullptr);
    EXPECT_EQ(f1->replies.size(), 1u);
    const FrameFindings* f2 = a.find_frame(2);
    ASSERT_NE(f2, nullptr);
    // Only lines worth a look of their own are kept: "451-a" (part of a
    // multi-line failure), not the single clean "220 other session".
    ASSERT_EQ(f2->lines.size(), 1u);
    EXPECT_TRUE(f2->lines[0].continued);
    EXPECT_EQ(f2->replies.size(), 1u);
    EXPECT_EQ(f2->replies[0].command.view(), "greeting");
    EXPECT_EQ(a.find_frame(3), nullptr);
    EXPECT_EQ(a.connection_count(), 2u);
    // Both directions of a flow share one connection.
    const ConnectionRef back = a.on_tcp_segment(segment(10, 40000, true, 3));
    EXPECT_EQ(back.conn, c1.conn);
    EXPECT_NE(back.forward, c1.forward);
    a.clear();
    EXPECT_EQ(a.find_frame(1), nullptr);
    EXPECT_EQ(a.connection_count(), 0u);
}

}  // namespace

namespace {

struct Txn {
    SmtpSession session;
    std::vector<TransactionSummary> done;

    void client(const char* bytes) { session.on_client_data(bytes, 1, 0); }
    void server(const char* bytes)
    {
        session.on_server_data(bytes, [&](std::string_view line) {
            LineRecord l;
            ReplyRecord r;
            if (session.on_reply_line(line, 2, 0, l, r)) {
                TransactionSummary t;
                if (session.take_summary(t))
                    done.push_back(t);
            }
        });
    }
};

TEST(Transaction, AcceptedWithRecipientCodes)
{
    Txn t;
    t.server("220 hi\r\n");
    t.client("EHLO client.example.org\r\nMAIL FROM:<a@example.org> SIZE=10\r\nRCPT TO:<b@example.net>\r\n"
             "RCPT TO:<c@example.net>\r\nDATA\r\n");
    t.server("250 ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 unknown\r\n354 go\r\n");
    EXPECT_TRUE(t.done.empty());
    t.client("body\r\n.\r\n");
    t.server("250 2.0.0 Ok: queued\r\n");
    ASSERT_EQ(t.done.size(), 1u);
    const TransactionSummary& s = t.done[0];
    EXPECT_EQ(s.outcome, Outcome::accepted);
    EXPECT_EQ(s.ehlo, "client.example.org");
    EXPECT_EQ(s.mail_from, "a@example.org");
    ASSERT_EQ(s.recipients.size(), 2u);
    EXPECT_EQ(s.recipients[0].address, "b@example.net");
    EXPECT_EQ(s.recipients[0].code, 250);
    EXPECT_EQ(s.recipients[1].code, 550);
    EXPECT_EQ(s.final_code, 250);
    EXPECT_EQ(s.final_enhanced, (EnhancedCode{2, 0, 0}));
}

TEST(Transaction, OutcomesOfEndings)
{
    struct Case {
        const char* client;
        const char* server;
        Outcome expected;
    };
    const Case cases[] = {
        {"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRSET\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n", Outcome::aborted},
        {"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n", "250 ok\r\n550 no\r\n221 bye\r\n", Outcome::rejected},
        {"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n", "250 ok\r\n450 later\r\n221 bye\r\n", Outcome::deferred},
        {"MAIL FROM:<a@x>\r\n", "452 4.3.1 full\r\n", Outcome::deferred},
        {"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n", "250 ok\r\n250 ok\r\n554 5.5.1 no valid\r\n",
         Outcome::rejected},
    };
    for (const Case& c : cases) {
        Txn t;
        t.server("220 hi\r\n");
        t.client(c.client);
        t.server(c.server);
        ASSERT_EQ(t.done.size(), 1u) << c.client << c.server;
        EXPECT_EQ(t.done[0].outcome, c.expected) << c.client << c.server;
    }
}

TEST(Transaction, RefusedGreetingIsASessionOutcome)
{
    Txn t;
    t.server("554 5.7.1 go away\r\n");
    ASSERT_EQ(t.done.size(), 1u);
    EXPECT_EQ(t.done[0].outcome, Outcome::rejected);
    EXPECT_TRUE(t.done[0].mail_from.empty());
}

TEST(Transaction, StallThenClose)
{
    Txn t;
    t.server("220 hi\r\n");
    t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
    t.server("250 ok\r\n250 ok\r\n354 go\r\n");
    t.client("body ");
    t.session.stalled();
    TransactionSummary s;
    ASSERT_TRUE(t.session.take_summary(s));
    EXPECT_EQ(s.outcome, Outcome::stalled);
    t.session.end_of_connection();
    EXPECT_FALSE(t.session.take_summary(s));  // reported once
    // Without an earlier stall, a close while the body is pending is one.
    Txn u;
    u.server("220 hi\r\n");
    u.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
    u.server("250 ok\r\n250 ok\r\n354 go\r\n");
    u.client("body\r\n.\r\n");
    u.session.end_of_connection();
    ASSERT_TRUE(u.session.take_summary(s));
    EXPECT_EQ(s.outcome, Outcome::stalled);
}

// The lines of a reply are read one by one: a wording found on any line
// counts, a wording cut in two by a line break does not.
TEST(Session, ReplyTextIsReadLineByLine)
{
    Harness second_line;
    second_line.reply({"450-4.2.0 Recipient address rejected:\r\n", "450 4.2.0 Mailbox full\r\n"}, 5, 0);
    ASSERT_EQ(second_line.replies.size(), 1u);
    EXPECT_EQ(second_line.replies[0].cause, Cause::mailbox_full);

    Harness split;
    split.reply({"450-4.2.0 Recipient mailbox\r\n", "450 4.2.0 full\r\n"}, 5, 0);
    ASSERT_EQ(split.replies.size(), 1u);
    EXPECT_NE(split.replies[0].cause, Cause::mailbox_full);
}

TEST(Transaction, EnvelopeAddresses)
{
    EXPECT_EQ(envelope_address("FROM:<a@example.org> SIZE=1"), "a@example.org");
    EXPECT_EQ(envelope_address("TO: <b@example.net>"), "b@example.net");
    EXPECT_EQ(envelope_address("FROM:<>"), "");
    EXPECT_EQ(envelope_address("FROM sender@example.org"), "sender@example.org");
    EXPECT_EQ(envelope_address("TO:<" + std::string(1000, 'x')).size(), kMaxAddress);
}

TEST(SiteRulesTest, ParseAndMatch)
{
    SiteRule r;
    EXPECT_EQ(parse_site_rule("421", "", "Message Rejected", "ISP throttle", "rate-limit", "", r), "");
    EXPECT_EQ(r.text, "message rejected");
    EXPECT_EQ(r.cause, Cause::rate_limit);
    EXPECT_NE(parse_site_rule("99", "", "", "m", "", "", r), "");
    EXPECT_NE(parse_site_rule("", "5.1", "", "m", "", "", r), "");
    EXPECT_NE(parse_site_rule("", "", "", "m", "", "", r), "");
    EXPECT_NE(parse_site_rule("550", "", "", "", "", "", r), "");
    EXPECT_NE(parse_site_rule("550", "", "", "m", "nonsense", "", r), "");
    SiteRules rules;
    ASSERT_EQ(parse_site_rule("", "4.7.1", "", "ours", "", "", r), "");
    rules.add(r);
    const std::string_view text = "whatever";
    EXPECT_NE(rules.match(450, {4, 7, 1}, ReplyText{&text, 1}), nullptr);
    EXPECT_EQ(rules.match(450, {4, 7, 2}, ReplyText{&text, 1}), nullptr);
}

// Success replies are not read for causes, but a site rule may still name
// one by its text; a failure is read either way.
TEST(SiteRulesTest, TextRuleMatchesSuccessReplies)
{
    SiteRules rules;
    SiteRule r;
    ASSERT_EQ(parse_site_rule("", "", "Queued as", "accepted for relay", "", "", r), "");
    rules.add(r);
    SmtpSession with_rules(SessionLimits{}, &rules);
    SmtpSession without_rules(SessionLimits{}, nullptr);
    for (SmtpSession* s : {&with_rules, &without_rules}) {
        LineRecord line;
        ReplyRecord ok, failed;
        ASSERT_TRUE(s->on_reply_line("250 2.0.0 Ok: queued as 4F1C2\r\n", 7, 0, line, ok));
        ASSERT_TRUE(s->on_reply_line("452 4.2.2 Mailbox full\r\n", 9, 0, line, failed));
        EXPECT_EQ(ok.cause, Cause::none);
        EXPECT_EQ(failed.cause, Cause::mailbox_full);
        if (s == &with_rules) {
            ASSERT_NE(ok.site, nullptr);
            EXPECT_EQ(ok.site->meaning, "accepted for relay");
        } else {
            EXPECT_EQ(ok.site, nullptr);
        }
    }
}

}  // namespace
