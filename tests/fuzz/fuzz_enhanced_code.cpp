// Fuzzes parse_enhanced_code and format_enhanced.
//
// Mode byte (first input byte):
//   even: the rest is a token for parse_enhanced_code; a valid code must
//         format back to the token in any buffer of at least the documented
//         minimum size (kEnhancedBufferSize), and never write past a
//         smaller one.
//   odd:  the rest is a raw EnhancedCode (klass, subject, detail as any
//         values the struct can hold), formatted into a heap buffer of
//         exactly the documented minimum size (kEnhancedBufferSize), so ASan
//         sees any overrun; the whole text must come back.
#include "fuzz_common.hpp"

#include "smtp_delivery/reply_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

using namespace smtp_delivery;

namespace {

// Independent reading of RFC 3463's grammar:
//   class "." subject "." detail; class = "2" / "4" / "5";
//   subject, detail = 1*3digit without leading zeros.
bool reference_valid(std::string_view t)
{
    auto part = [](std::string_view p) {
        if (p.empty() || p.size() > 3)
            return false;
        for (char c : p)
            if (c < '0' || c > '9')
                return false;
        return !(p.size() > 1 && p[0] == '0');
    };
    const std::size_t d1 = t.find('.');
    if (d1 != 1)
        return false;
    const std::size_t d2 = t.find('.', d1 + 1);
    if (d2 == std::string_view::npos || t.find('.', d2 + 1) != std::string_view::npos)
        return false;
    return (t[0] == '2' || t[0] == '4' || t[0] == '5') && part(t.substr(2, d2 - 2)) && part(t.substr(d2 + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t mode = data[0];
    ++data;
    --size;

    if ((mode & 1) == 0) {
        const std::string_view token(reinterpret_cast<const char*>(data), size);
        EnhancedCode e;
        const EnhancedParse p = parse_enhanced_code(token, e);
        SD_CHECK((p == EnhancedParse::valid) == reference_valid(token));
        if (p == EnhancedParse::not_enhanced) {
            // Only tokens of digits and dots starting "d." are attempts.
            bool digits_dots = size >= 2 && token[0] >= '0' && token[0] <= '9' && token[1] == '.';
            for (char c : token)
                if (c != '.' && (c < '0' || c > '9'))
                    digits_dots = false;
            SD_CHECK(!digits_dots);
        }
        if (p != EnhancedParse::valid)
            return 0;
        SD_CHECK(e.present());
        SD_CHECK(e.subject <= 999 && e.detail <= 999);
        // Every buffer size up to the documented minimum and a little more:
        // the text comes back whole or not at all, never beyond the buffer
        // (a heap block of exactly that size); from the minimum on, whole.
        for (std::size_t room = 0; room <= kEnhancedBufferSize + 2; ++room) {
            auto buf = std::make_unique<char[]>(room ? room : 1);
            const std::string_view f = format_enhanced(e, buf.get(), room);
            if (room >= kEnhancedBufferSize)
                SD_CHECK(f == token);
            else
                SD_CHECK(f.empty() || (f == token && f.size() < room));
        }
        return 0;
    }

    // Raw struct values.
    EnhancedCode e;
    if (size >= 1)
        e.klass = data[0];
    if (size >= 3)
        e.subject = static_cast<std::uint16_t>(data[1] | (data[2] << 8));
    if (size >= 5)
        e.detail = static_cast<std::uint16_t>(data[3] | (data[4] << 8));
    const std::size_t room = kEnhancedBufferSize;  // the documented minimum
    auto buf = std::make_unique<char[]>(room);
    const std::string_view f = format_enhanced(e, buf.get(), room);
    if (!e.present()) {
        SD_CHECK(f.empty());
        return 0;
    }
    const std::string expect =
        std::to_string(e.klass) + "." + std::to_string(e.subject) + "." + std::to_string(e.detail);
    SD_CHECK(f == expect && f.size() < room);
    // One byte less than the minimum: nothing (or the whole text), never
    // more than the buffer.
    auto small = std::make_unique<char[]>(room - 1);
    const std::string_view g = format_enhanced(e, small.get(), room - 1);
    SD_CHECK(g.empty() || (g == expect && g.size() < room - 1));
    return 0;
}
