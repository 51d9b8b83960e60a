#include "smtp_delivery/knowledge.hpp"
#include "smtp_delivery/reply_parser.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace smtp_delivery;

namespace {

ReplyText one_piece(const std::string_view& s) { return ReplyText{&s, 1}; }

// The text of a reply line as the session keeps it: lower-cased.
std::string lowered(std::string_view s)
{
    std::string out;
    append_lower(out, s);
    return out;
}

// Reads a whole reply line the way the session does and returns its cause.
Cause cause_of(const char* line)
{
    const ReplyLine r = parse_reply_line(line);
    const std::string lower = lowered(r.text);
    const std::string_view text = lower;
    const ReplyText t = one_piece(text);
    const VendorRow* v = find_vendor(r.code, r.enhanced, t);
    return classify_cause(r.code, r.enhanced, t, v);
}

const VendorRow* vendor_of(const char* line)
{
    const ReplyLine r = parse_reply_line(line);
    const std::string lower = lowered(r.text);
    const std::string_view text = lower;
    return find_vendor(r.code, r.enhanced, one_piece(text));
}

TEST(Knowledge, EveryRfc5321CodeIsKnown)
{
    for (unsigned code : {211u, 214u, 220u, 221u, 250u, 251u, 252u, 354u, 421u, 450u, 451u, 452u, 455u, 500u,
                          501u, 502u, 503u, 504u, 550u, 551u, 552u, 553u, 554u, 555u}) {
        const BasicCodeRow* row = find_basic_code(code);
        ASSERT_NE(row, nullptr) << code;
        EXPECT_FALSE(row->meaning.empty()) << code;
    }
}

TEST(Knowledge, ExtensionAndFieldCodesAreKnown)
{
    for (unsigned code : {235u, 334u, 432u, 454u, 530u, 534u, 535u, 538u, 521u, 556u, 458u, 459u, 420u})
        EXPECT_NE(find_basic_code(code), nullptr) << code;
    EXPECT_EQ(find_basic_code(299), nullptr);
}

TEST(Knowledge, BasicCodesSortedAndUnique)
{
    for (std::size_t i = 1; i < kBasicCodes.size(); ++i)
        EXPECT_LT(kBasicCodes[i - 1].code, kBasicCodes[i].code);
}

TEST(Knowledge, EveryIanaEnhancedCodeIsKnown)
{
    // Registry entries as of the 2020 copy: subject -> highest detail.
    const std::pair<unsigned, unsigned> last_detail[] = {{0, 0},  {1, 10}, {2, 4}, {3, 6},
                                                         {4, 7},  {5, 6},  {6, 10}, {7, 30}};
    for (const auto& [subject, max_detail] : last_detail)
        for (unsigned detail = 0; detail <= max_detail; ++detail)
            for (unsigned k : {2u, 4u, 5u}) {
                const auto klass = static_cast<std::uint8_t>(k);
                const EnhancedCode e{klass, static_cast<std::uint16_t>(subject), static_cast<std::uint16_t>(detail)};
                const EnhancedCodeRow* row = find_enhanced_code(e);
                ASSERT_NE(row, nullptr) << int(klass) << '.' << subject << '.' << detail;
                EXPECT_FALSE(row->meaning.empty());
            }
    EXPECT_EQ(find_enhanced_code({5, 9, 9}), nullptr);
    EXPECT_EQ(find_enhanced_code({}), nullptr);
}

TEST(Knowledge, SuccessCodesReadAsSuccess)
{
    // The registry words X.1.0 as a problem; a 2.1.0 ("250 2.1.0 Ok" to MAIL)
    // gets its own success reading, 4.1.0 and 5.1.0 keep the registry's.
    const EnhancedCodeRow* ok = find_enhanced_code({2, 1, 0});
    const EnhancedCodeRow* bad = find_enhanced_code({5, 1, 0});
    ASSERT_NE(ok, nullptr);
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(ok->klass, 2);
    EXPECT_EQ(bad->klass, 0);
    EXPECT_EQ(find_enhanced_code({4, 1, 0}), bad);
    EXPECT_NE(ok->meaning, bad->meaning);
    for (std::uint16_t subject = 0; subject <= 7; ++subject) {
        const EnhancedCodeRow* row = find_enhanced_code({2, subject, 0});
        ASSERT_NE(row, nullptr) << subject;
        EXPECT_EQ(row->klass, 2) << subject;
        EXPECT_EQ(row->cause, Cause::none) << subject;
    }
    // Success details the registry already words as success are shared.
    EXPECT_EQ(find_enhanced_code({2, 1, 5})->klass, 0);
}

TEST(Knowledge, UnknownEnhancedCodeStillHasClassAndSubject)
{
    EXPECT_FALSE(class_meaning(4).empty());
    EXPECT_FALSE(subject_meaning(7).empty());
    EXPECT_TRUE(subject_meaning(8).empty());
}

TEST(Knowledge, CauseLabelsAreTheContract)
{
    const char* labels[] = {"greylisting", "rate-limit", "blocklist", "reverse-dns", "helo", "mailbox-full",
                            "message-too-large", "unknown-recipient", "relay-denied", "tls-required",
                            "auth-required", "auth-failed", "policy", "server-error", "syntax",
                            "too-many-recipients", "timeout"};
    std::set<std::string> have;
    for (const CauseRow& row : kCauses) {
        have.insert(std::string(row.label));
        if (row.cause != Cause::none) {
            EXPECT_FALSE(row.description.empty()) << row.label;
            EXPECT_FALSE(row.advice.empty()) << row.label;
        }
    }
    for (const char* l : labels)
        EXPECT_TRUE(have.count(l)) << l;
    for (std::size_t i = 0; i < kCauses.size(); ++i)
        EXPECT_EQ(static_cast<std::size_t>(kCauses[i].cause), i);
}

struct CauseCase {
    const char* line;
    const char* cause;
};

class CauseTest : public ::testing::TestWithParam<CauseCase> {};

TEST_P(CauseTest, ReadsCauseFromReply)
{
    EXPECT_EQ(cause_label(cause_of(GetParam().line)), GetParam().cause) << GetParam().line;
}

INSTANTIATE_TEST_SUITE_P(
    Replies, CauseTest,
    ::testing::Values(
        // Postfix wordings.
        CauseCase{"450 4.2.0 <grey@example.net>: Recipient address rejected: Greylisted, see "
                  "http://postgrey.schweikert.ch/help/example.net.html\r\n",
                  "greylisting"},
        CauseCase{"550 5.1.1 <nobody-here@example.net>: Recipient address rejected: User unknown in local "
                  "recipient table\r\n",
                  "unknown-recipient"},
        CauseCase{"554 5.7.1 <x@example.com>: Relay access denied\r\n", "relay-denied"},
        CauseCase{"552 5.3.4 Message size exceeds fixed limit\r\n", "message-too-large"},
        CauseCase{"452 4.5.3 Error: too many recipients\r\n", "too-many-recipients"},
        CauseCase{"421 4.7.0 mx.example.net Error: too many connections from 192.0.2.10\r\n",
                  "too-many-connections"},
        CauseCase{"503 5.5.1 Error: need MAIL command\r\n", "syntax"},
        CauseCase{"500 5.5.2 Error: command not recognized\r\n", "syntax"},
        CauseCase{"450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.10]\r\n", "reverse-dns"},
        CauseCase{"554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org\r\n",
                  "blocklist"},
        CauseCase{"504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname\r\n", "helo"},
        CauseCase{"530 5.7.0 Must issue a STARTTLS command first\r\n", "tls-required"},
        CauseCase{"535 5.7.8 Error: authentication failed: authentication failure\r\n", "auth-failed"},
        CauseCase{"552 5.2.2 Mailbox full\r\n", "mailbox-full"},
        CauseCase{"451 4.3.0 Error: queue file write error\r\n", "server-error"},
        // Field reports and providers.
        CauseCase{"420 TCP write error\r\n", "timeout"},
        CauseCase{"421 4.0.0 Error: timeout\r\n", "timeout"},
        CauseCase{"421 message rejected\r\n", "rate-limit"},
        CauseCase{"421 4.7.28 [192.0.2.10] Our system has detected an unusual rate of unsolicited mail\r\n",
                  "rate-limit"},
        // Success and intermediate replies have no cause.
        CauseCase{"250 2.0.0 Ok: queued as 4XyZ\r\n", ""},
        CauseCase{"354 End data with <CR><LF>.<CR><LF>\r\n", ""}));

TEST(Knowledge, VendorReadings)
{
    const VendorRow* gw = vendor_of("420 TCP write error\r\n");
    ASSERT_NE(gw, nullptr);
    EXPECT_EQ(gw->vendor, "GroupWise");
    const VendorRow* ms = vendor_of("550 5.7.606 Access denied, banned sending IP [192.0.2.10]\r\n");
    ASSERT_NE(ms, nullptr);
    EXPECT_EQ(ms->vendor, "Microsoft 365");
    const VendorRow* ms2 = vendor_of("550 5.7.649 Access denied, banned sending IP [192.0.2.10]\r\n");
    ASSERT_NE(ms2, nullptr);
    EXPECT_EQ(ms2->vendor, "Microsoft 365");
    EXPECT_EQ(vendor_of("550 5.7.650 something else\r\n"), nullptr);
    const VendorRow* bp = vendor_of("421 message rejected\r\n");
    ASSERT_NE(bp, nullptr);
    EXPECT_EQ(bp->vendor, "Telstra BigPond");
    const VendorRow* ex = vendor_of("451 4.4.7 Message delayed\r\n");
    ASSERT_NE(ex, nullptr);
    EXPECT_EQ(ex->vendor, "Microsoft Exchange");
    EXPECT_EQ(vendor_of("250 2.0.0 Ok\r\n"), nullptr);
}

TEST(Knowledge, ContainsNocase)
{
    EXPECT_TRUE(contains_nocase("Relay Access DENIED", "relay access denied"));
    EXPECT_FALSE(contains_nocase("rela", "relay"));
    EXPECT_TRUE(contains_nocase("anything", ""));
    EXPECT_FALSE(contains_nocase("", "x"));
}

}  // namespace

