"""The configuration profile "SMTP Delivery" (plugin/profile/), as tshark reads it.

The profile is installed with plugin/profile/install-profile.sh into the
personal profiles folder of the HOME the `tshark` fixture runs with, then
selected with `tshark -C "SMTP Delivery"`: the custom columns must show the
plugin's values for known frames, every coloring rule and filter button must
compile, and the plugin's coloring rules must color the frames they are meant
for (checked with `tshark --color`, which applies the profile's colorfilters
the way the GUI does, first matching rule wins).
"""
import os
import pathlib
import re
import shutil
import subprocess
import threading

import pytest

from conftest import ROOT, TSHARK

PROFILE = "SMTP Delivery"
PROFILE_SRC = ROOT / "plugin" / "profile" / PROFILE
INSTALL = ROOT / "plugin" / "profile" / "install-profile.sh"
PROFILE_FILES = {"preferences", "colorfilters", "dfilter_buttons"}


# --- reading the profile files ------------------------------------------------

def read_columns(path=PROFILE_SRC / "preferences"):
    """(title, format) pairs of gui.column.format."""
    text = path.read_text()
    m = re.search(r"^gui\.column\.format:\s*((?:.|\n)*?)(?=^\S|\Z)", text, re.M)
    assert m, "no gui.column.format in preferences"
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
    assert len(strings) % 2 == 0, strings
    return list(zip(strings[0::2], strings[1::2]))


def read_colorfilters(path=PROFILE_SRC / "colorfilters"):
    """(name, filter, background, foreground) of each enabled rule, in order (16-bit RGB)."""
    rules = []
    for line in path.read_text().splitlines():
        if not line.startswith("@"):
            assert line == "" or line.startswith("#") or line.startswith("!@"), f"bad line: {line}"
            continue
        m = re.fullmatch(r"@([^@]+)@([^@]+)@\[(\d+),(\d+),(\d+)\]\[(\d+),(\d+),(\d+)\]", line)
        assert m, f"bad colorfilters line: {line}"
        rgb = [int(v) for v in m.groups()[2:]]
        assert all(0 <= v <= 65535 for v in rgb), line
        rules.append((m.group(1), m.group(2), tuple(rgb[:3]), tuple(rgb[3:])))
    return rules


def read_buttons(path=PROFILE_SRC / "dfilter_buttons"):
    """(enabled, label, expression, comment) of each filter button (a Wireshark UAT file)."""
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = re.fullmatch(r'"([^"]*)","([^"]*)","([^"]*)","([^"]*)"', line)
        assert fields, f"bad dfilter_buttons line: {line}"
        rows.append(fields.groups())
    return rows


COLUMNS = read_columns()
RULES = read_colorfilters()
OUR_RULES = [r for r in RULES if r[0].startswith("SMTP Delivery:")]
BUTTONS = read_buttons()

BLACK_HOLE = "SMTP Delivery: PMTU black hole / stalled transfer"
MALFORMED = "SMTP Delivery: malformed or inconsistent reply"
PERMANENT = "SMTP Delivery: permanent failure (5xx)"
TRANSIENT = "SMTP Delivery: transient failure (4xx)"
PMTU_WARN = "SMTP Delivery: PMTU too big ignored / inconclusive"
PMTU_OK = "SMTP Delivery: PMTU discovery working / recovered"


# --- running tshark with the profile -------------------------------------------

