"""Runs the real tshark with the freshly built plugin.

tshark ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder when it
runs as root, so as root every tshark here runs as the unprivileged user
`nobody` on copies of the plugin and captures in a world-readable temp dir.
Nothing is written into the system plugin folder.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "test-captures"
BUILD = pathlib.Path(os.environ.get("SD_BUILD_DIR", ROOT / "build"))
TSHARK = os.environ.get("SD_TSHARK", "tshark")


# Booleans print as 1/0 up to 4.0 and as True/False from 4.2 on.
BOOLEANS = {"True": "1", "False": "0"}


class Tshark:
    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.plugin_dir = workdir / "plugins"
        self.home = workdir / "home"
        self.captures = workdir / "captures"
        env = {
            "HOME": str(self.home),
            "WIRESHARK_PLUGIN_DIR": str(self.plugin_dir),
            "LANG": "C.UTF-8",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        self.env = env
        self.prefix = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "nobody", "--", "env"] + [f"{k}={v}" for k, v in env.items()]

    def capture(self, name: str) -> str:
        path = self.captures / name
        assert path.exists(), f"missing capture {name}"
        return str(path)

    def run(self, *args, check=True, plugin=True) -> subprocess.CompletedProcess:
        cmd = [TSHARK, *args]
        env = dict(self.env)
        if not plugin:
            # An empty plugin folder: the same tshark without smtp-delivery.
            env["WIRESHARK_PLUGIN_DIR"] = str(self.workdir / "no-plugins")
        if self.prefix:
            prefix = ["runuser", "-u", "nobody", "--", "env"] + [f"{k}={v}" for k, v in env.items()]
            proc = subprocess.run(prefix + cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        else:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
        if check:
            assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stderr}"
        return proc

    def fields(self, capture, fields, display_filter=None, extra=(), two_pass=False):
        """Rows of -T fields output as lists of strings, one per displayed frame."""
        args = ["-r", self.capture(capture), "-T", "fields", "-E", "separator=\t", "-E", "aggregator=|"]
        if two_pass:
            args.append("-2")
        if display_filter:
            args += ["-Y", display_filter]
        args += list(extra)
        for f in fields:
            args += ["-e", f]
        out = self.run(*args).stdout
        return [[BOOLEANS.get(v, v) for v in line.split("\t")] for line in out.splitlines()]

    def frames(self, capture, display_filter, extra=(), two_pass=False):
        return [int(r[0]) for r in self.fields(capture, ["frame.number"], display_filter, extra, two_pass)]


@pytest.fixture(scope="session")
def tshark():
    plugin_build = BUILD / "plugins"
    if not plugin_build.is_dir():
        pytest.exit(f"plugin not built: {plugin_build} is missing (run cmake --build first)", returncode=2)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="smtp-delivery-tests-", dir="/tmp"))
    try:
        shutil.copytree(plugin_build, workdir / "plugins")
        (workdir / "no-plugins").mkdir()
        (workdir / "home").mkdir()
        (workdir / "captures").mkdir()
        for f in CAPTURES.glob("*.pcap*"):
            shutil.copy2(f, workdir / "captures" / f.name)
        for dirpath, dirnames, filenames in os.walk(workdir):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        if os.geteuid() == 0:
            shutil.chown(workdir / "home", user="nobody")
        t = Tshark(workdir)
        listing = t.run("-G", "plugins").stdout
        assert "smtp_delivery.so" in listing, f"plugin did not load:\n{listing}"
        yield t
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def packets_json(t: Tshark, capture, display_filter="smtp_delivery", extra=(), two_pass=False):
    """The smtp_delivery tree of each displayed frame, from -T json."""
    import json

    args = ["-r", t.capture(capture), "-T", "json", "--no-duplicate-keys", "-J", "smtp_delivery frame"]
    if two_pass:
        args.append("-2")
    if display_filter:
        args += ["-Y", display_filter]
    args += list(extra)
    out = json.loads(t.run(*args).stdout or "[]", object_hook=lambda d: {
        k: BOOLEANS.get(v, v) if isinstance(v, str) else v for k, v in d.items()})
    result = {}
    for pkt in out:
        layers = pkt["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        result[frame] = layers.get("smtp_delivery", {})
    return result


def replies_by_frame(t: Tshark, capture, extra=(), two_pass=False):
    """frame -> list of reply dicts (field name without the smtp_delivery.reply. prefix)."""
    out = {}
    for frame, tree in packets_json(t, capture, "smtp_delivery.reply", extra, two_pass).items():
        rows = []
        for r in as_list(tree.get("smtp_delivery.reply")):
            r = dict(r)
            r.update(r.pop("smtp_delivery.reply.enhanced_tree", {}))  # class/subject/detail/meaning
            row = {k[len("smtp_delivery.reply."):]: v for k, v in r.items() if k.startswith("smtp_delivery.reply.")}
            experts = as_list(r.get("_ws.expert"))
            row["experts"] = [e.get("_ws.expert.message") for e in experts]
            rows.append(row)
        out[frame] = rows
    return out


def reply_table(t: Tshark, capture, extra=(), two_pass=False):
    """Compact per-reply rows 'frame code enhanced command request_in cause' ('-' when absent)."""
    rows = []
    for frame, replies in sorted(replies_by_frame(t, capture, extra, two_pass).items()):
        for r in replies:
            rows.append(" ".join([str(frame)] + [r.get(k, "-") for k in
                                                 ("code", "enhanced", "command", "request_in", "cause")]))
    return rows
