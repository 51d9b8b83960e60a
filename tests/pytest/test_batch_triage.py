"""plugin/triage/smtp-delivery-triage over several bundled captures, a missing
file and a corrupt one, through the real tshark with the freshly built plugin.

Like every tshark here, the tool runs as `nobody` when the tests run as root
(tshark ignores WIRESHARK_PLUGIN_DIR for root); it finds the plugin through
its own --plugin-dir option, not through the environment.
"""
import csv
import io
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, TSHARK

TOOL = ROOT / "plugin" / "triage" / "smtp-delivery-triage"
PYTHON = "/usr/bin/python3"

CAPTURES = ["postfix-limits.pcapng", "pmtu-blackhole-v4-1400.pcapng", "pmtu-mtu-probing-v4.pcapng",
            "pmtu-blackhole-v6-1280.pcapng", "submission-587-starttls-required.pcapng"]
BAD = ["missing.pcapng", "garbage.pcapng"]
GARBAGE_ERROR = 'The file "garbage.pcapng" isn\'t a capture file in a format TShark understands.'
TRUNC_ERROR = 'The file "trunc.pcapng" appears to have been cut short in the middle of a packet.'

EXPECTED_TEXT = """\
SMTP delivery triage: 7 capture files, 5 processed, 2 failed

Server 198.51.100.10
  Failures by cause  transient  permanent  frames
    policy                   0          1  submission-587-starttls-required.pcapng:43
    relay-denied             0          1  submission-587-starttls-required.pcapng:41
    syntax                   0          1  submission-587-starttls-required.pcapng:37
    tls-required             0          2  submission-587-starttls-required.pcapng:10,12
  Transactions: 1 accepted, 0 deferred, 2 rejected, 2 stalled, 0 aborted
    accepted  pmtu-mtu-probing-v4.pcapng:101
    rejected  submission-587-starttls-required.pcapng:10,45
    stalled   pmtu-blackhole-v4-1400.pcapng:41 pmtu-mtu-probing-v4.pcapng:41
  Stalled transactions
    pmtu-blackhole-v4-1400.pcapng:41  client 192.0.2.10  from <sender@example.org>  to <user@example.net>
    pmtu-mtu-probing-v4.pcapng:41  client 192.0.2.10  from <sender@example.org>  to <user@example.net>
  Black-holed flows
    pmtu-blackhole-v4-1400.pcapng  192.0.2.10:44252 -> 198.51.100.10:25  blackhole  first frame 19, verdict in 41, \
frames 41-46, path MTU 1004-1499
    pmtu-mtu-probing-v4.pcapng  192.0.2.10:48504 -> 198.51.100.10:25  recovered  first frame 19, verdict in 41, \
frames 41-43,45, path MTU 1076-1499, recovered in 45 with 1076-byte packets

Server 198.51.100.13
  Failures by cause  transient  permanent  frames
    timeout                  1          0  postfix-limits.pcapng:33
  Transactions: 0 accepted, 1 deferred, 0 rejected, 0 stalled, 0 aborted
    deferred  postfix-limits.pcapng:33

Server 198.51.100.14
  Failures by cause  transient  permanent  frames
    syntax                   1          3  postfix-limits.pcapng:47,49,51
  Transactions: 0 accepted, 1 deferred, 0 rejected, 0 stalled, 0 aborted
    deferred  postfix-limits.pcapng:51

Server 198.51.100.15
  Failures by cause       transient  permanent  frames
    too-many-connections          1          0  postfix-limits.pcapng:13
  Transactions: 0 accepted, 1 deferred, 0 rejected, 0 stalled, 0 aborted
    deferred  postfix-limits.pcapng:13

Server 2001:db8:3::10
  Transactions: 0 accepted, 0 deferred, 0 rejected, 1 stalled, 0 aborted
    stalled   pmtu-blackhole-v6-1280.pcapng:41
  Stalled transactions
    pmtu-blackhole-v6-1280.pcapng:41  client 2001:db8:1::10  from <sender@example.org>  to <user@example.net>
  Black-holed flows
    pmtu-blackhole-v6-1280.pcapng  [2001:db8:1::10]:53396 -> [2001:db8:3::10]:25  blackhole  first frame 19, \
verdict in 41, frames 41-46, path MTU 1124-1499

Errors
  missing.pcapng: no such file
  garbage.pcapng: """ + GARBAGE_ERROR + "\n"


