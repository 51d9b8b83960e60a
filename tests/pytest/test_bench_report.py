"""The benchmark's report (tests/bench/report.py) on a small results file.

No timing is measured here: the results are written by hand, so that the
table's arithmetic (paired ratios, their spread, controls, "+" rows and
PASS/FAIL) is checked exactly."""
import pathlib
import subprocess
import sys

REPORT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "report.py"


def run_report(tmp_path, lines):
    results = tmp_path / "results.tsv"
    results.write_text("".join("\t".join(str(c) for c in line) + "\n" for line in lines))
    markdown = tmp_path / "out.md"
    subprocess.run([sys.executable, str(REPORT), "bench", str(results), "--judge-cpu", "--title", "t",
                    "--markdown", str(markdown)], check=True, capture_output=True, text=True)
    rows = {}
    for line in markdown.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] != "mode":
            rows[cells[0]] = cells
    return rows


def run(name, vs, side, round_, cpu, target=1.03, wall=10.0, rss=1000):
    # GNU time's "%e %M %U %S": the CPU time is split into user and system.
    return (name, vs, target, side, round_, "%s %d %s %s" % (wall, rss, cpu - 1.0, 1.0))


def test_paired_cpu_ratio_spread_and_verdicts(tmp_path):
    lines = []
    # A tree row: with/without CPU 10.2/10.0, 10.5/10.0, 10.4/10.0.
    for r, with_cpu in enumerate((10.2, 10.5, 10.4), start=1):
        lines.append(run("verbose (-V)", "-", "with", r, with_cpu))
        lines.append(run("verbose (-V)", "-", "without", r, 10.0))
    # A control: both sides without the plugin.
    for r, with_cpu in enumerate((10.0, 10.1, 9.9), start=1):
        lines.append(run("tree control", "=", "with", r, with_cpu))
        lines.append(run("tree control", "=", "without", r, 10.0))
    # A "+" row measured against the "without" runs of the row it names.
    for r, with_cpu in enumerate((10.25, 10.25, 10.25), start=1):
        lines.append(run("+filter", "verbose (-V)", "with", r, with_cpu))
    rows = run_report(tmp_path, lines)

    v = rows["verbose (-V)"]
    assert v[11] == "1.040x"          # median of 1.02, 1.05, 1.04
    assert v[12] == "1.037x, 1.2 %"   # geometric mean, sd of the logarithms
    assert v[7] == "FAIL"
    c = rows["tree control"]
    assert c[11] == "1.000x" and c[12] == "1.000x, 0.8 %" and c[7] == "PASS"
    p = rows["+filter (vs verbose (-V))"]
    assert p[11] == "1.025x" and p[7] == "PASS"
    # Wall time means nothing when the runs shared a CPU.
    assert v[1] == v[2] == v[3] == "-"
