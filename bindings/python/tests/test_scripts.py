"""The example and the benchmark run end to end at a small size."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def run(args, cwd):
    p = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_churn_by_dealer_example(tmp_path):
    out = tmp_path / "chart.png"
    text = run(
        [os.path.join(ROOT, "examples", "churn_by_dealer.py"), "--customers", "3000",
         "--db", str(tmp_path / "c.redb"), "--out", str(out)],
        cwd=tmp_path,
    )
    assert "generated 3,000 customers" in text
    m = re.search(r"churn-risk owners: ([\d,]+) of 3,000", text)
    assert m and 0 < int(m.group(1).replace(",", "")) < 3000
    assert re.search(r"network after-sales churn: [\d,]+ / [\d,]+ = \d+\.\d%", text)
    # one table row per dealer (synth: at least 4 dealers)
    rows = [l for l in text.splitlines() if re.match(r"^[A-Z]{2}\d{4}\s", l)]
    assert len(rows) >= 4
    # the per-dealer risk counts add up to the total
    assert sum(int(l.split()[-4]) for l in rows) == int(m.group(1).replace(",", ""))
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_arrow_small(tmp_path):
    text = run(
        [os.path.join(ROOT, "bindings", "python", "bench", "bench_arrow.py"), "--customers", "2000", "--runs", "2"],
        cwd=tmp_path,
    )
    assert "| polars |" in text and "| pandas |" in text
    assert "`python3 bindings/python/bench/bench_arrow.py" in text and "--customers 2000" in text
    ratios = re.findall(r"\| ([\d.]+)× \|", text)
    assert len(ratios) == 2 and all(float(r) > 0 for r in ratios)
