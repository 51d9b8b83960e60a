// Small value types shared by the smtp-delivery core.
// The core never includes epan headers: it is plain C++17 and can be
// unit-tested and fuzzed on its own.
#pragma once

#include <cstdint>
#include <string_view>

namespace smtp_delivery {

// Whether a compiled-in text views a whole string literal, so that the
// character after it is the literal's terminating NUL and the plugin can hand
// its data() to Wireshark as a C string (an empty view has nothing to hand).
// For static_assert over the tables of texts.
constexpr bool whole_literal(std::string_view s) noexcept
{
    return s.empty() || s.data()[s.size()] == '\0';
}

// First digit of a basic reply code (RFC 5321 section 4.2.1).
enum class ReplyClass : std::uint8_t {
    unknown = 0,
    success = 2,
    intermediate = 3,
    transient = 4,
    permanent = 5,
};

constexpr ReplyClass reply_class_of(unsigned code) noexcept
{
    switch (code / 100) {
    case 2: return ReplyClass::success;
    case 3: return ReplyClass::intermediate;
    case 4: return ReplyClass::transient;
    case 5: return ReplyClass::permanent;
    default: return ReplyClass::unknown;
    }
}

// Transient or permanent: the replies that causes and vendor meanings explain.
constexpr bool is_failure(unsigned code) noexcept
{
    const ReplyClass c = reply_class_of(code);
    return c == ReplyClass::transient || c == ReplyClass::permanent;
}

constexpr std::string_view reply_class_label(ReplyClass c) noexcept
{
    switch (c) {
    case ReplyClass::success: return "success";
    case ReplyClass::intermediate: return "intermediate";
    case ReplyClass::transient: return "transient";
    case ReplyClass::permanent: return "permanent";
    default: return "unknown";
    }
}

// An enhanced status code class.subject.detail (RFC 3463).
// klass == 0 means "absent"; in knowledge tables it means "any class" (X).
struct EnhancedCode {
    std::uint8_t klass = 0;
    std::uint16_t subject = 0;
    std::uint16_t detail = 0;

    constexpr bool present() const noexcept { return klass != 0; }
    friend constexpr bool operator==(const EnhancedCode& a, const EnhancedCode& b) noexcept
    {
        return a.klass == b.klass && a.subject == b.subject && a.detail == b.detail;
    }
    friend constexpr bool operator!=(const EnhancedCode& a, const EnhancedCode& b) noexcept
    {
        return !(a == b);
    }
};

// The likely cause of a reply, read from its code and text.
// Order matters only for the label table below; values are stable because
// they are exported as display-filter values.
enum class Cause : std::uint8_t {
    none = 0,
    greylisting,
    rate_limit,
    blocklist,
    reverse_dns,
    helo,
    mailbox_full,
    message_too_large,
    unknown_recipient,
    relay_denied,
    tls_required,
    auth_required,
    auth_failed,
    policy,
    server_error,
    syntax,
    too_many_recipients,
    timeout,
    too_many_connections,
    sender_rejected,
    spf_dkim_dmarc,
    content_rejected,
    network_error,
    routing,
    service_unavailable,
    count_ // keep last
};

}  // namespace smtp_delivery
