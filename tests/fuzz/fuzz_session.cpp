// Fuzzes the SMTP session: SmtpSession (with small limits, so every cap is
// hit) and Analysis::add_client_data / add_reply_data (default limits).
//
// Input: 4 bytes of limits (pending 0..8, reply lines 0..7, reply text
// 0..63, command line 1..64), then chunks. A chunk is a header byte
//   bit 7    direction: 1 = server, 0 = client
//   bit 6    same frame as the previous chunk (else a new frame)
//   bits 0-5 length; 63 means "length in the next byte" (0..255)
// followed by that many bytes (fewer at the end of the input).
//
// Invariants: pending() <= limit; reply lines re-assembled across chunks are
// the lines of the server byte stream (heads only when over the cap);
// line indices and line_count agree; caps flags match; Analysis stores per
// frame exactly what a separate SmtpSession with default limits computes
// (up to its per-frame caps).
#include "fuzz_common.hpp"

#include "smtp_delivery/analysis.hpp"
#include "smtp_delivery/session.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace smtp_delivery;

namespace {

bool same_line(const LineRecord& a, const LineRecord& b)
{
    return a.code == b.code && a.enhanced == b.enhanced && a.problems == b.problems && a.continued == b.continued &&
           a.notable == b.notable && a.index == b.index;
}

bool same_reply(const ReplyRecord& a, const ReplyRecord& b)
{
    return a.code == b.code && a.enhanced == b.enhanced && a.command.view() == b.command.view() &&
           a.request_in == b.request_in && a.time_ns == b.time_ns && a.cause == b.cause && a.vendor == b.vendor &&
           a.problems == b.problems && a.line_count == b.line_count && a.first_frame == b.first_frame &&
           a.code_mismatch == b.code_mismatch && a.enhanced_mismatch == b.enhanced_mismatch &&
           a.lines_truncated == b.lines_truncated && a.pending_overflow == b.pending_overflow;
}

struct Expected {
    std::vector<LineRecord> lines;
    std::vector<ReplyRecord> replies;
    std::size_t kept_total = 0;   // lines of this frame that Analysis keeps (notable)
};

// Checks one completed reply against what the lines said.
struct ReplyTracker {
    const SessionLimits& limits;
    std::uint32_t lines = 0;       // lines so far in the current reply
    std::uint16_t first_code = 0;
    std::uint16_t problems = 0;
    bool mismatch = false;
    std::uint32_t replies = 0;

    void line(const LineRecord& l, bool complete, const ReplyRecord& r, std::uint32_t frame)
    {
        SD_CHECK(l.index == lines);
        if (lines == 0) {
            first_code = l.code;
            problems = 0;
            mismatch = false;
        } else if (l.code != first_code) {
            mismatch = true;
        }
        problems = static_cast<std::uint16_t>(problems | l.problems);
        ++lines;
        // A line ends its reply unless it announces a continuation with a
        // usable code ("000-" has digits but no code).
        SD_CHECK(complete == !(l.continued && !(l.problems & kNoCode) && l.code != 0));
        if (!complete)
            return;
        ++replies;
        SD_CHECK(r.line_count == lines);
        SD_CHECK(r.code == first_code);
        SD_CHECK(r.problems == problems);
        SD_CHECK(r.code_mismatch == mismatch);
        SD_CHECK(r.lines_truncated == (lines > limits.max_reply_lines));
        SD_CHECK(r.first_frame <= frame && r.first_frame >= 1);
        SD_CHECK(r.command.size < r.command.chars.size());
        SD_CHECK(static_cast<unsigned>(r.cause) < static_cast<unsigned>(Cause::count_));
        SD_CHECK(!r.vendor || (r.vendor >= kVendorRows.data() && r.vendor < kVendorRows.data() + kVendorRows.size()));
        if (r.request_in) {
            SD_CHECK(r.request_in <= frame);
            SD_CHECK(r.time_ns >= 0);  // times never go backwards here
        } else {
            SD_CHECK(r.time_ns == -1);
        }
        lines = 0;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 4)
        return 0;
    SessionLimits small;
    small.max_pending_commands = data[0] % 9;  // 0 acts as 1

    small.max_reply_lines = data[1] % 8;
    small.max_reply_text = data[2] % 64;
    small.max_command_line = 1 + data[3] % 64;
    data += 4;
    size -= 4;

    SmtpSession capped(small);
    SmtpSession reference;  // default limits, as Analysis uses
    const SessionLimits defaults;
    ReplyTracker capped_tracker{small};
    ReplyTracker ref_tracker{defaults};

    Analysis analysis;
    Segment seg;
    seg.ip.src.family = seg.ip.dst.family = 4;
    seg.ip.src.bytes[0] = 10;
    seg.ip.dst.bytes[0] = 192;
    seg.tcp.src_port = 40000;
    seg.tcp.dst_port = 25;
    seg.tcp.flags = kAck;
    const ConnectionRef conn = analysis.on_tcp_segment(seg);

