// Command/reply tracking for one SMTP session: which command each reply
// answers (FIFO, so PIPELINING works), how long the server took, and the
// assembly of multi-line replies that may span TCP segments.
#pragma once

#include "smtp_delivery/knowledge.hpp"
#include "smtp_delivery/reply_parser.hpp"
#include "smtp_delivery/site_rules.hpp"
#include "smtp_delivery/transaction.hpp"
#include "smtp_delivery/types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace smtp_delivery {

// A command verb, upper-cased and truncated; small enough to copy freely.
struct Verb {
    std::array<char, 12> chars{};
    std::uint8_t size = 0;

    // A command verb as the client wrote it, upper-cased.
    static Verb from(std::string_view s) noexcept { return make(s, true); }
    // One of our own names ("greeting", "end-of-data"), kept as written.
    static Verb literal(std::string_view s) noexcept { return make(s, false); }
    std::string_view view() const noexcept { return {chars.data(), size}; }
    // The last character always stays NUL (make() writes at most size() - 1).
    const char* c_str() const noexcept { return chars.data(); }
    bool operator==(std::string_view s) const noexcept { return view() == s; }

private:
    static Verb make(std::string_view s, bool upper) noexcept
    {
        Verb v;
        for (char c : s) {
            if (v.size == v.chars.size() - 1)
                break;
            v.chars[v.size++] = (upper && c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        }
        return v;
    }
};

inline constexpr std::string_view kGreeting = "greeting";
inline constexpr std::string_view kEndOfData = "end-of-data";

// Limits that keep one session's memory bounded whatever the traffic.
struct SessionLimits {
    std::size_t max_pending_commands = 128;  // pipelined commands awaiting a reply
    std::size_t max_reply_lines = 1000;      // lines assembled into one reply
    std::size_t max_reply_text = 4096;       // bytes of reply text kept for reading the cause
    std::size_t max_command_line = 2048;     // bytes of a command line kept across segments
};

// Everything known about one complete reply; stored per frame and replayed.
struct ReplyRecord {
    std::uint16_t code = 0;
    EnhancedCode enhanced;
    Verb command;                 // empty when nothing was pending
    std::uint32_t request_in = 0; // 0 = unknown
    std::int64_t time_ns = -1;    // server time; -1 = unknown
    Cause cause = Cause::none;
    const VendorRow* vendor = nullptr;
    std::shared_ptr<const SiteRule> site;  // the site's own reading, when one matched
    std::uint16_t problems = 0;   // OR of all lines' problems
    std::uint32_t line_count = 0;
    std::uint32_t first_frame = 0;  // frame of the first line
    bool code_mismatch = false;     // lines of a multi-line reply disagree on the code
    bool enhanced_mismatch = false; // lines disagree on the enhanced code
    bool lines_truncated = false;   // more lines than SessionLimits::max_reply_lines
    bool pending_overflow = false;  // commands were dropped: too many pending

    ReplyClass reply_class() const noexcept { return reply_class_of(code); }
};

// One reply line as seen in a frame.
struct LineRecord {
    std::uint16_t code = 0;
    EnhancedCode enhanced;
    std::uint16_t problems = 0;
    bool continued = false;
    // Says something its reply's item does not: a malformed line, a line
    // whose code or enhanced code differs from the first line's, or any line
    // of a multi-line reply that is not a success. The lines of a success
    // reply (an EHLO capability list) are summed up by the reply's line count.
    bool notable = false;
    std::uint32_t index = 0;  // 0-based line number within its reply
};

// A first-in first-out queue that allocates nothing until used and grows
// only as far as it is filled (a std::deque allocates its first block up
// front, for every session).
template <typename T>
class RingQueue {
public:
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    const T& front() const noexcept { return buf_[head_]; }
    void pop_front() noexcept
    {
        head_ = (head_ + 1) % buf_.size();
        --size_;
    }
    void push_back(const T& v)
    {
        if (size_ == buf_.size()) {
            std::vector<T> grown;
            grown.reserve(buf_.empty() ? 4 : buf_.size() * 2);
            for (std::size_t i = 0; i < size_; ++i)
                grown.push_back(buf_[(head_ + i) % buf_.size()]);
            grown.resize(grown.capacity());
            buf_.swap(grown);
            head_ = 0;
        }
        buf_[(head_ + size_) % buf_.size()] = v;
        ++size_;
    }
    void clear() noexcept { head_ = size_ = 0; }
    template <typename F>
    bool any_of(F&& f) const
    {
        for (std::size_t i = 0; i < size_; ++i)
            if (f(buf_[(head_ + i) % buf_.size()]))
                return true;
        return false;
    }

private:
    std::vector<T> buf_;
    std::size_t head_ = 0, size_ = 0;
};

class SmtpSession {
public:
    explicit SmtpSession(SessionLimits limits = {}, const SiteRules* site = nullptr)
        : limits_(limits), site_rules_(site)
    {
        // A zero limit would leave nowhere to queue the command being answered.
        if (limits_.max_pending_commands == 0)
            limits_.max_pending_commands = 1;
    }

