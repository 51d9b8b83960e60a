// Fuzzes parse_reply_line, format_enhanced and the knowledge look-ups
// (find_basic_code, find_enhanced_code, find_vendor, classify_cause) with one
// reply line; the text is also split at '\r' into several pieces to exercise
// multi-piece ReplyText searches.
#include "fuzz_common.hpp"

#include "smtp_delivery/knowledge.hpp"
#include "smtp_delivery/reply_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace smtp_delivery;

namespace {

bool within(std::string_view part, std::string_view whole)
{
    if (part.empty())
        return true;  // an empty view may point anywhere (or nowhere)
    const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(whole.data());
    const std::uintptr_t s = reinterpret_cast<std::uintptr_t>(part.data());
    return s >= b && s + part.size() <= b + whole.size();
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reference implementation of contains_nocase.
bool naive_contains(std::string_view hay, std::string_view needle)
{
    if (needle.empty())
        return true;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t k = 0;
        while (k < needle.size() && lower(hay[i + k]) == needle[k])
            ++k;
        if (k == needle.size())
            return true;
    }
    return false;
}

void check_knowledge(unsigned code, const EnhancedCode& e, const ReplyText& text)
{
    if (const BasicCodeRow* row = find_basic_code(code)) {
        SD_CHECK(row->code == code);
        SD_CHECK(row >= kBasicCodes.data() && row < kBasicCodes.data() + kBasicCodes.size());
    }
    if (const EnhancedCodeRow* row = find_enhanced_code(e)) {
        SD_CHECK(e.present());
        SD_CHECK(row->klass == e.klass || row->klass == 0);
        SD_CHECK(row->subject == e.subject && row->detail == e.detail);
        SD_CHECK(static_cast<unsigned>(row->cause) < static_cast<unsigned>(Cause::count_));
    }
    (void)class_meaning(code / 100);
    (void)subject_meaning(e.subject);
    const VendorRow* vendor = find_vendor(code, e, text);
    if (vendor) {
        SD_CHECK(vendor >= kVendorRows.data() && vendor < kVendorRows.data() + kVendorRows.size());
        SD_CHECK(vendor->code == 0 || vendor->code == code);
        SD_CHECK(text.contains(vendor->text_contains));
    }
    // The precomputed pair signatures never hide a needle.
    for (std::size_t i = 0; i < kCauseTextRules.size(); ++i)
        SD_CHECK(text.contains(kCauseTextRules[i].needle, kCauseTextPairs[i]) ==
                 text.contains(kCauseTextRules[i].needle));
    for (std::size_t i = 0; i < kVendorRows.size(); ++i)
        SD_CHECK(text.contains(kVendorRows[i].text_contains, kVendorTextPairs[i]) ==
                 text.contains(kVendorRows[i].text_contains));
    const Cause cause = classify_cause(code, e, text, vendor);
    SD_CHECK(static_cast<unsigned>(cause) < static_cast<unsigned>(Cause::count_));
    if (code / 100 != 4 && code / 100 != 5)
        SD_CHECK(cause == Cause::none);
    const CauseRow& row = cause_row(cause);
    SD_CHECK(row.cause == cause);
    (void)cause_label(cause);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const ReplyLine r = parse_reply_line(input);

    // Views stay inside the input.
    SD_CHECK(within(r.text, input));
    SD_CHECK(within(r.enhanced_text, input));
    SD_CHECK((r.problems & ~0xffu) == 0);
    SD_CHECK(!((r.problems & kNoLineEnd) && (r.problems & kBareLineFeed)));
    const bool crlf = size >= 2 && input[size - 2] == '\r' && input[size - 1] == '\n';
    const bool lf = !crlf && size >= 1 && input[size - 1] == '\n';
    SD_CHECK(((r.problems & kNoLineEnd) != 0) == (!crlf && !lf));
    SD_CHECK(((r.problems & kBareLineFeed) != 0) == lf);
    const std::size_t body = size - (crlf ? 2 : lf ? 1 : 0);
    SD_CHECK(((r.problems & kLineTooLong) != 0) == (body + 2 > kMaxReplyLineLength));

    if (r.problems & kNoCode) {
        SD_CHECK(r.code == 0);
        SD_CHECK(!r.continued);
        SD_CHECK(!r.enhanced.present());
    }
    if (r.code != 0) {
        SD_CHECK(r.code <= 999);
        SD_CHECK(body >= 3);
        SD_CHECK(static_cast<unsigned>((input[0] - '0') * 100 + (input[1] - '0') * 10 + (input[2] - '0')) == r.code);
        SD_CHECK(body == 3 || !detail::is_digit(input[3]));
        SD_CHECK(r.continued == (body > 3 && input[3] == '-'));
    }
    SD_CHECK(!((r.problems & kBadEnhanced) && r.enhanced.present()));
    SD_CHECK(!(r.problems & kBadEnhanced) || !r.enhanced_text.empty());

    char buf[kEnhancedBufferSize];
    const std::string_view formatted = format_enhanced(r.enhanced, buf, sizeof buf);
    if (r.enhanced.present()) {
        const unsigned k = r.enhanced.klass;
        SD_CHECK(k == 2 || k == 4 || k == 5);
        SD_CHECK(r.enhanced.subject <= 999 && r.enhanced.detail <= 999);
        EnhancedCode again;
        SD_CHECK(parse_enhanced_code(r.enhanced_text, again) == EnhancedParse::valid);
        SD_CHECK(again == r.enhanced);
        // No leading zeros are accepted, so formatting gives the token back.
        SD_CHECK(formatted == r.enhanced_text);
        SD_CHECK(formatted.size() < sizeof buf && buf[formatted.size()] == '\0');
    } else {
        SD_CHECK(formatted.empty());
    }

    // Knowledge look-ups with the whole text as one piece ...
    std::string lowered;
    append_lower(lowered, r.text);  // as the session keeps reply text
    const std::string_view one[1] = {lowered};
    check_knowledge(r.code, r.enhanced, ReplyText{one, 1});

    // ... and split at '\r' into several pieces (as lines of one reply).
    std::vector<std::string_view> pieces;
    std::string_view rest = lowered;
    while (pieces.size() < 64) {
        const std::size_t cr = rest.find('\r');
        pieces.push_back(rest.substr(0, cr));
        if (cr == std::string_view::npos)
            break;
        rest.remove_prefix(cr + 1);
    }
    const ReplyText multi{pieces.data(), pieces.size()};
    check_knowledge(r.code, r.enhanced, multi);

    // Differential check of the case-insensitive search: the needle is the
    // lower-cased tail of the input.
    if (size == 0)
        return 0;
    std::string needle(input.substr(size - std::min<std::size_t>(size, 1 + data[0] % 8)));
    for (char& c : needle)
        c = lower(c);
    SD_CHECK(contains_nocase(input, needle) == naive_contains(input, needle));
    {
        const std::string_view hay = input.substr(1, size / 2);
        SD_CHECK(contains_nocase(hay, needle) == naive_contains(hay, needle));
    }
    // ReplyText (lower-cased pieces, pair bitmap) agrees with a naive search
    // of every piece, with a fresh text and with one already indexed.
    bool any = needle.empty();
    for (std::string_view piece : pieces)
        any = any || naive_contains(piece, needle);
    const ReplyText fresh{pieces.data(), pieces.size()};
    SD_CHECK(fresh.contains(needle) == any);
    SD_CHECK(multi.contains(needle) == any);
    const ReplyText fresh_signed{pieces.data(), pieces.size()};
    SD_CHECK(fresh_signed.contains(needle, pair_signature(needle)) == any);
    SD_CHECK(multi.contains(needle, pair_signature(needle)) == any);
    return 0;
}
