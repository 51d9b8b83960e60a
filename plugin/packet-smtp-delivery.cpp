/* SMTP Delivery: a post-dissector that explains SMTP replies.
 *
 * On the first pass it reads each TCP segment and ICMP error from the frame's
 * bytes (Wireshark's layers tell which frames carry SMTP), hands them to the
 * pure C++ core in include/smtp_delivery/, and keeps the findings per frame;
 * every pass then shows them as fields and expert info. It asks Wireshark
 * for no fields, so it never makes tshark build a tree it would not build
 * anyway.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "compat.h"
#include "smtp_delivery_glue.h"

#include <epan/tap.h>
#include <epan/uat.h>
#include <wsutil/report_message.h>

#include "smtp_delivery/analysis.hpp"
#include "smtp_delivery/knowledge.hpp"
#include "smtp_delivery/net.hpp"
#include "smtp_delivery/pmtu_advice.hpp"
#include "smtp_delivery/site_rules.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>

using namespace smtp_delivery;

namespace {

int proto_smtp_delivery = -1;
int proto_smtp_delivery_post = -1;  // helper protocol of the post-dissector's handle
const char* proto_short_name = "";   // of SMTP Delivery, for expert infos
int smtp_delivery_tap = -1;
dissector_handle_t smtp_delivery_handle;

/* Reply */
int hf_reply = -1;
int hf_reply_code = -1;
int hf_reply_class = -1;
int hf_reply_meaning = -1;
int hf_reply_enhanced = -1;
int hf_reply_enhanced_class = -1;
int hf_reply_enhanced_subject = -1;
int hf_reply_enhanced_detail = -1;
int hf_reply_enhanced_meaning = -1;
int hf_reply_vendor = -1;
int hf_reply_vendor_meaning = -1;
int hf_reply_command = -1;
int hf_reply_request_in = -1;
int hf_reply_time = -1;
int hf_reply_cause = -1;
int hf_reply_advice = -1;
int hf_reply_lines = -1;
int hf_reply_first_frame = -1;
int hf_reply_site_meaning = -1;
/* Reply lines */
int hf_line = -1;
int hf_line_code = -1;
int hf_line_enhanced = -1;
int hf_line_continued = -1;

/* Path MTU */
int hf_pmtu = -1;
int hf_pmtu_blackhole = -1;
int hf_pmtu_verdict = -1;
int hf_pmtu_mtu_lower = -1;
int hf_pmtu_mtu_upper = -1;
int hf_pmtu_plateau = -1;
int hf_pmtu_next_hop_mtu = -1;
int hf_pmtu_original_in = -1;
int hf_pmtu_retransmissions = -1;
int hf_pmtu_packet_size = -1;
int hf_pmtu_recovered_size = -1;
int hf_pmtu_recovery_time = -1;
int hf_pmtu_fix = -1;
int hf_pmtu_missing_bytes = -1;
/* SMTP transaction stalled by a black hole */
int hf_stall = -1;
int hf_stall_mta_log = -1;

/* Per-transaction summary */
int hf_session = -1;
int hf_session_outcome = -1;
int hf_session_client = -1;
int hf_session_server = -1;
int hf_session_ehlo = -1;
int hf_session_tls = -1;
int hf_session_mail_from = -1;
int hf_session_rcpt = -1;
int hf_session_rcpt_code = -1;
int hf_session_final_code = -1;
int hf_session_final_enhanced = -1;
int hf_session_mail_in = -1;
int hf_session_client_port = -1;
int hf_session_server_port = -1;
int hf_session_after_stall = -1;

int ett_session = -1;
int ett_smtp_delivery = -1;
int ett_pmtu = -1;
int ett_stall = -1;
int ett_reply = -1;
int ett_enhanced = -1;
int ett_line = -1;

expert_field ei_transient = EI_INIT;
expert_field ei_permanent = EI_INIT;
expert_field ei_no_code = EI_INIT;
expert_field ei_code_out_of_range = EI_INIT;
expert_field ei_bad_separator = EI_INIT;
expert_field ei_bad_enhanced = EI_INIT;
expert_field ei_enhanced_mismatch = EI_INIT;
expert_field ei_multiline_mismatch = EI_INIT;
expert_field ei_line_ending = EI_INIT;
expert_field ei_line_too_long = EI_INIT;
expert_field ei_limit = EI_INIT;
expert_field ei_pmtu_blackhole = EI_INIT;
expert_field ei_pmtu_ptb = EI_INIT;
expert_field ei_pmtu_ptb_ignored = EI_INIT;
expert_field ei_pmtu_recovered = EI_INIT;
expert_field ei_pmtu_inconclusive = EI_INIT;
expert_field ei_stall = EI_INIT;

/* Protocols whose presence among a frame's layers the analysis checks. The
 * bytes themselves are read from the frame: asking for other dissectors'
 * fields would make tshark build a protocol tree for every packet, and the
 * SMTP dissector's own view differs across releases (line splitting, and it
 * loses track of DATA after a refused command), so the core reads the
 * dialogue itself. */
int proto_smtp = -1;
int proto_tls = -1;
int proto_tcp = -1;
int proto_ip = -1;
int proto_ipv6 = -1;
int proto_icmp = -1;
int proto_icmpv6 = -1;
/* Fields whose use means someone reads our items: our protocol (any of its
 * fields marks it) and the generic expert fields, whose items hang from ours. */
std::array<int, 4> g_watched = {-1, -1, -1, -1};

/* Whether this dissection builds our detail items. Without them, expert
 * infos are raised without an item where possible (see show_findings): they
 * still count, set the Expert column and reach the expert tap. */
bool g_details = false;

/* Whether the text of an expert info is read: by an item someone looks at
 * (g_details) or by a listener of the expert tap (-z expert, the GUI's
 * Expert Information). Otherwise the registered summary is raised in its
 * place and the message is never formatted. */
bool g_expert_text = false;
int g_expert_tap = -1;
int g_frame_tap = -1;

/* Whether the tap has a listener; its id is looked up on first use (taps
 * are registered by other protocols, in no set order). */
bool listened(int& tap, const char* name)
{
    if (tap < 0)
        tap = find_tap_id(name);
    return tap >= 0 && have_tap_listener(tap);
}

/* An expert info with its message formatted only when the message is read. */
#define SD_EXPERT_FORMAT(pinfo, item, ei, ...)                            \
    (g_expert_text ? expert_add_info_format(pinfo, item, ei, __VA_ARGS__) \
                   : expert_add_info(pinfo, item, ei))

int lookup_field(const char* name);

/* Whether a field of ours is used: the tree is shown, or a filter, column or
 * -e names the field (or, for a protocol, one of its fields). Unlike
 * proto_field_is_referenced() it does not count every protocol as used when
 * tshark keeps protocol items real (-T fields, -T json). */
/* Item labels are read only in a shown tree (-V, -O, the GUI's details). */
bool shown(proto_tree* tree)
{
    return tree && PTREE_DATA(tree)->visible;
}

/* Also: whether one of our items is worth preparing (strings copied, text
 * looked up or formatted); for a field nobody uses, Wireshark fakes the item
 * and the work would be thrown away. */
bool referenced(proto_tree* tree, int hf)
{
    if (!tree)
        return false;
    if (shown(tree))
        return true;
    const header_field_info* info = proto_registrar_get_nth(static_cast<guint>(hf));
    return info && info->ref_type != HF_REF_TYPE_NONE;
}

bool items_wanted(proto_tree* tree)
{
    if (referenced(tree, proto_smtp_delivery))
        return true;
    /* Resolved on first use: some releases register the expert fields after
     * plugin hand-off. */
    if (g_watched[0] < 0)
        g_watched = {proto_get_id_by_filter_name("_ws.expert"), lookup_field("_ws.expert.message"),
                     lookup_field("_ws.expert.severity"), lookup_field("_ws.expert.group")};
    for (int id : g_watched)
        if (id >= 0 && referenced(tree, id))
            return true;
    return false;
}

const value_string reply_class_vals[] = {
    {2, "success"},
    {3, "intermediate"},
    {4, "transient"},
    {5, "permanent"},
    {0, NULL},
};

const value_string pmtu_verdict_vals[] = {
    {static_cast<guint32>(PmtuVerdict::ok), "ok"},
    {static_cast<guint32>(PmtuVerdict::ptb_honoured), "ptb-honoured"},
    {static_cast<guint32>(PmtuVerdict::ptb_ignored), "ptb-ignored"},
    {static_cast<guint32>(PmtuVerdict::blackhole), "blackhole"},
    {static_cast<guint32>(PmtuVerdict::recovered), "recovered"},
    {static_cast<guint32>(PmtuVerdict::inconclusive), "inconclusive"},
    {0, NULL},
};

