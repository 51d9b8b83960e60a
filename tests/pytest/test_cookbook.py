"""Runs every recipe of tests/cookbook/COOKBOOK.md through the real tshark with
the freshly built plugin, and checks that tests/cookbook/FIELDS.md is current.

A recipe is an HTML comment header followed by a fenced shell block:

    <!-- recipe: id=NAME capture=FILE.pcapng expect-frames=41-46,50 -->
    ```sh
    tshark -r FILE.pcapng -Y '...'
    ```

expect-frames lists the frame numbers (first column of each output line;
`none` for no output). With `expect=output` instead, the next fenced block
holds the exact output lines (booleans written 1/0; tshark 4.2+ prints
True/False, which is mapped before comparing). A command may pipe tshark's
output into ordinary text tools (`| sort | uniq -c`); those run locally.
"""
import importlib.util
import os
import pathlib
import re
import shlex
import subprocess

import pytest

from conftest import BOOLEANS, ROOT, TSHARK

COOKBOOK_DIR = ROOT / "tests" / "cookbook"
COOKBOOK = COOKBOOK_DIR / "COOKBOOK.md"
FIELDS = COOKBOOK_DIR / "FIELDS.md"

HEADER = re.compile(r"<!--\s*recipe:(.*?)-->", re.S)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def parse_frames(spec):
    if spec == "none":
        return []
    frames = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            frames += range(int(lo), int(hi) + 1)
        else:
            frames.append(int(part))
    return frames


def parse_cookbook(text):
    recipes = []
    for m in HEADER.finditer(text):
        attrs = dict(kv.split("=", 1) for kv in m.group(1).split())
        rest = text[m.end():]
        cmd = FENCE.search(rest)
        assert cmd and not rest[:cmd.start()].strip(), f"recipe {attrs} is not followed by a fenced block"
        recipe = {"attrs": attrs, "command": cmd.group(1), "line": text[:m.start()].count("\n") + 1}
        if attrs.get("expect") == "output":
            after = rest[cmd.end():]
            out = FENCE.search(after)
            assert out and not after[:out.start()].strip(), f"recipe {attrs} has no expected-output block"
            recipe["output"] = out.group(1)
        recipes.append(recipe)
    return recipes


RECIPES = parse_cookbook(COOKBOOK.read_text(encoding="utf-8"))


def recipe_id(r):
    return r["attrs"].get("id", f"line{r['line']}")


def split_pipeline(command):
    """tshark argv, and the rest of the pipeline as a shell string (or None)."""
    command = command.replace("\\\n", " ").strip()
    assert "\n" not in command, f"one command per recipe: {command!r}"
    quote, i = None, 0
    while i < len(command):
        c = command[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == "|":
            return shlex.split(command[:i]), command[i + 1:].strip()
        i += 1
    return shlex.split(command), None


def run_recipe(tshark, recipe):
    attrs = recipe["attrs"]
    argv, pipe = split_pipeline(recipe["command"])
    assert argv[0] == "tshark", f"recipe must start with tshark: {recipe['command']!r}"
    argv = list(argv[1:])
    assert "-r" in argv, "recipe must read a capture with -r"
    i = argv.index("-r")
    assert argv[i + 1] == attrs["capture"], f"-r {argv[i + 1]} but header says capture={attrs['capture']}"
    argv[i + 1] = tshark.capture(attrs["capture"])
    out = tshark.run(*argv).stdout
    if pipe:
        proc = subprocess.run(["sh", "-c", pipe], input=out, capture_output=True, text=True, timeout=60,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"})
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
    return out


def normalise(text):
    lines = [line.rstrip(" \r") for line in text.split("\n")]
    lines = ["\t".join(BOOLEANS.get(c, c) for c in line.split("\t")) for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def test_cookbook_has_recipes():
    assert len(RECIPES) >= 30
    ids = [recipe_id(r) for r in RECIPES]
    assert len(ids) == len(set(ids)), "recipe ids must be unique"
    for r in RECIPES:
        a = r["attrs"]
        assert "capture" in a and ("expect-frames" in a) != (a.get("expect") == "output"), \
            f"recipe at line {r['line']} needs capture= and either expect-frames= or expect=output"
        assert (ROOT / "test-captures" / a["capture"]).is_file(), a["capture"]


def test_every_tshark_block_is_a_recipe():
    """A shell block that runs tshark on a capture without a header would go untested."""
    text = COOKBOOK.read_text(encoding="utf-8")
    tested = {r["command"] for r in RECIPES}
    for m in FENCE.finditer(text):
        body = m.group(1)
        if body.lstrip().startswith("tshark ") and " -r " in body:
            assert body in tested, f"untested tshark block:\n{body}"


@pytest.mark.parametrize("recipe", RECIPES, ids=recipe_id)
def test_recipe(tshark, recipe):
    out = run_recipe(tshark, recipe)
    attrs = recipe["attrs"]
    if "expect-frames" in attrs:
        got = [int(line.split()[0]) for line in out.splitlines() if line.strip()]
        assert got == parse_frames(attrs["expect-frames"]), out
    else:
        assert normalise(out) == normalise(recipe["output"])


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_fields", COOKBOOK_DIR / "gen-fields.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fields_reference_is_current(tshark):
    gen = load_generator()
    fresh = gen.render(tshark.run("-G", "fields").stdout, tshark.run("-G", "values").stdout)
    committed = FIELDS.read_text(encoding="utf-8")
    assert committed == fresh, ("tests/cookbook/FIELDS.md is stale; regenerate it with "
                                "python3 tests/cookbook/gen-fields.py --plugin-dir build/plugins "
                                "-o tests/cookbook/FIELDS.md (as an ordinary user)")


def test_fields_reference_covers_every_field(tshark):
    listed = set(re.findall(r"^\| `(smtp_delivery\.[a-z0-9_.]+)`", FIELDS.read_text(encoding="utf-8"), re.M))
    registered = {line.split("\t")[2] for line in tshark.run("-G", "fields").stdout.splitlines()
                  if line.startswith("F\t") and line.split("\t")[4] == "smtp_delivery"}
    assert listed == registered


def test_cookbook_uses_only_registered_names(tshark):
    """Every smtp_delivery name in the cookbook, prose included, is a field or a preference."""
    registered = {line.split("\t")[2] for line in tshark.run("-G", "fields").stdout.splitlines()
                  if line.startswith("F\t")}
    registered |= set(re.findall(r"^#?(smtp_delivery\.[a-z0-9_]+):", tshark.run("-G", "defaultprefs").stdout, re.M))
    named = set(re.findall(r"\bsmtp_delivery(?:\.[a-z0-9_]+)+", COOKBOOK.read_text(encoding="utf-8")))
    named.discard("smtp_delivery.so")  # the plugin file name
    assert sorted(named - registered) == []
