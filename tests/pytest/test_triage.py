"""Triage features: one row per mail transaction with its outcome, and the
preferences that tune the black-hole detector."""
import re

import pytest

SESSION_FIELDS = ["frame.number", "smtp_delivery.session.outcome", "smtp_delivery.session.client",
                  "smtp_delivery.session.server", "smtp_delivery.session.ehlo", "smtp_delivery.session.tls",
                  "smtp_delivery.session.mail_from", "smtp_delivery.session.rcpt",
                  "smtp_delivery.session.rcpt_code", "smtp_delivery.session.final_code"]

OUTCOME = {"1": "accepted", "2": "deferred", "3": "rejected", "4": "stalled", "5": "aborted"}


def sessions(tshark, capture, extra=(), two_pass=False):
    rows = tshark.fields(capture, SESSION_FIELDS, "smtp_delivery.session", extra, two_pass)
    out = []
    for r in rows:
        row = dict(zip(SESSION_FIELDS, r))
        row["smtp_delivery.session.outcome"] = OUTCOME[row["smtp_delivery.session.outcome"]]
        out.append(row)
    return out


def compact(rows):
    return [" ".join([r["frame.number"], r["smtp_delivery.session.outcome"], r["smtp_delivery.session.rcpt"] or "-",
                      r["smtp_delivery.session.rcpt_code"] or "-", r["smtp_delivery.session.final_code"] or "-"])
            for r in rows]


def test_postfix_transactions(tshark):
    rows = sessions(tshark, "postfix-replies.pcapng")
    assert compact(rows) == [
        "16 accepted alice@example.net 250 250",
        "33 accepted alice@example.net|nobody-here@example.net 250|550 250",
        "46 rejected - - 503",
        "62 rejected - - 501",
        "64 rejected - - 501",
        "66 rejected - - 555",
        "70 rejected - - 503",
        "103 rejected alice@example.net 504 504",
        "125 accepted greylist@example.net|nobody-here@example.net|bob@example.com|alice@example.net|"
        "bob@example.net|carol@example.net|dave@example.net 450|550|554|250|250|250|452 250",
        "163 rejected alice@example.net 250 552",
        "178 rejected - - 552",
        "197 deferred alice@example.net 450 450",
        "229 rejected alice@example.net 554 554",
    ]
    first = rows[0]
    assert first["smtp_delivery.session.client"] == "192.0.2.10"
    assert first["smtp_delivery.session.server"] == "198.51.100.10"
    assert first["smtp_delivery.session.ehlo"] == "client.example.org"
    assert first["smtp_delivery.session.mail_from"] == "sender@example.org"
    assert first["smtp_delivery.session.tls"] == "0"


def test_turned_away_before_any_mail(tshark):
    rows = sessions(tshark, "postfix-limits.pcapng")
    # Second connection refused at the greeting (too many connections).
    assert [(r["frame.number"], r["smtp_delivery.session.outcome"], r["smtp_delivery.session.final_code"])
            for r in rows] == [("13", "deferred", "421"), ("33", "deferred", "421"), ("51", "deferred", "421")]


def test_tls_is_reported(tshark):
    rows = sessions(tshark, "starttls-keylog.pcapng")
    assert [(r["frame.number"], r["smtp_delivery.session.outcome"], r["smtp_delivery.session.tls"])
            for r in rows] == [("34", "accepted", "1"), ("53", "rejected", "0")]


def test_stalled_by_black_hole_then_recovered(tshark):
    assert compact(sessions(tshark, "pmtu-blackhole-v4-1400.pcapng")) == ["41 stalled user@example.net 250 -"]
    assert compact(sessions(tshark, "pmtu-mtu-probing-v4.pcapng")) == [
        "41 stalled user@example.net 250 -", "101 accepted user@example.net 250 250"]


@pytest.mark.parametrize("capture", ["postfix-replies.pcapng", "pmtu-mtu-probing-v4.pcapng",
                                     "starttls-keylog.pcapng"])
def test_transactions_same_in_two_passes(tshark, capture):
    assert sessions(tshark, capture, two_pass=True) == sessions(tshark, capture)


