// What a stalled message transfer looks like from the sending MTA, and what
// fixes a Path-MTU black hole. Shown with every stall and black-hole verdict.
#pragma once

#include "smtp_delivery/types.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace smtp_delivery {

// How sending MTAs report a transfer that stalls in the message body.
inline constexpr std::array<std::string_view, 4> kStallMtaLogs = {
    "GroupWise GWIA: 420 TCP write error",
    "Postfix and most MTAs: 421 4.4.2 timeout / conversation timed out while sending message body",
    "Exchange: 451 4.4.0 / 4.4.2 connection dropped, message retried later",
    "Sendmail: timeout writing message",
};

// Fixes, most preferable first.
inline constexpr std::array<std::string_view, 5> kBlackholeFixes = {
    "let ICMP type 3 code 4 (IPv4) and ICMPv6 type 2 (packet too big) through every firewall on the path",
    "clamp the TCP MSS on the router in front of the narrow link (e.g. nft 'tcp flags syn tcp option maxseg size set rt mtu')",
    "lower the sending interface MTU to what the path carries",
    "enable packetization-layer PMTU discovery on the sender (Linux: sysctl net.ipv4.tcp_mtu_probing=1)",
    "last resort: turn off PMTU discovery on the sender (Linux: sysctl net.ipv4.ip_no_pmtu_disc=1)",
};

namespace detail {

template <std::size_t N>
constexpr bool all_whole_literals(const std::array<std::string_view, N>& texts) noexcept
{
    for (std::string_view t : texts)
        if (!whole_literal(t)) return false;
    return true;
}

}  // namespace detail

static_assert(detail::all_whole_literals(kStallMtaLogs) && detail::all_whole_literals(kBlackholeFixes),
              "the texts must each view a whole string literal: the plugin hands their data() to Wireshark as C strings");

}  // namespace smtp_delivery