const value_string outcome_vals[] = {
    {static_cast<guint32>(Outcome::accepted), "accepted"},
    {static_cast<guint32>(Outcome::deferred), "deferred"},
    {static_cast<guint32>(Outcome::rejected), "rejected"},
    {static_cast<guint32>(Outcome::stalled), "stalled"},
    {static_cast<guint32>(Outcome::aborted), "aborted"},
    {0, NULL},
};

/* Preferences */
enum { PMTU_SCOPE_ALL_TCP = 0, PMTU_SCOPE_SMTP = 1 };
const enum_val_t pmtu_scope_vals[] = {
    {"all-tcp", "Every TCP flow", PMTU_SCOPE_ALL_TCP},
    {"smtp", "SMTP flows only", PMTU_SCOPE_SMTP},
    {NULL, NULL, -1},
};
const PmtuSettings kDefaultPmtu;
guint pref_transmissions = kDefaultPmtu.transmissions;
guint pref_min_size = kDefaultPmtu.min_size;
gint pref_pmtu_scope = PMTU_SCOPE_ALL_TCP;
sd_pref_bool_t pref_session_summary = TRUE;

/* Site codes: a site's own reply meanings, a table the user edits (UAT). */
struct site_code_t {
    char* code;
    char* enhanced;
    char* text;
    char* meaning;
    char* cause;
    char* advice;
};
site_code_t* site_codes = NULL;
guint num_site_codes = 0;

UAT_CSTRING_CB_DEF(site_codes, code, site_code_t)
UAT_CSTRING_CB_DEF(site_codes, enhanced, site_code_t)
UAT_CSTRING_CB_DEF(site_codes, text, site_code_t)
UAT_CSTRING_CB_DEF(site_codes, meaning, site_code_t)
UAT_CSTRING_CB_DEF(site_codes, cause, site_code_t)
UAT_CSTRING_CB_DEF(site_codes, advice, site_code_t)

struct UintRange {
    const char* name;
    guint* value;
    guint lo, hi, fallback;
};

Analysis g_analysis;

void cleanup_analysis(void)
{
    g_analysis.clear();
}

void site_codes_post_update(void);

/* Before each file: the rules follow the table as loaded, even when loading
 * stopped at a bad row (the rows before it still count). */
void init_analysis(void)
{
    site_codes_post_update();
}

const char* or_empty(const char* s)
{
    return s ? s : "";
}

SiteRule site_rule_of(const site_code_t* r, std::string& error)
{
    SiteRule rule;
    error = parse_site_rule(or_empty(r->code), or_empty(r->enhanced), or_empty(r->text), or_empty(r->meaning),
                            or_empty(r->cause), or_empty(r->advice), rule);
    return rule;
}

/* A bad row is refused with the row and the reason. */
sd_uat_bool_t site_code_update(void* record, char** error)
{
    const auto* r = static_cast<const site_code_t*>(record);
    std::string why;
    site_rule_of(r, why);
    if (why.empty())
        return TRUE;
    *error = g_strdup_printf("row \"%s\",\"%s\",\"%s\": %s", or_empty(r->code), or_empty(r->enhanced),
                             or_empty(r->text), why.c_str());
    return FALSE;
}

void* site_code_copy(void* dest, const void* source, size_t)
{
    auto* d = static_cast<site_code_t*>(dest);
    const auto* s = static_cast<const site_code_t*>(source);
    d->code = g_strdup(s->code);
    d->enhanced = g_strdup(s->enhanced);
    d->text = g_strdup(s->text);
    d->meaning = g_strdup(s->meaning);
    d->cause = g_strdup(s->cause);
    d->advice = g_strdup(s->advice);
    return dest;
}

void site_code_free(void* record)
{
    auto* r = static_cast<site_code_t*>(record);
    g_free(r->code);
    g_free(r->enhanced);
    g_free(r->text);
    g_free(r->meaning);
    g_free(r->cause);
    g_free(r->advice);
}

/* After the table changed: rebuild the core's rules from the valid rows. */
void site_codes_post_update(void)
{
    SiteRules& rules = g_analysis.site_rules();
    rules.clear();
    for (guint i = 0; i < num_site_codes; ++i) {
        std::string why;
        SiteRule rule = site_rule_of(&site_codes[i], why);
        if (why.empty())
            rules.add(std::move(rule));
    }
}

/* Preferences apply: out-of-range values are refused, named, and replaced by
 * the default, so a typo never silently disables detection. */
void apply_prefs(void)
{
    const UintRange ranges[] = {
        {"smtp_delivery.pmtu_transmissions", &pref_transmissions, 2, 10, kDefaultPmtu.transmissions},
        {"smtp_delivery.pmtu_min_size", &pref_min_size, 68, 9000, kDefaultPmtu.min_size},
    };
    for (const UintRange& r : ranges) {
        if (*r.value < r.lo || *r.value > r.hi) {
            report_failure("SMTP Delivery: preference %s must be between %u and %u (got %u); using %u", r.name,
                           r.lo, r.hi, *r.value, r.fallback);
            *r.value = r.fallback;
        }
    }
    PmtuSettings s;
    s.transmissions = pref_transmissions;
    s.min_size = pref_min_size;
    g_analysis.set_pmtu_settings(s);
}

/* Nanoseconds since the epoch, kept within [0, 2^62): a capture can carry any
 * 64-bit timestamp, and the core subtracts times freely. */
std::int64_t to_ns(const nstime_t& t)
{
    constexpr std::int64_t kMaxSecs = (std::int64_t{1} << 62) / 1000000000LL;
    const auto secs = static_cast<std::int64_t>(t.secs);
    if (secs < 0)
        return 0;
    if (secs >= kMaxSecs)
        return kMaxSecs * 1000000000LL;
    return secs * 1000000000LL + t.nsecs;
}

nstime_t to_nstime(std::int64_t ns)
{
    nstime_t t;
    t.secs = static_cast<time_t>(ns / 1000000000LL);
    t.nsecs = static_cast<int>(ns % 1000000000LL);
    return t;
}

/* What the protocol layers of this frame say: ICMP error, TCP, and whether
 * Wireshark's SMTP dissector read the TCP payload itself (SMTP right above
 * the innermost TCP) or data decrypted from TLS right above it. */
struct Layers {
    int icmp_family = 0;  // 4 or 6 when the frame is ICMP / ICMPv6
    bool tcp = false;
    bool tls_on_tcp = false;
    bool smtp_on_tcp = false;
    bool smtp_on_tls = false;
};

int layer_id(const wmem_list_frame_t* f)
{
    return GPOINTER_TO_INT(wmem_list_frame_data(f));
}

/* Read from the top down (a handful of steps): what sits right above the
 * innermost TCP, and whether the IP below it is quoted by an ICMP error. */
Layers scan_layers(const packet_info* pinfo)
{
    Layers l;
    if (!pinfo->layers)
        return l;
    int up1 = -1, up2 = -1;
    wmem_list_frame_t* f = wmem_list_tail(pinfo->layers);
    for (; f; f = wmem_list_frame_prev(f)) {
        const int id = layer_id(f);
        if (id == proto_tcp)
            break;
        up2 = up1;
        up1 = id;
    }
    if (!f)
        return l;
    l.tcp = true;
    l.smtp_on_tcp = up1 == proto_smtp;
    l.tls_on_tcp = up1 == proto_tls;
    l.smtp_on_tls = l.tls_on_tcp && up2 == proto_smtp;
    /* Down to the IP header carrying the TCP header (IPv6 extension headers
     * are layers of their own), then one more: ICMP when it is a quote. */
    for (int steps = 0; steps < 6 && (f = wmem_list_frame_prev(f)); ++steps) {
        const int id = layer_id(f);
        if (id != proto_ip && id != proto_ipv6)
            continue;
        if (const wmem_list_frame_t* below = wmem_list_frame_prev(f)) {
            const int below_id = layer_id(below);
            if (below_id == proto_icmp)
                l.icmp_family = 4;
            else if (below_id == proto_icmpv6)
                l.icmp_family = 6;
        }
        break;
    }
    return l;
}

/* Where the IP header with these addresses starts in the frame, when the
 * addresses are not the header's own bytes (always so for IPv6); `length`
 * when it is not there. */
SD_NOINLINE std::size_t find_network_header(const std::uint8_t* base, std::size_t length, const std::uint8_t* s,
                                            const std::uint8_t* d, std::size_t n, std::size_t src_offset,
                                            unsigned version)
{
    /* Source and destination side by side, as in the header, with the
     * right version in front: first where the last frame had them (the
     * link layer rarely changes within a capture), else the first place
     * they occur. */
    std::array<std::uint8_t, 32> pair;
    std::memcpy(pair.data(), s, n);
    std::memcpy(pair.data() + n, d, n);
    const auto header_at = [&](std::size_t at) {
        return at + src_offset + 2 * n <= length && (base[at] >> 4) == version &&
               std::memcmp(base + at + src_offset, pair.data(), 2 * n) == 0;
    };
    static std::size_t last_offset = 14;
    std::size_t offset = length;
    if (header_at(last_offset)) {
        offset = last_offset;
    } else {
        for (std::size_t from = src_offset; from + 2 * n <= length;) {
            const void* hit = memmem(base + from, length - from, pair.data(), 2 * n);
            if (!hit)
                break;
            const auto at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - base);
            if (header_at(at - src_offset)) {
                offset = last_offset = at - src_offset;
                break;
            }
            from = at + 1;
        }
    }
    return offset;
}