class Triage:
    """Runs the tool in a directory of capture copies, as nobody when root."""

    def __init__(self, tshark, workdir):
        self.tshark = tshark
        self.dir = workdir
        env = {k: v for k, v in tshark.env.items() if k != "WIRESHARK_PLUGIN_DIR"}
        self.env = env
        self.prefix = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "nobody", "--", "env"] + [f"{k}={v}" for k, v in env.items()]
        self.tool = str(workdir / "smtp-delivery-triage")

    def run(self, *args, plugin_dir=True, tshark=None):
        cmd = [PYTHON, self.tool]
        if plugin_dir:
            cmd += ["--plugin-dir", str(self.tshark.plugin_dir)]
        if tshark or TSHARK != "tshark":
            cmd += ["--tshark", tshark or shutil.which(TSHARK) or TSHARK]
        cmd += list(args)
        if self.prefix:
            return subprocess.run(self.prefix + cmd, cwd=self.dir, capture_output=True, text=True, timeout=600,
                                  stdin=subprocess.DEVNULL)
        return subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=600, env=self.env,
                              stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def triage(tshark):
    d = tshark.workdir / "triage"
    d.mkdir(exist_ok=True)
    shutil.copy2(TOOL, d / "smtp-delivery-triage")
    for name in CAPTURES + ["postfix-replies.pcapng", "nonstandard-port.pcapng"]:
        shutil.copy2(tshark.capture(name), d / name)
    # Not a capture at all: fixed pseudo-random bytes.
    (d / "garbage.pcapng").write_bytes(bytes((i * 73 + 41) % 256 for i in range(4096)))
    # A capture cut off in the middle of a packet.
    (d / "trunc.pcapng").write_bytes((d / "postfix-replies.pcapng").read_bytes()[:30000])
    # Hangs for the timeout test.
    shutil.copy2(d / "postfix-limits.pcapng", d / "slow.pcapng")
    real = shutil.which(TSHARK) or TSHARK
    (d / "slow-tshark").write_text(
        "#!/bin/sh\n"
        "for a in \"$@\"; do case \"$a\" in *slow.pcapng) exec sleep 60;; esac; done\n"
        f"exec {real} \"$@\"\n")
    os.chmod(d, 0o755)
    for p in d.iterdir():
        os.chmod(p, 0o755 if p.name in ("smtp-delivery-triage", "slow-tshark") else 0o644)
    return Triage(tshark, d)


@pytest.fixture(scope="module")
def json_report(triage):
    proc = triage.run("--format", "json", *CAPTURES, *BAD)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def server(report, addr):
    return next(s for s in report["servers"] if s["server"] == addr)


