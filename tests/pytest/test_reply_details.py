"""Reply details beyond the main table: classes as filters, meanings, vendors,
multi-line replies, server time, advice, expert info and malformed replies."""
import re

import pytest

from conftest import as_list, packets_json, replies_by_frame


def test_plugin_is_listed_and_named(tshark):
    plugins = tshark.run("-G", "plugins").stdout
    assert re.search(r"^smtp_delivery\.so\t\S+\tdissector\t", plugins, re.M), plugins
    protocols = tshark.run("-G", "protocols").stdout.splitlines()
    # 4.2+ adds enabled/heuristic columns after the first three.
    assert any(p.split("\t")[:3] == ["SMTP Delivery", "SMTP Delivery", "smtp_delivery"] for p in protocols)


def test_disabling_the_protocol_turns_the_analysis_off(tshark):
    # The post-dissector's handle belongs to a helper protocol of SMTP
    # Delivery; disabling SMTP Delivery (Enabled Protocols) must still stop it.
    cap = tshark.capture("postfix-replies.pcapng")
    assert "SMTP Delivery" in tshark.run("-r", cap, "-q", "-z", "expert").stdout
    assert "SMTP Delivery" not in tshark.run("-r", cap, "--disable-protocol", "smtp_delivery", "-q", "-z",
                                             "expert").stdout
    assert tshark.run("-r", cap, "--disable-protocol", "smtp_delivery", "-Y", "smtp_delivery").stdout == ""
    assert "SMTP Delivery" not in tshark.run("-r", cap, "--disable-protocol", "smtp_delivery", "-V").stdout


def test_protocol_hierarchy_counts_our_frames(tshark):
    # Protocol hierarchy statistics count the top-level protocol items of a
    # tree nobody shows: ours must be there, below SMTP for the replies.
    # Wireshark 4.2+ puts a "frame" level on top, so indentation is relative.
    # The one frame below TCP is the path-MTU verdict on a segment without SMTP.
    out = tshark.run("-r", tshark.capture("postfix-replies.pcapng"), "-q", "-z", "io,phs").stdout
    tcp = re.search(r"^( *)tcp\s+frames:232 ", out, re.M)
    assert tcp, out
    indent = tcp.group(1)
    assert re.search(rf"^{indent}  smtp\s+frames:156 .*\n{indent}    smtp_delivery\s+frames:76 ", out, re.M), out
    assert re.search(rf"^{indent}  smtp_delivery\s+frames:1 bytes:66$", out, re.M), out
    assert tshark.fields("postfix-replies.pcapng", ["frame.len", "smtp_delivery.pmtu.verdict"],
                         "smtp_delivery && !smtp") == [["66", "1"]]


CONTRACT = {
    "smtp_delivery.reply.code": "FT_UINT16",
    "smtp_delivery.reply.class": "FT_UINT8",
    "smtp_delivery.reply.meaning": "FT_STRING",
    "smtp_delivery.reply.enhanced": "FT_STRING",
    "smtp_delivery.reply.enhanced.class": "FT_UINT8",
    "smtp_delivery.reply.enhanced.subject": "FT_UINT16",
    "smtp_delivery.reply.enhanced.detail": "FT_UINT16",
    "smtp_delivery.reply.enhanced.meaning": "FT_STRING",
    "smtp_delivery.reply.command": "FT_STRING",
    "smtp_delivery.reply.request_in": "FT_FRAMENUM",
    "smtp_delivery.reply.time": "FT_RELATIVE_TIME",
    "smtp_delivery.reply.cause": "FT_STRING",
    "smtp_delivery.reply.advice": "FT_STRING",
    "smtp_delivery.pmtu.blackhole": "FT_BOOLEAN",
    "smtp_delivery.pmtu.verdict": "FT_UINT8",
    "smtp_delivery.pmtu.mtu_lower": "FT_UINT32",
    "smtp_delivery.pmtu.mtu_upper": "FT_UINT32",
    "smtp_delivery.pmtu.next_hop_mtu": "FT_UINT32",
    "smtp_delivery.pmtu.original_in": "FT_FRAMENUM",
    "smtp_delivery.pmtu.retransmissions": "FT_UINT32",
    "smtp_delivery.stall": "FT_BOOLEAN",
}