/* The innermost IP header of the frame. The IP dissector took the network
 * addresses from it: IPv4 points them into the frame (set_address_tvb), so
 * the header is found without parsing any link layer or tunnel; IPv6 points
 * them into a copy of its fixed header, which is then looked up in the frame.
 * Empty when the header is not in this frame's bytes (reassembled, decrypted
 * or exported data). */
Bytes network_header(tvbuff_t* tvb, const packet_info* pinfo)
{
    const address& src = pinfo->net_src;
    const address& dst = pinfo->net_dst;
    std::size_t src_offset;  // of the source address within the IP header
    unsigned version;
    if (src.type == AT_IPv4 && src.len == 4 && dst.type == AT_IPv4 && dst.len == 4) {
        src_offset = 12;
        version = 4;
    } else if (src.type == AT_IPv6 && src.len == 16 && dst.type == AT_IPv6 && dst.len == 16) {
        src_offset = 8;
        version = 6;
    } else {
        return {};
    }
    const auto* s = static_cast<const std::uint8_t*>(src.data);
    const auto* d = static_cast<const std::uint8_t*>(dst.data);
    const guint length = tvb_captured_length(tvb);
    if (!s || !d || length < src_offset + 2 * src.len)
        return {};
    const auto* base = tvb_get_ptr(tvb, 0, static_cast<gint>(length));
    const std::size_t n = static_cast<std::size_t>(src.len);
    std::size_t offset;
    if (d == s + n && s >= base + src_offset && s + 2 * n <= base + length) {
        offset = static_cast<std::size_t>(s - base) - src_offset;
    } else {
        offset = find_network_header(base, length, s, d, n, src_offset, version);
        if (offset == length)
            return {};
    }
    return Bytes{base + offset, length - offset};
}

/* The ICMP message of an ICMP error frame. The IP header found may be the
 * outer one or, in releases that leave the quoted header's addresses in
 * place, the quoted one, which follows the 8-byte ICMP header. */
Bytes icmp_message(const Bytes& ip_bytes, const Bytes& frame, int family)
{
    IpHeader ip;
    if (!parse_ip(ip_bytes, ip) || ip.src.family != family)
        return {};
    if (ip.protocol == (family == 4 ? 1 : 58) && !ip.fragment)
        return ip_bytes.from(ip.header_length);
    const std::size_t offset = static_cast<std::size_t>(ip_bytes.data - frame.data);
    return offset >= 8 ? frame.from(offset - 8) : Bytes{};
}

/* An ICMP error: the TCP header inside is a quote, not a segment. */
SD_COLD void read_icmp_error(tvbuff_t* tvb, packet_info* pinfo, const Bytes& ip_bytes, int family)
{
    const guint length = tvb_captured_length(tvb);
    const Bytes frame{tvb_get_ptr(tvb, 0, static_cast<gint>(length)), length};
    PacketTooBig ptb;
    if (parse_packet_too_big(icmp_message(ip_bytes, frame, family), family, ptb))
        g_analysis.on_packet_too_big(ptb, pinfo->num);
}

/* The TLS dissector adds each record it decrypted in this frame as a data
 * source of its own, in record order: with the session keys, the SMTP
 * dialogue after STARTTLS (or on an SMTPS port) is read from there. */
SD_COLD void read_decrypted(tvbuff_t* frame, packet_info* pinfo, ConnectionRef conn, const Segment& seg)
{
    static constexpr std::string_view kDecrypted = "Decrypted TLS";
    for (GSList* node = pinfo->data_src; node; node = node->next) {
        const auto* source = static_cast<const struct data_source*>(node->data);
        if (get_data_source_tvb(source) == frame)
            continue;  // the frame's own bytes (their label is formatted anew on each call)
        char* label = sd_data_source_label(source);
        const bool decrypted = label && std::string_view(label).substr(0, kDecrypted.size()) == kDecrypted;
        wmem_free(NULL, label);
        if (!decrypted)
            continue;
        tvbuff_t* plain = get_data_source_tvb(source);
        const guint length = plain ? tvb_captured_length(plain) : 0;
        if (length == 0)
            continue;
        const auto* bytes = reinterpret_cast<const char*>(tvb_get_ptr(plain, 0, static_cast<gint>(length)));
        g_analysis.add_decrypted(conn, seg, std::string_view(bytes, length));
    }
}

/* First pass: feed the core with this frame's TCP segment or ICMP error,
 * read from the frame's bytes (no protocol tree needed). */
void analyse_frame(tvbuff_t* tvb, packet_info* pinfo)
{
    /* The layers first, not the port type: after an ICMP error that quotes
     * TCP, Wireshark 4.4 and later do not leave the port type at TCP. */
    const Layers layers = scan_layers(pinfo);
    if (!layers.tcp)
        return;  /* ICMP errors that matter quote TCP too */
    const Bytes ip_bytes = network_header(tvb, pinfo);
    if (!ip_bytes.data)
        return;
    if (layers.icmp_family) {
        read_icmp_error(tvb, pinfo, ip_bytes, layers.icmp_family);
        return;
    }
    Segment seg;
    Bytes payload;
    if (pinfo->ptype != PT_TCP || !read_tcp_segment(ip_bytes, seg, payload) ||
        seg.tcp.src_port != pinfo->srcport || seg.tcp.dst_port != pinfo->destport)
        return;
    seg.frame = pinfo->num;
    seg.t_ns = to_ns(pinfo->abs_ts);
    SmtpHint smtp;
    smtp.present = layers.smtp_on_tcp || layers.smtp_on_tls;
    smtp.over_tls = !layers.smtp_on_tcp && layers.smtp_on_tls;
    if (smtp.present && (pinfo->match_uint == pinfo->srcport || pinfo->match_uint == pinfo->destport))
        smtp.server_port = static_cast<std::uint16_t>(pinfo->match_uint);
    const ConnectionRef conn =
        g_analysis.on_tcp_segment(seg, pref_pmtu_scope == PMTU_SCOPE_ALL_TCP,
                                  std::string_view(reinterpret_cast<const char*>(payload.data), payload.size), smtp);
    if (layers.tls_on_tcp && conn.conn->session() && conn.conn->session()->tls_started())
        read_decrypted(tvb, pinfo, conn, seg);
}

/* A zero-length item of ours. proto_tree_add_item() checks lengths and
 * bounds before it looks at the tree; without one (plain tshark, -2, -z)
 * there is nothing to add. */
proto_item* add_empty_item(proto_tree* tree, int hf, tvbuff_t* tvb)
{
    return tree ? proto_tree_add_item(tree, hf, tvb, 0, 0, ENC_NA) : nullptr;
}

/* {client} / {server} in advice become the addresses of this reply's frame
 * (a reply travels server -> client). */
std::string expand_advice(std::string_view advice, packet_info* pinfo)
{
    std::string out;
    out.reserve(advice.size() + 48);
    while (!advice.empty()) {
        const std::size_t brace = advice.find('{');
        if (brace == std::string_view::npos) {
            out.append(advice);
            break;
        }
        out.append(advice.substr(0, brace));
        advice.remove_prefix(brace);
        if (advice.substr(0, 8) == "{client}") {
            out.append(address_to_str(pinfo->pool, &pinfo->dst));
            advice.remove_prefix(8);
        } else if (advice.substr(0, 8) == "{server}") {
            out.append(address_to_str(pinfo->pool, &pinfo->src));
            advice.remove_prefix(8);
        } else {
            out.push_back('{');
            advice.remove_prefix(1);
        }
    }
    return out;
}

/* A text of the compiled-in tables as a C string, without a copy: each
 * views a whole string literal (checked when the tables compile). */
const char* table_text(std::string_view s)
{
    return s.data();
}

/* The subject digit of an enhanced code with its meaning, as the label of
 * the subject item: formatted only when a label is wanted. */
void format_subject(gchar* label, guint32 subject)
{
    const std::string_view meaning = subject_meaning(subject);
    if (meaning.empty())
        g_snprintf(label, ITEM_LABEL_LENGTH, "%u", subject);
    else
        g_snprintf(label, ITEM_LABEL_LENGTH, "%u (%.*s)", subject, static_cast<int>(meaning.size()), meaning.data());
}