def test_help():
    proc = subprocess.run([PYTHON, str(TOOL), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for opt in ("--format", "--jobs", "--timeout", "--tshark", "--plugin-dir", "--filter", "--decode-as", "-o",
                "exit status", "root"):
        assert opt in proc.stdout


def test_tool_is_executable_python3_stdlib():
    assert os.access(TOOL, os.X_OK)
    assert TOOL.read_text().startswith("#!/usr/bin/python3\n")


def test_text_report(triage):
    proc = triage.run(*CAPTURES, *BAD)
    assert proc.stdout == EXPECTED_TEXT
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "smtp-delivery-triage: missing.pcapng: no such file",
        "smtp-delivery-triage: garbage.pcapng: " + GARBAGE_ERROR,
    ]


def test_one_job_gives_the_same_report(triage):
    assert triage.run("--jobs", "1", *CAPTURES, *BAD).stdout == EXPECTED_TEXT


def test_all_good_exits_zero(triage):
    proc = triage.run("postfix-limits.pcapng", "pmtu-blackhole-v4-1400.pcapng")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("SMTP delivery triage: 2 capture files, 2 processed, 0 failed\n")
    assert "Errors" not in proc.stdout


def test_json_summary_and_errors(json_report):
    assert json_report["summary"] == {"files": 7, "processed": 5, "failed": 2}
    assert json_report["files"] == [{"file": f, "status": "ok"} for f in CAPTURES] + [
        {"file": "missing.pcapng", "status": "error", "error": "no such file"},
        {"file": "garbage.pcapng", "status": "error", "error": GARBAGE_ERROR}]
    assert json_report["errors"] == [
        {"file": "missing.pcapng", "status": "error", "error": "no such file"},
        {"file": "garbage.pcapng", "status": "error", "error": GARBAGE_ERROR}]
    assert [s["server"] for s in json_report["servers"]] == [
        "198.51.100.10", "198.51.100.13", "198.51.100.14", "198.51.100.15", "2001:db8:3::10"]
    for s in json_report["servers"]:
        assert set(s) == {"server", "failures", "transactions", "stalled", "blackholes"}
        assert list(s["transactions"]) == ["accepted", "deferred", "rejected", "stalled", "aborted"]


def test_json_black_holed_flows(json_report):
    assert server(json_report, "198.51.100.10")["blackholes"] == [
        {"file": "pmtu-blackhole-v4-1400.pcapng", "client": "192.0.2.10", "client_port": 44252,
         "server": "198.51.100.10", "server_port": 25, "verdict": "blackhole", "first_frame": 19,
         "verdict_frame": 41, "frames": [41, 42, 43, 44, 45, 46], "blackhole_frames": [41, 42, 43, 44, 45, 46],
         "mtu_lower": 1004, "mtu_upper": 1499, "retransmissions": 7, "recovered_in": None,
         "recovered_size": None},
        {"file": "pmtu-mtu-probing-v4.pcapng", "client": "192.0.2.10", "client_port": 48504,
         "server": "198.51.100.10", "server_port": 25, "verdict": "recovered", "first_frame": 19,
         "verdict_frame": 41, "frames": [41, 42, 43, 45], "blackhole_frames": [41, 42, 43],
         "mtu_lower": 1076, "mtu_upper": 1499, "retransmissions": 4, "recovered_in": 45,
         "recovered_size": 1076},
    ]
    v6 = server(json_report, "2001:db8:3::10")["blackholes"]
    assert [(b["client"], b["client_port"], b["server_port"], b["first_frame"], b["frames"], b["mtu_lower"],
             b["mtu_upper"]) for b in v6] == [("2001:db8:1::10", 53396, 25, 19, [41, 42, 43, 44, 45, 46], 1124, 1499)]


def test_json_failures_and_transactions(json_report):
    s14 = server(json_report, "198.51.100.14")
    assert s14["failures"] == [{"cause": "syntax", "transient": 1, "permanent": 3, "replies": [
        {"file": "postfix-limits.pcapng", "frame": 47, "code": 500, "class": "permanent", "enhanced": "5.5.2",
         "command": "FOO", "vendor": None},
        {"file": "postfix-limits.pcapng", "frame": 49, "code": 500, "class": "permanent", "enhanced": "5.5.2",
         "command": "BAR", "vendor": None},
        {"file": "postfix-limits.pcapng", "frame": 51, "code": 500, "class": "permanent", "enhanced": "5.5.2",
         "command": "BAZ", "vendor": None},
        {"file": "postfix-limits.pcapng", "frame": 51, "code": 421, "class": "transient", "enhanced": "4.7.0",
         "command": None, "vendor": None},
    ]}]
    s10 = server(json_report, "198.51.100.10")
    assert {k: v["count"] for k, v in s10["transactions"].items()} == {
        "accepted": 1, "deferred": 0, "rejected": 2, "stalled": 2, "aborted": 0}
    assert s10["transactions"]["accepted"]["transactions"] == [
        {"file": "pmtu-mtu-probing-v4.pcapng", "frame": 101, "client": "192.0.2.10", "mail_from": "sender@example.org",
         "rcpt": ["user@example.net"], "final_code": 250, "final_enhanced": "2.0.0"}]
    assert s10["stalled"] == [
        {"file": f, "frame": 41, "client": "192.0.2.10", "server": "198.51.100.10", "mail_from": "sender@example.org",
         "rcpt": ["user@example.net"], "stall_frames": [41]}
        for f in ("pmtu-blackhole-v4-1400.pcapng", "pmtu-mtu-probing-v4.pcapng")]
    assert [(f["cause"], f["transient"], f["permanent"], [r["frame"] for r in f["replies"]])
            for f in s10["failures"]] == [("policy", 0, 1, [43]), ("relay-denied", 0, 1, [41]),
                                          ("syntax", 0, 1, [37]), ("tls-required", 0, 2, [10, 12])]


def test_csv_report(triage):
    proc = triage.run("--format", "csv", *CAPTURES, *BAD)
    assert proc.returncode == 1
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert proc.stdout.splitlines()[0] == ("kind,server,file,item,transient,permanent,count,frames,client,client_port,"
                                           "server_port,first_frame,verdict_frame,mtu_lower,mtu_upper,detail")
    assert [r["kind"] for r in rows].count("failure") == 7
    bh = [r for r in rows if r["kind"] == "blackhole"]
    assert [(r["server"], r["file"], r["item"], r["frames"], r["client"], r["client_port"], r["server_port"],
             r["first_frame"], r["verdict_frame"], r["mtu_lower"], r["mtu_upper"], r["detail"]) for r in bh] == [
        ("198.51.100.10", "pmtu-blackhole-v4-1400.pcapng", "blackhole", "41 42 43 44 45 46", "192.0.2.10", "44252",
         "25", "19", "41", "1004", "1499", ""),
        ("198.51.100.10", "pmtu-mtu-probing-v4.pcapng", "recovered", "41 42 43 45", "192.0.2.10", "48504", "25",
         "19", "41", "1076", "1499", "recovered in 45"),
        ("2001:db8:3::10", "pmtu-blackhole-v6-1280.pcapng", "blackhole", "41 42 43 44 45 46", "2001:db8:1::10",
         "53396", "25", "19", "41", "1124", "1499", ""),
    ]
    fail14 = [r for r in rows if r["kind"] == "failure" and r["server"] == "198.51.100.14"]
    assert [(r["item"], r["transient"], r["permanent"], r["count"], r["frames"]) for r in fail14] == [
        ("syntax", "1", "3", "4", "47 49 51")]
    tx = [(r["server"], r["file"], r["item"], r["count"], r["frames"]) for r in rows if r["kind"] == "transaction"]
    assert tx == [
        ("198.51.100.10", "pmtu-mtu-probing-v4.pcapng", "accepted", "1", "101"),
        ("198.51.100.10", "submission-587-starttls-required.pcapng", "rejected", "2", "10 45"),
        ("198.51.100.10", "pmtu-blackhole-v4-1400.pcapng", "stalled", "1", "41"),
        ("198.51.100.10", "pmtu-mtu-probing-v4.pcapng", "stalled", "1", "41"),
        ("198.51.100.13", "postfix-limits.pcapng", "deferred", "1", "33"),
        ("198.51.100.14", "postfix-limits.pcapng", "deferred", "1", "51"),
        ("198.51.100.15", "postfix-limits.pcapng", "deferred", "1", "13"),
        ("2001:db8:3::10", "pmtu-blackhole-v6-1280.pcapng", "stalled", "1", "41"),
    ]
    stalled = [(r["server"], r["file"], r["frames"], r["client"], r["detail"]) for r in rows if r["kind"] == "stalled"]
    assert stalled == [
        ("198.51.100.10", "pmtu-blackhole-v4-1400.pcapng", "41", "192.0.2.10",
         "<sender@example.org> -> <user@example.net>"),
        ("198.51.100.10", "pmtu-mtu-probing-v4.pcapng", "41", "192.0.2.10", "<sender@example.org> -> <user@example.net>"),
        ("2001:db8:3::10", "pmtu-blackhole-v6-1280.pcapng", "41", "2001:db8:1::10",
         "<sender@example.org> -> <user@example.net>"),
    ]
    errors = [(r["file"], r["item"], r["detail"], r["server"]) for r in rows if r["kind"] == "error"]
    assert errors == [("missing.pcapng", "error", "no such file", ""),
                      ("garbage.pcapng", "error", GARBAGE_ERROR, "")]
    assert len(rows) == 7 + 8 + 3 + 3 + 2


def test_truncated_capture_keeps_what_was_read(triage):
    proc = triage.run("--format", "json", "trunc.pcapng")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["smtp-delivery-triage: trunc.pcapng: " + TRUNC_ERROR]
    report = json.loads(proc.stdout)
    assert report["files"] == [{"file": "trunc.pcapng", "status": "partial", "error": TRUNC_ERROR}]
    assert report["summary"] == {"files": 1, "processed": 0, "failed": 1}
    s = server(report, "198.51.100.10")
    # Everything up to frame 127 was read: the greylisting reply and the pf_policy transaction are there.
    assert {k: [t["frame"] for t in v["transactions"]] for k, v in s["transactions"].items() if v["count"]} == {
        "accepted": [16, 33, 125], "rejected": [46, 62, 64, 66, 70, 103]}
    assert [r["frame"] for f in s["failures"] if f["cause"] == "greylisting" for r in f["replies"]] == [109]
    text = triage.run("trunc.pcapng").stdout
    assert text.endswith("\nErrors\n  trunc.pcapng: " + TRUNC_ERROR +
                         " (the findings before that point are included above)\n")


def test_extra_filter_is_anded(triage):
    proc = triage.run("-Y", "ip.addr == 198.51.100.15", "--format", "json", "postfix-limits.pcapng",
                      "pmtu-blackhole-v4-1400.pcapng")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [s["server"] for s in report["servers"]] == ["198.51.100.15"]
    assert [f["cause"] for f in report["servers"][0]["failures"]] == ["too-many-connections"]


def test_decode_as_passthrough(triage):
    without = json.loads(triage.run("--format", "json", "nonstandard-port.pcapng").stdout)
    assert without["servers"] == []
    proc = triage.run("--decode-as", "tcp.port==2525,smtp", "--format", "json", "nonstandard-port.pcapng")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(s["server"], s["transactions"]["accepted"]["count"],
             [t["frame"] for t in s["transactions"]["accepted"]["transactions"]]) for s in report["servers"]] == [
        ("198.51.100.10", 1, [16]), ("2001:db8:2::10", 1, [37])]


