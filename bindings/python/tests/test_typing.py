"""The stubs: they agree with the runtime (mypy's stubtest), accept a typed usage sample under
`mypy --strict` and reject misuse. Skipped without mypy (scripts/test-all.sh installs it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

HERE = Path(__file__).parent
PACKAGE = HERE.parent  # bindings/python: the stubs under autocrm/ are checked, not a stale install


def mypy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run outside the source tree so `import autocrm` is the installed package (with its native
    # module); MYPYPATH points mypy at this checkout's stubs.
    env = {**os.environ, "MYPYPATH": str(PACKAGE)}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )


def test_stubs_match_the_runtime(tmp_path):
    r = mypy(tmp_path, "mypy.stubtest", "autocrm", "--ignore-disjoint-bases",
             "--allowlist", str(HERE / "stubtest_allowlist.txt"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_typed_sample_passes_strict_and_misuse_is_caught(tmp_path):
    sample, bad = HERE / "typing_sample.py", HERE / "typing_errors.py"
    r = mypy(tmp_path, "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
             str(sample), str(bad))
    out = r.stdout + r.stderr
    found = sorted({int(m.group(1)) for m in re.finditer(r"typing_errors\.py:(\d+): error", out)})
    expected = [i for i, line in enumerate(bad.read_text().splitlines(), 1) if line.endswith("# E")]
    assert "typing_sample.py" not in out, out
    assert found == expected, out


def test_typed_sample_runs():
    sys.path.insert(0, str(HERE))
    try:
        import typing_sample
    finally:
        sys.path.remove(str(HERE))
    got = typing_sample.main()
    assert got["points"] == 200 and got["lot_days"] == 180 and got["rows"] == 1
    assert got["code"] == "invalid_operation.write_transaction_reentrant"
    assert got["config"]["settlement_per_100_points"] == __import__("decimal").Decimal("1.50")
    assert got["audit"]["intact"] is True and got["audit"]["masked"] == []
    assert got["audit"]["scope"] == "hq:nobody" and got["audit"]["permissions"] == ["read_audit"]