    std::uint16_t reply_code = 0;     // of the reference session's current reply
    EnhancedCode reply_enhanced;
    std::string server_stream;      // every server byte, in order
    std::size_t server_consumed = 0;  // bytes of server_stream covered by emitted lines
    std::map<std::uint32_t, Expected> expected;

    std::uint32_t frame = 0;
    std::int64_t t_ns = 0;
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t h = data[i++];
        std::size_t len = h & 0x3f;
        if (len == 63 && i < size)
            len = data[i++];
        if (len > size - i)
            len = size - i;
        const std::string_view chunk(reinterpret_cast<const char*>(data + i), len);
        i += len;
        if (!(h & 0x40) || frame == 0) {
            ++frame;
            t_ns += 1 + static_cast<std::int64_t>(h) * 1000003;
        }
        const bool server = (h & 0x80) != 0;
        Expected& exp = expected[frame];

        if (!server) {
            capped.on_client_data(chunk, frame, t_ns);
            reference.on_client_data(chunk, frame, t_ns);
            analysis.add_client_data(conn, chunk, frame, t_ns);
        } else {
            server_stream.append(chunk);

            capped.on_server_data(chunk, [&](std::string_view line) {
                // One line: non-empty, one terminator, at its end.
                SD_CHECK(!line.empty() && line.back() == '\n');
                SD_CHECK(line.find('\n') == line.size() - 1);
                const std::size_t lf = server_stream.find('\n', server_consumed);
                SD_CHECK(lf != std::string::npos);
                const std::string_view ref =
                    std::string_view(server_stream).substr(server_consumed, lf + 1 - server_consumed);
                server_consumed = lf + 1;
                const std::size_t cap = small.max_command_line;
                SD_CHECK(line == ref ||
                         (ref.size() > cap && line.size() == cap + 1 && line.substr(0, cap) == ref.substr(0, cap)));
                LineRecord l;
                ReplyRecord r;
                const bool complete = capped.on_reply_line(line, frame, t_ns, l, r);
                capped_tracker.line(l, complete, r, frame);
            });
            reference.on_server_data(chunk, [&](std::string_view line) {
                LineRecord l;
                ReplyRecord r;
                const bool complete = reference.on_reply_line(line, frame, t_ns, l, r);
                ref_tracker.line(l, complete, r, frame);
                // Analysis keeps the lines worth a look of their own: malformed,
                // unlike the reply's first line (code, or the first enhanced
                // code seen), or of a multi-line reply that is not a success.
                if (l.index == 0) {
                    reply_code = l.code;
                    reply_enhanced = l.enhanced;
                }
                const bool differs = l.index > 0 && (l.code != reply_code || (l.enhanced.present() &&
                                                                               reply_enhanced.present() &&
                                                                               l.enhanced != reply_enhanced));
                if (!reply_enhanced.present())
                    reply_enhanced = l.enhanced;
                const bool multi_line = l.index > 0 || l.continued;
                const bool notable = l.problems || differs || (multi_line && reply_code / 100 != 2);
                SD_CHECK(l.notable == notable);
                if (notable) {
                    ++exp.kept_total;
                    if (exp.lines.size() < kMaxLinesPerFrame)
                        exp.lines.push_back(l);
                }
                if (complete && exp.replies.size() < kMaxRepliesPerFrame)
                    exp.replies.push_back(r);
            });
            analysis.add_reply_data(conn, chunk, frame, t_ns);
        }

        SD_CHECK(capped.pending() <= std::max<std::size_t>(1, small.max_pending_commands));
        SD_CHECK(reference.pending() <= defaults.max_pending_commands);
        SD_CHECK(capped.replies_seen() == capped_tracker.replies);
        SD_CHECK(reference.replies_seen() == ref_tracker.replies);
        if (capped.in_data())
            SD_CHECK(capped.awaiting_message_reply());
    }

    // Analysis stored, per frame, what the reference session computed.
    for (const auto& [number, exp] : expected) {
        const FrameFindings* f = analysis.find_frame(number);
        if (exp.kept_total == 0 && exp.replies.empty()) {  // no line worth keeping, no reply completed
            SD_CHECK(!f || (f->lines.empty() && f->replies.empty() && f->lines_dropped == 0));
            continue;
        }
        SD_CHECK(f != nullptr);
        SD_CHECK(f->lines.size() <= kMaxLinesPerFrame && f->replies.size() <= kMaxRepliesPerFrame);
        SD_CHECK(f->lines.size() + f->lines_dropped == exp.kept_total);
        SD_CHECK(f->lines.size() == exp.lines.size());
        for (std::size_t k = 0; k < exp.lines.size(); ++k)
            SD_CHECK(same_line(f->lines[k], exp.lines[k]));
        SD_CHECK(f->replies.size() == exp.replies.size());
        for (std::size_t k = 0; k < exp.replies.size(); ++k)
            SD_CHECK(same_reply(f->replies[k], exp.replies[k]));
        SD_CHECK(f->pmtu.verdict == PmtuVerdict::none);
    }
    return 0;
}
