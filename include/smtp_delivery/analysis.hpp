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
#include <utility>
#include <vector>

namespace smtp_delivery {

// Caps on what one frame stores; the rest is counted, not kept.
inline constexpr std::size_t kMaxLinesPerFrame = 256;
inline constexpr std::size_t kMaxRepliesPerFrame = 256;

// Where the next new byte of one direction of a TCP stream starts, so that
// retransmitted and overlapping bytes reach the SMTP session once.
struct StreamCursor {
    std::uint32_t next = 0;
    bool valid = false;
};

// The SMTP side of a connection: where each direction's byte stream has got
// to, and the dialogue. The cursors come first, next to the head of the
// session (what a segment of a message body reads).
struct SmtpFlow {
    std::array<StreamCursor, 2> cursor;
    bool client_is_a = true;  // the client is the flow key's first endpoint
    SmtpSession session;

    explicit SmtpFlow(const SiteRules* site) : session(SessionLimits{}, site) {}
};

struct Connection {
    std::unique_ptr<SmtpFlow> smtp;  // only for connections that carry SMTP
    bool fin[2] = {false, false};
    bool smtp_closed = false;  // the SMTP session ended with the connection and was released
    std::uint8_t opener = 0;   // who sent the SYN: 1 = key's first endpoint, 2 = second, 0 = not seen
    std::array<PmtuDirection, 2> dir;

    SmtpSession* session() const noexcept { return smtp ? &smtp->session : nullptr; }
};

// What the dissection says about SMTP in this segment.
struct SmtpHint {
    bool present = false;          // Wireshark's SMTP dissector read this segment's data
    bool over_tls = false;         // ... decrypted from TLS that started with the connection
    std::uint16_t server_port = 0; // the port it was chosen for, when known (0 = unknown)
};

// A decrypted TLS record that is TLS's own business, not application data:
// an alert (level 1 or 2, two bytes) or whole handshake messages (TLS 1.3
// encrypts most of the handshake, and both versions the Finished message and
// later tickets). Text never fits: it would need a control byte first and
// 24-bit lengths that add up to the record exactly.
inline bool is_tls_control_record(std::string_view d) noexcept
{
    const auto u8 = [&d](std::size_t i) { return static_cast<std::uint8_t>(d[i]); };
    if (d.size() == 2)
        return u8(0) == 1 || u8(0) == 2;
    std::size_t off = 0;
    while (off + 4 <= d.size()) {
        if (u8(off) == 0 || u8(off) >= 0x20)
            return false;
        off += 4 + ((std::size_t{u8(off + 1)} << 16) | (std::size_t{u8(off + 2)} << 8) | u8(off + 3));
    }
    return off == d.size() && off > 0;
}

// A connection looked up for one segment, with the segment's direction.
struct ConnectionRef {
    Connection* conn = nullptr;
    const FlowKey* key = nullptr;
    bool forward = true;  // the segment travels from the key's first endpoint

    PmtuDirection& sender() const { return conn->dir[forward ? 0 : 1]; }
    PmtuDirection& receiver() const { return conn->dir[forward ? 1 : 0]; }
};

// Records numbered 0, 1, 2, ... in fixed chunks: adding one never moves the
// others, so pointers to records stay valid while the store grows. Records
// are only ever removed all at once.
template <typename T, std::size_t kChunk>
class StableRecords {
public:
    T& operator[](std::size_t n) noexcept { return chunks_[n / kChunk][n % kChunk]; }
    const T& operator[](std::size_t n) const noexcept { return chunks_[n / kChunk][n % kChunk]; }
    std::size_t size() const noexcept { return size_; }

    // A new value-initialised record at the end.
    T& add()
    {
        if (size_ % kChunk == 0)
            chunks_.push_back(std::make_unique<T[]>(kChunk));
        return (*this)[size_++];
    }

