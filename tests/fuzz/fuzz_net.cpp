// Fuzzes the raw-header parsers: parse_ip (IPv6 extension headers included),
// parse_tcp (options included), read_tcp_segment and parse_packet_too_big, on the input as captured bytes. The input is copied
// into a heap block of exactly its size so ASan sees any over-read.
//
// Mode byte (first input byte): bit 0 selects the ICMP family tried first;
// the rest is the packet. Invariants: fixed-header fields match the bytes,
// option results stay within the header, parsing a TCP header cut to 20
// bytes gives the same fixed fields, and the too-big quote matches
// parse_ip + the quoted ports.
#include "fuzz_common.hpp"

#include "smtp_delivery/net.hpp"
#include "smtp_delivery/pmtu.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

using namespace smtp_delivery;

namespace {

void check_ip(Bytes b)
{
    IpHeader ip;
    if (!parse_ip(b, ip))
        return;
    SD_CHECK(b.size >= 20);
    const unsigned version = b.data[0] >> 4;
    SD_CHECK(version == 4 || version == 6);
    SD_CHECK(ip.src.family == version && ip.dst.family == version);
    if (version == 4) {
        SD_CHECK(ip.header_length >= 20 && ip.header_length <= 60 && ip.header_length % 4 == 0);
        SD_CHECK(ip.packet_length == b.u16(2));
        SD_CHECK(std::memcmp(ip.src.bytes.data(), b.data + 12, 4) == 0);
        for (std::size_t i = 4; i < 16; ++i)
            SD_CHECK(ip.src.bytes[i] == 0 && ip.dst.bytes[i] == 0);
    } else {
        SD_CHECK(b.size >= 40);
        SD_CHECK(ip.header_length >= 40 && ip.dont_fragment);
        SD_CHECK(ip.packet_length == 40u + b.u16(4));
        const std::uint8_t first = b.u8(6);
        const bool extension = first == 0 || first == 43 || first == 44 || first == 51 || first == 60;
        if (!extension)
            SD_CHECK(ip.header_length == 40 && !ip.fragment && ip.protocol == first);
    }
    // The whole segment as the glue reads it: payload inside the bytes and
    // never more than the IP header announces.
    Segment seg;
    Bytes payload;
    if (read_tcp_segment(b, seg, payload)) {
        SD_CHECK(seg.ip.protocol == 6 && !seg.ip.fragment);
        SD_CHECK(payload.size <= seg.payload);
        SD_CHECK(!payload.size || (payload.data >= b.data && payload.data + payload.size <= b.data + b.size));
        SD_CHECK(seg.ip.header_length + seg.tcp.header_length + seg.payload <= std::max<std::uint32_t>(seg.ip.packet_length, seg.ip.header_length + seg.tcp.header_length));
    }
    // The TCP header behind it, as the glue reads it.
    TcpHeader tcp;
    const Bytes rest = b.from(ip.header_length);
    SD_CHECK(rest.size <= b.size);
    if (parse_tcp(rest, tcp))
        SD_CHECK(tcp.header_length >= 20);
}

void check_tcp(Bytes b)
{
    TcpHeader tcp;
    const bool ok = parse_tcp(b, tcp);
    if (b.size < 20) {
        SD_CHECK(!ok);
        return;
    }
    if (!ok) {
        SD_CHECK((b.data[12] >> 4) < 5);
        return;
    }
    SD_CHECK(tcp.header_length >= 20 && tcp.header_length <= 60);
    SD_CHECK(tcp.src_port == b.u16(0) && tcp.dst_port == b.u16(2));
    SD_CHECK(tcp.seq == b.u32(4) && tcp.ack == b.u32(8));
    SD_CHECK(tcp.flags <= 0x1ff);
    SD_CHECK(tcp.sack_count <= tcp.sack.size());
    const std::size_t opt_room = (tcp.header_length < b.size ? tcp.header_length : b.size) - 20;
    SD_CHECK(tcp.sack_count * 8u + 2u <= opt_room + 2u);
    if (tcp.mss)
        SD_CHECK(opt_room >= 4);
    // Cut to the fixed header: same fixed fields, no options.
    TcpHeader cut;
    SD_CHECK(parse_tcp(Bytes{b.data, 20}, cut));
    SD_CHECK(cut.src_port == tcp.src_port && cut.seq == tcp.seq && cut.ack == tcp.ack && cut.flags == tcp.flags &&
             cut.window == tcp.window && cut.header_length == tcp.header_length);
    SD_CHECK(cut.mss == 0 && cut.sack_count == 0);
}

void check_ptb(Bytes b, int family)
{
    PacketTooBig ptb;
    if (!parse_packet_too_big(b, family, ptb))
        return;
    SD_CHECK(b.size >= 8 + 20 + 8);
    if (family == 4)
        SD_CHECK(b.data[0] == 3 && b.data[1] == 4 && ptb.mtu == b.u16(6));
    else
        SD_CHECK(b.data[0] == 2 && b.data[1] == 0 && ptb.mtu == b.u32(4));
    IpHeader ip;
    const Bytes quoted = b.from(8);
    SD_CHECK(parse_ip(quoted, ip) && ip.protocol == 6);
    SD_CHECK(ptb.src == ip.src && ptb.dst == ip.dst && ptb.quoted_length == ip.packet_length);
    const Bytes tcp = quoted.from(ip.header_length);
    SD_CHECK(tcp.size >= 8);
    SD_CHECK(ptb.src_port == tcp.u16(0) && ptb.dst_port == tcp.u16(2) && ptb.seq == tcp.u32(4));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const int first_family = (data[0] & 1) ? 6 : 4;
    ++data;
    --size;
    // An exact-size heap copy: reads one past the end are caught. An empty
    // packet is a null span, as the glue may pass.
    std::unique_ptr<std::uint8_t[]> copy(size ? new std::uint8_t[size] : nullptr);
    if (size)
        std::memcpy(copy.get(), data, size);
    const Bytes b{copy.get(), size};

    check_ip(b);
    check_tcp(b);
    check_ptb(b, first_family);
    check_ptb(b, first_family == 4 ? 6 : 4);
    // Every suffix start a caller may compute.
    for (std::size_t off : {std::size_t{1}, std::size_t{8}, std::size_t{20}, std::size_t{40}, size, size + 1}) {
        const Bytes r = b.from(off);
        SD_CHECK(off <= size ? r.size == size - off : (r.size == 0 && r.data == nullptr));
        SD_CHECK(r.has(0, 0) && !r.has(0, r.size + 1) && !r.has(r.size + 1, 0));
    }
    return 0;
}
