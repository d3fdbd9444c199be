"""Exact z-normalised subsequence search: alignkit against the UCR Suite, side by side.

The reference is the UCR Suite's C code (Rakthanmanon et al., KDD 2012) as the
``ucrdtw`` source distribution on the package index ships it (``src/ucrdtw.c``,
function ``ucrdtw``). The benchmark downloads that sdist (checking its SHA-256),
compiles the C file with ``gcc -O3 -march=native`` into a shared library under
``build/ucrdtw/`` and calls it through ctypes; nothing of it is kept in the repository.

For every case (a random walk, the query a noisy copy of one of its windows, a
Sakoe-Chiba radius given to both as an int), both must return the same location and
the same distance (to 1e-8 relative: the two sum the window statistics in a different
order), then both are timed on one core (CPU time of this process, the best of a few
runs, which the other processes of a shared machine disturb less than wall time) and
alignkit with ``n_jobs=2`` against ``n_jobs=1`` (wall time, interleaved, at least
``--min-seconds`` of runs of each, as ``--scaling`` times them).

Each call runs ``--block`` times in a row (5 by default) before the next one's turn,
the best of all its runs counted: on this virtual machine the second CPU, idle while a
one-thread call runs, takes a few tenths of a millisecond to wake for the next
two-thread call (measured: 7.3-7.5 ms against 7.0 ms for the same search of 10^6
points, run after a one-thread call or after itself), which a user who searches with
two threads does not pay at every call. ``--scaling`` also prints the speed-up with
blocks of one run (each two-thread call right after a one-thread call).

Both modes also time the one-thread call pinned to each of two CPUs in turn: on a
shared host one core at times runs the same code 20-30% slower than the other, and
two threads cannot then reach ``t1 * (1 / t_cpu0 + 1 / t_cpu1)`` (printed as the
"2-thread bound") even with no serial part and no extra work.

Run ``python benchmarks/bench_search.py [--quick]``; ``--quick`` stops at 10^6 points.

``--scaling`` times instead what scales out (no UCR Suite needed): ``n_jobs=1``
against ``n_jobs=2`` on the same calls, interleaved, the best of ``--repeat`` runs
(more for a short call: at least ``--min-seconds`` of runs of each),
in wall time and in CPU time of the process (the threads' sum: equal CPU times mean
the two threads did no extra work, so on an idle machine the wall ratio approaches
2 x CPU(1) / CPU(2)), and the same series as a ``np.memmap`` searched out of core
against the in-memory call. ``--lengths`` picks the series' lengths.

``--top-k K [K ...]`` times ``k`` matches (exclusion zone ``len(query) // 2``): the
default search (from ``k = 3`` one pass over chunks of 2**15 starts, each with a coarse
seed of its own) against ``k`` passes of the one-match search, with 1 and 2 threads,
both required to return the same matches and squared distances (10^6 points unless
``--lengths``).
"""

import argparse
import ctypes
import functools
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, environment_lines, load_average, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "ucrdtw"
SDIST = "ucrdtw-0.201.tar.gz"
SHA256 = "7ec4736634849b692e588ad0ce4a3130221f13d476c6e2652f386cd484049ebd"


def _sdist_url():
    with urllib.request.urlopen("https://pypi.org/pypi/ucrdtw/json", timeout=60) as page:
        project = json.load(page)
    files = project["releases"].get("0.201") or project["urls"]
    (url,) = [u["url"] for u in files if u["filename"] == SDIST]
    return url


def build_ucr_suite():
    """The compiled UCR Suite as a ctypes function, built once under build/ucrdtw/."""
    library = BUILD / "libucrdtw.so"
    if not library.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(_sdist_url(), timeout=120) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != SHA256:
            raise RuntimeError(f"{SDIST}: unexpected SHA-256, refusing to build it")
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for name in ("ucrdtw.c", "ucrdtw.h"):
                member = archive.getmember(f"ucrdtw-0.201/src/{name}")
                (BUILD / name).write_bytes(archive.extractfile(member).read())
        subprocess.run(
            ["gcc", "-O3", "-march=native", "-shared", "-fPIC", "ucrdtw.c", "-o", library.name]
            + ["-lm"],
            cwd=BUILD,
            check=True,
        )
    lib = ctypes.CDLL(str(library))
    double_p = ctypes.POINTER(ctypes.c_double)
    lib.ucrdtw.argtypes = [
        double_p,
        ctypes.c_longlong,
        double_p,
        ctypes.c_long,
        ctypes.c_double,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_longlong),
        double_p,
    ]
    lib.ucrdtw.restype = ctypes.c_int

    def ucr(series, query, radius):
        location, distance = ctypes.c_longlong(), ctypes.c_double()
        status = lib.ucrdtw(
            series.ctypes.data_as(double_p),
            len(series),
            query.ctypes.data_as(double_p),
            len(query),
            float(radius),
            0,
            ctypes.byref(location),
            ctypes.byref(distance),
        )
        if status != 0:
            raise RuntimeError(f"ucrdtw returned {status}")
        return int(location.value), float(distance.value)

    return ucr