@pytest.fixture(scope="module")
def profile(tshark):
    """Installs the profile, with the project's script, into the fixture's personal profiles folder."""
    dest = tshark.home / ".config" / "wireshark" / "profiles"
    proc = subprocess.run(["bash", str(INSTALL), "--dest", str(dest)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    if os.geteuid() == 0:
        for dirpath, _, filenames in os.walk(tshark.home):
            shutil.chown(dirpath, user="nobody")
            for name in filenames:
                shutil.chown(os.path.join(dirpath, name), user="nobody")
    yield tshark
    shutil.rmtree(dest / PROFILE, ignore_errors=True)


def column_rows(t, capture, display_filter, two_pass=False):
    """frame number -> {column title: value} for the profile's columns (tshark -T tabs)."""
    args = ["-C", PROFILE, "-r", t.capture(capture), "-T", "tabs", "-Y", display_filter]
    if two_pass:
        args.append("-2")
    out = t.run(*args).stdout
    titles = [title for title, _ in COLUMNS]
    rows = {}
    for line in out.splitlines():
        values = [v.strip() for v in line.split("\t")]
        # tshark puts an arrow between the Source and Destination columns.
        src = titles.index("Source")
        if len(values) == len(titles) + 1 and values[src + 1] in ("→", "->", "←", "<-"):
            del values[src + 1]
        assert len(values) == len(titles), f"{len(values)} values for {len(titles)} columns: {line!r}"
        row = dict(zip(titles, values))
        rows[int(row["No."])] = row
    return rows


def colored_frames(t, capture, display_filter, extra=()):
    """frame number -> (background, foreground) 8-bit RGB, as `tshark --color` prints them.

    tshark colors its output only on a terminal that announces 24-bit color,
    so it writes to a pseudo-terminal with COLORTERM=truecolor."""
    env = dict(t.env, COLORTERM="truecolor", TERM="xterm-256color")
    cmd = [TSHARK, "-C", PROFILE, "--color", "-r", t.capture(capture), "-Y", display_filter, *extra]
    if t.prefix:
        cmd = ["runuser", "-u", "nobody", "--", "env"] + [f"{k}={v}" for k, v in env.items()] + cmd
    master, slave = os.openpty()
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the child side is closed
                return
            if not data:
                return
            chunks.append(data)

    try:
        proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=None if t.prefix else env)
        os.close(slave)
        slave = None
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        th.join(timeout=30)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, err.decode(errors="replace")
    text = b"".join(chunks).decode(errors="replace")
    colors = {}
    pattern = re.compile(r"\x1b\[38;2;(\d+);(\d+);(\d+)m\x1b\[48;2;(\d+);(\d+);(\d+)m\s*(\d+) ")
    for m in pattern.finditer(text):
        v = [int(x) for x in m.groups()]
        colors[v[6]] = (tuple(v[3:6]), tuple(v[0:3]))
    assert colors, f"tshark --color printed no colored lines:\n{text[:2000]!r}"
    return colors


def rule_colors(name):
    """(background, foreground) of a rule, 8-bit, as tshark prints it."""
    for rule_name, _, bg, fg in RULES:
        if rule_name == name:
            return tuple(v >> 8 for v in bg), tuple(v >> 8 for v in fg)
    raise KeyError(name)


# --- the installed profile -----------------------------------------------------

def test_install_script_copies_the_profile(profile):
    installed = profile.home / ".config" / "wireshark" / "profiles" / PROFILE
    assert {p.name for p in installed.iterdir()} >= PROFILE_FILES
    for name in PROFILE_FILES:
        assert (installed / name).read_bytes() == (PROFILE_SRC / name).read_bytes()


def test_install_script_dry_run_names_the_folders(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME="")
    user = subprocess.run(["bash", str(INSTALL), "-n", "--user"], capture_output=True, text=True,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert user.returncode == 0, user.stderr
    assert f"installed profile \"{PROFILE}\" in {tmp_path}/.config/wireshark/profiles/{PROFILE}" in user.stdout
    system = subprocess.run(["bash", str(INSTALL), "-n", "--system"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert system.returncode == 0, system.stderr
    assert re.search(rf"installed profile \"{PROFILE}\" in /\S*/profiles/{PROFILE}$", system.stdout, re.M), system.stdout
    assert not list(tmp_path.iterdir()), "a dry run wrote files"


def test_profile_columns():
    assert COLUMNS == [
        ("No.", "%m"), ("Time", "%t"), ("Source", "%s"), ("Destination", "%d"), ("Protocol", "%p"),
        ("Class", "%Cus:smtp_delivery.reply.class:0:R"),
        ("Code", "%Cus:smtp_delivery.reply.code:0:R"),
        ("Enhanced", "%Cus:smtp_delivery.reply.enhanced:0:R"),
        ("Cause", "%Cus:smtp_delivery.reply.cause:0:R"),
        ("Server time", "%Cus:smtp_delivery.reply.time:0:R"),
        ("PMTU", "%Cus:smtp_delivery.pmtu.verdict:0:R"),
        ("Info", "%i"),
    ]


def test_unknown_profile_is_an_error(profile):
    proc = profile.run("-C", "No Such Profile", "-r", profile.capture("postfix-replies.pcapng"), check=False)
    assert proc.returncode != 0


# --- custom columns ------------------------------------------------------------

def custom(row):
    return [row[c] for c in ("Class", "Code", "Enhanced", "Cause", "Server time", "PMTU")]


def test_columns_postfix_replies(profile):
    rows = column_rows(profile, "postfix-replies.pcapng", "frame.number in {31, 108, 109, 113, 121, 195, 227}")
    assert sorted(rows) == [31, 108, 109, 113, 121, 195, 227]
    assert custom(rows[109]) == ["transient", "450", "4.2.0", "greylisting", "0.000291208", ""]
    assert custom(rows[113])[:4] == ["permanent", "554", "5.7.1", "relay-denied"]
    assert custom(rows[121])[:4] == ["transient", "452", "4.5.3", "too-many-recipients"]
    assert custom(rows[195]) == ["transient", "450", "4.7.25", "reverse-dns", "0.000307863", ""]
    assert custom(rows[227]) == ["permanent", "554", "5.7.1", "blocklist", "0.000109581", ""]
    # Pipelined replies in one segment: every occurrence, comma-separated.
    assert custom(rows[31]) == ["success,success,permanent,intermediate", "250,250,550,354", "2.1.0,2.1.5,5.1.1",
                                "unknown-recipient", ",".join(["0.000517991"] * 4), ""]
    # The client's RCPT carries no reply: the custom columns stay empty.
    assert custom(rows[108]) == ["", "", "", "", "", ""]
    assert rows[109]["Protocol"] == "SMTP"
    assert rows[109]["Source"] == "198.51.100.10" and rows[109]["Destination"] == "192.0.2.10"
    assert rows[109]["Info"].startswith("S: 450 4.2.0 <greylist@example.net>: Recipient address rejected")


def test_columns_vendor_replies(profile):
    rows = column_rows(profile, "vendor-replies.pcapng", "frame.number in {16, 29, 101, 315}")
    assert custom(rows[16]) == ["transient", "420", "", "timeout", "0.000172259", ""]
    assert custom(rows[29]) == ["transient", "421", "4.3.2", "service-unavailable", "0.000143358", ""]
    assert custom(rows[101]) == ["permanent", "550", "5.7.606", "blocklist", "0.000057973", ""]
    assert custom(rows[315]) == ["permanent", "535", "5.7.8", "auth-failed", "0.000097935", ""]


def test_columns_blackhole(profile):
    rows = column_rows(profile, "pmtu-blackhole-v4-1400.pcapng", "frame.number in {4, 18, 19, 40} || frame.number >= 41")
    assert custom(rows[4])[:4] == ["success", "220", "", ""]
    assert custom(rows[18])[:2] == ["intermediate", "354"]
    for frame in range(41, 47):
        assert custom(rows[frame]) == ["", "", "", "", "", "blackhole"], frame
        assert "TCP Retransmission" in rows[frame]["Info"]
    # Single pass: the verdict is reached at the third transmission (frame 41).
    assert custom(rows[19])[5] == ""
    assert custom(rows[40])[5] == ""
    assert max(rows) == 46


def test_columns_blackhole_two_pass(profile):
    rows = column_rows(profile, "pmtu-blackhole-v4-1400.pcapng", "smtp_delivery.pmtu", two_pass=True)
    marked = sorted(f for f, r in rows.items() if r["PMTU"] == "blackhole")
    assert marked == list(range(19, 24)) + list(range(26, 47))


def test_columns_pmtud_ok(profile):
    rows = column_rows(profile, "pmtu-pmtud-ok-v4.pcapng", "smtp_delivery.pmtu.verdict")
    assert {f: r["PMTU"] for f, r in rows.items()} == {32: "ptb-honoured"}


# --- coloring rules and filter buttons ----------------------------------------

def test_colorfilters_plugin_rules_come_first():
    names = [r[0] for r in RULES]
    assert names[:len(OUR_RULES)] == [BLACK_HOLE, MALFORMED, PERMANENT, TRANSIENT, PMTU_WARN, PMTU_OK]
    # Wireshark's default rules follow, so other traffic keeps its colors.
    assert "Bad TCP" in names and "TCP" in names and "UDP" in names
    assert names.index("Bad TCP") > len(OUR_RULES) - 1
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name,expression", [(r[0], r[1]) for r in RULES] +
                         [("button " + b[1], b[2]) for b in BUTTONS])
def test_filter_compiles(profile, name, expression):
    proc = profile.run("-r", profile.capture("postfix-replies.pcapng"), "-Y", expression, "-c", "1", check=False)
    assert proc.returncode == 0, f"{name}: {expression!r} does not compile:\n{proc.stderr}"


EXPECTED_MATCHES = {
    # rule: {capture: frames}, single pass
    BLACK_HOLE: {
        "pmtu-blackhole-v4-1400.pcapng": list(range(41, 47)),
        "pmtu-blackhole-v6-1280.pcapng": list(range(41, 47)),
        "postfix-replies.pcapng": [],
    },
    MALFORMED: {
        "malformed-replies.pcapng": [10, 27, 42, 57, 74, 89, 104, 119, 134, 149, 190],
        "postfix-replies.pcapng": [],
        "vendor-replies.pcapng": [],
    },
    PERMANENT: {
        "postfix-replies.pcapng": [31, 46, 48, 52, 54, 58, 60, 62, 64, 66, 70, 72, 74, 76, 82, 101, 111,
                                   113, 163, 178, 210, 227],
        "vendor-replies.pcapng": [101, 158, 213, 230, 266, 315, 324],
        "pmtu-blackhole-v4-1400.pcapng": [],
    },
    TRANSIENT: {
        "postfix-replies.pcapng": [84, 109, 121, 195],
        "vendor-replies.pcapng": [16, 29, 48, 65, 86, 118, 139, 175, 190, 197, 245, 283, 300, 338, 356],
        "pmtu-blackhole-v4-1400.pcapng": [],
    },
    PMTU_WARN: {
        "pmtu-blackhole-v4-receiver.pcapng": [20],
        "pmtu-blackhole-v4-1400.pcapng": [],
    },
    PMTU_OK: {
        "pmtu-pmtud-ok-v4.pcapng": [32],
        "pmtu-mtu-probing-v4.pcapng": [45],
        "pmtu-blackhole-v4-1400.pcapng": [],
    },
}


@pytest.mark.parametrize("name", list(EXPECTED_MATCHES))
def test_plugin_rule_matches(profile, name):
    expression = dict((r[0], r[1]) for r in RULES)[name]
    for capture, frames in EXPECTED_MATCHES[name].items():
        assert profile.frames(capture, expression) == frames, f"{name} on {capture}"


@pytest.mark.parametrize("capture,frames", [
    ("pmtu-blackhole-v4-1400.pcapng", {41: BLACK_HOLE, 46: BLACK_HOLE, 4: "TCP", 40: "Bad TCP"}),
    ("postfix-replies.pcapng", {109: TRANSIENT, 195: TRANSIENT, 227: PERMANENT, 31: PERMANENT, 108: "TCP"}),
    ("malformed-replies.pcapng", {10: MALFORMED, 74: MALFORMED, 119: MALFORMED, 273: TRANSIENT, 253: PERMANENT}),
    ("pmtu-pmtud-ok-v4.pcapng", {32: PMTU_OK}),
    ("pmtu-blackhole-v4-receiver.pcapng", {20: PMTU_WARN}),
])
def test_tshark_colors_frames(profile, capture, frames):
    """The first matching rule colors the frame: a black-hole retransmission is not 'Bad TCP',
    a malformed 5xx reply is 'malformed' rather than 'permanent'."""
    expression = "frame.number in {" + ", ".join(str(f) for f in sorted(frames)) + "}"
    colors = colored_frames(profile, capture, expression)
    assert sorted(colors) == sorted(frames)
    for frame, rule in frames.items():
        assert colors[frame] == rule_colors(rule), f"frame {frame} of {capture}: expected {rule}"


def test_tshark_colors_blackhole_two_pass(profile):
    """With -2 (as in the GUI) every transmission of the lost segments is colored as the black hole."""
    colors = colored_frames(profile, "pmtu-blackhole-v4-1400.pcapng", "frame.number >= 19 && frame.number <= 46",
                            extra=["-2"])
    black = sorted(f for f, c in colors.items() if c == rule_colors(BLACK_HOLE))
    assert black == list(range(19, 24)) + list(range(26, 47))


def test_buttons():
    labels = [b[1] for b in BUTTONS]
    assert labels == ["Failures", "Replies", "Black hole", "PMTU", "Malformed"]
    assert all(b[0] == "TRUE" for b in BUTTONS)


def test_failures_button_matches_triage(profile):
    expression = dict((b[1], b[2]) for b in BUTTONS)["Failures"]
    expected = sorted(EXPECTED_MATCHES[PERMANENT]["postfix-replies.pcapng"] +
                      EXPECTED_MATCHES[TRANSIENT]["postfix-replies.pcapng"])
    assert profile.frames("postfix-replies.pcapng", expression) == expected
