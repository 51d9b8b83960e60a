// Row types of the compiled-in code knowledge (code_table.hpp holds the rows).
#pragma once

#include "smtp_delivery/types.hpp"

#include <cstdint>
#include <string_view>

namespace smtp_delivery {

// A basic reply code (RFC 5321 and extensions, plus well-known non-standard
// codes such as GroupWise 420).
struct BasicCodeRow {
    std::uint16_t code;
    std::string_view meaning;  // our own words, one short sentence
    std::string_view source;   // "RFC 5321", "RFC 4954", "GroupWise", ...
};

// One entry of the IANA enhanced status code registry (class given as X),
// or a class-specific vendor code when klass != 0.
struct EnhancedCodeRow {
    std::uint8_t klass;  // 0 = X (any class)
    std::uint16_t subject;
    std::uint16_t detail;
    std::string_view meaning;  // our own words
    Cause cause;               // typical cause when the text says nothing better
};

// Meaning of the subject digit (X.s.YYY) and of the class digit.
struct SubjectRow {
    std::uint16_t subject;
    std::string_view meaning;
};

// A vendor or provider specific reading of a reply. A row matches when every
// given key matches: code (0 = any), enhanced (klass 0 = any; subject/detail
// compared when klass != 0; detail_max > detail gives a range), and
// text_contains (lower-case substring of the reply text; empty = any).
struct VendorRow {
    std::string_view vendor;  // "GroupWise", "Microsoft Exchange", "Microsoft 365", "Gmail", "Telstra BigPond", ...
    std::uint16_t code;
    EnhancedCode enhanced;
    std::uint16_t detail_max;  // 0 = exactly enhanced.detail
    std::string_view text_contains;
    std::string_view meaning;  // our own words
    Cause cause;
};

// A rule that reads the cause from the reply text. The first matching rule
// in table order wins, so specific wordings come before generic ones.
// A rule matches when the reply class is in [min_class, max_class] and the
// lower-cased text contains `needle`.
struct CauseTextRule {
    std::string_view needle;
    Cause cause;
    std::uint8_t min_class;  // 2..5
    std::uint8_t max_class;  // 2..5
};

// Label, description and advice for each cause. `advice` may contain the
// placeholders {client} and {server} (IP addresses of the SMTP client and
// server), replaced when shown.
struct CauseRow {
    Cause cause;
    std::string_view label;  // filter value, e.g. "rate-limit"
    std::string_view description;
    std::string_view advice;
};

}  // namespace smtp_delivery
