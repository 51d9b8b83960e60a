// A site's own reply meanings (the "SMTP Delivery site codes" table a user
// edits in Wireshark). They override the built-in table.
#pragma once

#include "smtp_delivery/knowledge.hpp"
#include "smtp_delivery/reply_parser.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace smtp_delivery {

struct SiteRule {
    std::uint16_t code = 0;   // 0 = any basic code
    EnhancedCode enhanced;    // klass 0 = any enhanced code
    std::string text;         // lower-case substring of the reply text; empty = any
    std::string meaning;
    Cause cause = Cause::none;
    std::string advice;
};

inline Cause cause_from_label(std::string_view label) noexcept
{
    for (const CauseRow& row : kCauses)
        if (!row.label.empty() && row.label == label)
            return row.cause;
    return Cause::none;
}

namespace detail {

inline std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace detail

// Checks one row as typed; returns an empty string when it is valid (and
// fills `out`), otherwise why it is not.
inline std::string parse_site_rule(std::string_view code, std::string_view enhanced, std::string_view text,
                                   std::string_view meaning, std::string_view cause, std::string_view advice,
                                   SiteRule& out)
{
    out = SiteRule{};
    code = detail::trim(code);
    enhanced = detail::trim(enhanced);
    text = detail::trim(text);
    cause = detail::trim(cause);
    if (!code.empty()) {
        const ReplyLine r = parse_reply_line(std::string(code) + "\r\n");
        if (code.size() != 3 || !r.has_code() || (r.problems & kCodeOutOfRange))
            return "reply code must be three digits from 200 to 559, e.g. 421 (got \"" + std::string(code) + "\")";
        out.code = r.code;
    }
    if (!enhanced.empty()) {
        if (parse_enhanced_code(enhanced, out.enhanced) != EnhancedParse::valid)
            return "enhanced code must look like 4.7.1 (class 2, 4 or 5; parts of 1-3 digits), got \"" +
                   std::string(enhanced) + "\"";
    }
    if (out.code == 0 && !out.enhanced.present() && text.empty())
        return "give at least one of: reply code, enhanced code, text pattern";
    if (detail::trim(meaning).empty())
        return "meaning must not be empty";
    if (!cause.empty()) {
        out.cause = cause_from_label(cause);
        if (out.cause == Cause::none) {
            std::string known;
            for (const CauseRow& row : kCauses)
                if (!row.label.empty())
                    known += (known.empty() ? "" : ", ") + std::string(row.label);
            return "unknown cause \"" + std::string(cause) + "\" (one of: " + known + ")";
        }
    }
    for (char c : text)
        out.text.push_back(detail::ascii_lower(c));
    out.meaning = std::string(detail::trim(meaning));
    out.advice = std::string(detail::trim(advice));
    return {};
}

class SiteRules {
public:
    void clear() { rules_.clear(); }
    void add(SiteRule rule) { rules_.push_back(std::make_shared<const SiteRule>(std::move(rule))); }
    std::size_t size() const noexcept { return rules_.size(); }

    // The first rule, in table order, whose keys all match.
    std::shared_ptr<const SiteRule> match(unsigned code, const EnhancedCode& e, const ReplyText& text) const
    {
        for (const auto& r : rules_) {
            if (r->code && r->code != code)
                continue;
            if (r->enhanced.present() && r->enhanced != e)
                continue;
            if (!r->text.empty() && !text.contains(r->text))
                continue;
            return r;
        }
        return nullptr;
    }

private:
    std::vector<std::shared_ptr<const SiteRule>> rules_;
};

}  // namespace smtp_delivery
