"""Ctrl-C stops a long ``pairwise_distances`` within a second or two (issue 13, item 11).

Each case runs a matrix of about 8e10 DP cells of DTW or of MSM (over a
minute on one core) in a subprocess, sends it SIGINT a second after the call
starts, and asserts
that the process ends soon after with Python's ``KeyboardInterrupt``
traceback. An uncaught ``KeyboardInterrupt`` ends CPython (3.8+) by SIGINT
itself, so the return code is ``-SIGINT``: not 0 (it ran to the end) and not
another signal (a crash: SIGSEGV, SIGABRT).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

_SCRIPT = """
import sys
import numpy as np
from alignkit.distances import pairwise_distances

engine, n_jobs, metric = sys.argv[1], int(sys.argv[2]), sys.argv[3]
X = np.random.default_rng(0).normal(size=(400, 1000))
# Load the kernels and start the workers.
pairwise_distances(X[:4, :20], engine=engine, n_jobs=n_jobs, metric=metric)
print("started", flush=True)
pairwise_distances(X, engine=engine, n_jobs=n_jobs, metric=metric)
print("finished", flush=True)
"""

# Seconds from SIGINT to the end of the process (a round of work is about 0.3 s
# of one core; the rest is the interpreter shutting down and joblib its workers).
_STOP_WITHIN = 4.0


@pytest.mark.parametrize(
    ("engine", "n_jobs", "metric"),
    [
        ("numba", 2, "dtw"),
        ("joblib", 1, "dtw"),
        ("joblib", 2, "dtw"),
        ("numba", 2, "msm"),
        ("joblib", 1, "msm"),
    ],
)
def test_sigint_stops_a_long_pairwise_call(engine, n_jobs, metric):
    process = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, engine, str(n_jobs), metric],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # Generous: a cold numba cache compiles the kernels first.
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.0)
        assert process.poll() is None, "the long call ended before the interrupt"
        process.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        stdout, stderr = process.communicate(timeout=60)
        elapsed = time.perf_counter() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "KeyboardInterrupt" in stderr, stderr
    assert "finished" not in stdout
    assert process.returncode in (1, -signal.SIGINT), (process.returncode, stderr)
    assert elapsed < _STOP_WITHIN, f"stopped {elapsed:.1f} s after SIGINT"