def cpu_time(func, repeat):
    """Best CPU time of this process over ``repeat`` calls, and the last result."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        result = func()
        best = min(best, time.process_time() - start)
    return best, result


def _cases(lengths, seed=0):
    """Random walks and noisy copies of one of their windows, for each length and query."""
    rng = np.random.default_rng(seed)
    for length, n, radius in [(length, 128, 6) for length in lengths] + [
        (length, 256, 25) for length in lengths
    ]:
        series = np.cumsum(rng.standard_normal(length))
        where = int(rng.integers(0, length - n))
        yield length, n, radius, series, series[where : where + n] + 0.5 * rng.standard_normal(n)


def _label(length):
    """``10^6``, or ``3 x 10^5`` for a length that is no power of ten."""
    power = int(np.floor(np.log10(length)))
    mantissa = length / 10**power
    return f"10^{power}" if mantissa == 1 else f"{mantissa:g} x 10^{power}"


def _interleaved(calls, repeat, block=1):
    """Best wall and CPU seconds of each call, run in turn ``repeat`` times (``block``
    runs in a row at each turn), and results."""
    wall = dict.fromkeys(calls, np.inf)
    cpu = dict.fromkeys(calls, np.inf)
    results = {}
    for _ in range(repeat):
        for name, call in calls.items():
            for _ in range(block):
                start, start_cpu = time.perf_counter(), time.process_time()
                results[name] = call()
                wall[name] = min(wall[name], time.perf_counter() - start)
                cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return wall, cpu, results


def _report(title):
    """A report started with ``title``, the machine and the load average."""
    report = []
    emit(report, title)
    emit(report)
    for line in environment_lines():
        emit(report, line)
    emit(report, f"- load average at the start: {load_average()}")
    return report


def _pinned(call, cpu):
    """``call`` run by the calling thread alone on CPU ``cpu`` (its affinity restored after).

    A one-thread search pinned to each CPU in turn shows how fast each core runs now: on
    a shared host one of them is at times much slower, and two threads cannot then be
    faster than ``1 + fast / slow`` times one thread on the faster core.
    """

    def pinned():
        allowed = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            return call()
        finally:
            os.sched_setaffinity(0, allowed)

    return pinned


def _cpu_pair():
    """Two CPUs this process may run on, or None."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return allowed[:2] if len(allowed) >= 2 else None