void add_line_problems(packet_info* pinfo, proto_item* item, std::uint16_t problems)
{
    if (problems & kNoCode)
        expert_add_info(pinfo, item, &ei_no_code);
    if (problems & kCodeOutOfRange)
        expert_add_info(pinfo, item, &ei_code_out_of_range);
    if (problems & kBadSeparator)
        expert_add_info(pinfo, item, &ei_bad_separator);
    if (problems & kBadEnhanced)
        expert_add_info(pinfo, item, &ei_bad_enhanced);
    if (problems & kEnhancedMismatch)
        expert_add_info(pinfo, item, &ei_enhanced_mismatch);
    if (problems & kBareLineFeed)
        expert_add_info(pinfo, item, &ei_line_ending);
    if (problems & kLineTooLong)
        expert_add_info(pinfo, item, &ei_line_too_long);
}

/* An item label assembled in one piece and set with one call: each
 * proto_item_append_text() formats (and first fills in the default label),
 * which in a shown tree (-V, -T fields, the GUI) costs more than the rest of
 * the item. Text beyond Wireshark's label length is cut, as Wireshark would. */
class Label {
public:
    /* Starts with the name the field was registered with, as Wireshark's
     * own label would. */
    explicit Label(int hf)
    {
        if (const char* name = proto_registrar_get_name(hf))
            add(name);
    }
    Label& add(std::string_view s)
    {
        const std::size_t n = std::min(s.size(), sizeof buf_ - 1 - size_);
        if (n == 0)
            return *this;  // an empty view may carry no pointer at all
        std::memcpy(buf_ + size_, s.data(), n);
        size_ += n;
        return *this;
    }
    Label& add(char c) { return add(std::string_view(&c, 1)); }
    Label& add(unsigned v)
    {
        char digits[10];
        std::size_t n = 0;
        do {
            digits[sizeof digits - 1 - n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v && n < sizeof digits);
        return add(std::string_view(digits + sizeof digits - n, n));
    }
    void set_on(proto_item* item)
    {
        buf_[size_] = '\0';
        proto_item_set_text(item, "%s", buf_);
    }

private:
    char buf_[ITEM_LABEL_LENGTH];
    std::size_t size_ = 0;
};

void show_line(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const LineRecord& line)
{
    char enh[kEnhancedBufferSize];
    proto_item* li = add_empty_item(tree, hf_line, tvb);
    if (!li || !g_details) {
        add_line_problems(pinfo, li, line.problems);
        return;
    }
    proto_item_set_generated(li);
    proto_tree* lt = proto_item_add_subtree(li, ett_line);
    const std::string_view e = format_enhanced(line.enhanced, enh, sizeof enh);
    if (shown(tree)) {
        Label label(hf_line);
        label.add(' ').add(line.index + 1u).add(": ");
        if (line.code)
            label.add(unsigned{line.code}).add(line.continued ? '-' : ' ');
        else
            label.add("no reply code");
        label.add(e).set_on(li);
    }
    if (line.code)
        proto_item_set_generated(proto_tree_add_uint(lt, hf_line_code, tvb, 0, 0, line.code));
    if (!e.empty())
        proto_item_set_generated(proto_tree_add_string(lt, hf_line_enhanced, tvb, 0, 0, enh));
    proto_item_set_generated(proto_tree_add_boolean(lt, hf_line_continued, tvb, 0, 0, line.continued));
    add_line_problems(pinfo, li, line.problems);
}

const char* failure_text(const ReplyRecord& r, const char* enh, bool has_enh, char* buf, std::size_t size)
{
    g_snprintf(buf, static_cast<gulong>(size), "%u%s%s%s%s", r.code, has_enh ? " " : "", has_enh ? enh : "",
               r.cause != Cause::none ? ": " : "", r.cause != Cause::none ? cause_label(r.cause).data() : "");
    return buf;
}

void show_reply(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const ReplyRecord& r)
{
    char enh[kEnhancedBufferSize];
    const std::string_view enhanced = format_enhanced(r.enhanced, enh, sizeof enh);
    const ReplyClass klass = r.reply_class();

    proto_item* ri = add_empty_item(tree, hf_reply, tvb);
    /* Items only when someone looks (a visible tree or a referenced field);
     * the expert info below is raised either way. */
    if (ri && g_details) {
        proto_item_set_generated(ri);
        proto_tree* rt = proto_item_add_subtree(ri, ett_reply);
        if (shown(tree)) {
            Label label(hf_reply);
            if (r.code)
                label.add(": ").add(unsigned{r.code});
            if (!enhanced.empty())
                label.add(' ').add(enhanced);
            label.add(" (").add(reply_class_label(klass));
            if (r.cause != Cause::none)
                label.add(", ").add(cause_label(r.cause));
            label.add(')');
            if (r.command.size)
                label.add(" to ").add(r.command.view());
            label.set_on(ri);
        }

        if (r.code) {
            proto_item_set_generated(proto_tree_add_uint(rt, hf_reply_code, tvb, 0, 0, r.code));
            if (klass != ReplyClass::unknown)
                proto_item_set_generated(proto_tree_add_uint(rt, hf_reply_class, tvb, 0, 0, static_cast<guint32>(klass)));
            if (referenced(rt, hf_reply_meaning)) {
                std::string_view meaning;
                if (const BasicCodeRow* row = find_basic_code(r.code))
                    meaning = row->meaning;
                else
                    meaning = class_meaning(r.code / 100);
                if (!meaning.empty())
                    proto_item_set_generated(
                        proto_tree_add_string(rt, hf_reply_meaning, tvb, 0, 0, table_text(meaning)));
            }
        }

        if (!enhanced.empty()) {
            proto_item* ei = proto_tree_add_string(rt, hf_reply_enhanced, tvb, 0, 0, enh);
            proto_item_set_generated(ei);
            proto_tree* et = proto_item_add_subtree(ei, ett_enhanced);
            proto_item_set_generated(proto_tree_add_uint(et, hf_reply_enhanced_class, tvb, 0, 0, r.enhanced.klass));
            /* Its label names the subject (format_subject), when shown. */
            proto_item_set_generated(proto_tree_add_uint(et, hf_reply_enhanced_subject, tvb, 0, 0, r.enhanced.subject));
            proto_item_set_generated(proto_tree_add_uint(et, hf_reply_enhanced_detail, tvb, 0, 0, r.enhanced.detail));
            if (referenced(et, hf_reply_enhanced_meaning)) {
                std::string_view emeaning;
                if (const EnhancedCodeRow* row = find_enhanced_code(r.enhanced))
                    emeaning = row->meaning;
                else
                    emeaning = subject_meaning(r.enhanced.subject);
                if (!emeaning.empty())
                    proto_item_set_generated(
                        proto_tree_add_string(et, hf_reply_enhanced_meaning, tvb, 0, 0, table_text(emeaning)));
            }
        }

        if (r.vendor) {
            if (referenced(rt, hf_reply_vendor))
                proto_item_set_generated(
                    proto_tree_add_string(rt, hf_reply_vendor, tvb, 0, 0, table_text(r.vendor->vendor)));
            if (referenced(rt, hf_reply_vendor_meaning))
                proto_item_set_generated(
                    proto_tree_add_string(rt, hf_reply_vendor_meaning, tvb, 0, 0, table_text(r.vendor->meaning)));
        }

        if (r.command.size && referenced(rt, hf_reply_command))
            proto_item_set_generated(proto_tree_add_string(rt, hf_reply_command, tvb, 0, 0, r.command.c_str()));
        if (r.request_in)
            proto_item_set_generated(proto_tree_add_uint(rt, hf_reply_request_in, tvb, 0, 0, r.request_in));
        if (r.time_ns >= 0) {
            const nstime_t t = to_nstime(r.time_ns);
            proto_item_set_generated(proto_tree_add_time(rt, hf_reply_time, tvb, 0, 0, &t));
        }

        if (r.site && referenced(rt, hf_reply_site_meaning))
            proto_item_set_generated(
                proto_tree_add_string(rt, hf_reply_site_meaning, tvb, 0, 0, r.site->meaning.c_str()));
        if (r.cause != Cause::none && referenced(rt, hf_reply_cause)) {
            const CauseRow& cause = cause_row(r.cause);
            const char* value = table_text(cause.label);
            proto_item* ci = !cause.description.empty() && shown(tree)
                                 ? proto_tree_add_string_format_value(
                                       rt, hf_reply_cause, tvb, 0, 0, value, "%s (%.*s)", value,
                                       static_cast<int>(cause.description.size()), cause.description.data())
                                 : proto_tree_add_string(rt, hf_reply_cause, tvb, 0, 0, value);
            proto_item_set_generated(ci);
        }
        if (referenced(rt, hf_reply_advice)) {
            /* The site's advice wins over the built-in one. */
            const std::string_view advice_template =
                r.site && !r.site->advice.empty()
                    ? std::string_view(r.site->advice)
                    : (r.cause != Cause::none ? cause_row(r.cause).advice : std::string_view{});
            if (!advice_template.empty()) {
                const std::string advice = expand_advice(advice_template, pinfo);
                proto_item_set_generated(proto_tree_add_string(rt, hf_reply_advice, tvb, 0, 0, advice.c_str()));
            }
        }

        proto_item_set_generated(proto_tree_add_uint(rt, hf_reply_lines, tvb, 0, 0, r.line_count));
        if (r.first_frame && r.first_frame != pinfo->num)
            proto_item_set_generated(proto_tree_add_uint(rt, hf_reply_first_frame, tvb, 0, 0, r.first_frame));
    }

    if (r.code_mismatch)
        expert_add_info(pinfo, ri, &ei_multiline_mismatch);
    if (r.lines_truncated || r.pending_overflow)
        SD_EXPERT_FORMAT(pinfo, ri, &ei_limit, "Limit reached: %s",
                         r.lines_truncated ? "reply has too many lines; the rest is counted, not read"
                                           : "too many commands awaiting a reply; the oldest were dropped");
    char text[96];
    if (klass == ReplyClass::transient)
        SD_EXPERT_FORMAT(pinfo, ri, &ei_transient, "Transient failure %s",
                         failure_text(r, enh, !enhanced.empty(), text, sizeof text));
    else if (klass == ReplyClass::permanent)
        SD_EXPERT_FORMAT(pinfo, ri, &ei_permanent, "Permanent failure %s",
                         failure_text(r, enh, !enhanced.empty(), text, sizeof text));
}

void show_pmtu(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const PmtuFinding& f)
{
    proto_item* pi = add_empty_item(tree, hf_pmtu, tvb);
    proto_item_set_generated(pi);
    proto_tree* pt = proto_item_add_subtree(pi, ett_pmtu);
    if (f.verdict != PmtuVerdict::none && pi) {
        if (shown(tree))
            Label(hf_pmtu).add(": ").add(pmtu_verdict_label(f.verdict)).set_on(pi);
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_verdict, tvb, 0, 0, static_cast<guint32>(f.verdict)));
    }
    if (f.blackhole)
        proto_item_set_generated(proto_tree_add_boolean(pt, hf_pmtu_blackhole, tvb, 0, 0, TRUE));
    if (f.packet_size)
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_packet_size, tvb, 0, 0, f.packet_size));
    if (f.original_in && f.original_in != pinfo->num)
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_original_in, tvb, 0, 0, f.original_in));
    if (f.blackhole || f.verdict_here)
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_retransmissions, tvb, 0, 0, f.retransmissions));
    if (f.next_hop_mtu)
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_next_hop_mtu, tvb, 0, 0, f.next_hop_mtu));
    if (f.mtu_lower)
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_mtu_lower, tvb, 0, 0, f.mtu_lower));
    if (f.mtu_upper && pt) {
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_mtu_upper, tvb, 0, 0, f.mtu_upper));
    }
    if (f.mtu_upper && referenced(pt, hf_pmtu_plateau)) {
        std::array<std::uint16_t, 7> plateaus{};
        const std::size_t n = plateaus_between(f.mtu_lower, f.mtu_upper, plateaus);
        if (n) {
            std::string list;
            for (std::size_t i = 0; i < n; ++i)
                list += (i ? ", " : "") + std::to_string(plateaus[i]);
            proto_item_set_generated(proto_tree_add_string(pt, hf_pmtu_plateau, tvb, 0, 0, list.c_str()));
        }
    }
    if (f.recovered_here) {
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_recovered_size, tvb, 0, 0, f.recovered_size));
        const nstime_t t = to_nstime(f.recovery_ns);
        proto_item_set_generated(proto_tree_add_time(pt, hf_pmtu_recovery_time, tvb, 0, 0, &t));
        SD_EXPERT_FORMAT(pinfo, pi, &ei_pmtu_recovered,
                         "Sender recovered from the PMTU black hole with %u-byte packets after %.3f s",
                         f.recovered_size, static_cast<double>(f.recovery_ns) / 1e9);
    }
    if (f.ptb_here)
        SD_EXPERT_FORMAT(pinfo, pi, &ei_pmtu_ptb, "ICMP too big for a %u-byte packet: next-hop MTU %u",
                         f.packet_size, f.next_hop_mtu);
    if (f.ptb_ignored_here)
        SD_EXPERT_FORMAT(pinfo, pi, &ei_pmtu_ptb_ignored,
                         "Sender ignores ICMP too big: %u-byte packet after being told MTU %u", f.packet_size,
                         f.next_hop_mtu);
    if (f.verdict_here) {
        SD_EXPERT_FORMAT(pinfo, pi, &ei_pmtu_blackhole,
                         "Probable PMTU black hole: %u-byte DF packet sent %u times, never acknowledged, no ICMP "
                         "too big; path MTU between %u and %u",
                         f.packet_size, f.retransmissions + 1, f.mtu_lower, f.mtu_upper);
        if (referenced(pt, hf_pmtu_fix))
            for (std::string_view fix : kBlackholeFixes)
                proto_item_set_generated(proto_tree_add_string(pt, hf_pmtu_fix, tvb, 0, 0, table_text(fix)));
    }
    if (f.tracking_limit)
        SD_EXPERT_FORMAT(pinfo, pi, &ei_limit,
                         "Limit reached: more than %u segments in flight; later ones are not checked for a "
                         "black hole",
                         static_cast<unsigned>(g_analysis.pmtu_settings().max_tracked));
    if (f.missing_bytes) {
        proto_item_set_generated(proto_tree_add_uint(pt, hf_pmtu_missing_bytes, tvb, 0, 0, f.missing_bytes));
        SD_EXPERT_FORMAT(pinfo, pi, &ei_pmtu_inconclusive,
                         "Data missing upstream: %u bytes before SACKed data never reached this point; "
                         "a black hole cannot be confirmed from the receiving side",
                         f.missing_bytes);
    } else if (f.verdict == PmtuVerdict::inconclusive && !f.blackhole) {
        expert_add_info(pinfo, pi, &ei_pmtu_inconclusive);
    }
    if (f.stall) {
        proto_item* si = proto_tree_add_boolean(tree, hf_stall, tvb, 0, 0, TRUE);
        proto_item_set_generated(si);
        proto_tree* stt = proto_item_add_subtree(si, ett_stall);
        if (referenced(stt, hf_stall_mta_log))
            for (std::string_view log : kStallMtaLogs)
                proto_item_set_generated(proto_tree_add_string(stt, hf_stall_mta_log, tvb, 0, 0, table_text(log)));
        expert_add_info(pinfo, si, &ei_stall);
    }
}