    // Bytes the client sent, in stream order: commands, DATA bodies and BDAT
    // chunks. The session follows the dialogue itself instead of trusting
    // the SMTP dissector's state, which loses track after a refused DATA.
    void on_client_data(std::string_view data, std::uint32_t frame, std::int64_t t_ns)
    {
        while (!data.empty()) {
            if (bdat_remaining_ > 0) {
                const std::size_t n =
                    bdat_remaining_ < data.size() ? static_cast<std::size_t>(bdat_remaining_) : data.size();
                bdat_remaining_ -= n;
                data.remove_prefix(n);
                continue;
            }
            if (in_data_) {
                data.remove_prefix(scan_body(data));
                if (!in_data_)
                    push({Verb::literal(kEndOfData), frame, t_ns});
                continue;
            }
            const std::size_t lf = data.find('\n');
            if (lf == std::string_view::npos) {
                keep_partial(data);
                return;
            }
            std::string_view line = data.substr(0, lf + 1);
            data.remove_prefix(lf + 1);
            if (!partial_.empty() || skipping_long_line_) {
                keep_partial(line);
                skipping_long_line_ = false;
                command_line(partial_, frame, t_ns);  // an over-long line counts by its head
                partial_.clear();
            } else {
                command_line(line, frame, t_ns);
            }
        }
    }

    // Bytes the server sent, in stream order: calls `on_line` with each
    // complete line (terminator included). A line cut by the end of the
    // segment is kept (its head only, when over-long) until its end arrives.
    template <typename OnLine>
    void on_server_data(std::string_view data, OnLine&& on_line)
    {
        while (!data.empty()) {
            const std::size_t lf = data.find('\n');
            if (lf == std::string_view::npos) {
                append_bounded(reply_partial_, data);
                return;
            }
            const std::string_view line = data.substr(0, lf + 1);
            data.remove_prefix(lf + 1);
            if (reply_partial_.empty()) {
                on_line(line);
            } else {
                append_bounded(reply_partial_, line);
                if (reply_partial_.back() != '\n')
                    reply_partial_.push_back('\n');  // keep the terminator of a cut line
                const std::string joined = std::move(reply_partial_);
                reply_partial_.clear();
                on_line(std::string_view(joined));
            }
        }
    }

    // TLS from the first byte (SMTPS): only decrypted data reaches the session.
    void tls_from_start() noexcept { tls_started_ = true; }

    // Bytes of one side were never captured: a line cut by the hole cannot
    // be read, so its start is dropped.
    void on_gap(bool client_side) noexcept
    {
        if (client_side) {
            partial_.clear();
            skipping_long_line_ = false;
        } else {
            reply_partial_.clear();
        }
    }

