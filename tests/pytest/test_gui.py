"""The real Wireshark GUI with the plugin, under Xvfb (opt-in: SD_GUI=1).

Starts `wireshark` (wireshark-qt) as `nobody` when run as root, with the
freshly built plugin and the "SMTP Delivery" profile, on the black-hole lab
capture; waits (bounded) for its main window, takes a screenshot and checks
that it is not blank and that the black-hole rows carry the profile's
coloring (which needs the plugin's fields in the GUI's own dissection), that
Wireshark reported no plugin problem on stderr, then quits it (Ctrl+Q,
then SIGTERM) and checks that it is gone.

Needs: wireshark-qt xvfb x11-utils xdotool imagemagick. About 15 s.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT

WIRESHARK = os.environ.get("SD_WIRESHARK", "wireshark")
PROFILE = "SMTP Delivery"
INSTALL = ROOT / "plugin" / "profile" / "install-profile.sh"
WAIT = 60          # seconds for the window to appear
SCREEN = (1280, 900)

pytestmark = [
    pytest.mark.skipif(os.environ.get("SD_GUI") != "1", reason="GUI test: set SD_GUI=1"),
    pytest.mark.skipif(not shutil.which(WIRESHARK), reason=f"{WIRESHARK} not installed (wireshark-qt)"),
    pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb not installed (xvfb)"),
    pytest.mark.skipif(not shutil.which("xwininfo"), reason="xwininfo not installed (x11-utils)"),
    pytest.mark.skipif(not shutil.which("xdotool"), reason="xdotool not installed"),
    pytest.mark.skipif(not (shutil.which("import") and shutil.which("convert")), reason="imagemagick not installed"),
]

# The profile's "PMTU black hole" coloring rule, 16-bit -> 8-bit, as the GUI paints the row background.
BLACK_HOLE_RULE = "SMTP Delivery: PMTU black hole / stalled transfer"


def rule_background(name):
    for line in (ROOT / "plugin" / "profile" / PROFILE / "colorfilters").read_text().splitlines():
        m = re.fullmatch(r"@([^@]+)@[^@]+@\[(\d+),(\d+),(\d+)\]\[(\d+),(\d+),(\d+)\]", line)
        if m and m.group(1) == name:
            return tuple(int(v) >> 8 for v in m.groups()[1:4])
    raise KeyError(name)


def as_user(env):
    """Command prefix: run as nobody with env when root, else plain env."""
    pairs = [f"{k}={v}" for k, v in env.items()]
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", "env", *pairs]
    return ["env", *pairs]


@pytest.fixture(scope="module")
def xserver():
    """An Xvfb server on a free display; yields its DISPLAY."""
    # Xvfb writes the display number it picked to fd 3; the shell sets that fd up.
    display_file = pathlib.Path(tempfile.mkdtemp(prefix="sd-xvfb-")) / "display"
    log = display_file.with_name("xvfb.log")
    proc = subprocess.Popen(["sh", "-c", f'exec Xvfb -displayfd 3 -screen 0 {SCREEN[0]}x{SCREEN[1]}x24 '
                                         f'-nolisten tcp 3>"{display_file}" >"{log}" 2>&1'],
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if display_file.exists() and display_file.read_text().strip():
            break
        if proc.poll() is not None:
            pytest.fail(f"Xvfb exited: {log.read_text(errors='replace')}")
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("Xvfb did not start within 30 s")
    display = ":" + display_file.read_text().strip()
    try:
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(display_file.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def gui_env(tshark):
    """HOME with the profile and a window layout, next to the fixture's plugin and captures."""
    home = tshark.workdir / "gui-home"
    profiles = home / ".config" / "wireshark" / "profiles"
    profiles.mkdir(parents=True)
    subprocess.run(["bash", str(INSTALL), "--dest", str(profiles)], check=True, capture_output=True, timeout=60,
                   stdin=subprocess.DEVNULL)
    (home / ".config" / "wireshark" / "recent_common").write_text(
        "gui.geometry_main_x: 0\ngui.geometry_main_y: 0\n"
        f"gui.geometry_main_width: {SCREEN[0]}\ngui.geometry_main_height: {SCREEN[1]}\n"
        "privs.warn_if_elevated: FALSE\nsys.warn_if_no_capture: FALSE\n")
    (profiles / PROFILE / "recent").write_text("gui.byte_view_show: FALSE\ngui.geometry_main_upper_pane: 400\n")
    (home / "xdg").mkdir()
    for dirpath, _, filenames in os.walk(home):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    os.chmod(home / "xdg", 0o700)
    if os.geteuid() == 0:
        for dirpath, _, filenames in os.walk(home):
            shutil.chown(dirpath, user="nobody")
            for name in filenames:
                shutil.chown(os.path.join(dirpath, name), user="nobody")
    return {
        "HOME": str(home),
        "WIRESHARK_PLUGIN_DIR": str(tshark.plugin_dir),
        "XDG_RUNTIME_DIR": str(home / "xdg"),
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }


