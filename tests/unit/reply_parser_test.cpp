#include "smtp_delivery/reply_parser.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace smtp_delivery;

namespace {

struct LineCase {
    const char* line;
    unsigned code;
    bool continued;
    EnhancedCode enhanced;
    const char* text;
    std::uint16_t problems;
};

class ReplyLineTest : public ::testing::TestWithParam<LineCase> {};

TEST_P(ReplyLineTest, Parses)
{
    const LineCase& c = GetParam();
    const ReplyLine r = parse_reply_line(c.line);
    EXPECT_EQ(r.code, c.code) << c.line;
    EXPECT_EQ(r.continued, c.continued) << c.line;
    EXPECT_EQ(r.enhanced, c.enhanced) << c.line;
    EXPECT_EQ(std::string(r.text), std::string(c.text)) << c.line;
    EXPECT_EQ(r.problems, c.problems) << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ReplyLineTest,
    ::testing::Values(
        LineCase{"220 mx.example.net ESMTP Postfix\r\n", 220, false, {}, "mx.example.net ESMTP Postfix", kNoProblem},
        LineCase{"250-PIPELINING\r\n", 250, true, {}, "PIPELINING", kNoProblem},
        LineCase{"250 2.0.0 Ok: queued as 4Xyz\r\n", 250, false, {2, 0, 0}, "Ok: queued as 4Xyz", kNoProblem},
        LineCase{"550 5.1.1 <nobody@example.net>: Recipient address rejected\r\n", 550, false, {5, 1, 1},
                 "<nobody@example.net>: Recipient address rejected", kNoProblem},
        LineCase{"421-4.7.0 [192.0.2.10] Our system has detected\r\n", 421, true, {4, 7, 0},
                 "[192.0.2.10] Our system has detected", kNoProblem},
        LineCase{"550 5.7.606 Access denied, banned sending IP\r\n", 550, false, {5, 7, 606},
                 "Access denied, banned sending IP", kNoProblem},
        LineCase{"354 End data with <CR><LF>.<CR><LF>\r\n", 354, false, {}, "End data with <CR><LF>.<CR><LF>",
                 kNoProblem},
        // 3yz replies carry success-class enhanced codes when they carry any.
        LineCase{"354 2.0.0 go ahead\r\n", 354, false, {2, 0, 0}, "go ahead", kNoProblem},
        LineCase{"220 192.0.2.1 ESMTP\r\n", 220, false, {}, "192.0.2.1 ESMTP", kNoProblem},
        LineCase{"421 message rejected\r\n", 421, false, {}, "message rejected", kNoProblem},
        LineCase{"250\r\n", 250, false, {}, "", kNoProblem},
        LineCase{"hello there\r\n", 0, false, {}, "hello there", kNoCode},
        LineCase{"25\r\n", 0, false, {}, "25", kNoCode},
        LineCase{"2500 too long\r\n", 0, false, {}, "2500 too long", kNoCode},
        LineCase{"699 weird\r\n", 699, false, {}, "weird", kCodeOutOfRange},
        LineCase{"099 low\r\n", 99, false, {}, "low", kCodeOutOfRange},
        LineCase{"260 second digit\r\n", 260, false, {}, "second digit", kCodeOutOfRange},
        LineCase{"250xyz\r\n", 250, false, {}, "xyz", kBadSeparator},
        LineCase{"550 5.1 bad\r\n", 550, false, {}, "5.1 bad", kBadEnhanced},
        LineCase{"550 6.1.1 bad class\r\n", 550, false, {}, "6.1.1 bad class", kBadEnhanced},
        LineCase{"550 5.1.1000 detail too long\r\n", 550, false, {}, "5.1.1000 detail too long", kBadEnhanced},
        LineCase{"550 5.01.1 leading zero\r\n", 550, false, {}, "5.01.1 leading zero", kBadEnhanced},
        LineCase{"550 2.1.1 mismatch\r\n", 550, false, {2, 1, 1}, "mismatch", kEnhancedMismatch},
        LineCase{"250 5.0.0 mismatch\r\n", 250, false, {5, 0, 0}, "mismatch", kEnhancedMismatch},
        LineCase{"250 ok\n", 250, false, {}, "ok", kBareLineFeed},
        LineCase{"250 ok", 250, false, {}, "ok", kNoLineEnd},
        LineCase{"", 0, false, {}, "", kNoCode | kNoLineEnd}));

TEST(ReplyLine, FlagsLinesLongerThanRfcLimit)
{
    const std::string line = "250 " + std::string(600, 'x') + "\r\n";
    const ReplyLine r = parse_reply_line(line);
    EXPECT_EQ(r.code, 250);
    EXPECT_TRUE(r.problems & kLineTooLong);
    const std::string ok = "250 " + std::string(kMaxReplyLineLength - 6, 'x') + "\r\n";
    EXPECT_FALSE(parse_reply_line(ok).problems & kLineTooLong);
}

TEST(ReplyLine, ViewsStayInsideInput)
{
    const std::string line = "550 5.1.1 x\r\n";
    const ReplyLine r = parse_reply_line(line);
    EXPECT_GE(r.text.data(), line.data());
    EXPECT_LE(r.text.data() + r.text.size(), line.data() + line.size());
    EXPECT_EQ(r.enhanced_text, "5.1.1");
}

TEST(EnhancedCode, Grammar)
{
    EnhancedCode e;
    EXPECT_EQ(parse_enhanced_code("5.7.1", e), EnhancedParse::valid);
    EXPECT_EQ(e, (EnhancedCode{5, 7, 1}));
    EXPECT_EQ(parse_enhanced_code("4.999.999", e), EnhancedParse::valid);
    EXPECT_EQ(parse_enhanced_code("2.0.0", e), EnhancedParse::valid);
    EXPECT_EQ(parse_enhanced_code("3.0.0", e), EnhancedParse::malformed);
    EXPECT_EQ(parse_enhanced_code("5.1.", e), EnhancedParse::malformed);
    EXPECT_EQ(parse_enhanced_code("5..1", e), EnhancedParse::malformed);
    EXPECT_EQ(parse_enhanced_code("5.1.1.1", e), EnhancedParse::malformed);
    EXPECT_EQ(parse_enhanced_code("8BITMIME", e), EnhancedParse::not_enhanced);
    EXPECT_EQ(parse_enhanced_code("192.0.2.1", e), EnhancedParse::not_enhanced);
    EXPECT_EQ(parse_enhanced_code("5.7.1,", e), EnhancedParse::not_enhanced);
    EXPECT_EQ(parse_enhanced_code("", e), EnhancedParse::not_enhanced);
}

TEST(EnhancedCode, Formats)
{
    char buf[16];
    EXPECT_EQ(format_enhanced({5, 7, 606}, buf, sizeof buf), "5.7.606");
    EXPECT_EQ(format_enhanced({4, 0, 0}, buf, sizeof buf), "4.0.0");
    EXPECT_EQ(format_enhanced({}, buf, sizeof buf), "");
    EXPECT_EQ(format_enhanced({5, 1, 1}, buf, 4), "");
    // The widest code a value can hold fits the documented buffer exactly.
    EXPECT_EQ(format_enhanced({255, 65535, 65535}, buf, sizeof buf), "255.65535.65535");
    EXPECT_EQ(format_enhanced({5, 65535, 65535}, buf, 12), "");
}

}  // namespace
