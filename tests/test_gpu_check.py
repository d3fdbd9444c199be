"""benchmarks/gpu_check.py on the CPU: it finishes in time, and its exit code follows parity.

The script's parity checks compare the torch kernels with the Numba backend
(``alignkit.dtw``, ``soft_dtw_grad``); here the script runs as a user runs it,
in a fresh interpreter with ``--device cpu``, and its JSON must report every
parity check passed. A second run with an impossible tolerance must exit 1:
the exit code is what a CI job reads.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_the_cpu_run_passes_every_parity_check_within_two_minutes(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["environment"]["device"] == "cpu"
    checks = {row["check"]: row for row in report["parity"]}
    assert len(checks) == 9 and all(row["passed"] for row in checks.values()), checks
    assert all(row["paths_identical"] for name, row in checks.items() if name.startswith("dtw "))
    assert report["tests"]["returncode"] == 0, report["tests"]
    assert "passed" in report["tests"]["summary"] and "failed" not in report["tests"]["summary"]
    assert {row["aligner"] for row in report["aligners"] if "epoch_seconds" in row} == {
        "DeepCTWAligner", "STNAligner", "GlimpseAligner", "SoftAttentionAligner",
    }  # fmt: skip
    assert all(row["cells_per_second"] > 0 for row in report["throughput"] if "error" not in row)
    table = (tmp_path / "gpu_check.md").read_text()
    assert "### Parity with Numba (float64)" in table and "| NO " not in table


@pytest.mark.slow
def test_a_failed_parity_check_exits_one(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "VALUE_TOL", -1.0)  # no error is below it
    code = module.main(["--device", "cpu", "--skip-tests", "--out", str(tmp_path), "--repeat", "1"])
    assert code == 1
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    names = [row["check"] for row in report["parity"] if not row["passed"]]
    assert len(names) == 8 and all(name.startswith(("dtw ", "soft-dtw ")) for name in names)