def test_summary_can_be_switched_off(tshark):
    assert tshark.frames("postfix-replies.pcapng", "smtp_delivery.session",
                         ("-o", "smtp_delivery.session_summary:FALSE")) == []


def test_transmissions_preference(tshark):
    cap = "pmtu-blackhole-v4-1400.pcapng"
    assert tshark.frames(cap, "smtp_delivery.pmtu.blackhole", ("-o", "smtp_delivery.pmtu_transmissions:4")) == [
        42, 43, 44, 45, 46]
    assert tshark.frames(cap, "smtp_delivery.pmtu.blackhole", ("-o", "smtp_delivery.pmtu_transmissions:2"))[0] == 36


def test_min_size_preference(tshark):
    cap = "pmtu-blackhole-v4-1400.pcapng"
    assert tshark.frames(cap, "smtp_delivery.pmtu.blackhole", ("-o", "smtp_delivery.pmtu_min_size:1501")) == []


def test_scope_preference(tshark):
    cap = "pmtu-blackhole-v4-1400.pcapng"
    # The black-holed flow carries SMTP, so "smtp" scope still finds it.
    assert tshark.frames(cap, "smtp_delivery.pmtu.blackhole", ("-o", "smtp_delivery.pmtu_scope:smtp")) == [
        41, 42, 43, 44, 45, 46]


@pytest.mark.parametrize("pref,value,message", [
    ("pmtu_transmissions", "1", "preference smtp_delivery.pmtu_transmissions must be between 2 and 10 (got 1); "
                                "using 3"),
    ("pmtu_min_size", "20000", "preference smtp_delivery.pmtu_min_size must be between 68 and 9000 (got 20000); "
                               "using 576"),
])
def test_invalid_preference_is_refused_with_a_clear_message(tshark, pref, value, message):
    proc = tshark.run("-r", tshark.capture("pmtu-blackhole-v4-1400.pcapng"), "-o", f"smtp_delivery.{pref}:{value}",
                      "-Y", "smtp_delivery.pmtu.blackhole", "-T", "fields", "-e", "frame.number", check=False)
    assert message in proc.stderr
    # The default stays in force.
    assert proc.stdout.split() == ["41", "42", "43", "44", "45", "46"]


def stats_tree(tshark, capture, *z_filter):
    arg = "smtp_delivery,tree" + ("," + z_filter[0] if z_filter else "")
    out = tshark.run("-r", tshark.capture(capture), "-q", "-z", arg).stdout
    rows = {}
    path = []
    for line in out.splitlines():
        if not line.startswith(" ") and not line[:1].isalpha() or line.startswith(("SMTP Delivery:", "Topic")):
            continue
        name_part = line[:29]
        depth = len(name_part) - len(name_part.lstrip(" "))
        name = name_part.strip()
        cols = line[29:].split()
        if not name or not cols:
            continue
        path = path[:depth] + [name]
        rows["/".join(path)] = int(cols[0])
    return rows


def test_statistics_tree(tshark):
    st = stats_tree(tshark, "postfix-replies.pcapng")
    assert st["Replies by class"] == 79
    assert (st["Replies by class/success"], st["Replies by class/intermediate"],
            st["Replies by class/transient"], st["Replies by class/permanent"]) == (49, 4, 4, 22)
    assert st["Replies by class/transient/450/4.2.0"] == 1
    assert st["Replies by class/permanent/550/5.1.1"] == 4
    assert st["Likely causes/greylisting"] == 1
    assert st["Likely causes/syntax"] == 10
    assert st["Replies by server/198.51.100.10"] == 65
    assert st["Replies by server/198.51.100.10/permanent failures"] == 20
    assert st["Replies by server/198.51.100.10/transient failures"] == 3
    assert st["Replies by server/198.51.100.10/response time (us)"] == 59
    assert (st["Transactions by outcome/accepted"], st["Transactions by outcome/rejected"],
            st["Transactions by outcome/deferred"]) == (3, 9, 1)


def test_statistics_tree_with_display_filter(tshark):
    st = stats_tree(tshark, "postfix-replies.pcapng", "ip.addr==198.51.100.12")
    assert st["Replies by class"] == 5
    assert list(k for k in st if k.startswith("Replies by server/") and k.count("/") == 1) == ["Replies by server/198.51.100.12"]
    assert st["Likely causes/blocklist"] == 1


