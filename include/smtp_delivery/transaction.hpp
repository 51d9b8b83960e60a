// What happened to one message: envelope, recipients with their replies, and
// the outcome a mail engineer triages by.
#pragma once

#include "smtp_delivery/net.hpp"
#include "smtp_delivery/types.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtp_delivery {

enum class Outcome : std::uint8_t {
    none = 0,
    accepted = 1,  // the server took the message (2xx after the body)
    deferred = 2,  // a 4xx ended the transaction: the sender will retry
    rejected = 3,  // a 5xx ended it: the message bounces
    stalled = 4,   // the body never got its reply (black hole, timeout)
    aborted = 5,   // RSET/QUIT or a closed connection before the end of data
};

constexpr std::string_view outcome_label(Outcome o) noexcept
{
    switch (o) {
    case Outcome::accepted: return "accepted";
    case Outcome::deferred: return "deferred";
    case Outcome::rejected: return "rejected";
    case Outcome::stalled: return "stalled";
    case Outcome::aborted: return "aborted";
    default: return "";
    }
}

struct RecipientResult {
    std::string address;
    std::uint16_t code = 0;  // 0 = no reply seen
    EnhancedCode enhanced;
};

struct TransactionSummary {
    Outcome outcome = Outcome::none;
    IpAddress client, server;
    std::uint16_t client_port = 0, server_port = 0;
    bool after_stall = false;  // an earlier summary of this transaction said "stalled"
    std::string ehlo;
    bool tls = false;
    std::string mail_from;
    std::vector<RecipientResult> recipients;
    std::uint32_t recipients_dropped = 0;  // beyond kMaxRecipients
    std::uint16_t final_code = 0;          // reply that decided the outcome
    EnhancedCode final_enhanced;
    std::uint32_t mail_frame = 0;          // frame of MAIL FROM
};

inline constexpr std::size_t kMaxRecipients = 64;
inline constexpr std::size_t kMaxAddress = 256;

// The argument of "MAIL FROM:<x>" / "RCPT TO:<x>": the path, bounded.
inline std::string envelope_address(std::string_view args)
{
    const std::size_t colon = args.find(':');
    std::string_view a = args;
    if (colon != std::string_view::npos) {
        a = args.substr(colon + 1);
    } else if (const std::size_t sp = args.find(' '); sp != std::string_view::npos) {
        a = args.substr(sp + 1);  // "MAIL FROM x" without the colon
    }
    while (!a.empty() && a.front() == ' ')
        a.remove_prefix(1);
    if (!a.empty() && a.front() == '<') {
        const std::size_t close = a.find('>');
        a = close == std::string_view::npos ? a.substr(1) : a.substr(1, close - 1);
    } else {
        const std::size_t sp = a.find(' ');
        if (sp != std::string_view::npos)
            a = a.substr(0, sp);
    }
    return std::string(a.substr(0, kMaxAddress));
}

}  // namespace smtp_delivery
