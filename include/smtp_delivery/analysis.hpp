// Per-capture state: TCP connections (path-MTU state of both directions and,
// for SMTP, the session) and the findings of each frame.
// Findings are computed once, on the first (sequential) pass, and replayed
// whenever a frame is dissected again (tshark -2, clicks in the GUI), because
// the fields the computation reads are only guaranteed on the first pass.
#pragma once

#include "smtp_delivery/pmtu.hpp"
#include "smtp_delivery/session.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smtp_delivery {

struct FrameFindings {
    std::vector<LineRecord> lines;      // reply lines carried by this frame
    std::vector<ReplyRecord> replies;   // replies completed in this frame
    std::uint32_t lines_dropped = 0;    // lines beyond kMaxLinesPerFrame
    PmtuFinding pmtu;
    std::vector<TransactionSummary> transactions;  // transactions whose outcome this frame decided
};

// Caps on what one frame stores; the rest is counted, not kept.
inline constexpr std::size_t kMaxLinesPerFrame = 256;
inline constexpr std::size_t kMaxRepliesPerFrame = 256;

struct Connection {
    std::array<PmtuDirection, 2> dir;
    std::unique_ptr<SmtpSession> smtp;  // only for connections that carry SMTP
    bool fin[2] = {false, false};
};

// A connection looked up for one segment, with the segment's direction.
struct ConnectionRef {
    Connection* conn = nullptr;
    const FlowKey* key = nullptr;
    bool forward = true;  // the segment travels from the key's first endpoint

    PmtuDirection& sender() const { return conn->dir[forward ? 0 : 1]; }
    PmtuDirection& receiver() const { return conn->dir[forward ? 1 : 0]; }
};

class Analysis {
public:
    explicit Analysis(PmtuSettings settings = {}) : detector_(settings) {}

    void set_pmtu_settings(const PmtuSettings& s) { detector_.set_settings(s); }
    const PmtuSettings& pmtu_settings() const noexcept { return detector_.settings(); }

    // The site's own reply meanings; replies read after this use them.
    SiteRules& site_rules() { return site_rules_; }

    // A TCP segment: feeds the path-MTU detector and returns its connection,
    // to which the frame's SMTP bytes (if any) belong.
    // `detect` = false skips the path-MTU detector for this segment (the
    // user limited it to SMTP flows).
    ConnectionRef on_tcp_segment(const Segment& seg, bool detect = true)
    {
        ConnectionRef ref;
        const FlowKey key = make_flow_key(seg.ip.src, seg.tcp.src_port, seg.ip.dst, seg.tcp.dst_port, ref.forward);
        auto it = connections_.find(key);
        if (it == connections_.end()) {
            it = connections_.emplace(key, Connection{}).first;
        } else if ((seg.tcp.flags & kSyn) && !(seg.tcp.flags & kAck) && it->second.dir[0].have_snd_nxt &&
                   it->second.dir[1].have_snd_nxt) {
            it->second = Connection{};  // the port pair is reused by a new connection
        }
        ref.conn = &it->second;
        ref.key = &it->first;
        const bool verdict =
            (detect || ref.conn->smtp) && detector_.on_segment(ref.sender(), ref.receiver(), seg, sink());
        if (verdict)
            tie_to_smtp(ref, seg.frame);
        const int d = ref.forward ? 0 : 1;
        if (seg.tcp.flags & (kFin | kRst)) {
            if (SmtpSession* s = ref.conn->smtp.get()) {
                s->end_of_connection();
                collect_summary(*s, seg.frame);
            }
        }
        if (seg.tcp.flags & kFin)
            ref.conn->fin[d] = true;
        if ((seg.tcp.flags & kRst) || (ref.conn->fin[0] && ref.conn->fin[1])) {
            // Closed: what the detector tracked in flight is of no more use.
            ref.conn->dir[0].release();
            ref.conn->dir[1].release();
        }
        return ref;
    }

    // An ICMP fragmentation-needed / packet-too-big quoting a TCP segment.
    void on_packet_too_big(const PacketTooBig& ptb, std::uint32_t frame)
    {
        bool forward = true;
        const FlowKey key = make_flow_key(ptb.src, ptb.src_port, ptb.dst, ptb.dst_port, forward);
        auto it = connections_.find(key);
        if (it == connections_.end())
            return;  // quotes a flow we never saw
        detector_.on_packet_too_big(it->second.dir[forward ? 0 : 1], ptb, frame, sink());
    }