    void clear() noexcept
    {
        std::vector<std::unique_ptr<T[]>>().swap(chunks_);
        size_ = 0;
    }

private:
    std::vector<std::unique_ptr<T[]>> chunks_;
    std::size_t size_ = 0;
};

// Records of one kind, shared by all frames.
template <typename T>
using RecordStore = StableRecords<T, 256>;

// The records of one frame in a RecordStore: a frame's records are added
// while the frame is read, so they follow one another there. One store
// instead of a vector per frame spares an allocation for each frame with a
// reply (one frame in ten) and keeps the records side by side in memory.
template <typename T>
class RecordRange {
public:
    class iterator {
    public:
        iterator(const RecordStore<T>* store, std::size_t i) noexcept : store_(store), i_(i) {}
        const T& operator*() const noexcept { return (*store_)[i_]; }
        const T* operator->() const noexcept { return &(*store_)[i_]; }
        iterator& operator++() noexcept
        {
            ++i_;
            return *this;
        }
        bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }
        bool operator!=(const iterator& o) const noexcept { return i_ != o.i_; }

    private:
        const RecordStore<T>* store_;
        std::size_t i_;
    };

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    const T& operator[](std::size_t i) const noexcept { return (*store_)[first_ + i]; }
    const T& back() const noexcept { return (*this)[count_ - 1]; }
    iterator begin() const noexcept { return {store_, first_}; }
    iterator end() const noexcept { return {store_, std::size_t{first_} + count_}; }

    // Adds `value` to the frame's records at the end of `store`.
    void append(RecordStore<T>& store, T value)
    {
        if (count_ == 0) {
            store_ = &store;
            first_ = static_cast<std::uint32_t>(store.size());
        } else if (std::size_t{first_} + count_ != store.size()) {
            // Another frame's records came in between: this frame's move to
            // the end to stay together. Never so for frames read in order,
            // as the dissector reads them; only for callers that go back.
            const auto first = static_cast<std::uint32_t>(store.size());
            for (std::uint32_t i = 0; i < count_; ++i)
                store.add() = store[std::size_t{first_} + i];  // records never move: both stay valid
            first_ = first;
        }
        store.add() = std::move(value);
        ++count_;
    }

private:
    const RecordStore<T>* store_ = nullptr;
    std::uint32_t first_ = 0;
    std::uint32_t count_ = 0;
};

struct FrameFindings {
    RecordRange<LineRecord> lines;      // reply lines worth a look of their own (LineRecord::notable)
    RecordRange<ReplyRecord> replies;   // replies completed in this frame
    std::uint32_t lines_dropped = 0;    // such lines beyond kMaxLinesPerFrame
    PmtuFinding pmtu;
    RecordRange<TransactionSummary> transactions;  // transactions whose outcome this frame decided
};

// Connections by flow key. Open addressing over a power-of-two array of
// small slots (part of the key's hash and the record's number) with the
// records in StableRecords. A look-up that misses the cache reads one slot
// and the record itself; a node-based map reads a bucket, the node before
// and the node. Records are never removed one by one (a closed connection
// keeps its small record), only all at once.
class ConnectionTable {
public:
    // A connection's record: its key and state in three cache lines, which
    // is all a segment touches of it (the rare black-hole state aside).
    struct alignas(64) Entry {
        FlowKey first;
        Connection second;
    };
    static_assert(sizeof(Entry) <= 192, "a connection's record spans at most three cache lines");

    Entry* find(const FlowKey& key) noexcept { return find(key, FlowKeyHash{}(key)); }

    // The record of `key`, added when it is not there yet (the key is
    // hashed once for both).
    Entry* find_or_add(const FlowKey& key)
    {
        const std::uint64_t h = FlowKeyHash{}(key);
        Entry* e = find(key, h);
        return e ? e : add(key, h);
    }

    std::size_t size() const noexcept { return records_.size(); }

