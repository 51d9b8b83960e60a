"""Path-MTU black holes found in real lab captures (test-captures/pmtu-lab.sh):
exact frames, verdicts and bounds, and every control that must stay quiet."""
import re

import pytest

from conftest import replies_by_frame

BLACKHOLES = ["pmtu-blackhole-v4-1400.pcapng", "pmtu-blackhole-v4-1280.pcapng",
              "pmtu-blackhole-v6-1400.pcapng", "pmtu-blackhole-v6-1280.pcapng"]
# Largest packet acknowledged before the stall: the SACKed tail segment.
TAIL = {"v4": "1004", "v6": "1124"}

PMTU_FIELDS = ["frame.number", "smtp_delivery.pmtu.verdict", "smtp_delivery.pmtu.blackhole",
               "smtp_delivery.pmtu.packet_size", "smtp_delivery.pmtu.original_in",
               "smtp_delivery.pmtu.retransmissions", "smtp_delivery.pmtu.mtu_lower",
               "smtp_delivery.pmtu.mtu_upper", "smtp_delivery.pmtu.next_hop_mtu",
               "smtp_delivery.pmtu.recovered_size", "smtp_delivery.stall"]


def pmtu_rows(tshark, capture, two_pass=False):
    rows = tshark.fields(capture, PMTU_FIELDS, "smtp_delivery.pmtu", two_pass=two_pass)
    return {int(r[0]): dict(zip(PMTU_FIELDS[1:], r[1:])) for r in rows}


def final_verdicts(tshark, capture):
    """Last verdict each flow shows (the verdict may sit on an ACK of the peer), by tcp.stream."""
    rows = tshark.fields(capture, ["tcp.stream", "smtp_delivery.pmtu.verdict"], "smtp_delivery.pmtu.verdict && tcp")
    return {int(stream): int(verdict) for stream, verdict in rows}


VERDICT = {"ok": 1, "ptb-honoured": 2, "ptb-ignored": 3, "blackhole": 4, "recovered": 5, "inconclusive": 6}


@pytest.mark.parametrize("capture", BLACKHOLES)
def test_blackhole_single_pass(tshark, capture):
    rows = pmtu_rows(tshark, capture)
    marked = sorted(f for f, r in rows.items() if r["smtp_delivery.pmtu.blackhole"] == "1")
    # Verdict on the third transmission of the head segment (frame 19, resent in 36 and 41).
    assert marked == [41, 42, 43, 44, 45, 46]
    v = rows[41]
    assert v["smtp_delivery.pmtu.verdict"] == "4"
    assert v["smtp_delivery.pmtu.original_in"] == "19"
    assert v["smtp_delivery.pmtu.retransmissions"] == "2"
    assert v["smtp_delivery.pmtu.packet_size"] == "1500"
    assert v["smtp_delivery.pmtu.mtu_lower"] == TAIL["v6" if "v6" in capture else "v4"]
    assert v["smtp_delivery.pmtu.mtu_upper"] == "1499"
    assert v["smtp_delivery.stall"] == "1"
    assert [rows[f]["smtp_delivery.pmtu.retransmissions"] for f in marked] == ["2", "3", "4", "5", "6", "7"]
    assert all(rows[f]["smtp_delivery.stall"] == "" for f in marked[1:])


@pytest.mark.parametrize("capture", BLACKHOLES)
def test_blackhole_two_pass_marks_the_originals(tshark, capture):
    rows = pmtu_rows(tshark, capture, two_pass=True)
    marked = sorted(f for f, r in rows.items() if r["smtp_delivery.pmtu.blackhole"] == "1")
    assert marked == [19, 20, 21, 22, 23] + list(range(26, 47))
    assert rows[36]["smtp_delivery.pmtu.original_in"] == "19"
    assert rows[40]["smtp_delivery.pmtu.original_in"] == "23"
    # The small tail segment (frame 24) got through and is not marked.
    assert 24 not in marked


@pytest.mark.parametrize("capture", BLACKHOLES)
def test_blackhole_expert_and_stalled_transaction(tshark, capture):
    experts = dict(tshark.fields(capture, ["frame.number", "_ws.expert.message"], "smtp_delivery.pmtu"))
    msg = experts["41"]
    lower = TAIL["v6" if "v6" in capture else "v4"]
    assert (f"Probable PMTU black hole: 1500-byte DF packet sent 3 times, never acknowledged, no ICMP too big; "
            f"path MTU between {lower} and 1499") in msg
    assert "Message transfer stalled: probable PMTU black hole" in msg
    # The DATA got its 354, and the reply to the end of the body never came.
    replies = replies_by_frame(tshark, capture)
    last = replies[max(replies)][-1]
    assert (last["command"], last["code"]) == ("DATA", "354")
    assert not any(r["command"] == "end-of-data" for rs in replies.values() for r in rs)
    assert tshark.frames(capture, "smtp_delivery.stall") == [41]


def test_blackhole_fixes_and_mta_logs_are_shown(tshark):
    out = tshark.run("-r", tshark.capture("pmtu-blackhole-v4-1400.pcapng"), "-Y", "frame.number == 41", "-V").stdout
    assert "420 TCP write error" in out
    assert "421 4.4.2" in out
    assert "net.ipv4.tcp_mtu_probing=1" in out
    assert "net.ipv4.ip_no_pmtu_disc=1" in out
    assert "ICMP type 3 code 4" in out


@pytest.mark.parametrize("capture,size", [("pmtu-mtu-probing-v4.pcapng", "1076"),
                                          ("pmtu-mtu-probing-v6.pcapng", "1096")])
