// Per-capture state: SMTP sessions and the findings of each frame.
// Findings are computed once, on the first (sequential) pass, and replayed
// whenever a frame is dissected again (tshark -2, clicks in the GUI), because
// the fields the computation reads are only guaranteed on the first pass.
#pragma once

#include "smtp_delivery/session.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smtp_delivery {

struct FrameFindings {
    std::vector<LineRecord> lines;      // reply lines carried by this frame
    std::vector<ReplyRecord> replies;   // replies completed in this frame
    std::uint32_t lines_dropped = 0;    // lines beyond kMaxLinesPerFrame
};

// Caps on what one frame stores; the rest is counted, not kept.
inline constexpr std::size_t kMaxLinesPerFrame = 256;
inline constexpr std::size_t kMaxRepliesPerFrame = 256;

class Analysis {
public:
    SmtpSession& session(std::uint64_t id) { return sessions_[id]; }

    const FrameFindings* find_frame(std::uint32_t number) const
    {
        const auto it = frames_.find(number);
        return it == frames_.end() ? nullptr : &it->second;
    }

    // Bytes the client sent in `frame_number`.
    void add_client_data(std::uint64_t session_id, std::string_view data, std::uint32_t frame_number,
                         std::int64_t t_ns)
    {
        session(session_id).on_client_data(data, frame_number, t_ns);
    }

    // Bytes the server sent in `frame_number`: each complete reply line is
    // parsed; a line cut by the end of the segment waits for its rest.
    void add_reply_data(std::uint64_t session_id, std::string_view data, std::uint32_t frame_number,
                        std::int64_t t_ns)
    {
        SmtpSession& s = session(session_id);
        s.on_server_data(data, [&](std::string_view line) { record_reply_line(s, line, frame_number, t_ns); });
    }

    void clear()
    {
        sessions_.clear();
        frames_.clear();
    }

    std::size_t session_count() const noexcept { return sessions_.size(); }
    std::size_t frame_count() const noexcept { return frames_.size(); }

private:
    void record_reply_line(SmtpSession& s, std::string_view raw, std::uint32_t frame_number, std::int64_t t_ns)
    {
        LineRecord line;
        ReplyRecord reply;
        const bool complete = s.on_reply_line(raw, frame_number, t_ns, line, reply);
        FrameFindings& f = frames_[frame_number];
        if (f.lines.size() < kMaxLinesPerFrame)
            f.lines.push_back(line);
        else
            ++f.lines_dropped;
        if (complete && f.replies.size() < kMaxRepliesPerFrame)
            f.replies.push_back(reply);
    }

    std::unordered_map<std::uint64_t, SmtpSession> sessions_;
    std::unordered_map<std::uint32_t, FrameFindings> frames_;
};

}  // namespace smtp_delivery
