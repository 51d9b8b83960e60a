/* Statistics > SMTP Delivery (and tshark -z smtp_delivery,tree): replies by
 * class, code and enhanced code; causes; per server failures and response
 * times; transactions by outcome; path-MTU verdicts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "compat.h"
#include "smtp_delivery_glue.h"

#include <epan/stats_tree.h>

#include "smtp_delivery/analysis.hpp"
#include "smtp_delivery/knowledge.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace smtp_delivery;

namespace {

const char kReplies[] = "Replies by class";
const char kCauses[] = "Likely causes";
const char kServers[] = "Replies by server";
const char kOutcomes[] = "Transactions by outcome";
const char kVerdicts[] = "Path MTU verdicts";
const char kResponseTime[] = "response time (us)";
const char kMedian[] = "median response time (us)";

// Response times (whole microseconds) kept per server for the median; beyond the cap every other
// sample replaces an old one, which keeps the estimate fair and memory flat.
constexpr std::size_t kMaxSamples = 65536;

struct ServerTimes {
    std::vector<gint> samples;
    std::uint64_t seen = 0;
};

// One entry per open statistics window / tshark -z tree.
std::map<const stats_tree*, std::map<std::string, ServerTimes>> g_times;

int node_replies, node_causes, node_servers, node_outcomes, node_verdicts;

void stats_init(stats_tree* st)
{
    node_replies = stats_tree_create_node(st, kReplies, 0, STAT_DT_INT, TRUE);
    node_causes = stats_tree_create_node(st, kCauses, 0, STAT_DT_INT, TRUE);
    node_servers = stats_tree_create_node(st, kServers, 0, STAT_DT_INT, TRUE);
    node_outcomes = stats_tree_create_node(st, kOutcomes, 0, STAT_DT_INT, TRUE);
    node_verdicts = stats_tree_create_node(st, kVerdicts, 0, STAT_DT_INT, TRUE);
    g_times[st].clear();
}

void stats_cleanup(stats_tree* st)
{
    g_times.erase(st);
}

gint median_of(std::vector<gint> v)
{
    if (v.empty())
        return 0;
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    return v[mid];
}

void count_reply(stats_tree* st, packet_info* pinfo, const ReplyRecord& r)
{
    char code[8];
    char enh[kEnhancedBufferSize];
    const char* klass = reply_class_label(r.reply_class()).data();
    tick_stat_node(st, kReplies, 0, TRUE);
    const int class_node = tick_stat_node(st, klass, node_replies, TRUE);
    g_snprintf(code, sizeof code, "%u", r.code);
    const int code_node = tick_stat_node(st, r.code ? code : "no code", class_node, TRUE);
    if (r.enhanced.present()) {
        format_enhanced(r.enhanced, enh, sizeof enh);
        tick_stat_node(st, enh, code_node, FALSE);
    }
    if (r.cause != Cause::none) {
        tick_stat_node(st, kCauses, 0, TRUE);
        tick_stat_node(st, cause_label(r.cause).data(), node_causes, FALSE);
    }

    /* A reply travels from the server. */
    const char* server = address_to_str(pinfo->pool, &pinfo->src);
    tick_stat_node(st, kServers, 0, TRUE);
    const int server_node = tick_stat_node(st, server, node_servers, TRUE);
    if (r.reply_class() == ReplyClass::transient)
        tick_stat_node(st, "transient failures", server_node, FALSE);
    else if (r.reply_class() == ReplyClass::permanent)
        tick_stat_node(st, "permanent failures", server_node, FALSE);
    if (r.time_ns >= 0) {
        const auto us = static_cast<gint>(std::min<std::int64_t>(r.time_ns / 1000, G_MAXINT));
        avg_stat_node_add_value_int(st, kResponseTime, server_node, FALSE, us);
        ServerTimes& times = g_times[st][server];
        ++times.seen;
        if (times.samples.size() < kMaxSamples)
            times.samples.push_back(us);
        else if (times.seen % 2 == 0)
            times.samples[times.seen / 2 % kMaxSamples] = us;
        /* A stats tree node holds counts; the median goes in its count column. */
        set_stat_node(st, kMedian, server_node, FALSE, median_of(times.samples));
    }
}

bool decisive(const PmtuFinding& f)
{
    if (f.verdict_here || f.recovered_here || f.ptb_ignored_here)
        return true;
    return !f.blackhole && (f.verdict == PmtuVerdict::ok || f.verdict == PmtuVerdict::ptb_honoured ||
                            f.verdict == PmtuVerdict::inconclusive);
}

tap_packet_status stats_packet(stats_tree* st, packet_info* pinfo, epan_dissect_t*, const void* data, tap_flags_t)
{
    const auto* f = static_cast<const FrameFindings*>(data);
    if (!f)
        return TAP_PACKET_DONT_REDRAW;
    for (const ReplyRecord& r : f->replies)
        count_reply(st, pinfo, r);
    for (const TransactionSummary& t : f->transactions) {
        if (t.after_stall) {
            /* Reported as stalled earlier and finished after all: count it once, as it ended. */
            increase_stat_node(st, outcome_label(Outcome::stalled).data(), node_outcomes, FALSE, -1);
        } else {
            tick_stat_node(st, kOutcomes, 0, TRUE);
        }
        tick_stat_node(st, outcome_label(t.outcome).data(), node_outcomes, FALSE);
    }
    if (f->pmtu.verdict != PmtuVerdict::none && decisive(f->pmtu)) {
        tick_stat_node(st, kVerdicts, 0, TRUE);
        tick_stat_node(st, pmtu_verdict_label(f->pmtu.verdict).data(), node_verdicts, FALSE);
    }
    return TAP_PACKET_REDRAW;
}

void register_stats(void)
{
    stats_tree_register_plugin("smtp_delivery", "smtp_delivery", "SMTP Delivery", 0, stats_packet, stats_init,
                               stats_cleanup);
}

}  // namespace

void smtp_delivery_register_tap_listeners(void)
{
    register_stats();
}