    void clear() noexcept
    {
        std::vector<Slot>().swap(slots_);
        records_.clear();
        mask_ = 0;
    }

private:
    struct Slot {
        std::uint32_t tag = 0;     // high bits of the hash
        std::uint32_t record = 0;  // record number + 1; 0 = empty
    };
    static std::uint32_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h >> 32); }

    Entry* find(const FlowKey& key, std::uint64_t h) noexcept
    {
        if (slots_.empty())
            return nullptr;
        const std::uint32_t tag = tag_of(h);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot s = slots_[i];
            if (s.record == 0)
                return nullptr;
            if (s.tag == tag) {
                Entry& e = records_[s.record - 1];
                if (e.first == key)
                    return &e;
            }
        }
    }

    // A new connection: rare next to look-ups, kept out of their way.
    SD_COLD Entry* add(const FlowKey& key, std::uint64_t h)
    {
        if ((records_.size() + 1) * 2 > slots_.size())
            grow();
        Entry& e = records_.add();
        e.first = key;
        place(h, static_cast<std::uint32_t>(records_.size()));
        return &e;
    }

    void place(std::uint64_t h, std::uint32_t record_plus_one) noexcept
    {
        std::size_t i = h & mask_;
        while (slots_[i].record != 0)
            i = (i + 1) & mask_;
        slots_[i] = Slot{tag_of(h), record_plus_one};
    }

    void grow()
    {
        const std::size_t n = slots_.empty() ? 64 : slots_.size() * 2;
        slots_.assign(n, Slot{});
        mask_ = n - 1;
        for (std::size_t r = 0; r < records_.size(); ++r)
            place(FlowKeyHash{}(records_[r].first), static_cast<std::uint32_t>(r + 1));
    }

    std::vector<Slot> slots_;
    StableRecords<Entry, 64> records_;
    std::size_t mask_ = 0;
};

// Findings by frame number. Frames are numbered densely from 1 by Wireshark
// (never from packet bytes), so an index by frame number (4 bytes a frame up
// to the last frame with findings; record number + 1, 0 = nothing) finds a
// frame's record with one load, and most frames, which have nothing, are
// answered by that load alone.
class FrameStore {
public:
    FrameStore() = default;
    FrameStore(const FrameStore&) = delete;  // the frames' ranges point into this object's stores
    FrameStore& operator=(const FrameStore&) = delete;

    const FrameFindings* find(std::uint32_t frame) const noexcept
    {
        if (frame >= index_.size())
            return nullptr;
        const std::uint32_t n = index_[frame];
        return n ? &records_[n - 1] : nullptr;
    }

    // The record of `frame`, added when it has none yet.
    FrameFindings& get(std::uint32_t frame)
    {
        if (frame >= index_.size())
            grow_index(frame);
        std::uint32_t& n = index_[frame];
        if (n == 0) {
            records_.add();
            n = static_cast<std::uint32_t>(records_.size());  // record number + 1
        }
        return records_[n - 1];
    }

    std::size_t size() const noexcept { return records_.size(); }

    void add_line(FrameFindings& f, const LineRecord& line) { f.lines.append(lines_, line); }
    void add_reply(FrameFindings& f, const ReplyRecord& reply) { f.replies.append(replies_, reply); }
    void add_transaction(FrameFindings& f, TransactionSummary t) { f.transactions.append(transactions_, std::move(t)); }

    void clear() noexcept
    {
        std::vector<std::uint32_t>().swap(index_);
        records_.clear();
        lines_.clear();
        replies_.clear();
        transactions_.clear();
    }

private:
    SD_COLD void grow_index(std::uint32_t frame)
    {
        index_.resize(std::max<std::size_t>(std::size_t{frame} + 1, index_.size() * 2), 0);
    }

    std::vector<std::uint32_t> index_;
    StableRecords<FrameFindings, 256> records_;
    RecordStore<LineRecord> lines_;
    RecordStore<ReplyRecord> replies_;
    RecordStore<TransactionSummary> transactions_;
};

