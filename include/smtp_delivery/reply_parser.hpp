// Parsing of one SMTP reply line: basic code (RFC 5321 section 4.2) and the
// optional enhanced status code (RFC 3463, RFC 2034) that follows it.
#pragma once

#include "smtp_delivery/types.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smtp_delivery {

// Problems found in a reply line; several may be set at once.
enum LineProblem : std::uint16_t {
    kNoProblem = 0,
    kNoCode = 1u << 0,             // the line does not start with three digits
    kCodeOutOfRange = 1u << 1,     // three digits, but not a 2yz..5yz code with y in 0..5
    kBadSeparator = 1u << 2,       // code followed by something other than SP, '-' or end of line
    kBadEnhanced = 1u << 3,        // looks like an enhanced code but breaks the RFC 3463 grammar
    kEnhancedMismatch = 1u << 4,   // enhanced class disagrees with the basic code's first digit
    kBareLineFeed = 1u << 5,       // line ended by LF alone
    kNoLineEnd = 1u << 6,          // no line terminator at all
    kLineTooLong = 1u << 7,        // longer than RFC 5321's 512 octets for a reply line
};

// RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets with CRLF.
inline constexpr std::size_t kMaxReplyLineLength = 512;

struct ReplyLine {
    std::uint16_t code = 0;           // 0 when the line has no code
    bool continued = false;           // "xyz-": more lines follow
    EnhancedCode enhanced;            // absent when klass == 0
    std::string_view enhanced_text;   // the enhanced code token as written (also when malformed)
    std::string_view text;            // text after the code (and after the enhanced code)
    std::uint16_t problems = kNoProblem;

    bool has_code() const noexcept { return code != 0; }
};

namespace detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Whether `s` opens with three digits, as every reply line does.
constexpr bool starts_with_code(std::string_view s) noexcept
{
    return s.size() >= 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]);
}

// Parses 1..3 digits; returns false when the field is empty, longer than three
// digits or has a leading zero in a multi-digit number (RFC 3463 forbids
// leading zeros: "1*3digit" without them).
constexpr bool parse_subcode(std::string_view s, std::uint16_t& out) noexcept
{
    if (s.empty() || s.size() > 3)
        return false;
    if (s.size() > 1 && s[0] == '0')
        return false;
    std::uint16_t v = 0;
    for (char c : s) {
        if (!is_digit(c))
            return false;
        v = static_cast<std::uint16_t>(v * 10 + (c - '0'));
    }
    out = v;
    return true;
}

}  // namespace detail

// Result of looking at a token that may be an enhanced status code.
enum class EnhancedParse { not_enhanced, valid, malformed };

// Parses "class.subject.detail". A token is taken as an attempted enhanced
// code when it is made only of digits and dots, starts with a single digit
// followed by a dot; anything else (an IP address, "8BITMIME", a word) is not
// an enhanced code at all.
constexpr EnhancedParse parse_enhanced_code(std::string_view token, EnhancedCode& out) noexcept
{
    if (token.size() < 2 || !detail::is_digit(token[0]) || token[1] != '.')
        return EnhancedParse::not_enhanced;
    std::size_t dots = 0;
    for (char c : token) {
        if (c == '.')
            ++dots;
        else if (!detail::is_digit(c))
            return EnhancedParse::not_enhanced;
    }
    if (dots != 2)
        return EnhancedParse::malformed;
    const std::size_t d1 = token.find('.');
    const std::size_t d2 = token.find('.', d1 + 1);
    std::uint16_t subject = 0;
    std::uint16_t detail_code = 0;
    const char klass = token[0];
    if (klass != '2' && klass != '4' && klass != '5')
        return EnhancedParse::malformed;
    if (!detail::parse_subcode(token.substr(d1 + 1, d2 - d1 - 1), subject))
        return EnhancedParse::malformed;
    if (!detail::parse_subcode(token.substr(d2 + 1), detail_code))
        return EnhancedParse::malformed;
    out = EnhancedCode{static_cast<std::uint8_t>(klass - '0'), subject, detail_code};
    return EnhancedParse::valid;
}

// Parses one reply line as the SMTP dissector hands it over (line terminator
// included when present). Never reads outside `line`.
constexpr ReplyLine parse_reply_line(std::string_view line) noexcept
{
    ReplyLine r;
    // Line terminator.
    if (line.size() >= 2 && line[line.size() - 2] == '\r' && line[line.size() - 1] == '\n') {
        line.remove_suffix(2);
    } else if (!line.empty() && line.back() == '\n') {
        line.remove_suffix(1);
        r.problems |= kBareLineFeed;
    } else {
        r.problems |= kNoLineEnd;
    }
    if (line.size() + 2 > kMaxReplyLineLength)
        r.problems |= kLineTooLong;

    if (!detail::starts_with_code(line)) {
        r.problems |= kNoCode;
        r.text = line;
        return r;
    }
    std::string_view rest = line.substr(3);
    if (!rest.empty() && detail::is_digit(rest[0])) {
        // Four or more digits: not a reply code.
        r.problems |= kNoCode;
        r.text = line;
        return r;
    }
    r.code = static_cast<std::uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
    if (line[0] < '2' || line[0] > '5' || line[1] > '5')
        r.problems |= kCodeOutOfRange;

    if (!rest.empty()) {
        if (rest[0] == '-') {
            r.continued = true;
            rest.remove_prefix(1);
        } else if (rest[0] == ' ') {
            rest.remove_prefix(1);
        } else {
            r.problems |= kBadSeparator;
        }
    }

    // Enhanced status code: the first token of the text.
    std::size_t tok_end = 0;
    while (tok_end < rest.size() && rest[tok_end] != ' ' && rest[tok_end] != '\t')
        ++tok_end;
    const std::string_view token = rest.substr(0, tok_end);
    EnhancedCode enh;
    switch (parse_enhanced_code(token, enh)) {
    case EnhancedParse::valid:
        r.enhanced = enh;
        r.enhanced_text = token;
        rest.remove_prefix(tok_end);
        if (!rest.empty())
            rest.remove_prefix(1);
        if (!(r.problems & kCodeOutOfRange)) {
            const unsigned basic_class = r.code / 100u;
            const unsigned expected = basic_class == 3 ? 2u : basic_class;
            if (enh.klass != expected)
                r.problems |= kEnhancedMismatch;
        }
        break;
    case EnhancedParse::malformed:
        r.enhanced_text = token;
        r.problems |= kBadEnhanced;
        break;
    case EnhancedParse::not_enhanced:
        break;
    }
    r.text = rest;
    return r;
}

// Room format_enhanced needs for any EnhancedCode: "255.65535.65535" + NUL.
inline constexpr std::size_t kEnhancedBufferSize = 16;

// Formats an enhanced code as "c.s.d" into buf (at least kEnhancedBufferSize
// bytes, or nothing is written); returns the written view.
inline std::string_view format_enhanced(const EnhancedCode& e, char* buf, std::size_t size) noexcept
{
    if (size < kEnhancedBufferSize || !e.present())
        return {};
    std::size_t n = 0;
    auto put_num = [&](unsigned v) {
        char tmp[5];
        std::size_t k = 0;
        do {
            tmp[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v && k < sizeof tmp);
        while (k)
            buf[n++] = tmp[--k];
    };
    put_num(e.klass);
    buf[n++] = '.';
    put_num(e.subject);
    buf[n++] = '.';
    put_num(e.detail);
    buf[n] = '\0';
    return std::string_view(buf, n);
}

}  // namespace smtp_delivery