    // One reply line. Returns true and fills `out` when the line completes a
    // reply; `line_out` always describes the line.
    bool on_reply_line(std::string_view raw, std::uint32_t frame, std::int64_t t_ns, LineRecord& line_out,
                       ReplyRecord& out)
    {
        const ReplyLine line = parse_reply_line(raw);
        bool differs = false;  // from the reply's first line (code, or first enhanced code seen)
        if (lines_in_reply_ == 0) {
            current_ = ReplyRecord{};
            current_.code = line.code;
            current_.enhanced = line.enhanced;
            current_.first_frame = frame;
            text_.clear();
            keep_text_ = text_matters(line.code);
        } else {
            if (line.code != current_.code)
                current_.code_mismatch = differs = true;
            if (line.enhanced != current_.enhanced) {
                if (!current_.enhanced.present())
                    current_.enhanced = line.enhanced;
                else if (line.enhanced.present())
                    current_.enhanced_mismatch = differs = true;
            }
        }
        const bool multi_line = lines_in_reply_ > 0 || line.continued;
        line_out = {line.code,
                    line.enhanced,
                    line.problems,
                    line.continued,
                    line.problems != 0 || differs ||
                        (multi_line && current_.reply_class() != ReplyClass::success),
                    static_cast<std::uint32_t>(lines_in_reply_)};
        current_.problems |= line.problems;
        ++lines_in_reply_;
        if (lines_in_reply_ <= limits_.max_reply_lines) {
            if (keep_text_ && text_.size() < limits_.max_reply_text) {
                if (!text_.empty())
                    text_.push_back('\n');  // no wording is looked for across lines
                append_lower(text_, line.text.substr(0, limits_.max_reply_text - text_.size()));
            }
        } else {
            current_.lines_truncated = true;
        }
        // A line without a code cannot announce a continuation: it ends the
        // reply so one bad line never swallows the rest of the session.
        if (line.continued && !(line.problems & kNoCode) && line.code != 0)
            return false;

        finish(t_ns, out);
        return true;
    }

    bool in_data() const noexcept { return in_data_; }

    // The summary of a transaction that just ended, once.
    bool take_summary(TransactionSummary& out)
    {
        if (!summary_ready_)
            return false;
        summary_ready_ = false;
        out = std::move(summary_);
        return true;
    }

    // Who is who, learnt from the direction of commands and replies.
    void set_endpoints(const IpAddress& client, std::uint16_t client_port, const IpAddress& server,
                       std::uint16_t server_port)
    {
        client_ = client;
        server_ = server;
        client_port_ = client_port;
        server_port_ = server_port;
    }

    // A black hole stopped the message body: report the transaction as
    // stalled now (it stays open: the sender may still recover).
    void stalled()
    {
        if (!txn_open_ || stall_reported_ || !awaiting_message_reply())
            return;
        stall_reported_ = true;
        summary_ = txn_;
        summary_.outcome = Outcome::stalled;
        stamp_session(summary_);
        summary_ready_ = true;
    }

    // The connection closed (FIN or RST) with a transaction still open.
    void end_of_connection()
    {
        if (!txn_open_)
            return;
        if (awaiting_message_reply()) {
            if (stall_reported_) {
                txn_open_ = false;
                txn_ = TransactionSummary{};
            } else {
                close_transaction(Outcome::stalled, 0, {});
            }
        } else {
            const RecipientResult* decider = nullptr;
            const Outcome o = recipients_outcome(&decider);
            close_transaction(o, decider ? decider->code : 0, decider ? decider->enhanced : EnhancedCode{});
        }
        in_data_ = false;
        pending_.clear();
    }

    // A message is on its way: the body is being sent, or its end (or a BDAT
    // chunk) has been sent and the server has not answered yet.
    bool awaiting_message_reply() const noexcept
    {
        if (in_data_ || bdat_remaining_ > 0)
            return true;
        return pending_.any_of([](const Pending& p) { return p.verb == kEndOfData || p.verb == "BDAT"; });
    }
    bool tls_started() const noexcept { return tls_started_; }
    std::size_t pending() const noexcept { return pending_.size(); }
    std::uint32_t replies_seen() const noexcept { return replies_; }

private:
    struct Pending {
        Verb verb;
        std::uint32_t frame = 0;
        std::int64_t t_ns = 0;
        std::int16_t recipient = -1;  // index into the transaction's recipients
        bool bdat_last = false;
    };

