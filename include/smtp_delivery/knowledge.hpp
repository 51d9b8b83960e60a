// Look-ups into the compiled-in code knowledge (code_table.hpp) and the
// reading of a reply's likely cause.
#pragma once

#include "smtp_delivery/code_table.hpp"
#include "smtp_delivery/types.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace smtp_delivery {

namespace detail {

constexpr char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace detail

// Case-insensitive search of a lower-case needle in arbitrary text.
inline bool contains_nocase(std::string_view haystack, std::string_view lower_needle) noexcept
{
    if (lower_needle.empty())
        return true;
    if (haystack.size() < lower_needle.size())
        return false;
    const char first = lower_needle[0];
    const std::size_t last = haystack.size() - lower_needle.size();
    for (std::size_t i = 0; i <= last; ++i) {
        if (detail::ascii_lower(haystack[i]) != first)
            continue;
        std::size_t k = 1;
        while (k < lower_needle.size() && detail::ascii_lower(haystack[i + k]) == lower_needle[k])
            ++k;
        if (k == lower_needle.size())
            return true;
    }
    return false;
}

inline const BasicCodeRow* find_basic_code(unsigned code) noexcept
{
    const auto it = std::lower_bound(kBasicCodes.begin(), kBasicCodes.end(), code,
                                     [](const BasicCodeRow& row, unsigned c) { return row.code < c; });
    return (it != kBasicCodes.end() && it->code == code) ? &*it : nullptr;
}

inline std::string_view class_meaning(unsigned class_digit) noexcept
{
    for (const auto& row : kClassMeanings)
        if (row.subject == class_digit)
            return row.meaning;
    return {};
}

inline std::string_view subject_meaning(unsigned subject) noexcept
{
    for (const auto& row : kSubjects)
        if (row.subject == subject)
            return row.meaning;
    return {};
}

// Registry entry for an enhanced code: a class-specific row first, then the
// registry's X.s.d row.
inline const EnhancedCodeRow* find_enhanced_code(const EnhancedCode& e) noexcept
{
    if (!e.present())
        return nullptr;
    auto less = [](const EnhancedCodeRow& row, const EnhancedCode& k) {
        if (row.klass != k.klass)
            return row.klass < k.klass;
        if (row.subject != k.subject)
            return row.subject < k.subject;
        return row.detail < k.detail;
    };
    for (std::uint8_t klass : {e.klass, std::uint8_t{0}}) {
        const EnhancedCode key{klass, e.subject, e.detail};
        const auto it = std::lower_bound(kEnhancedCodes.begin(), kEnhancedCodes.end(), key, less);
        if (it != kEnhancedCodes.end() && it->klass == klass && it->subject == e.subject &&
            it->detail == e.detail)
            return &*it;
    }
    return nullptr;
}

// Appends `s` lower-cased (ASCII), the form ReplyText searches.
inline void append_lower(std::string& out, std::string_view s)
{
    const std::size_t at = out.size();
    out.append(s);
    for (std::size_t i = at; i < out.size(); ++i)
        out[i] = detail::ascii_lower(out[i]);
}

// Where the pair of adjacent characters (a, b) lands in ReplyText's pair
// bitmap (4096 bits) and, folded, in a PairSignature (256 bits).
constexpr std::size_t pair_bit(char a, char b) noexcept
{
    return (static_cast<unsigned char>(a) * 67u + static_cast<unsigned char>(b)) & 4095u;
}

// The character pairs of a needle, folded into 256 bits. Precomputed for the
// cause rules: a needle one of whose pairs the text lacks is skipped with
// four word comparisons, before any per-character work.
struct PairSignature {
    std::array<std::uint64_t, 4> words{};