    // Bytes the client sent in `frame_number`.
    void add_client_data(ConnectionRef ref, std::string_view data, std::uint32_t frame_number, std::int64_t t_ns)
    {
        SmtpSession& s = smtp(ref, /*sender_is_client=*/true);
        s.on_client_data(data, frame_number, t_ns);
    }

    // Bytes the server sent in `frame_number`: each complete reply line is
    // parsed; a line cut by the end of the segment waits for its rest.
    void add_reply_data(ConnectionRef ref, std::string_view data, std::uint32_t frame_number, std::int64_t t_ns)
    {
        SmtpSession& s = smtp(ref, /*sender_is_client=*/false);
        s.on_server_data(data, [&](std::string_view line) { record_reply_line(s, line, frame_number, t_ns); });
    }

    const FrameFindings* find_frame(std::uint32_t number) const
    {
        // Most frames have nothing: a bit per frame answers without touching the map.
        if (number >= marked_.size() || !marked_[number])
            return nullptr;
        const auto it = frames_.find(number);
        return it == frames_.end() ? nullptr : &it->second;
    }

    void clear()
    {
        connections_.clear();
        frames_.clear();
        std::vector<bool>().swap(marked_);
    }

    std::size_t connection_count() const noexcept { return connections_.size(); }

private:
    // Where the detector writes what it finds about a frame.
    struct Sink {
        Analysis* self;
        PmtuFinding& operator()(std::uint32_t frame) const { return self->findings(frame).pmtu; }
    };
    Sink sink() { return Sink{this}; }

    FrameFindings& findings(std::uint32_t frame)
    {
        if (frame >= marked_.size())
            marked_.resize(std::max<std::size_t>(frame + 1, marked_.size() * 2), false);
        marked_[frame] = true;
        return frames_[frame];
    }

    // The connection's SMTP session; the sender of this segment tells which
    // endpoint is the client.
    SmtpSession& smtp(ConnectionRef ref, bool sender_is_client)
    {
        if (!ref.conn->smtp)
            ref.conn->smtp = std::make_unique<SmtpSession>(SessionLimits{}, &site_rules_);
        const bool client_is_a = ref.forward == sender_is_client;
        const FlowKey& k = *ref.key;
        if (client_is_a)
            ref.conn->smtp->set_endpoints(k.a, k.port_a, k.b, k.port_b);
        else
            ref.conn->smtp->set_endpoints(k.b, k.port_b, k.a, k.port_a);
        return *ref.conn->smtp;
    }

    // A black hole in the client's direction while it sends a message body
    // stalls the transaction.
    void tie_to_smtp(ConnectionRef ref, std::uint32_t frame)
    {
        SmtpSession* s = ref.conn->smtp.get();
        if (s && s->awaiting_message_reply()) {
            findings(frame).pmtu.stall = true;
            s->stalled();
            collect_summary(*s, frame);
        }
    }

    void collect_summary(SmtpSession& s, std::uint32_t frame)
    {
        TransactionSummary t;
        if (s.take_summary(t))
            findings(frame).transactions.push_back(std::move(t));
    }

    void record_reply_line(SmtpSession& s, std::string_view raw, std::uint32_t frame_number, std::int64_t t_ns)
    {
        LineRecord line;
        ReplyRecord reply;
        const bool complete = s.on_reply_line(raw, frame_number, t_ns, line, reply);
        FrameFindings& f = findings(frame_number);
        if (f.lines.size() < kMaxLinesPerFrame)
            f.lines.push_back(line);
        else
            ++f.lines_dropped;
        if (complete && f.replies.size() < kMaxRepliesPerFrame)
            f.replies.push_back(reply);
        if (complete)
            collect_summary(s, frame_number);
    }

    PmtuDetector detector_;
    SiteRules site_rules_;
    std::unordered_map<FlowKey, Connection, FlowKeyHash> connections_;
    std::unordered_map<std::uint32_t, FrameFindings> frames_;
    std::vector<bool> marked_;  // frames that have an entry in frames_
};

}  // namespace smtp_delivery