class Analysis {
    using Entry = ConnectionTable::Entry;

public:
    explicit Analysis(PmtuSettings settings = {}) : detector_(settings) {}
    Analysis(const Analysis&) = delete;  // last_ points into this object's table
    Analysis& operator=(const Analysis&) = delete;

    void set_pmtu_settings(const PmtuSettings& s) { detector_.set_settings(s); }
    const PmtuSettings& pmtu_settings() const noexcept { return detector_.settings(); }

    // The site's own reply meanings; replies read after this use them.
    SiteRules& site_rules() { return site_rules_; }

    // A TCP segment: feeds the path-MTU detector and returns its connection.
    // `detect` = false skips the path-MTU detector unless the connection
    // carries SMTP (the user limited it to SMTP flows). `payload` holds the
    // captured payload bytes; on a connection that carries SMTP (`smtp`
    // says the dissection found SMTP here, once is enough) they go to the
    // SMTP session in stream order, each byte once.
    ConnectionRef on_tcp_segment(const Segment& seg, bool detect = true, std::string_view payload = {},
                                 SmtpHint smtp = {})
    {
        ConnectionRef ref;
        const FlowKey key = make_flow_key(seg.ip.src, seg.tcp.src_port, seg.ip.dst, seg.tcp.dst_port, ref.forward);
        // Most segments follow one of the same connection: the last entry is
        // tried first, which spares the hash look-up and its cache misses.
        Entry* entry = last_ && last_->first == key ? last_ : nullptr;
        if (!entry)
            entry = connections_.find_or_add(key);  // records never move
        last_ = entry;
        ref.conn = &entry->second;
        ref.key = &entry->first;
        if (seg.tcp.flags & kSyn)
            on_syn(*ref.conn, seg.tcp.flags, ref.forward);
        if (smtp.present && !ref.conn->smtp && !ref.conn->smtp_closed)
            start_smtp(ref, smtp, payload);
        const bool verdict =
            (detect || ref.conn->smtp) && detector_.on_segment(ref.sender(), ref.receiver(), seg, sink());
        if (verdict)
            tie_to_smtp(ref, seg.frame);
        // A bare ACK carries nothing for the session: its state stays untouched.
        if (ref.conn->smtp && (seg.payload || (seg.tcp.flags & kSyn)))
            read_stream(ref, seg, payload);
        if (seg.tcp.flags & (kFin | kRst))
            on_fin_or_rst(ref, seg);
        return ref;
    }

    // An ICMP fragmentation-needed / packet-too-big quoting a TCP segment.
    void on_packet_too_big(const PacketTooBig& ptb, std::uint32_t frame)
    {
        bool forward = true;
        const FlowKey key = make_flow_key(ptb.src, ptb.src_port, ptb.dst, ptb.dst_port, forward);
        Entry* entry = connections_.find(key);
        if (!entry)
            return;  // quotes a flow we never saw
        detector_.on_packet_too_big(entry->second.dir[forward ? 0 : 1], ptb, frame, sink());
    }

    // Application data decrypted from a TLS record of this segment (STARTTLS
    // after the handshake, or TLS from the start): SMTP in the segment's
    // direction. Records that are TLS's own (alerts, handshake) are skipped.
    void add_decrypted(ConnectionRef ref, const Segment& seg, std::string_view plaintext)
    {
        SmtpFlow* f = ref.conn ? ref.conn->smtp.get() : nullptr;
        if (!f || !f->session.tls_started() || plaintext.empty() || is_tls_control_record(plaintext))
            return;
        deliver(f->session, ref.forward == f->client_is_a, plaintext, seg.frame, seg.t_ns);
    }

    // Bytes the client sent in `frame_number`.
    void add_client_data(ConnectionRef ref, std::string_view data, std::uint32_t frame_number, std::int64_t t_ns)
    {
        deliver(smtp(ref, /*sender_is_client=*/true), true, data, frame_number, t_ns);
    }