    constexpr void add(char a, char b) noexcept
    {
        const std::size_t bit = pair_bit(a, b) & 255u;
        words[bit / 64] |= std::uint64_t{1} << (bit % 64);
    }
    constexpr bool within(const PairSignature& other) const noexcept
    {
        return (words[0] & ~other.words[0]) == 0 && (words[1] & ~other.words[1]) == 0 &&
               (words[2] & ~other.words[2]) == 0 && (words[3] & ~other.words[3]) == 0;
    }
};

constexpr PairSignature pair_signature(std::string_view s) noexcept
{
    PairSignature sig;
    for (std::size_t k = 1; k < s.size(); ++k)
        sig.add(s[k - 1], s[k]);
    return sig;
}

// A signature folded once more, onto 64 bits (a needle's pairs within a
// text's stay within after folding): a first test whose table of a few
// hundred rows fits in a few cache lines.
constexpr std::uint64_t folded(const PairSignature& s) noexcept
{
    return s.words[0] | s.words[1] | s.words[2] | s.words[3];
}

// Text of a reply, possibly spread over several lines, already lower-cased
// (append_lower) so that the hundreds of look-ups per failure are plain
// substring searches. Pieces are searched one by one, so a wording counts
// only within one line (the session keeps a reply's lines in one buffer,
// separated by a line feed, which no needle contains: one piece suffices).
//
// A failure is checked against a few hundred needles, and most share few
// pairs of adjacent characters with the text. A bitmap of the text's
// character pairs, built on the first search, rejects a needle as soon as
// one of its pairs is missing, before any search of the text; a needle's
// precomputed signature rejects most of them sooner still.
struct ReplyText {
    const std::string_view* pieces = nullptr;  // lower-case
    std::size_t count = 0;

    ReplyText() = default;
    ReplyText(const std::string_view* p, std::size_t n) noexcept : pieces(p), count(n) {}

    bool contains(std::string_view lower_needle) const noexcept
    {
        if (lower_needle.size() >= 2) {
            if (!indexed_)
                index();
            for (std::size_t k = 1; k < lower_needle.size(); ++k)
                if (!has_pair(lower_needle[k - 1], lower_needle[k]))
                    return false;
        }
        for (std::size_t i = 0; i < count; ++i)
            if (pieces[i].find(lower_needle) != std::string_view::npos)
                return true;
        return lower_needle.empty();
    }

    // The same answer, `needle_pairs` being pair_signature(lower_needle).
    bool contains(std::string_view lower_needle, const PairSignature& needle_pairs) const noexcept
    {
        if (!indexed_)
            index();
        return needle_pairs.within(signature_) && contains(lower_needle);
    }

    // folded() of the text's signature: a needle whose folded signature
    // has a bit this lacks is not in the text.
    std::uint64_t folded_signature() const noexcept
    {
        if (!indexed_)
            index();
        return folded(signature_);
    }

private:
    bool has_pair(char a, char b) const noexcept
    {
        const std::size_t bit = pair_bit(a, b);
        return (pairs_[bit / 64] >> (bit % 64)) & 1u;
    }
    void index() const noexcept
    {
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t k = 1; k < pieces[i].size(); ++k) {
                const std::size_t bit = pair_bit(pieces[i][k - 1], pieces[i][k]);
                pairs_[bit / 64] |= std::uint64_t{1} << (bit % 64);
            }
        // The signature is the bitmap folded onto 256 bits.
        for (std::size_t w = 0; w < pairs_.size(); ++w)
            signature_.words[w % 4] |= pairs_[w];
        indexed_ = true;
    }

    mutable std::array<std::uint64_t, 4096 / 64> pairs_{};
    mutable PairSignature signature_;
    mutable bool indexed_ = false;
};

namespace detail {
template <typename Rows, typename Needle>
constexpr std::array<PairSignature, std::tuple_size<Rows>::value> pair_signatures(const Rows& rows, Needle needle) noexcept
{
    std::array<PairSignature, std::tuple_size<Rows>::value> out{};
    for (std::size_t i = 0; i < rows.size(); ++i)
        out[i] = pair_signature(needle(rows[i]));
    return out;
}

template <typename T, typename Rows, typename Column>
constexpr std::array<T, std::tuple_size<Rows>::value> column(const Rows& rows, Column take) noexcept
{
    std::array<T, std::tuple_size<Rows>::value> out{};
    for (std::size_t i = 0; i < rows.size(); ++i)
        out[i] = take(rows[i]);
    return out;
}
}  // namespace detail

// Pair signatures of the text keys of the vendor rows and cause rules, row for row.
inline constexpr auto kVendorTextPairs =
    detail::pair_signatures(kVendorRows, [](const VendorRow& r) constexpr { return r.text_contains; });
inline constexpr auto kCauseTextPairs =
    detail::pair_signatures(kCauseTextRules, [](const CauseTextRule& r) constexpr { return r.needle; });