    // One command line (terminator included or not).
    void command_line(std::string_view line, std::uint32_t frame, std::int64_t t_ns)
    {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.remove_suffix(1);
        if (auth_continues_) {
            // A line of an AUTH exchange answers the server's 334 challenge.
            auth_continues_ = false;
            push({Verb::from("AUTH"), frame, t_ns});
            return;
        }
        std::size_t end = 0;
        while (end < line.size() && line[end] != ' ')
            ++end;
        const Verb verb = Verb::from(line.substr(0, end));
        const std::string_view args = end < line.size() ? line.substr(end + 1) : std::string_view{};
        Pending p{verb, frame, t_ns};
        if (verb == "EHLO" || verb == "HELO") {
            std::size_t sp = args.find(' ');
            ehlo_ = std::string(args.substr(0, std::min(sp, kMaxAddress)));
        } else if (verb == "MAIL") {
            txn_ = TransactionSummary{};
            txn_.mail_from = envelope_address(args);
            txn_.mail_frame = frame;
            txn_open_ = true;
        } else if (verb == "RCPT" && txn_open_) {
            if (txn_.recipients.size() < kMaxRecipients) {
                p.recipient = static_cast<std::int16_t>(txn_.recipients.size());
                txn_.recipients.push_back({envelope_address(args), 0, {}});
            } else {
                ++txn_.recipients_dropped;
            }
        } else if (verb == "BDAT") {
            p.bdat_last = contains_nocase(args, "last");
        }
        push(p);
        if (verb == "BDAT") {
            // "BDAT <size> [LAST]": the chunk follows at once, no reply awaited.
            std::uint64_t size = 0;
            std::size_t i = end;
            while (i < line.size() && line[i] == ' ')
                ++i;
            for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i)
                size = size > (UINT64_MAX - 9) / 10 ? UINT64_MAX : size * 10 + static_cast<unsigned>(line[i] - '0');
            bdat_remaining_ = size;
        }
    }

    void append_bounded(std::string& buf, std::string_view piece) const
    {
        const std::size_t cap = limits_.max_command_line;
        if (buf.size() < cap)
            buf.append(piece.substr(0, cap - buf.size()));
    }

    // Keeps the start of a command line that continues in a later segment;
    // an over-long line is cut at the limit and the rest skipped.
    void keep_partial(std::string_view piece)
    {
        if (skipping_long_line_)
            return;
        const std::size_t room = limits_.max_command_line > partial_.size()
                                     ? limits_.max_command_line - partial_.size()
                                     : 0;
        if (piece.size() > room) {
            partial_.append(piece.substr(0, room));
            skipping_long_line_ = true;
            return;
        }
        partial_.append(piece);
    }

    // Consumes message body bytes up to and including the "." line; clears
    // in_data_ when the body ended. Returns the number of bytes consumed.
    std::size_t scan_body(std::string_view data)
    {
        // Only a '.' at the start of a line can begin the end-of-data line,
        // so the scan jumps from dot to dot (memchr) rather than from line
        // to line: text has about as many dots as lines, encoded
        // attachments none.
        const std::size_t n = data.size();
        std::size_t i = 0;
        while (i < n) {
            switch (body_state_) {
            case BodyState::dot:
            case BodyState::dot_cr:
                if (data[i] == '\n') {
                    in_data_ = false;
                    return i + 1;
                }
                body_state_ = (body_state_ == BodyState::dot && data[i] == '\r') ? BodyState::dot_cr
                                                                                  : BodyState::mid_line;
                ++i;
                break;
            case BodyState::line_start:
                if (data[i] == '.') {
                    body_state_ = BodyState::dot;
                    ++i;
                    break;
                }
                body_state_ = BodyState::mid_line;
                [[fallthrough]];
            case BodyState::mid_line: {
                // The next '.' right after a line feed in this segment.
                const char* const base = data.data();
                const char* from = base + i;
                for (;;) {
                    const auto* dot = static_cast<const char*>(std::memchr(from, '.', n - (from - base)));
                    if (!dot) {
                        body_state_ = data[n - 1] == '\n' ? BodyState::line_start : BodyState::mid_line;
                        return n;
                    }
                    if (dot > base + i && dot[-1] == '\n') {
                        i = static_cast<std::size_t>(dot - base) + 1;
                        body_state_ = BodyState::dot;
                        break;
                    }
                    from = dot + 1;
                }
                break;
            }
            }
        }
        return n;
    }