def _timed(calls, repeat, min_seconds, block=1):
    """Best wall and CPU seconds of each call, interleaved in turns of ``block`` runs, its
    results, and ``calls["one"]`` pinned to each of two CPUs (None when the process may
    use only one).

    Every call runs at least ``repeat`` times and for at least ``min_seconds`` in all: a
    short call's best of a few runs is mostly the machine's noise, and the noise hits two
    threads more.
    """
    calls = dict(calls)
    cpus = _cpu_pair()
    if cpus is not None:
        calls.update({f"cpu{cpu}": _pinned(calls["one"], cpu) for cpu in cpus})
    for call in calls.values():
        call()  # compile and start the threads outside the timings
    start = time.perf_counter()
    calls["one"]()
    runs = max(repeat, int(min_seconds / (time.perf_counter() - start)))
    wall, cpu, results = _interleaved(calls, -(-runs // block), block)
    pinned = [wall[f"cpu{c}"] for c in cpus] if cpus is not None else None
    return wall, cpu, results, pinned


def _cores_cell(pinned, one):
    """The pinned one-thread times and the bound they give the two-thread speed-up: two
    threads, one on each CPU, doing the one-thread work without any serial part or extra
    work, take ``1 / (1 / t0 + 1 / t1)``; against the unpinned one-thread time ``one``."""
    if pinned is None:
        return "-"
    bound = one * sum(1 / seconds for seconds in pinned)
    return f"{pinned[0]:.3f} / {pinned[1]:.3f} s ({bound:.2f}x)"


def scaling(lengths, repeat, min_seconds=2.0, block=5):
    """n_jobs=1 against n_jobs=2, and a memmap out of core against memory, side by side."""
    import tempfile

    import alignkit

    report = _report("## Z-normalised search: 2 threads against 1, and out of core")
    rows = []
    for length, n, radius, series, query in _cases(lengths):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "series.npy"
            np.save(path, series)
            disk = np.load(path, mmap_mode="r")

            def search(data, jobs, query=query, radius=radius):
                (match,) = alignkit.subsequence_search(
                    query, data, window=radius, znormalize=True, n_jobs=jobs
                )
                return match.start, match.distance

            calls = {
                "one": functools.partial(search, series, 1),
                "two": functools.partial(search, series, 2),
                "memmap": functools.partial(search, disk, 1),
                "memmap2": functools.partial(search, disk, 2),
            }
            wall, cpu, results, pinned = _timed(calls, repeat, min_seconds, block)
            # Each two-thread call right after a one-thread call (the second CPU idle).
            after = {name: calls[name] for name in ("one", "two")}
            cold, _, cold_results = _interleaved(after, max(repeat, int(min_seconds / wall["one"])))
        same = len(set(results.values()) | set(cold_results.values())) == 1
        rows.append(
            [
                _label(length),
                f"{n}, r = {radius}",
                "yes" if same else "**NO**",
                f"{wall['one']:.3f} / {cpu['one']:.3f} s",
                f"{wall['two']:.3f} / {cpu['two']:.3f} s",
                f"{wall['one'] / wall['two']:.2f}x",
                f"{cold['one'] / cold['two']:.2f}x",
                f"{2 * cpu['one'] / cpu['two']:.2f}x",
                _cores_cell(pinned, wall["one"]),
                f"{wall['memmap']:.3f} s ({wall['memmap'] / wall['one']:.2f}x)",
                f"{wall['memmap'] / wall['memmap2']:.2f}x",
            ]
        )
        print(rows[-1], flush=True)
    emit(report)
    headers = [
        "series",
        "query",
        "same",
        "n_jobs=1: wall / CPU",
        "n_jobs=2: wall / CPU",
        f"speed-up (wall, blocks of {block})",
        "speed-up (blocks of 1)",
        "2 x CPU(1) / CPU(2)",
        "1 thread on each CPU (2-thread bound)",
        "memmap, 1 worker (/ in memory)",
        "memmap speed-up, 2 workers",
    ]
    emit(report, table(headers, rows))
    emit(report, f"- load average at the end: {load_average()}")
    if any(row[2] != "yes" for row in rows):
        raise SystemExit("the parallel or out-of-core search disagrees with the serial one")


def top_k(lengths, ks, repeat):
    """k matches: one pass over seeded chunks (the default from k = 3) against k passes."""
    import alignkit
    from alignkit.distances._zsearch import znormalized_search
    from alignkit.validation import check_sequence

    report = _report("## Z-normalised search for k matches: one pass against k passes")
    rows = []
    for length, n, radius, series, query in _cases(lengths):
        values, pattern = check_sequence(series), check_sequence(query)
        for k in ks:
            for jobs in (1, 2):

                def one_pass(query=query, series=series, radius=radius, k=k, jobs=jobs):
                    matches = alignkit.subsequence_search(
                        query, series, k=k, window=radius, znormalize=True, squared=True,
                        n_jobs=jobs,
                    )  # fmt: skip
                    return [(m.distance, m.start) for m in matches]

                def passes(pattern=pattern, values=values, radius=radius, k=k, jobs=jobs):
                    zone = len(pattern) // 2
                    return znormalized_search(
                        pattern, values, radius, k, zone, jobs, one_pass=False
                    )[0]

                calls = {"one": one_pass, "passes": passes}
                for call in calls.values():
                    call()  # compile outside the timings
                wall, _, results = _interleaved(calls, repeat)
                same = results["one"] == results["passes"]
                rows.append(
                    [
                        _label(length),
                        f"{n}, r = {radius}",
                        str(k),
                        str(jobs),
                        "yes" if same else "**NO**",
                        f"{wall['passes']:.3f} s",
                        f"{wall['one']:.3f} s",
                        f"{wall['passes'] / wall['one']:.2f}x",
                    ]
                )
                print(rows[-1], flush=True)
    emit(report)
    headers = ["series", "query", "k", "n_jobs", "same", "k passes", "one pass", "speed-up"]
    emit(report, table(headers, rows))
    emit(report, f"- load average at the end: {load_average()}")
    if any(row[4] != "yes" for row in rows):
        raise SystemExit("one pass and k passes disagree")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="series of 10^5 and 10^6 points")
    parser.add_argument("--scaling", action="store_true", help="threads and out of core only")
    parser.add_argument("--lengths", type=float, nargs="+", help="series lengths (--scaling)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (--scaling)")
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=2.0,
        help="more runs of a short call, until each takes this long in all (--scaling)",
    )
    parser.add_argument(
        "--block", type=int, default=5, help="runs of a call in a row before the next one's"
    )
    parser.add_argument(
        "--top-k",
        type=int,
        nargs="+",
        metavar="K",
        help="k matches instead: one pass over seeded chunks against k passes, for each K",
    )
    args = parser.parse_args()
    if args.top_k:
        lengths = [int(x) for x in args.lengths] if args.lengths else [10**6]
        top_k(lengths, args.top_k, min(args.repeat, 3))
        return
    if args.scaling:
        lengths = [int(x) for x in args.lengths] if args.lengths else [10**6, 10**7]
        scaling(lengths, args.repeat, args.min_seconds, args.block)
        return

    import alignkit

    report = _report("## Z-normalised subsequence search against the UCR Suite")
    ucr = build_ucr_suite()
    lengths = (10**5, 10**6) if args.quick else (10**6, 10**7)
    cases = [(length, 128, 6) for length in lengths] + [(length, 256, 25) for length in lengths]
    rows = []
    rng = np.random.default_rng(0)
    for length, n, radius in cases:
        series = np.cumsum(rng.standard_normal(length))
        where = int(rng.integers(0, length - n))
        query = series[where : where + n] + 0.5 * rng.standard_normal(n)

        def ours(jobs=None, series=series, query=query, radius=radius):
            (match,) = alignkit.subsequence_search(
                query, series, window=radius, znormalize=True, n_jobs=jobs
            )
            return match.start, match.distance

        ours()  # compile outside the timings
        repeat = 3 if length <= 10**6 else 2
        ucr_seconds, (ucr_start, ucr_distance) = cpu_time(
            lambda series=series, query=query, radius=radius: ucr(series, query, radius), repeat
        )
        our_seconds, (our_start, our_distance) = cpu_time(ours, repeat)
        wall, _, results, pinned = _timed(
            {"one": lambda: ours(1), "two": lambda: ours(2)}, repeat, args.min_seconds, args.block
        )
        same = abs(our_distance - ucr_distance) <= 1e-8 * ucr_distance and set(
            results.values()
        ) == {(ucr_start, our_distance)}
        rows.append(
            [
                _label(length),
                f"{n}, r = {radius}",
                f"{ucr_start} / {ucr_distance:.10g}",
                f"{our_start} / {our_distance:.10g}",
                "yes" if same else "**NO**",
                f"{ucr_seconds:.3f} s",
                f"{our_seconds:.3f} s",
                f"{our_seconds / ucr_seconds:.2f}x",
                f"{wall['one'] / wall['two']:.2f}x",
                _cores_cell(pinned, wall["one"]),
            ]
        )
        print(rows[-1], flush=True)
    emit(report)
    headers = [
        "series",
        "query",
        "UCR Suite: location / distance",
        "alignkit",
        "same",
        "UCR Suite, 1 core",
        "alignkit, 1 core",
        "alignkit / UCR",
        f"alignkit 2 threads speed-up (blocks of {args.block})",
        "1 thread on each CPU (2-thread bound)",
    ]
    emit(report, table(headers, rows))
    emit(report, f"- load average at the end: {load_average()}")
    if any(row[4] != "yes" for row in rows):
        raise SystemExit("alignkit and the UCR Suite disagree on at least one case")


if __name__ == "__main__":
    main()