def find_window(display, title_prefix):
    """Id of a mapped top-level window whose title starts with title_prefix, or None."""
    out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=20,
                         env=dict(os.environ, DISPLAY=display)).stdout
    for line in out.splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) "([^"]*)": \(.*\)\s+(\d+)x(\d+)', line)
        if m and m.group(2).startswith(title_prefix) and int(m.group(3)) > 100:
            return m.group(1)
    return None


def pixel_count(png, rgb):
    """How many pixels of png have exactly this colour (ImageMagick histogram)."""
    out = subprocess.run(["convert", str(png), "-format", "%c", "histogram:info:-"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    want = "#%02X%02X%02X" % rgb
    for line in out.splitlines():
        if want in line.upper():
            return int(line.split(":")[0])
    return 0


def test_wireshark_gui_with_plugin(tshark, xserver, gui_env, tmp_path):
    started = time.monotonic()
    # tshark from the same environment is the proxy for "the plugin loads here".
    plugins = subprocess.run(as_user(gui_env) + ["tshark", "-G", "plugins"], capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    assert "smtp_delivery.so" in plugins.stdout, plugins.stderr

    capture = tshark.capture("pmtu-blackhole-v4-1400.pcapng")
    env = dict(gui_env, DISPLAY=xserver)
    err_path = tmp_path / "wireshark.err"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(["timeout", "-k", "5", "300"] + as_user(env) +
                                [WIRESHARK, "-C", PROFILE, "-r", capture],
                                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT
        window = None
        while time.monotonic() < deadline:
            window = find_window(xserver, "pmtu-blackhole-v4-1400")
            if window:
                break
            assert proc.poll() is None, f"Wireshark exited ({proc.returncode}):\n{err_path.read_text()}"
            time.sleep(0.5)
        assert window, f"no Wireshark window within {WAIT} s:\n{err_path.read_text()}"
        time.sleep(3)  # let it finish reading and painting the 46 frames

        shot = tmp_path / "wireshark.png"
        subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=60,
                       env=dict(os.environ, DISPLAY=xserver))
        spread = float(subprocess.run(["convert", str(shot), "-format", "%[fx:standard_deviation]", "info:"],
                                      capture_output=True, text=True, check=True, timeout=60).stdout)
        assert spread > 0.05, f"screenshot looks blank (standard deviation {spread})"
        # Frames 19-23 and 26-46 are black-hole transmissions in the GUI's two passes; the rows
        # visible on screen are painted with the profile's black-hole background.
        purple = pixel_count(shot, rule_background(BLACK_HOLE_RULE))
        assert purple > 20000, f"only {purple} pixels of the black-hole row colour: plugin fields missing in the GUI?"

        # Quit: Ctrl+Q in the main window (a click on the status bar gives it the keyboard).
        xenv = dict(os.environ, DISPLAY=xserver)
        subprocess.run(["xdotool", "mousemove", str(SCREEN[0] // 2), str(SCREEN[1] - 10), "click", "1"],
                       env=xenv, timeout=20)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "ctrl+q"], env=xenv, timeout=20)
        try:
            proc.wait(timeout=15)
            quit_by = "ctrl+q"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # timeout(1) passes it on to Wireshark
            proc.wait(timeout=15)
            quit_by = "SIGTERM"
        assert find_window(xserver, "pmtu-blackhole-v4-1400") is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    stderr = err_path.read_text()
    problems = [line for line in stderr.splitlines()
                if re.search(r"couldn't load|plugin|smtp.?delivery|\berror\b|critical", line, re.I)]
    assert not problems, f"Wireshark stderr:\n{stderr}"
    if quit_by == "ctrl+q":
        assert proc.returncode == 0, f"Wireshark exit status {proc.returncode}:\n{stderr}"
    print(f"GUI test: quit by {quit_by}, {time.monotonic() - started:.1f} s in all")