    void push(const Pending& p)
    {
        if (pending_.size() >= limits_.max_pending_commands) {
            pending_.pop_front();
            overflow_ = true;
        }
        pending_.push_back(p);
    }

    void finish(std::int64_t t_ns, ReplyRecord& out)
    {
        current_.line_count = static_cast<std::uint32_t>(lines_in_reply_);
        lines_in_reply_ = 0;

        Pending answered;
        if (!pending_.empty()) {
            const Pending p = pending_.front();
            answered = p;
            pending_.pop_front();
            current_.command = p.verb;
            current_.request_in = p.frame;
            current_.time_ns = t_ns - p.t_ns;
        } else if (replies_ == 0) {
            current_.command = Verb::literal(kGreeting);
        } else if (in_data_) {
            // The server spoke during the message body: it answers the DATA
            // transaction although the body never ended.
            current_.command = Verb::literal(kEndOfData);
        }
        current_.pending_overflow = overflow_;
        overflow_ = false;
        ++replies_;

        update_state(current_);
        track_transaction(answered, current_);

        if (keep_text_)
            explain_from_text();
        out = current_;
    }

    // Cause, vendor meaning and site rule from code, enhanced code and text.
    void explain_from_text()
    {
        const std::string_view whole = text_;
        const ReplyText text{&whole, 1};
        // Vendor readings and causes explain failures; success needs neither.
        if (is_failure(current_.code))
            current_.vendor = find_vendor(current_.code, current_.enhanced, text);
        current_.cause = classify_cause(current_.code, current_.enhanced, text, current_.vendor);
        if (site_rules_) {
            current_.site = site_rules_->match(current_.code, current_.enhanced, text);
            if (current_.site && current_.site->cause != Cause::none)
                current_.cause = current_.site->cause;
        }
    }

    // The text of a reply is read for causes and vendor meanings, which
    // explain failures, and for the site's own rules, which may name any code.
    bool text_matters(unsigned code) const noexcept
    {
        return is_failure(code) || (site_rules_ && site_rules_->size() > 0);
    }

    // Follows the message transaction; a reply that decides its fate leaves
    // a summary to collect with take_summary().
    void track_transaction(const Pending& p, const ReplyRecord& r)
    {
        const std::string_view verb = r.command.view();
        const unsigned klass = r.code / 100u;
        const bool failed = is_failure(r.code);
        if (verb == "STARTTLS" && r.code == 220)
            tls_started_ = true;
        if (!txn_open_) {
            // Turned away before any transaction: refused greeting, or the
            // server closing (421) on a session that sent no mail yet.
            if (transactions_ == 0 && ((verb == kGreeting && failed) || r.code == 421)) {
                txn_ = TransactionSummary{};
                txn_open_ = true;
                close_transaction(klass == 5 ? Outcome::rejected : Outcome::deferred, r.code, r.enhanced);
            }
            return;
        }
        if (verb == "RCPT" && p.recipient >= 0 && static_cast<std::size_t>(p.recipient) < txn_.recipients.size()) {
            RecipientResult& rc = txn_.recipients[static_cast<std::size_t>(p.recipient)];
            rc.code = r.code;
            rc.enhanced = r.enhanced;
            return;
        }
        const bool decides = (verb == "MAIL" && failed) || (verb == "DATA" && failed) || verb == kEndOfData ||
                             (verb == "BDAT" && (p.bdat_last || failed)) || r.code == 421 ||
                             ((verb == "RSET" || verb == "QUIT") && r.code != 0);
        if (!decides)
            return;
        Outcome o = Outcome::aborted;
        if (verb == "RSET" || verb == "QUIT") {
            // Given up before the end: the recipients' replies decide.
            const RecipientResult* decider = nullptr;
            o = recipients_outcome(&decider);
            if (decider) {
                close_transaction(o, decider->code, decider->enhanced);
                return;
            }
        } else if (klass == 2) {
            o = Outcome::accepted;
        } else if (klass == 4) {
            o = Outcome::deferred;
        } else if (klass == 5) {
            o = Outcome::rejected;
        }
        close_transaction(o, r.code, r.enhanced);
    }