def test_preference_passthrough(triage):
    proc = triage.run("-o", "smtp_delivery.pmtu_transmissions:4", "--format", "json", "pmtu-blackhole-v4-1400.pcapng")
    assert proc.returncode == 0, proc.stderr
    [flow] = json.loads(proc.stdout)["servers"][0]["blackholes"]
    assert (flow["first_frame"], flow["verdict_frame"], flow["frames"]) == (19, 42, [42, 43, 44, 45, 46])


def test_timeout_reports_the_file_and_goes_on(triage):
    proc = triage.run("--timeout", "3", "--format", "json", "slow.pcapng", "postfix-limits.pcapng",
                      tshark=str(triage.dir / "slow-tshark"))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["errors"] == [{"file": "slow.pcapng", "status": "error", "error": "tshark timed out after 3 s"}]
    assert [s["server"] for s in report["servers"]] == ["198.51.100.13", "198.51.100.14", "198.51.100.15"]
    assert "slow.pcapng: tshark timed out after 3 s" in proc.stderr


@pytest.mark.parametrize("args,message", [
    ([], "the following arguments are required: CAPTURE"),
    (["--format", "xml", "a.pcapng"], "invalid choice: 'xml'"),
    (["--jobs", "0", "a.pcapng"], "must be at least 1"),
    (["--timeout", "-1", "a.pcapng"], "must be more than 0"),
])
def test_usage_errors_exit_2(triage, args, message):
    proc = triage.run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_bad_filter_exits_2(triage):
    proc = triage.run("-Y", "ip.addr ==", "postfix-limits.pcapng")
    assert proc.returncode == 2
    assert "tshark refused the filter or options" in proc.stderr
    assert proc.stdout == ""


def test_unknown_preference_exits_2(triage):
    proc = triage.run("-o", "smtp_delivery.no_such_pref:1", "postfix-limits.pcapng")
    assert proc.returncode == 2
    assert "no_such_pref" in proc.stderr


def test_plugin_not_loaded_exits_2(triage):
    proc = triage.run("--plugin-dir", str(triage.tshark.workdir / "no-plugins"), "postfix-limits.pcapng",
                      plugin_dir=False)
    assert proc.returncode == 2
    assert "the SMTP Delivery plugin is not loaded" in proc.stderr
    assert proc.stdout == ""


def test_missing_tshark_exits_2(triage):
    proc = triage.run("postfix-limits.pcapng", tshark="/nonexistent/tshark")
    assert proc.returncode == 2
    assert "cannot run tshark" in proc.stderr