def test_field_contract(tshark):
    fields = {}
    for line in tshark.run("-G", "fields").stdout.splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and cols[2].startswith("smtp_delivery"):
            fields[cols[2]] = cols[3]
    for name, ftype in CONTRACT.items():
        assert fields.get(name) == ftype, name


def test_class_labels_work_as_filters(tshark):
    cap = "postfix-replies.pcapng"
    assert tshark.frames(cap, 'smtp_delivery.reply.class == "transient"') == [84, 109, 121, 195]
    assert tshark.frames(cap, 'smtp_delivery.reply.class == "intermediate"') == [14, 31, 123, 144]
    permanent = tshark.frames(cap, 'smtp_delivery.reply.class == "permanent"')
    assert permanent == [31, 46, 48, 52, 54, 58, 60, 62, 64, 66, 70, 72, 74, 76, 82, 101, 111, 113, 163, 178,
                         210, 227]
    assert tshark.frames(cap, 'smtp_delivery.reply.cause == "greylisting"') == [109]
    assert tshark.frames(cap, 'smtp_delivery.reply.enhanced.subject == 7 && smtp_delivery.reply.class == 5') == [
        113, 227]


def test_codes_covered_by_postfix_captures(tshark):
    basic, enhanced = set(), set()
    for cap in ("postfix-replies.pcapng", "postfix-limits.pcapng", "postfix-bdat.pcapng",
                "submission-587-starttls-required.pcapng"):
        for replies in replies_by_frame(tshark, cap).values():
            for r in replies:
                basic.add(r.get("code"))
                enhanced.add(r.get("enhanced"))
    basic.discard(None)
    enhanced.discard(None)
    assert len(basic) >= 15, sorted(basic)
    assert len(enhanced) >= 10, sorted(enhanced)


def test_meanings_and_enhanced_parts(tshark):
    r = replies_by_frame(tshark, "postfix-replies.pcapng")[227][0]
    assert r["code"] == "554" and r["class"] == "5"
    assert r["meaning"]
    assert (r["enhanced.class"], r["enhanced.subject"], r["enhanced.detail"]) == ("5", "7", "1")
    assert r["enhanced.meaning"]
    assert r["cause"] == "blocklist"
    # Advice names the client, read from the reply's addresses.
    assert "192.0.2.10" in r["advice"]


@pytest.fixture(scope="module")
def vendor(tshark):
    return replies_by_frame(tshark, "vendor-replies.pcapng")


@pytest.mark.parametrize("frame,vendor_name,cause", [
    (16, "GroupWise", "timeout"),
    (29, "Microsoft Exchange", "service-unavailable"),
    (48, "Microsoft Exchange", "timeout"),
    (65, "Microsoft Exchange", "routing"),
    (86, "Microsoft Exchange", "content-rejected"),
    (101, "Microsoft 365", "blocklist"),
    (118, "Microsoft 365", "rate-limit"),
    (139, "Gmail", "rate-limit"),
    (175, "Gmail", "mailbox-full"),
    (190, "Telstra BigPond", "rate-limit"),
    (338, "Yahoo", "rate-limit"),
    (356, "Microsoft Exchange", "rate-limit"),
])
def test_vendor_meanings(vendor, frame, vendor_name, cause):
    r = vendor[frame][0]
    assert r["vendor"] == vendor_name
    assert r["vendor_meaning"]
    assert r["cause"] == cause
    assert r["advice"]


@pytest.mark.parametrize("frame,cause", [
    (213, "blocklist"), (230, "reverse-dns"), (245, "server-error"), (266, "mailbox-full"),
    (283, "greylisting"), (300, "rate-limit"), (315, "auth-failed"), (324, "service-unavailable"),
])
def test_causes_without_vendor(vendor, frame, cause):
    r = vendor[frame][0]
    assert "vendor" not in r
    assert r["cause"] == cause


