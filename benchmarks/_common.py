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
    lines.append(f"- load average (1, 5, 15 min) at start: {load_average()}")
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
    resolution and call overhead do not dominate short calls. Calls longer
    than ``min_seconds`` count the two calibration calls as runs, and calls
    whose runs would take over 20 s in all get only those two.
    """
    calibration = timeit.repeat(func, number=1, repeat=2)
    single = min(calibration)
    number = max(1, int(min_seconds / max(single, 1e-9)))
    if number == 1:
        more = 0 if single * repeat > 20 else repeat - len(calibration)
        return min(calibration + timeit.repeat(func, number=1, repeat=more))
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


REL_TOL = 1e-9


def load_average():
    """The 1, 5 and 15 minute load averages as a short string."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def emit(report, text=""):
    """Print ``text`` and keep it for the Markdown report."""
    print(text, flush=True)
    report.append(text)


def not_installed(report, names):
    for name, module in names:
        if module is None:
            emit(report, f"- {name}: not installed, skipped")


def agree(value, reference):
    """Equal up to ``REL_TOL`` relative to the largest reference entry; tuples part by part."""
    if isinstance(reference, tuple):
        return len(value) == len(reference) and all(map(agree, value, reference))
    value, reference = np.asarray(value, dtype=np.float64), np.asarray(reference, np.float64)
    if value.shape != reference.shape:
        return False
    scale = max(float(np.max(np.abs(reference), initial=0.0)), np.finfo(float).tiny)
    return float(np.max(np.abs(value - reference), initial=0.0)) <= REL_TOL * scale


def shown(value):
    """One number for the table: a scalar, the first part of a tuple, or an array's sum."""
    if isinstance(value, tuple):
        return shown(value[0])
    return f"{float(np.sum(value)):.6f}"


def square(value):
    return value * value


def identity(value):
    return value


def path_cost(a, b, path):
    """Summed squared cost of ``path`` between univariate ``a`` and ``b``, recomputed."""
    path = np.asarray(path, dtype=np.int64)
    return float(np.sum((a[path[:, 0]] - b[path[:, 1]]) ** 2))


def compare(report, contenders, cells, reference="alignkit", label="summed cost"):
    """Check every value against the reference's, then time the ones that agree.

    ``contenders`` maps a name to ``(func, convert)`` where ``convert`` turns
    the returned value into the compared one (a number, an array or a tuple of
    them; see :func:`agree`). Returns ``{name: best seconds or None}``.
    """
    rows, times = [], {}
    ref_value = None
    for name, (func, convert) in contenders.items():
        value, first = first_call(func)
        value = convert(value)
        if name == reference:
            ref_value = value
        agrees = agree(value, ref_value)
        best = best_time(func) if agrees else None
        times[name] = best
        rows.append([name, shown(value), "✓" if agrees else "✗ (not timed)", best, first])
    base = times[reference]
    out = []
    for name, value, check, best, first in rows:
        ratio = "-" if best is None or name == reference else f"{best / base:.2f}"
        per_cell = "-" if best is None else f"{best / cells * 1e9:.3f}"
        out.append(
            [name, value, check, format_seconds(best), per_cell, ratio, format_seconds(first)]
        )
    headers = ["library", label, "agrees", "best time", "ns/cell", "time / reference", "first call"]
    emit(report, table(headers, out))
    return times


def ratio_line(report, times, pairs):
    """Print ``numerator / denominator`` time ratios; ``pairs`` is a list of name pairs."""
    for top, bottom in pairs:
        if times.get(top) and times.get(bottom):
            emit(report, f"- {top} / {bottom}: {times[top] / times[bottom]:.2f}")


def add_target(targets, target, measured, limit, detail="", at_least=False):
    """Record ``measured`` (None: not measured); met when ``<= limit`` (``>=`` if ``at_least``)."""
    met = None if measured is None else (measured >= limit if at_least else measured <= limit)
    targets.append((target, measured, detail, met))


def targets_table(targets):
    rows = [
        [
            target,
            "-" if ratio is None else f"{ratio:.3g}",
            detail,
            {None: "not measured", True: "met", False: "**not met**"}[met],
        ]
        for target, ratio, detail, met in targets
    ]
    return table(["target", "measured", "detail", "status"], rows)


MEMORY = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {here!r})
import numpy as np
from _common import random_walk
summarise = lambda a, b, result: {{"value": float(result)}}
{setup}
a, b = random_walk({n}, seed=7), random_walk({n}, seed=8)
warm = globals().get("warm", run)
warm(random_walk(50, seed=7), random_walk(50, seed=8))  # compile outside the measurement

def rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])

try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    method = "VmHWM after clear_refs"
except OSError:
    method = "ru_maxrss"
before = rss_kib("VmRSS:")
start = time.perf_counter()
result = run(a, b)
seconds = time.perf_counter() - start
peak = rss_kib("VmHWM:") if method != "ru_maxrss" else resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"mib": (peak - before) / 1024, "peak_mib": peak / 1024, "seconds": seconds,
                   "method": method, **summarise(a, b, result)}}))
"""


def peak_memory(setup, n_timepoints):
    """Peak resident memory of ``run(a, b)`` on two random walks, in a fresh process.

    ``setup`` is Python code defining ``run(a, b)``, and optionally
    ``warm(a, b)`` (the compiling call on 50 points, ``run`` by default) and
    ``summarise(a, b, result)`` (a dict of JSON values, ``{"value": result}``
    by default). Returns that dict with ``mib`` (peak growth during the
    call), ``peak_mib`` (the process's peak), ``seconds`` and ``method``.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    return run_python(MEMORY.format(here=here, setup=setup, n=n_timepoints))
