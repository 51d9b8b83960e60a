// Parsing of the IPv4/IPv6, TCP and ICMP headers the black-hole detector
// needs, from raw bytes. Every read is bounds-checked against the span.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

// Marks code that runs rarely (a verdict, a connection's start or end): the
// compiler moves it out of the per-packet path, which then fits in fewer
// instruction-cache lines. Code run once per packet is fetched anew for
// every packet, so its size costs time as much as its instruction count.
#if defined(__GNUC__) || defined(__clang__)
#define SD_COLD __attribute__((cold, noinline))
#define SD_NOINLINE __attribute__((noinline))
#else
#define SD_COLD
#define SD_NOINLINE
#endif

namespace smtp_delivery {

struct Bytes {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;

    bool has(std::size_t off, std::size_t n) const noexcept { return off <= size && n <= size - off; }
    std::uint8_t u8(std::size_t off) const noexcept { return data[off]; }
    std::uint16_t u16(std::size_t off) const noexcept
    {
        return static_cast<std::uint16_t>((data[off] << 8) | data[off + 1]);
    }
    std::uint32_t u32(std::size_t off) const noexcept
    {
        return (std::uint32_t{data[off]} << 24) | (std::uint32_t{data[off + 1]} << 16) |
               (std::uint32_t{data[off + 2]} << 8) | std::uint32_t{data[off + 3]};
    }
    Bytes from(std::size_t off) const noexcept
    {
        return off <= size ? Bytes{data + off, size - off} : Bytes{};
    }
};

// An IP address of either family, comparable and hashable.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t family = 0;  // 4 or 6; 0 = none

    // The address as two 64-bit words. Every TCP segment compares and
    // orders addresses, so this stays inline (two loads) instead of calling
    // the C library's memcmp.
    std::uint64_t word(std::size_t i) const noexcept
    {
        std::uint64_t w;
        std::memcpy(&w, bytes.data() + 8 * i, sizeof w);
        return w;
    }

    friend bool operator==(const IpAddress& a, const IpAddress& b) noexcept
    {
        return ((a.word(0) ^ b.word(0)) | (a.word(1) ^ b.word(1))) == 0 && a.family == b.family;
    }
    friend bool operator!=(const IpAddress& a, const IpAddress& b) noexcept { return !(a == b); }
};

// The byte order of the address bytes (what memcmp would say): negative,
// zero or positive.
inline int compare_bytes(const IpAddress& a, const IpAddress& b) noexcept
{
    for (std::size_t i = 0; i < 2; ++i) {
        const std::uint64_t x = a.word(i), y = b.word(i);
        if (x != y) {
#if defined(__GNUC__) || defined(__clang__)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
#else
            return x < y ? -1 : 1;
#endif
#else
            return std::memcmp(a.bytes.data() + 8 * i, b.bytes.data() + 8 * i, 8);
#endif
        }
    }
    return 0;
}

struct IpHeader {
    IpAddress src, dst;
    std::uint32_t packet_length = 0;  // whole IP packet as the header claims it
    std::uint32_t header_length = 0;  // IPv4 header with options; IPv6 header with extension headers
    std::uint8_t protocol = 0;        // transport protocol (IPv6: after the extension headers)
    bool dont_fragment = false;       // IPv4 DF, always true for IPv6 (routers never fragment)
    bool fragment = false;            // a fragment (offset or MF set)
};

// Walks the IPv6 extension headers after the fixed header (at most 8, as far
// as the bytes go): `out.protocol` becomes the transport protocol and
// `out.header_length` the offset of the transport header. A chain cut short
// leaves an extension-header number in `out.protocol`, which no caller reads
// as a transport.
inline void skip_ipv6_extensions(Bytes b, std::uint8_t next, IpHeader& out) noexcept
{
    std::size_t off = 40;
    for (int i = 0; i < 8; ++i) {
        std::size_t len = 0;
        if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
            if (!b.has(off, 2))
                break;
            len = (std::size_t{b.u8(off + 1)} + 1) * 8;
        } else if (next == 44) {  // fragment: offset or more-fragments set
            if (!b.has(off, 8))
                break;
            out.fragment = out.fragment || (b.u16(off + 2) & 0xfff9u) != 0;
            len = 8;
        } else if (next == 51) {  // authentication header
            if (!b.has(off, 2))
                break;
            len = (std::size_t{b.u8(off + 1)} + 2) * 4;
        } else {
            break;
        }
        next = b.u8(off);
        off += len;
    }
    out.protocol = next;
    out.header_length = static_cast<std::uint32_t>(off);
}

