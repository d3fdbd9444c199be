"""Shared helpers for the benchmarks: timing, data, optional peers, tables, subprocesses."""

import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
import timeit

import numpy as np

PEERS = ("aeon", "dtaidistance", "tslearn")


def random_walk(n_timepoints, seed):
    """Univariate float64 random walk, C-contiguous, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(np.cumsum(rng.standard_normal(n_timepoints)))


def optional_import(name):
    """The module, or ``None`` when it is not installed (the case is then skipped)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_lines():
    """Markdown bullet lines describing the machine and the library versions."""
    import numba

    import alignkit

    lines = [
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
        f"(affinity {len(os.sched_getaffinity(0))}), {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
        f"(threading layer threads: {numba.config.NUMBA_NUM_THREADS})",
        f"- alignkit {alignkit.__version__} from {os.path.dirname(alignkit.__file__)}",
    ]
    for name in PEERS:
        module = optional_import(name)
        lines.append(f"- {name} {module.__version__ if module else 'not installed'}")
    dtw = optional_import("dtaidistance.dtw")
    if dtw is not None:
        lines.append(f"- dtaidistance C extension: {dtw.try_import_c()}")
    lines.append(f"- NUMBA_CACHE_DIR={os.environ.get('NUMBA_CACHE_DIR', '(numba default)')}")
    return lines


def first_call(func):
    """``(value, seconds)`` of one call, used for the first (compiling) call."""
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def best_time(func, repeat=5, min_seconds=0.05):
    """Best time per call over ``repeat`` timeit runs (the machine is shared and noisy).

    Each run loops enough calls to last about ``min_seconds``, so that timer
    resolution and call overhead do not dominate short calls.
    """
    single = min(timeit.repeat(func, number=1, repeat=2))
    number = max(1, int(min_seconds / max(single, 1e-9)))
    if single * number * repeat > 20:
        repeat = 2
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


def format_seconds(seconds):
    if seconds is None:
        return "-"
    if abs(seconds) < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def table(headers, rows):
    """A Markdown table as a string."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    return "\n".join(lines)


def run_python(code, env=None, timeout=600):
    """Run ``code`` in a fresh interpreter; return its last stdout line parsed as JSON.

    The interpreter starts in the folder above the ``alignkit`` package this
    process imported, so that both import the same alignkit.
    """
    import alignkit

    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(alignkit.__file__))),
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