    // Bytes the server sent in `frame_number`: each complete reply line is
    // parsed; a line cut by the end of the segment waits for its rest.
    void add_reply_data(ConnectionRef ref, std::string_view data, std::uint32_t frame_number, std::int64_t t_ns)
    {
        deliver(smtp(ref, /*sender_is_client=*/false), false, data, frame_number, t_ns);
    }

    const FrameFindings* find_frame(std::uint32_t number) const
    {
        return frames_.find(number);
    }

    void clear()
    {
        last_ = nullptr;
        connections_.clear();
        frames_.clear();
    }

    std::size_t connection_count() const noexcept { return connections_.size(); }

private:
    // Where the detector writes what it finds about a frame.
    struct Sink {
        Analysis* self;
        PmtuFinding& operator()(std::uint32_t frame) const { return self->findings(frame).pmtu; }
    };
    Sink sink() { return Sink{this}; }

    FrameFindings& findings(std::uint32_t frame) { return frames_.get(frame); }

    // The connection's SMTP session; the sender of this segment tells which
    // endpoint is the client.
    SmtpSession& smtp(ConnectionRef ref, bool sender_is_client)
    {
        if (!ref.conn->smtp)
            ref.conn->smtp = std::make_unique<SmtpFlow>(&site_rules_);
        set_client(ref, ref.forward == sender_is_client);
        return ref.conn->smtp->session;
    }

    void set_client(ConnectionRef ref, bool client_is_a)
    {
        SmtpFlow& f = *ref.conn->smtp;
        f.client_is_a = client_is_a;
        const FlowKey& k = *ref.key;
        if (client_is_a)
            f.session.set_endpoints(k.a, k.port_a, k.b, k.port_b);
        else
            f.session.set_endpoints(k.b, k.port_b, k.a, k.port_a);
    }

    // A SYN: a new connection may reuse the port pair, and the SYN's
    // sender is the client.
    SD_COLD static void on_syn(Connection& conn, std::uint16_t flags, bool forward)
    {
        const bool sender_opens = !(flags & kAck);
        if (sender_opens && conn.dir[0].have_snd_nxt && conn.dir[1].have_snd_nxt)
            conn = Connection{};  // the port pair is reused by a new connection
        if (!conn.opener)
            conn.opener = (forward == sender_opens) ? 1 : 2;
    }

    // A FIN or RST: the SMTP session ends; once both sides are done the
    // connection's state is released.
    SD_COLD void on_fin_or_rst(ConnectionRef ref, const Segment& seg)
    {
        if (SmtpSession* s = ref.conn->session()) {
            s->end_of_connection();
            collect_summary(*s, seg.frame);
        }
        if (seg.tcp.flags & kFin)
            ref.conn->fin[ref.forward ? 0 : 1] = true;
        if ((seg.tcp.flags & kRst) || (ref.conn->fin[0] && ref.conn->fin[1])) {
            // Closed: what the detector tracked in flight and the SMTP
            // session (its summary is out) are of no more use.
            ref.conn->dir[0].release();
            ref.conn->dir[1].release();
            if (ref.conn->smtp) {
                ref.conn->smtp.reset();
                ref.conn->smtp_closed = true;
            }
        }
    }

    // The connection turns out to carry SMTP. Who the client is: the sender
    // of the SYN; else the side away from the port the SMTP dissector was
    // chosen for; else, from this first payload, replies start with a code.
    SD_COLD void start_smtp(ConnectionRef ref, const SmtpHint& hint, std::string_view payload)
    {
        ref.conn->smtp = std::make_unique<SmtpFlow>(&site_rules_);
        if (hint.over_tls)
            ref.conn->smtp->session.tls_from_start();
        const std::uint16_t server_port = hint.server_port;
        const FlowKey& k = *ref.key;
        bool client_is_a;
        if (ref.conn->opener) {
            client_is_a = ref.conn->opener == 1;
        } else if (server_port && k.port_a != k.port_b && (server_port == k.port_a || server_port == k.port_b)) {
            client_is_a = server_port == k.port_b;
        } else {
            // Under TLS from the start the client speaks first (ClientHello).
            const bool sender_is_server = !hint.over_tls && detail::starts_with_code(payload);
            client_is_a = ref.forward != sender_is_server;
        }
        set_client(ref, client_is_a);
    }