// Parses an IPv4 or IPv6 header; returns false when it is not one.
inline bool parse_ip(Bytes b, IpHeader& out) noexcept
{
    if (!b.has(0, 1))
        return false;
    const unsigned version = b.u8(0) >> 4;
    if (version == 4) {
        if (!b.has(0, 20))
            return false;
        const unsigned ihl = (b.u8(0) & 0x0fu) * 4u;
        if (ihl < 20)
            return false;
        out = IpHeader{};
        out.header_length = ihl;
        out.packet_length = b.u16(2);
        const std::uint16_t frag = b.u16(6);
        out.dont_fragment = (frag & 0x4000u) != 0;
        out.fragment = (frag & 0x3fffu) != 0;
        out.protocol = b.u8(9);
        out.src.family = out.dst.family = 4;
        std::memcpy(out.src.bytes.data(), b.data + 12, 4);
        std::memcpy(out.dst.bytes.data(), b.data + 16, 4);
        return true;
    }
    if (version == 6) {
        if (!b.has(0, 40))
            return false;
        out = IpHeader{};
        out.header_length = 40;
        out.packet_length = 40u + b.u16(4);
        out.dont_fragment = true;
        out.src.family = out.dst.family = 6;
        std::memcpy(out.src.bytes.data(), b.data + 8, 16);
        std::memcpy(out.dst.bytes.data(), b.data + 24, 16);
        skip_ipv6_extensions(b, b.u8(6), out);
        return true;
    }
    return false;
}

enum TcpFlag : std::uint16_t {
    kFin = 0x01,
    kSyn = 0x02,
    kRst = 0x04,
    kPsh = 0x08,
    kAck = 0x10,
};

struct SackBlock {
    std::uint32_t left = 0, right = 0;
};

struct TcpHeader {
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint16_t flags = 0;
    std::uint16_t window = 0;          // raw, unscaled
    std::uint32_t header_length = 0;
    std::uint16_t mss = 0;             // MSS option, 0 when absent
    std::uint8_t sack_count = 0;
    std::array<SackBlock, 4> sack{};
};

// Parses a TCP header with its options (options may be cut short by the
// capture; what is there is read).
inline bool parse_tcp(Bytes b, TcpHeader& out) noexcept
{
    if (!b.has(0, 20))
        return false;
    out = TcpHeader{};
    out.src_port = b.u16(0);
    out.dst_port = b.u16(2);
    out.seq = b.u32(4);
    out.ack = b.u32(8);
    out.header_length = (b.u8(12) >> 4) * 4u;
    out.flags = static_cast<std::uint16_t>(b.u16(12) & 0x01ffu);
    out.window = b.u16(14);
    if (out.header_length < 20)
        return false;
    std::size_t off = 20;
    const std::size_t end = out.header_length < b.size ? out.header_length : b.size;
    while (off < end) {
        const std::uint8_t kind = b.u8(off);
        if (kind == 0)
            break;
        if (kind == 1) {
            ++off;
            continue;
        }
        if (off + 1 >= end)
            break;
        const std::uint8_t len = b.u8(off + 1);
        if (len < 2 || off + len > end)
            break;
        if (kind == 2 && len == 4) {
            out.mss = b.u16(off + 2);
        } else if (kind == 5 && len >= 10) {
            for (std::size_t p = off + 2; p + 8 <= off + len && out.sack_count < out.sack.size(); p += 8)
                out.sack[out.sack_count++] = SackBlock{b.u32(p), b.u32(p + 4)};
        }
        off += len;
    }
    return true;
}

// An ICMP "fragmentation needed" or ICMPv6 "packet too big", with the TCP
// flow it quotes.
struct PacketTooBig {
    std::uint32_t mtu = 0;
    IpAddress src, dst;          // of the quoted (offending) packet
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0;
    std::uint32_t quoted_length = 0;  // IP length of the offending packet
};

// Parses an ICMP (family 4) or ICMPv6 (family 6) message; true only for a
// too-big error quoting TCP.
inline bool parse_packet_too_big(Bytes b, int family, PacketTooBig& out) noexcept
{
    if (!b.has(0, 8))
        return false;
    out = PacketTooBig{};
    if (family == 4) {
        if (b.u8(0) != 3 || b.u8(1) != 4)
            return false;
        out.mtu = b.u16(6);
    } else {
        if (b.u8(0) != 2 || b.u8(1) != 0)
            return false;
        out.mtu = b.u32(4);
    }
    const Bytes quoted = b.from(8);
    IpHeader ip;
    if (!parse_ip(quoted, ip) || ip.protocol != 6)
        return false;
    const Bytes tcp = quoted.from(ip.header_length);
    if (!tcp.has(0, 8))
        return false;
    out.src = ip.src;
    out.dst = ip.dst;
    out.quoted_length = ip.packet_length;
    out.src_port = tcp.u16(0);
    out.dst_port = tcp.u16(2);
    out.seq = tcp.u32(4);
    return true;
}

// Serial-number arithmetic on 32-bit sequence numbers.
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) < 0; }
constexpr bool seq_le(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) <= 0; }

}  // namespace smtp_delivery