const char* address_string(packet_info* pinfo, const IpAddress& a)
{
    address addr;
    if (a.family == 4)
        set_address(&addr, AT_IPv4, 4, a.bytes.data());
    else if (a.family == 6)
        set_address(&addr, AT_IPv6, 16, a.bytes.data());
    else
        return "";
    return address_to_str(pinfo->pool, &addr);
}

void show_transaction(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const TransactionSummary& t)
{
    proto_item* ti = add_empty_item(tree, hf_session, tvb);
    if (!ti || !g_details)
        return;
    proto_item_set_generated(ti);
    proto_tree* tt = proto_item_add_subtree(ti, ett_session);
    const bool label = shown(tree);
    const char* client = label || referenced(tt, hf_session_client) ? address_string(pinfo, t.client) : "";
    const char* server = label || referenced(tt, hf_session_server) ? address_string(pinfo, t.server) : "";
    if (label)
        Label(hf_session).add(": ").add(outcome_label(t.outcome)).add(", ").add(client).add(" -> ").add(server).set_on(ti);
    proto_item_set_generated(proto_tree_add_uint(tt, hf_session_outcome, tvb, 0, 0, static_cast<guint32>(t.outcome)));
    if (referenced(tt, hf_session_client))
        proto_item_set_generated(proto_tree_add_string(tt, hf_session_client, tvb, 0, 0, client));
    if (referenced(tt, hf_session_server))
        proto_item_set_generated(proto_tree_add_string(tt, hf_session_server, tvb, 0, 0, server));
    proto_item_set_generated(proto_tree_add_uint(tt, hf_session_client_port, tvb, 0, 0, t.client_port));
    proto_item_set_generated(proto_tree_add_uint(tt, hf_session_server_port, tvb, 0, 0, t.server_port));
    if (t.after_stall)
        proto_item_set_generated(proto_tree_add_boolean(tt, hf_session_after_stall, tvb, 0, 0, TRUE));
    if (!t.ehlo.empty() && referenced(tt, hf_session_ehlo))
        proto_item_set_generated(proto_tree_add_string(tt, hf_session_ehlo, tvb, 0, 0, t.ehlo.c_str()));
    proto_item_set_generated(proto_tree_add_boolean(tt, hf_session_tls, tvb, 0, 0, t.tls));
    if (referenced(tt, hf_session_mail_from))
        proto_item_set_generated(
            proto_tree_add_string(tt, hf_session_mail_from, tvb, 0, 0, t.mail_from.c_str()));
    if (t.mail_frame)
        proto_item_set_generated(proto_tree_add_uint(tt, hf_session_mail_in, tvb, 0, 0, t.mail_frame));
    const bool rcpt = referenced(tt, hf_session_rcpt);
    for (const RecipientResult& r : t.recipients) {
        if (rcpt) {
            const char* address = r.address.c_str();
            proto_item* ri = r.code && label ? proto_tree_add_string_format_value(tt, hf_session_rcpt, tvb, 0, 0,
                                                                                  address, "%s (%u)", address, r.code)
                                             : proto_tree_add_string(tt, hf_session_rcpt, tvb, 0, 0, address);
            proto_item_set_generated(ri);
        }
        proto_item_set_generated(proto_tree_add_uint(tt, hf_session_rcpt_code, tvb, 0, 0, r.code));
    }
    if (t.final_code)
        proto_item_set_generated(proto_tree_add_uint(tt, hf_session_final_code, tvb, 0, 0, t.final_code));
    if (t.final_enhanced.present()) {
        char enh[kEnhancedBufferSize];
        format_enhanced(t.final_enhanced, enh, sizeof enh);
        proto_item_set_generated(proto_tree_add_string(tt, hf_session_final_enhanced, tvb, 0, 0, enh));
    }
}