def test_gmail_multiline_reply_parsed_on_every_line(tshark):
    tree = packets_json(tshark, "vendor-replies.pcapng", "frame.number == 139")[139]
    reply = tree["smtp_delivery.reply"]
    assert reply["smtp_delivery.reply.lines"] == "3"
    lines = as_list(tree["smtp_delivery.reply.line"])
    assert [ln["smtp_delivery.reply.line.enhanced"] for ln in lines] == ["4.7.0"] * 3
    assert [ln["smtp_delivery.reply.line.code"] for ln in lines] == ["421"] * 3
    assert [ln["smtp_delivery.reply.line.continued"] for ln in lines] == ["1", "1", "0"]


def test_success_list_is_summed_up_not_itemised(tshark):
    # An EHLO capability list says nothing line by line that SMTP's own tree
    # does not show: the reply carries its line count, no per-line items.
    cap = "postfix-replies.pcapng"
    ehlo = tshark.frames(cap, 'smtp_delivery.reply.command == "EHLO"')
    assert len(ehlo) >= 10
    assert tshark.frames(cap, 'smtp_delivery.reply.command == "EHLO" && smtp_delivery.reply.lines >= 10') == ehlo
    assert tshark.frames(cap, 'smtp_delivery.reply.command == "EHLO" && smtp_delivery.reply.line') == []


def test_success_enhanced_code_reads_as_success(tshark):
    # The registry words X.1.0 as an address problem; Postfix answers an
    # accepted MAIL with "250 2.1.0 Ok".
    rows = tshark.fields("postfix-replies.pcapng", ["smtp_delivery.reply.command", "smtp_delivery.reply.enhanced",
                                                    "smtp_delivery.reply.enhanced.meaning"],
                         'smtp_delivery.reply.enhanced == "2.1.0"')
    mail = [meaning for cmd, enh, meaning in rows if (cmd, enh) == ("MAIL", "2.1.0")]
    assert len(mail) >= 5
    assert all(m.startswith("The envelope address is accepted") for m in mail), mail


def test_server_time_is_reply_minus_request(tshark):
    cap = "postfix-replies.pcapng"
    times = {int(f): float(t) for f, t in tshark.fields(cap, ["frame.number", "frame.time_epoch"])}
    checked = 0
    for frame, replies in replies_by_frame(tshark, cap).items():
        for r in replies:
            if "request_in" in r:
                expected = times[frame] - times[int(r["request_in"])]
                assert abs(float(r["time"]) - expected) < 2e-6, (frame, r)
                checked += 1
    assert checked >= 60


def test_reply_spanning_segments(tshark):
    # 450-4.7.1 in frame 271, 450 4.7.1 in 273: one reply, completed in 273.
    replies = replies_by_frame(tshark, "malformed-replies.pcapng")
    assert 271 not in replies
    r = replies[273][0]
    assert (r["code"], r["lines"], r["first_frame"], r["command"]) == ("450", "2", "271", "NOOP")


EXPECTED_MALFORMED = {
    10: ["Malformed reply: the line has no three-digit reply code"],
    27: ["Malformed reply: code outside 2yz-5yz with y from 0 to 5"],
    42: ["Malformed reply: code outside 2yz-5yz with y from 0 to 5"],
    57: ["Malformed reply: the line has no three-digit reply code"],
    74: ["Permanent failure 550",
         "Malformed enhanced status code (RFC 3463 wants class 2, 4 or 5 and 1-3 digit parts)"],
    89: ["Permanent failure 550",
         "Malformed enhanced status code (RFC 3463 wants class 2, 4 or 5 and 1-3 digit parts)"],
    104: ["Permanent failure 550",
          "Malformed enhanced status code (RFC 3463 wants class 2, 4 or 5 and 1-3 digit parts)"],
    119: ["Permanent failure 550 2.1.1: unknown-recipient",
          "Enhanced status class disagrees with the basic reply code"],
    134: ["Enhanced status class disagrees with the basic reply code"],
    149: ["Lines of one multi-line reply carry different reply codes"],
    165: ["Reply line longer than the 512 octets RFC 5321 allows"],
    181: ["Reply line ends in a bare LF instead of CRLF"],
    190: ["Malformed reply: the line has no three-digit reply code"],
    208: ["Reply line ends in a bare LF instead of CRLF"],
}