    // A transaction given up before its end: all recipients refused makes it
    // a rejection (or deferral), anything else an abort.
    // `decider`, when given, receives the recipient reply behind a
    // rejection or deferral.
    Outcome recipients_outcome(const RecipientResult** decider = nullptr) const noexcept
    {
        bool any_ok = false;
        const RecipientResult* first4 = nullptr;
        const RecipientResult* first5 = nullptr;
        for (const auto& rc : txn_.recipients) {
            any_ok |= rc.code / 100 == 2;
            if (rc.code / 100 == 4 && !first4)
                first4 = &rc;
            if (rc.code / 100 == 5 && !first5)
                first5 = &rc;
        }
        if (!any_ok && first5 && !first4) {
            if (decider)
                *decider = first5;
            return Outcome::rejected;
        }
        if (!any_ok && first4) {
            if (decider)
                *decider = first4;
            return Outcome::deferred;
        }
        return Outcome::aborted;
    }

    // What the session, not the transaction, knows: who talks, EHLO, TLS.
    void stamp_session(TransactionSummary& t) const
    {
        t.ehlo = ehlo_;
        t.tls = tls_started_;
        t.client = client_;
        t.server = server_;
        t.client_port = client_port_;
        t.server_port = server_port_;
    }

    void close_transaction(Outcome o, std::uint16_t code, const EnhancedCode& enh)
    {
        ++transactions_;
        txn_.outcome = o;
        txn_.final_code = code;
        txn_.final_enhanced = enh;
        stamp_session(txn_);
        txn_.after_stall = stall_reported_;
        summary_ = std::move(txn_);
        txn_ = TransactionSummary{};
        txn_open_ = false;
        stall_reported_ = false;
        summary_ready_ = true;
    }

    void update_state(const ReplyRecord& r)
    {
        const std::string_view verb = r.command.view();
        if (verb == "DATA") {
            in_data_ = (r.code == 354);
            body_state_ = BodyState::line_start;
        } else if (verb == "AUTH") {
            auth_continues_ = (r.code == 334);
        } else if (verb == "STARTTLS") {
            if (r.code == 220)
                tls_started_ = true;
        } else if (verb == kEndOfData) {
            in_data_ = false;
        }
        if (r.code == 421 || r.code == 221)
            in_data_ = false;
    }

    // What a segment of a message body reads comes first, so that such a
    // segment (the bulk of a session) finds it in one cache line.
    enum class BodyState : std::uint8_t { line_start, dot, dot_cr, mid_line };
    std::uint64_t bdat_remaining_ = 0;
    BodyState body_state_ = BodyState::line_start;
    bool in_data_ = false;
    bool tls_started_ = false;
    bool skipping_long_line_ = false;
    bool auth_continues_ = false;
    bool overflow_ = false;
    std::string partial_;        // start of a command line continued in a later segment
    std::string reply_partial_;  // start of a reply line continued in a later segment
    SessionLimits limits_;
    const SiteRules* site_rules_ = nullptr;
    RingQueue<Pending> pending_;
    ReplyRecord current_;
    std::string text_;  // the reply's text, lower-cased, for the cause and vendor look-ups
    bool keep_text_ = false;  // this reply's text is worth reading (text_matters)
    std::size_t lines_in_reply_ = 0;
    std::uint32_t replies_ = 0;
    bool txn_open_ = false;
    bool summary_ready_ = false;
    bool stall_reported_ = false;
    std::uint32_t transactions_ = 0;
    std::string ehlo_;
    IpAddress client_, server_;
    std::uint16_t client_port_ = 0, server_port_ = 0;
    TransactionSummary txn_;
    TransactionSummary summary_;
};

}  // namespace smtp_delivery