/* One line on the collapsed top item, and a marker in the Info column for
 * black-hole frames, which otherwise read as plain TCP retransmissions. */
void summarise(packet_info* pinfo, proto_item* top, const FrameFindings& f)
{
    /* Without a label to write (nobody shows or prints our protocol item)
     * only the Info column marker matters. */
    const PmtuFinding& p = f.pmtu;
    if (p.blackhole || p.stall)
        col_append_str(pinfo->cinfo, COL_INFO, p.stall ? " [PMTU black hole: message stalled]" : " [PMTU black hole]");
    if (!referenced(top, proto_smtp_delivery))
        return;
    Label label(proto_smtp_delivery);
    std::string_view sep = ": ";
    char enh[kEnhancedBufferSize];
    for (const ReplyRecord& r : f.replies) {
        if (r.reply_class() != ReplyClass::transient && r.reply_class() != ReplyClass::permanent)
            continue;
        label.add(sep).add(unsigned{r.code});
        if (const std::string_view e = format_enhanced(r.enhanced, enh, sizeof enh); !e.empty())
            label.add(' ').add(e);
        if (r.cause != Cause::none)
            label.add(' ').add(cause_label(r.cause));
        sep = ", ";
    }
    if (p.blackhole || p.stall) {
        label.add(sep).add("probable PMTU black hole, path MTU ").add(p.mtu_lower).add('-').add(p.mtu_upper);
        if (p.stall)
            label.add(", message transfer stalled");
    } else if (p.verdict != PmtuVerdict::none) {
        label.add(sep).add("path MTU ").add(pmtu_verdict_label(p.verdict));
    } else if (p.ptb_here) {
        label.add(sep).add("ICMP too big, next-hop MTU ").add(p.next_hop_mtu);
    } else if (sep == ": ") {
        return;  /* nothing to add to the protocol's name */
    }
    label.set_on(top);
}

/* The findings of one frame, shown. Kept out of line: nine frames in ten
 * have none, and their path through dissect_smtp_delivery() stays short. */
SD_NOINLINE int show_findings(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const FrameFindings* findings)
{
    /* Without a tree (plain tshark, -2, -z) the calls below add no items
     * but still raise the expert info, mark the Info column and feed the
     * taps. */

    /* The handle belongs to a helper protocol, for which Wireshark names no
     * protocol while we run: expert infos are ours. */
    const char* const saved_proto = pinfo->current_proto;
    pinfo->current_proto = proto_short_name;

    /* Statistics see every frame with findings, on every pass. */
    tap_queue_packet(smtp_delivery_tap, pinfo, findings);

    /* Build detail items only for a visible tree or when our protocol or
     * the expert fields are referenced (filter, column, -T fields); each
     * item's own preparation is further limited to the fields in use. */
    g_details = tree && items_wanted(tree);
    g_expert_text = g_details || listened(g_expert_tap, "expert");
    /* Without details our protocol item is still wanted by listeners of the
     * frame tap, which read the protocol items of a tree nobody shows
     * (protocol hierarchy statistics). Otherwise no item is added: items
     * right below the root are never faked, and each expert info on one
     * would add an item of its own. */
    proto_item* top =
        g_details || (tree && listened(g_frame_tap, "frame")) ? add_empty_item(tree, proto_smtp_delivery, tvb) : nullptr;
    proto_tree* st = proto_item_add_subtree(top, ett_smtp_delivery);
    summarise(pinfo, top, *findings);

    for (const ReplyRecord& r : findings->replies)
        show_reply(tvb, pinfo, st, r);
    if (findings->pmtu.present())
        show_pmtu(tvb, pinfo, st, findings->pmtu);
    if (pref_session_summary)
        for (const TransactionSummary& t : findings->transactions)
            show_transaction(tvb, pinfo, st, t);

    /* The lines kept are those worth a look of their own (malformed, odd
     * one out, or of a multi-line failure or intermediate reply). */
    for (const LineRecord& line : findings->lines)
        show_line(tvb, pinfo, st, line);
    if (findings->lines_dropped)
        SD_EXPERT_FORMAT(pinfo, top, &ei_limit, "Limit reached: %u more reply lines in this frame not shown",
                         findings->lines_dropped);
    pinfo->current_proto = saved_proto;
    return tvb_captured_length(tvb);
}

int dissect_smtp_delivery(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*)
{
    if (!pinfo->fd->visited)
        analyse_frame(tvb, pinfo);

    const FrameFindings* findings = g_analysis.find_frame(pinfo->num);
    return findings ? show_findings(tvb, pinfo, tree, findings) : 0;
}

int lookup_field(const char* name)
{
    return proto_registrar_get_id_byname(name);
}

}  // namespace