    // Bytes of one side of the dialogue: the client's are commands and
    // bodies; the server's are split into reply lines and recorded.
    void deliver(SmtpSession& s, bool from_client, std::string_view data, std::uint32_t frame, std::int64_t t_ns)
    {
        if (from_client)
            s.on_client_data(data, frame, t_ns);
        else
            s.on_server_data(data, [&](std::string_view line) { record_reply_line(s, line, frame, t_ns); });
    }

    // Hands the new bytes of a segment to the SMTP session, in stream order:
    // bytes already delivered (retransmissions, overlaps) are skipped, and a
    // hole (bytes never captured) makes the session drop a half-read line.
    void read_stream(ConnectionRef ref, const Segment& seg, std::string_view captured)
    {
        SmtpFlow& f = *ref.conn->smtp;
        StreamCursor& cur = f.cursor[ref.forward ? 0 : 1];
        std::uint32_t seq = seg.tcp.seq + ((seg.tcp.flags & kSyn) ? 1u : 0u);
        std::uint32_t length = seg.payload;
        if (length == 0) {
            if ((seg.tcp.flags & kSyn) && !cur.valid)
                cur = StreamCursor{seq, true};
            return;
        }
        bool hole = false;
        if (cur.valid) {
            const auto ahead = static_cast<std::int32_t>(seq - cur.next);
            if (ahead < 0) {
                const std::uint32_t old = static_cast<std::uint32_t>(-static_cast<std::int64_t>(ahead));
                if (old >= length)
                    return;  // nothing new
                seq += old;
                length -= old;
                captured.remove_prefix(std::min<std::size_t>(old, captured.size()));
            } else if (ahead > 0) {
                hole = true;
            }
        }
        cur = StreamCursor{seq + length, true};
        if (captured.size() > length)
            captured = captured.substr(0, length);
        SmtpSession& s = f.session;
        if (s.tls_started())
            return;  // the rest of the connection is encrypted
        const bool from_client = ref.forward == f.client_is_a;
        if (hole)
            s.on_gap(from_client);
        deliver(s, from_client, captured, seg.frame, seg.t_ns);
        if (captured.size() < length)
            s.on_gap(from_client);  // the capture cut the segment short
    }

    // A black hole in the client's direction while it sends a message body
    // stalls the transaction.
    SD_COLD void tie_to_smtp(ConnectionRef ref, std::uint32_t frame)
    {
        SmtpSession* s = ref.conn->session();
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
            frames_.add_transaction(findings(frame), std::move(t));
    }

    void record_reply_line(SmtpSession& s, std::string_view raw, std::uint32_t frame_number, std::int64_t t_ns)
    {
        LineRecord line;
        ReplyRecord reply;
        const bool complete = s.on_reply_line(raw, frame_number, t_ns, line, reply);
        if (!line.notable && !complete)
            return;  // a plain line of a reply still being read
        FrameFindings& f = findings(frame_number);
        if (line.notable) {
            if (f.lines.size() < kMaxLinesPerFrame)
                frames_.add_line(f, line);
            else
                ++f.lines_dropped;
        }
        if (complete) {
            if (f.replies.size() < kMaxRepliesPerFrame)
                frames_.add_reply(f, reply);
            collect_summary(s, frame_number);
        }
    }

    PmtuDetector detector_;
    SiteRules site_rules_;
    ConnectionTable connections_;
    Entry* last_ = nullptr;  // the connection of the previous segment
    FrameStore frames_;
};

}  // namespace smtp_delivery