// The precomputed pair signatures only skip needles the text cannot hold:
// for every cause rule and vendor row, on texts that hold some needles and
// not others, the filtered search answers as the plain one does.
TEST(ReplyTextTest, PairSignatureAgreesWithThePlainSearch)
{
    const std::string texts[] = {
        lowered("4.7.1 <a@example.net>: Recipient address rejected: Greylisted, see http://postgrey/"),
        lowered("5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"),
        lowered("4.2.2 Mailbox full\n4.2.2 over quota, try again later"),
        lowered("TCP write error"),
        lowered("x"),
        std::string(),
    };
    int found = 0, skipped = 0;
    for (const std::string& t : texts) {
        const std::string_view view = t;
        const ReplyText plain{&view, 1};
        const ReplyText filtered{&view, 1};
        for (std::size_t i = 0; i < kCauseTextRules.size(); ++i) {
            const std::string_view needle = kCauseTextRules[i].needle;
            const bool expected = plain.contains(needle);
            EXPECT_EQ(filtered.contains(needle, kCauseTextPairs[i]), expected) << needle << " in " << t;
            EXPECT_EQ(kCauseTextPairs[i].within(pair_signature(t)) || !expected, true) << needle;
            found += expected;
            skipped += !kCauseTextPairs[i].within(pair_signature(t));
        }
        for (std::size_t i = 0; i < kVendorRows.size(); ++i) {
            const std::string_view needle = kVendorRows[i].text_contains;
            EXPECT_EQ(filtered.contains(needle, kVendorTextPairs[i]), plain.contains(needle)) << needle;
        }
    }
    EXPECT_GE(found, 6);                                          // the needles above are found...
    EXPECT_GT(skipped, static_cast<int>(kCauseTextRules.size()));  // ...and most others skipped at once
}