def test_statistics_tree_path_mtu(tshark):
    st = stats_tree(tshark, "pmtu-blackhole-v4-1400.pcapng")
    assert st["Path MTU verdicts/blackhole"] == 1
    assert st["Transactions by outcome/stalled"] == 1
    st = stats_tree(tshark, "pmtu-pmtud-ok-v6.pcapng")
    assert st["Path MTU verdicts/ptb-honoured"] == 1


SITE_CODES = '''# SMTP Delivery site codes
"421","","message rejected","Our upstream ISP relay throttles bursts from the office","","route through the secondary smarthost, not {server}"
"450","4.2.0","greylisted","Postgrey at our partner: first attempt is always deferred","greylisting",""
'''


@pytest.fixture
def site_codes(tshark):
    """Writes a site codes table into the profile tshark uses; removed afterwards."""
    import os
    import shutil

    conf = tshark.home / ".config" / "wireshark"
    conf.mkdir(parents=True, exist_ok=True)
    path = conf / "smtp_delivery_site_codes"

    def write(text):
        path.write_text(text)
        os.chmod(path, 0o644)
        for p in (tshark.home / ".config", conf):
            os.chmod(p, 0o755)
    yield write
    shutil.rmtree(tshark.home / ".config", ignore_errors=True)


SITE_FIELDS = ["smtp_delivery.reply.site_meaning", "smtp_delivery.reply.cause", "smtp_delivery.reply.advice",
               "smtp_delivery.reply.vendor"]


def test_site_codes_override_the_built_in_table(tshark, site_codes):
    site_codes(SITE_CODES)
    [row] = tshark.fields("vendor-replies.pcapng", SITE_FIELDS, "frame.number == 190")
    assert row == ["Our upstream ISP relay throttles bursts from the office", "rate-limit",
                   "route through the secondary smarthost, not 198.51.100.111", "Telstra BigPond"]
    [row] = tshark.fields("postfix-replies.pcapng", SITE_FIELDS[:2], "frame.number == 109")
    assert row == ["Postgrey at our partner: first attempt is always deferred", "greylisting"]
    # Replies no row matches keep the built-in reading only.
    [row] = tshark.fields("postfix-replies.pcapng", SITE_FIELDS[:2], "frame.number == 195")
    assert row == ["", "reverse-dns"]


@pytest.mark.parametrize("bad_row,reason", [
    ('"999","","x","bad code","",""', 'row "999","","x": reply code must be three digits from 200 to 559'),
    ('"","6.1.1","","bad enhanced","",""', 'row "","6.1.1","": enhanced code must look like 4.7.1'),
    ('"421","","","made-up cause","made-up",""', 'row "421","","": unknown cause "made-up" (one of: greylisting,'),
    ('"","","","no key at all","",""', "give at least one of: reply code, enhanced code, text pattern"),
])
def test_bad_site_code_rows_are_rejected_with_row_and_reason(tshark, site_codes, bad_row, reason):
    site_codes(SITE_CODES + bad_row + "\n")
    proc = tshark.run("-r", tshark.capture("vendor-replies.pcapng"), "-Y", "frame.number == 190", "-T", "fields",
                      "-e", "smtp_delivery.reply.site_meaning", check=False)
    assert "Error loading table 'SMTP Delivery site codes'" in proc.stderr
    assert reason in proc.stderr
    # The valid rows before the bad one still apply, and nothing crashed.
    assert proc.returncode == 0
    assert proc.stdout.strip() == "Our upstream ISP relay throttles bursts from the office"


def test_garbage_site_codes_file_never_crashes(tshark, site_codes):
    site_codes('\x00\xff garbage "unterminated\n,,,,\n"a","b"\n' * 50)
    proc = tshark.run("-r", tshark.capture("postfix-replies.pcapng"), "-Y", "smtp_delivery.reply.cause", "-T",
                      "fields", "-e", "frame.number", check=False)
    assert proc.returncode == 0
    # (Wireshark's table lexer echoes bytes it cannot read to stdout; only the frame list matters.)
    frames = [int(m) for m in re.findall(r"(\d+)$", proc.stdout, re.M)]
    assert frames[:2] == [31, 46]