void proto_register_smtp_delivery(void)
{
    static hf_register_info hf[] = {
        {&hf_reply, {"Reply", "smtp_delivery.reply", FT_NONE, BASE_NONE, NULL, 0x0,
                     "One complete SMTP reply, explained", HFILL}},
        {&hf_reply_code, {"Reply code", "smtp_delivery.reply.code", FT_UINT16, BASE_DEC, NULL, 0x0,
                          "Basic reply code (RFC 5321)", HFILL}},
        {&hf_reply_class, {"Reply class", "smtp_delivery.reply.class", FT_UINT8, BASE_DEC, VALS(reply_class_vals), 0x0,
                           "First digit of the reply code: success, intermediate, transient or permanent", HFILL}},
        {&hf_reply_meaning, {"Meaning", "smtp_delivery.reply.meaning", FT_STRING, BASE_NONE, NULL, 0x0,
                             "What the basic reply code means", HFILL}},
        {&hf_reply_enhanced, {"Enhanced status code", "smtp_delivery.reply.enhanced", FT_STRING, BASE_NONE, NULL, 0x0,
                              "Enhanced status code class.subject.detail (RFC 3463)", HFILL}},
        {&hf_reply_enhanced_class, {"Class", "smtp_delivery.reply.enhanced.class", FT_UINT8, BASE_DEC,
                                    VALS(reply_class_vals), 0x0, "Class of the enhanced status code", HFILL}},
        {&hf_reply_enhanced_subject, {"Subject", "smtp_delivery.reply.enhanced.subject", FT_UINT16, BASE_CUSTOM,
                                      CF_FUNC(format_subject), 0x0, "Subject of the enhanced status code", HFILL}},
        {&hf_reply_enhanced_detail, {"Detail", "smtp_delivery.reply.enhanced.detail", FT_UINT16, BASE_DEC, NULL, 0x0,
                                     "Detail of the enhanced status code", HFILL}},
        {&hf_reply_enhanced_meaning, {"Meaning", "smtp_delivery.reply.enhanced.meaning", FT_STRING, BASE_NONE, NULL,
                                      0x0, "What the enhanced status code means", HFILL}},
        {&hf_reply_vendor, {"Vendor", "smtp_delivery.reply.vendor", FT_STRING, BASE_NONE, NULL, 0x0,
                            "Vendor or provider whose reading of this reply applies", HFILL}},
        {&hf_reply_vendor_meaning, {"Vendor meaning", "smtp_delivery.reply.vendor_meaning", FT_STRING, BASE_NONE,
                                    NULL, 0x0, "What this reply means from that vendor or provider", HFILL}},
        {&hf_reply_command, {"Answers", "smtp_delivery.reply.command", FT_STRING, BASE_NONE, NULL, 0x0,
                             "Command this reply answers: greeting, end-of-data or the command verb", HFILL}},
        {&hf_reply_request_in, {"Request in frame", "smtp_delivery.reply.request_in", FT_FRAMENUM, BASE_NONE,
                                FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0, "Frame of the command this reply answers",
                                HFILL}},
        {&hf_reply_time, {"Server time", "smtp_delivery.reply.time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
                          "Time from the command to this reply", HFILL}},
        {&hf_reply_cause, {"Likely cause", "smtp_delivery.reply.cause", FT_STRING, BASE_NONE, NULL, 0x0,
                           "Likely cause of a failure, read from code and text", HFILL}},
        {&hf_reply_advice, {"Advice", "smtp_delivery.reply.advice", FT_STRING, BASE_NONE, NULL, 0x0,
                            "What to try next", HFILL}},
        {&hf_reply_site_meaning, {"Site meaning", "smtp_delivery.reply.site_meaning", FT_STRING, BASE_NONE, NULL,
                                   0x0, "Meaning from the site codes table (overrides the built-in one)", HFILL}},
        {&hf_reply_lines, {"Lines", "smtp_delivery.reply.lines", FT_UINT32, BASE_DEC, NULL, 0x0,
                           "Number of lines of this reply", HFILL}},
        {&hf_reply_first_frame, {"First line in frame", "smtp_delivery.reply.first_frame", FT_FRAMENUM, BASE_NONE,
                                 NULL, 0x0, "Frame carrying the first line of a reply spread over segments", HFILL}},
        {&hf_line, {"Reply line", "smtp_delivery.reply.line", FT_NONE, BASE_NONE, NULL, 0x0,
                    "A reply line with something of its own to say: malformed, unlike the first line, or of a multi-line "
                    "failure or intermediate reply", HFILL}},
        {&hf_line_code, {"Code", "smtp_delivery.reply.line.code", FT_UINT16, BASE_DEC, NULL, 0x0,
                         "Reply code on this line", HFILL}},
        {&hf_line_enhanced, {"Enhanced status code", "smtp_delivery.reply.line.enhanced", FT_STRING, BASE_NONE, NULL,
                             0x0, "Enhanced status code on this line", HFILL}},
        {&hf_line_continued, {"Continued", "smtp_delivery.reply.line.continued", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
                              "More lines of the same reply follow", HFILL}},
        {&hf_pmtu, {"Path MTU", "smtp_delivery.pmtu", FT_NONE, BASE_NONE, NULL, 0x0,
                    "What this frame shows about the path MTU of its flow", HFILL}},
        {&hf_pmtu_blackhole, {"Probable black hole", "smtp_delivery.pmtu.blackhole", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
                              "A transmission of an oversized DF packet that a PMTU black hole swallowed", HFILL}},
        {&hf_pmtu_verdict, {"Verdict", "smtp_delivery.pmtu.verdict", FT_UINT8, BASE_DEC, VALS(pmtu_verdict_vals), 0x0,
                            "Path MTU verdict for this flow direction", HFILL}},
        {&hf_pmtu_mtu_lower, {"Path MTU at least", "smtp_delivery.pmtu.mtu_lower", FT_UINT32, BASE_DEC, NULL, 0x0,
                              "Largest IP packet of this direction the peer acknowledged", HFILL}},
        {&hf_pmtu_mtu_upper, {"Path MTU at most", "smtp_delivery.pmtu.mtu_upper", FT_UINT32, BASE_DEC, NULL, 0x0,
                              "Largest IP packet the path may carry: below the smallest one lost, or the ICMP MTU",
                              HFILL}},
        {&hf_pmtu_plateau, {"Usual MTUs in range", "smtp_delivery.pmtu.plateaus", FT_STRING, BASE_NONE, NULL, 0x0,
                            "Common path MTUs (1500, 1492 PPPoE, 1480, 1454, 1400, 1280, 576) within the bounds",
                            HFILL}},
        {&hf_pmtu_next_hop_mtu, {"Next-hop MTU", "smtp_delivery.pmtu.next_hop_mtu", FT_UINT32, BASE_DEC, NULL, 0x0,
                                 "MTU announced by ICMP fragmentation needed / packet too big", HFILL}},
        {&hf_pmtu_original_in, {"Original in frame", "smtp_delivery.pmtu.original_in", FT_FRAMENUM, BASE_NONE, NULL,
                                0x0, "First transmission of this segment", HFILL}},
        {&hf_pmtu_retransmissions, {"Retransmissions", "smtp_delivery.pmtu.retransmissions", FT_UINT32, BASE_DEC,
                                    NULL, 0x0, "Times this segment was sent again so far", HFILL}},
        {&hf_pmtu_packet_size, {"Packet size", "smtp_delivery.pmtu.packet_size", FT_UINT32, BASE_DEC, NULL, 0x0,
                                "IP size of the packet concerned", HFILL}},
        {&hf_pmtu_recovered_size, {"Recovered with size", "smtp_delivery.pmtu.recovered_size", FT_UINT32, BASE_DEC,
                                   NULL, 0x0, "IP size of the smaller packets that got through", HFILL}},
        {&hf_pmtu_recovery_time, {"Recovery took", "smtp_delivery.pmtu.recovery_time", FT_RELATIVE_TIME, BASE_NONE,
                                  NULL, 0x0, "From the first lost transmission to the first acknowledged resend",
                                  HFILL}},
        {&hf_pmtu_missing_bytes, {"Missing bytes", "smtp_delivery.pmtu.missing_bytes", FT_UINT32, BASE_DEC, NULL,
                                   0x0, "Receiver side: bytes before SACKed data that never arrived", HFILL}},
        {&hf_pmtu_fix, {"Fix", "smtp_delivery.pmtu.fix", FT_STRING, BASE_NONE, NULL, 0x0,
                        "Ways to fix a PMTU black hole, most preferable first", HFILL}},
        {&hf_session, {"Transaction", "smtp_delivery.session", FT_NONE, BASE_NONE, NULL, 0x0,
                       "Summary of a mail transaction, on the frame that decided its outcome", HFILL}},
        {&hf_session_outcome, {"Outcome", "smtp_delivery.session.outcome", FT_UINT8, BASE_DEC, VALS(outcome_vals),
                               0x0, "accepted, deferred (4xx), rejected (5xx), stalled or aborted", HFILL}},
        {&hf_session_client, {"Client", "smtp_delivery.session.client", FT_STRING, BASE_NONE, NULL, 0x0,
                              "Address of the SMTP client", HFILL}},
        {&hf_session_server, {"Server", "smtp_delivery.session.server", FT_STRING, BASE_NONE, NULL, 0x0,
                              "Address of the SMTP server", HFILL}},
        {&hf_session_client_port, {"Client port", "smtp_delivery.session.client_port", FT_UINT16, BASE_DEC, NULL,
                                   0x0, "TCP port of the SMTP client", HFILL}},
        {&hf_session_server_port, {"Server port", "smtp_delivery.session.server_port", FT_UINT16, BASE_DEC, NULL,
                                   0x0, "TCP port of the SMTP server", HFILL}},
        {&hf_session_after_stall, {"Ended after a stall", "smtp_delivery.session.after_stall", FT_BOOLEAN, BASE_NONE,
                                   NULL, 0x0,
                                   "An earlier summary of this transaction said stalled; this one replaces it", HFILL}},
        {&hf_session_ehlo, {"EHLO name", "smtp_delivery.session.ehlo", FT_STRING, BASE_NONE, NULL, 0x0,
                            "Name the client gave in EHLO/HELO", HFILL}},
        {&hf_session_tls, {"TLS", "smtp_delivery.session.tls", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
                           "STARTTLS succeeded before the transaction", HFILL}},
        {&hf_session_mail_from, {"MAIL FROM", "smtp_delivery.session.mail_from", FT_STRING, BASE_NONE, NULL, 0x0,
                                 "Envelope sender", HFILL}},
        {&hf_session_mail_in, {"MAIL in frame", "smtp_delivery.session.mail_in", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
                               "Frame of the MAIL FROM command", HFILL}},
        {&hf_session_rcpt, {"RCPT TO", "smtp_delivery.session.rcpt", FT_STRING, BASE_NONE, NULL, 0x0,
                            "Envelope recipient", HFILL}},
        {&hf_session_rcpt_code, {"RCPT reply", "smtp_delivery.session.rcpt_code", FT_UINT16, BASE_DEC, NULL, 0x0,
                                 "Reply code to that recipient (0 = none seen)", HFILL}},
        {&hf_session_final_code, {"Final reply", "smtp_delivery.session.final_code", FT_UINT16, BASE_DEC, NULL, 0x0,
                                  "Reply code that decided the outcome", HFILL}},
        {&hf_session_final_enhanced, {"Final enhanced code", "smtp_delivery.session.final_enhanced", FT_STRING,
                                      BASE_NONE, NULL, 0x0, "Enhanced status code of that reply", HFILL}},
        {&hf_stall, {"Message transfer stalled", "smtp_delivery.stall", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
                     "The message body stopped on a probable PMTU black hole", HFILL}},
        {&hf_stall_mta_log, {"Sending MTA logs", "smtp_delivery.stall.mta_log", FT_STRING, BASE_NONE, NULL, 0x0,
                             "What the sending MTA will report for this stall", HFILL}},
    };

    static gint* ett[] = {&ett_session, &ett_smtp_delivery, &ett_reply, &ett_enhanced, &ett_line, &ett_pmtu, &ett_stall};

    static ei_register_info ei[] = {
        {&ei_transient, {"smtp_delivery.expert.transient", PI_RESPONSE_CODE, PI_WARN,
                         "Transient failure: the server may accept a later retry", EXPFILL}},
        {&ei_permanent, {"smtp_delivery.expert.permanent", PI_RESPONSE_CODE, PI_ERROR,
                         "Permanent failure: retrying unchanged will not help", EXPFILL}},
        {&ei_no_code, {"smtp_delivery.expert.no_code", PI_MALFORMED, PI_ERROR,
                       "Malformed reply: the line has no three-digit reply code", EXPFILL}},
        {&ei_code_out_of_range, {"smtp_delivery.expert.code_out_of_range", PI_MALFORMED, PI_WARN,
                                 "Malformed reply: code outside 2yz-5yz with y from 0 to 5", EXPFILL}},
        {&ei_bad_separator, {"smtp_delivery.expert.bad_separator", PI_MALFORMED, PI_WARN,
                             "Malformed reply: code not followed by space or hyphen", EXPFILL}},
        {&ei_bad_enhanced, {"smtp_delivery.expert.bad_enhanced", PI_MALFORMED, PI_WARN,
                            "Malformed enhanced status code (RFC 3463 wants class 2, 4 or 5 and 1-3 digit parts)",
                            EXPFILL}},
        {&ei_enhanced_mismatch, {"smtp_delivery.expert.enhanced_class_mismatch", PI_PROTOCOL, PI_WARN,
                                 "Enhanced status class disagrees with the basic reply code", EXPFILL}},
        {&ei_multiline_mismatch, {"smtp_delivery.expert.multiline_code_mismatch", PI_PROTOCOL, PI_WARN,
                                  "Lines of one multi-line reply carry different reply codes", EXPFILL}},
        {&ei_line_ending, {"smtp_delivery.expert.bare_lf", PI_PROTOCOL, PI_NOTE,
                           "Reply line ends in a bare LF instead of CRLF", EXPFILL}},
        {&ei_line_too_long, {"smtp_delivery.expert.line_too_long", PI_PROTOCOL, PI_NOTE,
                             "Reply line longer than the 512 octets RFC 5321 allows", EXPFILL}},
        {&ei_limit, {"smtp_delivery.expert.limit", PI_UNDECODED, PI_NOTE,
                     "Limit reached: part of the analysis was skipped to bound memory", EXPFILL}},
        {&ei_pmtu_blackhole, {"smtp_delivery.expert.pmtu_blackhole", PI_SEQUENCE, PI_WARN,
                              "Probable PMTU black hole", EXPFILL}},
        {&ei_pmtu_ptb, {"smtp_delivery.expert.pmtu_too_big", PI_SEQUENCE, PI_NOTE,
                        "ICMP too big: the path announced a smaller MTU", EXPFILL}},
        {&ei_pmtu_ptb_ignored, {"smtp_delivery.expert.pmtu_too_big_ignored", PI_SEQUENCE, PI_WARN,
                                "Sender ignores ICMP too big", EXPFILL}},
        {&ei_pmtu_recovered, {"smtp_delivery.expert.pmtu_recovered", PI_SEQUENCE, PI_NOTE,
                              "Sender recovered from the PMTU black hole with smaller packets", EXPFILL}},
        {&ei_pmtu_inconclusive, {"smtp_delivery.expert.pmtu_inconclusive", PI_SEQUENCE, PI_NOTE,
                                 "Path MTU inconclusive: a suspected black hole was not confirmed",
                                 EXPFILL}},
        {&ei_stall, {"smtp_delivery.expert.stall", PI_SEQUENCE, PI_ERROR,
                     "Message transfer stalled: probable PMTU black hole", EXPFILL}},
    };

    proto_smtp_delivery = proto_register_protocol("SMTP Delivery", "SMTP Delivery", "smtp_delivery");
    proto_register_field_array(proto_smtp_delivery, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t* expert = expert_register_protocol(proto_smtp_delivery);
    expert_register_field_array(expert, ei, array_length(ei));

    module_t* module = prefs_register_protocol(proto_smtp_delivery, apply_prefs);
    prefs_register_uint_preference(module, "pmtu_transmissions", "Transmissions before a probable black hole",
                                   "How many times an oversized DF segment must be sent, unacknowledged, before "
                                   "it is called a probable PMTU black hole (2-10)",
                                   10, &pref_transmissions);
    prefs_register_uint_preference(module, "pmtu_min_size", "Smallest packet that can be black-holed",
                                   "IP packets smaller than this (bytes, 68-9000) are never called black-holed",
                                   10, &pref_min_size);
    prefs_register_enum_preference(module, "pmtu_scope", "Look for PMTU black holes on",
                                   "Every TCP flow (HTTPS and VPNs break the same way), or SMTP flows only",
                                   &pref_pmtu_scope, pmtu_scope_vals, FALSE);
    prefs_register_bool_preference(module, "session_summary", "Summarise each mail transaction",
                                   "Show client, server, envelope, recipients and outcome on the frame that "
                                   "decided each transaction",
                                   &pref_session_summary);

    static uat_field_t site_code_fields[] = {
        UAT_FLD_CSTRING(site_codes, code, "Reply code", "Basic reply code, e.g. 421 (empty = any)"),
        UAT_FLD_CSTRING(site_codes, enhanced, "Enhanced code", "Enhanced status code, e.g. 4.7.1 (empty = any)"),
        UAT_FLD_CSTRING(site_codes, text, "Text contains", "Case-insensitive text the reply must contain (empty = any)"),
        UAT_FLD_CSTRING(site_codes, meaning, "Meaning", "What the reply means at this site"),
        UAT_FLD_CSTRING(site_codes, cause, "Cause", "Cause label, e.g. rate-limit (empty = keep the built-in one)"),
        UAT_FLD_CSTRING(site_codes, advice, "Advice", "Next step; {client} and {server} become the addresses"),
        UAT_END_FIELDS};
    uat_t* site_uat = uat_new("SMTP Delivery site codes", sizeof(site_code_t), "smtp_delivery_site_codes", TRUE,
                              &site_codes, &num_site_codes, UAT_AFFECTS_DISSECTION, NULL, site_code_copy,
                              site_code_update, site_code_free, site_codes_post_update, NULL, site_code_fields);
    prefs_register_uat_preference(module, "site_codes", "Site codes",
                                  "Your own reply meanings (your MTA's wording, a provider's quirk); they override "
                                  "the built-in table",
                                  site_uat);

    /* Wireshark calls every post-dissector on every frame. For a handle of
     * a "protocol in name only" it skips recording and then removing a
     * protocol layer (the frame usually has nothing for us), which costs
     * more instructions than our own analysis of the frame. The parent
     * protocol still enables and disables it. */
    proto_smtp_delivery_post =
        proto_register_protocol_in_name_only("SMTP Delivery post-dissector", "SMTP Delivery post-dissector",
                                             "smtp_delivery.postdissector", proto_smtp_delivery, FT_PROTOCOL);
    proto_short_name = proto_get_protocol_short_name(find_protocol_by_id(proto_smtp_delivery));
    smtp_delivery_handle = create_dissector_handle(dissect_smtp_delivery, proto_smtp_delivery_post);
    register_postdissector(smtp_delivery_handle);
    smtp_delivery_tap = register_tap("smtp_delivery");
    register_cleanup_routine(cleanup_analysis);
    register_init_routine(init_analysis);
}

void proto_reg_handoff_smtp_delivery(void)
{
    /* Only protocol ids, to recognise layers; no fields are asked for, so
     * the plugin never makes tshark build a protocol tree. */
    proto_smtp = proto_get_id_by_filter_name("smtp");
    proto_tls = proto_get_id_by_filter_name("tls");
    proto_tcp = proto_get_id_by_filter_name("tcp");
    proto_ip = proto_get_id_by_filter_name("ip");
    proto_ipv6 = proto_get_id_by_filter_name("ipv6");
    proto_icmp = proto_get_id_by_filter_name("icmp");
    proto_icmpv6 = proto_get_id_by_filter_name("icmpv6");
}