def test_malformed_replies_still_show_with_expert_info(tshark):
    rows = tshark.fields("malformed-replies.pcapng", ["frame.number", "_ws.expert.message"], "smtp_delivery")
    ours = {}
    for frame, messages in rows:
        mine = [m for m in messages.split("|") if m and not m.startswith("Unexpected response code")]
        if mine:
            ours[int(frame)] = mine
    for frame, expected in EXPECTED_MALFORMED.items():
        assert ours.get(frame) == expected, frame


def test_expert_kinds_are_grouped(tshark):
    out = tshark.run("-r", tshark.capture("malformed-replies.pcapng"), "-q", "-z", "expert").stdout
    assert re.search(r"^\s+4\s+Malformed\s+SMTP Delivery\s+Malformed reply: the line has no three-digit", out, re.M) \
        or re.search(r"^\s+3\s+Malformed\s+SMTP Delivery\s+Malformed reply: the line has no three-digit", out, re.M), out
    assert re.search(r"Malformed\s+SMTP Delivery\s+Malformed enhanced status code", out), out
    assert re.search(r"Protocol\s+SMTP Delivery\s+Lines of one multi-line reply carry different reply codes", out)


def test_starttls_decrypted_replies_explained(tshark):
    replies = replies_by_frame(tshark, "starttls-keylog.pcapng")
    assert replies[34][0]["command"] == "end-of-data"
    assert replies[34][0]["enhanced"] == "2.0.0"
    assert replies[25][0]["command"] == "EHLO"


# Each field is prepared only when something uses it; asked for alone, a field
# must come out exactly as when all are asked for together or the tree is shown.
LAZY_FIELDS = [
    "smtp_delivery.reply.meaning", "smtp_delivery.reply.enhanced", "smtp_delivery.reply.enhanced.meaning",
    "smtp_delivery.reply.vendor", "smtp_delivery.reply.vendor_meaning", "smtp_delivery.reply.command",
    "smtp_delivery.reply.cause", "smtp_delivery.reply.advice", "smtp_delivery.session.client",
    "smtp_delivery.session.server", "smtp_delivery.session.ehlo", "smtp_delivery.session.mail_from",
    "smtp_delivery.session.rcpt",
]


@pytest.mark.parametrize("capture", ["postfix-replies.pcapng", "vendor-replies.pcapng"])
def test_fields_asked_alone_match_fields_asked_together(tshark, capture):
    together = tshark.fields(capture, ["frame.number", *LAZY_FIELDS], "smtp_delivery")
    assert together
    for i, field in enumerate(LAZY_FIELDS, start=1):
        alone = tshark.fields(capture, ["frame.number", field], "smtp_delivery")
        assert [(r[0], r[1]) for r in alone] == [(r[0], r[i]) for r in together], field
    # The shown tree (-V) carries the same advice text as -e does.
    advice = {r[8] for r in together if r[8]}
    assert advice
    verbose = tshark.run("-r", tshark.capture(capture), "-V", "-Y", "smtp_delivery.reply.advice").stdout
    for a in advice:
        assert f"Advice: {a.split('|')[0]}" in verbose


def test_every_lazy_field_has_values(tshark):
    # A gate that never opened would make "alone" and "together" agree on
    # nothing at all: each field must show up in at least one capture.
    seen = set()
    for capture in ["postfix-replies.pcapng", "vendor-replies.pcapng"]:
        for row in tshark.fields(capture, LAZY_FIELDS, "smtp_delivery"):
            seen |= {f for f, v in zip(LAZY_FIELDS, row) if v}
    assert seen == set(LAZY_FIELDS)