// Narrow columns of the two tables, scanned first on every failure so that
// the wide rows are read only where they can match: the vendor rows' codes,
// and the cause rules' classes (bit c set for each class c the rule covers)
// and folded needle signatures.
inline constexpr auto kVendorCodes =
    detail::column<std::uint16_t>(kVendorRows, [](const VendorRow& r) constexpr { return r.code; });
inline constexpr auto kCauseRuleClasses = detail::column<std::uint16_t>(
    kCauseTextRules, [](const CauseTextRule& r) constexpr {
        std::uint16_t bits = 0;
        for (unsigned c = r.min_class; c <= r.max_class && c < 16; ++c)
            bits = static_cast<std::uint16_t>(bits | (1u << c));
        return bits;
    });
inline constexpr auto kCauseTextFolded = detail::column<std::uint64_t>(
    kCauseTextPairs, [](const PairSignature& p) constexpr { return folded(p); });

// Row `i` of kVendorRows. Its code is read from the narrow column, so a row
// for another code is ruled out without reading the row itself.
inline bool vendor_row_matches(std::size_t i, unsigned code, const EnhancedCode& e, const ReplyText& text) noexcept
{
    if (kVendorCodes[i] != 0 && kVendorCodes[i] != code)
        return false;
    const VendorRow& row = kVendorRows[i];
    if (row.enhanced.klass != 0) {
        if (!e.present() || e.klass != row.enhanced.klass || e.subject != row.enhanced.subject)
            return false;
        const unsigned hi = row.detail_max > row.enhanced.detail ? row.detail_max : row.enhanced.detail;
        if (e.detail < row.enhanced.detail || e.detail > hi)
            return false;
    }
    if (row.code == 0 && row.enhanced.klass == 0 && row.text_contains.empty())
        return false;  // a row with no key would match everything
    return text.contains(row.text_contains, kVendorTextPairs[i]);
}

inline const VendorRow* find_vendor(unsigned code, const EnhancedCode& e, const ReplyText& text) noexcept
{
    for (std::size_t i = 0; i < kVendorRows.size(); ++i)
        if (vendor_row_matches(i, code, e, text))
            return &kVendorRows[i];
    return nullptr;
}

// Cause implied by the basic code alone, for failures whose text and
// enhanced code say nothing more specific.
constexpr Cause cause_from_basic_code(unsigned code) noexcept
{
    switch (code) {
    case 420: return Cause::timeout;
    case 421: return Cause::service_unavailable;
    case 451: return Cause::server_error;
    case 452: return Cause::server_error;
    case 454: return Cause::tls_required;
    case 500: case 501: case 502: case 503: case 504: case 555: return Cause::syntax;
    case 521: case 556: return Cause::service_unavailable;
    case 530: return Cause::auth_required;
    case 534: case 535: return Cause::auth_failed;
    case 538: return Cause::tls_required;
    case 552: return Cause::message_too_large;
    case 553: return Cause::syntax;
    case 554: return Cause::policy;
    default: return Cause::none;
    }
}

// The likely cause of a reply. Success and intermediate replies have none.
// Order of evidence: a vendor reading, the reply text, the enhanced code's
// registry entry, then the basic code.
inline Cause classify_cause(unsigned code, const EnhancedCode& e, const ReplyText& text,
                            const VendorRow* vendor) noexcept
{
    if (!is_failure(code))
        return Cause::none;
    const unsigned klass = code / 100;
    if (vendor && vendor->cause != Cause::none)
        return vendor->cause;
    const unsigned class_bit = klass < 16 ? 1u << klass : 0u;
    const std::uint64_t text_bits = text.folded_signature();
    for (std::size_t i = 0; i < kCauseTextRules.size(); ++i) {
        if (!(kCauseRuleClasses[i] & class_bit) || (kCauseTextFolded[i] & ~text_bits) != 0)
            continue;
        const CauseTextRule& rule = kCauseTextRules[i];
        if (text.contains(rule.needle, kCauseTextPairs[i]))
            return rule.cause;
    }
    if (const EnhancedCodeRow* row = find_enhanced_code(e); row && row->cause != Cause::none)
        return row->cause;
    return cause_from_basic_code(code);
}

inline const CauseRow& cause_row(Cause c) noexcept
{
    const auto i = static_cast<std::size_t>(c);
    return kCauses[i < kCauses.size() ? i : 0];
}

inline std::string_view cause_label(Cause c) noexcept { return cause_row(c).label; }

}  // namespace smtp_delivery