def test_sender_that_recovers(tshark, capture, size):
    rows = pmtu_rows(tshark, capture)
    assert sorted(f for f, r in rows.items() if r["smtp_delivery.pmtu.blackhole"] == "1") == [41, 42, 43]
    recovered = [f for f, r in rows.items() if r["smtp_delivery.pmtu.verdict"] == "5"]
    assert recovered == [45]
    assert rows[45]["smtp_delivery.pmtu.recovered_size"] == size
    assert rows[45]["smtp_delivery.pmtu.original_in"] == "19"
    msg = dict(tshark.fields(capture, ["frame.number", "_ws.expert.message"], "frame.number == 45"))["45"]
    assert f"Sender recovered from the PMTU black hole with {size}-byte packets after 3.1" in msg
    # The mail went through: the end of data was answered.
    replies = replies_by_frame(tshark, capture)
    assert any(r["command"] == "end-of-data" and r["code"] == "250" for rs in replies.values() for r in rs)


@pytest.mark.parametrize("capture,ptb_frames,honoured", [
    ("pmtu-pmtud-ok-v4.pcapng", [26, 27, 28, 29, 30], 32),
    ("pmtu-pmtud-ok-v6.pcapng", [25, 26, 27, 28, 29], 31),
])
def test_working_pmtud_is_recognised(tshark, capture, ptb_frames, honoured):
    rows = pmtu_rows(tshark, capture)
    assert not any(r["smtp_delivery.pmtu.blackhole"] for r in rows.values())
    assert sorted(f for f, r in rows.items() if r["smtp_delivery.pmtu.next_hop_mtu"] == "1400"
                  and f != honoured) == ptb_frames
    assert rows[honoured]["smtp_delivery.pmtu.verdict"] == str(VERDICT["ptb-honoured"])
    assert rows[honoured]["smtp_delivery.pmtu.mtu_upper"] == "1400"
    # Each ICMP error names the transmission it quotes.
    assert [rows[f]["smtp_delivery.pmtu.original_in"] for f in ptb_frames] == [
        str(f) for f in range(ptb_frames[0] - 6, ptb_frames[0] - 1)]


@pytest.mark.parametrize("capture,expected", [
    ("pmtu-loss-v4.pcapng", {"ok"}),
    ("pmtu-offload-v4.pcapng", {"ok"}),
    ("pmtu-pmtud-ok-v4.pcapng", {"ptb-honoured"}),
    ("pmtu-pmtud-ok-v6.pcapng", {"ptb-honoured"}),
    ("pmtu-blackhole-v4-1400.pcapng", {"blackhole"}),
    ("pmtu-blackhole-v6-1280.pcapng", {"blackhole"}),
    ("pmtu-mtu-probing-v4.pcapng", {"recovered"}),
    ("pmtu-blackhole-v4-receiver.pcapng", {"inconclusive"}),
])
def test_verdict_per_flow(tshark, capture, expected):
    names = {v: k for k, v in VERDICT.items()}
    assert {names[v] for v in final_verdicts(tshark, capture).values()} == expected


@pytest.mark.parametrize("capture", ["pmtu-loss-v4.pcapng", "pmtu-offload-v4.pcapng", "pmtu-pmtud-ok-v4.pcapng",
                                     "pmtu-pmtud-ok-v6.pcapng", "pmtu-blackhole-v4-receiver.pcapng"])
def test_controls_never_flag_a_black_hole(tshark, capture):
    assert tshark.frames(capture, "smtp_delivery.pmtu.blackhole") == []
    assert tshark.frames(capture, "smtp_delivery.pmtu.blackhole", two_pass=True) == []
    assert tshark.frames(capture, "smtp_delivery.stall") == []


def test_receiver_side_says_inconclusive(tshark):
    rows = tshark.fields("pmtu-blackhole-v4-receiver.pcapng",
                         ["frame.number", "smtp_delivery.pmtu.missing_bytes", "_ws.expert.message"],
                         "smtp_delivery.pmtu")
    assert [(r[0], r[1]) for r in rows] == [("20", "7240")]
    assert "Data missing upstream: 7240 bytes" in rows[0][2]


@pytest.mark.parametrize("capture", ["pmtu-blackhole-v4-1400.pcapng", "malformed-replies.pcapng",
                                     "vendor-replies.pcapng"])
def test_expert_info_same_with_two_passes(tshark, capture):
    # The second pass (and the GUI's Expert Info dialog) dissects without a
    # tree; a display filter that names none of our fields builds a tree in
    # which nobody reads our items, so the plugin adds none there. The expert
    # info, with its full message, must be the same in all three.
    def ours(*extra):
        args = [*extra, "-r", tshark.capture(capture), "-q", "-z", "expert"]
        return [line for line in tshark.run(*args).stdout.splitlines() if "SMTP Delivery" in line]
    single = ours()
    assert single
    # Messages carry what was found (code, sizes), not the registered summary.
    assert any(re.search(r"failure [45]\d\d|DF packet sent \d", line) for line in single), single
    assert ours("-2") == single
    assert ours("-Y", "frame") == single


def test_black_hole_frames_marked_in_info_column(tshark):
    out = tshark.run("-r", tshark.capture("pmtu-blackhole-v4-1400.pcapng"), "-Y", "frame.number >= 40").stdout
    lines = out.splitlines()
    assert "[PMTU black hole: message stalled]" in lines[1]
    assert all("[PMTU black hole]" in line for line in lines[2:])
    assert "PMTU" not in lines[0]
