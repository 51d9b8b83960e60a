"""End to end: build the namespace lab, capture a fresh black hole and a
working-PMTUD control with real swaks and aiosmtpd, and check the verdicts.

Needs root (network namespaces) and the lab tools; runs when SD_LAB=1, which
tests/run-all.sh sets for the host suite. Bounded by the lab's own limits and
a timeout here.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(os.environ.get("SD_LAB") != "1",
                                reason="lab run needs root and SD_LAB=1 (set by tests/run-all.sh on the host)")


@pytest.fixture(scope="module")
def fresh(tshark):
    out = pathlib.Path(tempfile.mkdtemp(prefix="smtp-delivery-lab-", dir="/tmp"))
    try:
        proc = subprocess.run(
            ["bash", str(ROOT / "test-captures" / "pmtu-lab.sh"), "blackhole-v4-1400", "pmtud-ok-v4"],
            env={**os.environ, "OUTDIR": str(out)}, capture_output=True, text=True, timeout=420,
            stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr[-3000:]
        names = {}
        for name in ("pmtu-blackhole-v4-1400.pcapng", "pmtu-pmtud-ok-v4.pcapng"):
            dest = tshark.captures / ("lab-" + name)
            shutil.copy2(out / name, dest)
            os.chmod(dest, 0o644)
            names[name] = dest.name
        yield names
    finally:
        shutil.rmtree(out, ignore_errors=True)
        leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert "sdpm-" not in leftover, f"lab left namespaces behind: {leftover}"


def test_fresh_black_hole_is_found(tshark, fresh):
    cap = fresh["pmtu-blackhole-v4-1400.pcapng"]
    rows = tshark.fields(cap, ["frame.number", "smtp_delivery.pmtu.original_in",
                               "smtp_delivery.pmtu.retransmissions", "smtp_delivery.pmtu.packet_size"],
                         "smtp_delivery.pmtu.blackhole")
    assert len(rows) >= 3
    first = rows[0]
    # Found no later than the third transmission of a full-size DF segment.
    assert first[2] == "2" and first[3] == "1500"
    assert tshark.frames(cap, "smtp_delivery.stall") == [int(first[0])]
    verdicts = {v for (v,) in tshark.fields(cap, ["smtp_delivery.pmtu.verdict"], "smtp_delivery.pmtu.verdict")}
    assert verdicts == {"4"}


def test_fresh_pmtud_control_stays_quiet(tshark, fresh):
    cap = fresh["pmtu-pmtud-ok-v4.pcapng"]
    assert tshark.frames(cap, "smtp_delivery.pmtu.blackhole") == []
    mtus = {m for (m,) in tshark.fields(cap, ["smtp_delivery.pmtu.next_hop_mtu"], "smtp_delivery.pmtu.next_hop_mtu")}
    assert mtus == {"1400"}
    verdicts = [v for (v,) in tshark.fields(cap, ["smtp_delivery.pmtu.verdict"], "smtp_delivery.pmtu.verdict")]
    assert verdicts and set(verdicts) == {"2"}
