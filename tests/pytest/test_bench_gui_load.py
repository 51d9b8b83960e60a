"""tests/bench/gui-load.sh end to end on a small capture (opt-in with the GUI
test: SD_GUI=1; needs root, as the benchmark scripts run Wireshark as nobody).

Nothing about speed is asserted: the test checks that Wireshark opened the
capture under Xvfb on both sides, that the Lua timer fired on the last frame
of each run (the script stops otherwise), that the plugin was present in the
"with" runs and absent in the others (checked by the script inside
Wireshark), and that the summary and the markdown table come out with
numbers in them. 20,000 packets, so that loading them takes clearly more
CPU time than start-up varies by (with a few thousand, a round's load part
could come out below the median start-up). About 20 s.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD, ROOT

SCRIPT = ROOT / "tests" / "bench" / "gui-load.sh"

pytestmark = [
    pytest.mark.skipif(os.environ.get("SD_GUI") != "1", reason="GUI test: set SD_GUI=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the benchmark scripts run Wireshark as nobody: needs root"),
    pytest.mark.skipif(not shutil.which("wireshark"), reason="wireshark not installed (wireshark-qt)"),
    pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb not installed (xvfb)"),
]


def test_gui_load_benchmark_runs():
    # The benchmark scripts lay the plugin out for Wireshark 4.0 (the host's).
    plugin_so = BUILD / "plugins" / "4.0" / "epan" / "smtp_delivery.so"
    if not plugin_so.exists():
        pytest.skip("the benchmark scripts are for Wireshark 4.0 builds")
    # World-readable: Wireshark runs as nobody inside it.
    work = tempfile.mkdtemp(prefix="smtp-delivery-gui-load-", dir="/tmp")
    try:
        os.chmod(work, 0o755)
        markdown = os.path.join(work, "gui.md")
        run = subprocess.run(
            ["bash", str(SCRIPT), "--packets", "20000", "--rounds", "1", "--plugin", str(plugin_so),
             "--work", os.path.join(work, "bench"), "--timeout", "300", "--markdown", markdown],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
        table = open(markdown).read() if os.path.exists(markdown) else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = run.stdout
    # The mixed capture's last frame is IP: the timer stays off the frame tap.
    assert re.search(r"\(\d+ packets\); Wireshark on CPU \d+; timer on the ip tap", out), out
    # Three start-up pairs and one load round, each with two CPU times.
    assert len(re.findall(r"^startup\t\d\t\d+\.\d+\t\d+\.\d+$", out, re.M)) == 3, out
    assert re.search(r"^load\t1\t\d+\.\d+\t\d+\.\d+\t\d+\t\d+$", out, re.M), out
    ratio = re.search(r"CPU time ratio, load only: median (\d+\.\d+)x", out)
    assert ratio and float(ratio.group(1)) > 0, out
    assert re.search(r"peak RSS ratio: median \d+\.\d+x", out), out
    assert "| CPU time, load only | " in table and "| peak RSS | " in table, table
