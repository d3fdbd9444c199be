"""Streams: SPRING over random walks of 10^5 and 10^6 points, and on-line time warping.

Measurements of issue 14 (item 3), in one run:

1. SPRING (``StreamMatcher``) with a query of 128 points over a random walk holding noisy,
   warped copies of the query, fed in chunks of 10^4 points: time per point and the peak
   memory the matcher allocates while consuming the stream (``tracemalloc``, the stream itself
   excluded), at both lengths; both must be independent of the stream's length. The matches
   are then checked against the offline search over the whole series
   (``subsequence_search`` with ``k`` large, no exclusion zone beyond overlap, kept while at
   most the threshold): the same starts, ends and distances.
2. On-line time warping (``OnlineAligner``) at a search width of 500: milliseconds per live
   frame, fed all at once and frame by frame (the live use: one ``partial_fit`` per frame),
   and the mean path error against the known warp of ECG pairs, next to offline DTW's.

Run ``python benchmarks/bench_streams.py [--quick]``; the load average is printed at the
start and the end.
"""

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, environment_lines, load_average, table  # noqa: E402

import alignkit  # noqa: E402
from alignkit.datasets import make_ecg_pair  # noqa: E402
from alignkit.distances import subsequence_search  # noqa: E402
from alignkit.distances._streams import OnlineAligner, StreamMatcher  # noqa: E402
from alignkit.metrics import path_distance  # noqa: E402

QUERY_LENGTH = 128
CHUNK = 10_000
THRESHOLD = 3.0


def planted_stream(n_points, seed, n_copies):
    """A random walk with ``n_copies`` noisy, warped copies of a query; returns both."""
    rng = np.random.default_rng(seed)
    stream = np.cumsum(rng.standard_normal(n_points))
    query = np.cumsum(rng.standard_normal(QUERY_LENGTH)) * 0.3
    spacing = n_points // n_copies
    for position in range(spacing // 2, n_points - 2 * QUERY_LENGTH, spacing):
        copy = np.repeat(query, rng.integers(1, 3, QUERY_LENGTH))[: 2 * QUERY_LENGTH]
        copy = copy + 0.05 * rng.standard_normal(len(copy))
        stream[position : position + len(copy)] = copy
    return query, stream


def stream_matches(query, stream, keep=True):
    """SPRING over ``stream`` in chunks: the matches, or their number without ``keep``."""
    matcher = StreamMatcher(query, THRESHOLD)
    found = []
    count = 0
    for start in range(0, len(stream), CHUNK):
        matches = matcher.update(stream[start : start + CHUNK])
        count += len(matches)
        if keep:
            found += matches
    last = matcher.flush()
    return found + last if keep else count + len(last)


def spring_case(report, n_points, check):
    query, stream = planted_stream(n_points, seed=n_points, n_copies=n_points // 5000)
    stream_matches(query, stream[:1000])  # compile
    began, began_cpu = time.perf_counter(), time.process_time()
    found = stream_matches(query, stream)
    seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    # The matcher's own memory: the matches are counted, not kept (they are the output).
    tracemalloc.start()
    stream_matches(query, stream, keep=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    row = [
        f"{n_points:.0e}",
        f"{seconds / n_points * 1e6:.2f}",
        f"{cpu / n_points * 1e6:.2f}",
        f"{peak / 2**10:.0f}",
        len(found),
    ]
    if check:
        offline = subsequence_search(query, stream, k=len(found) + 20, exclusion_zone=0)
        offline = sorted(m for m in offline if m.distance <= THRESHOLD)
        ours = sorted(found)
        same = [(m.start, m.end) for m in ours] == [(m.start, m.end) for m in offline] and all(
            np.isclose(a.distance, b.distance, rtol=1e-9) for a, b in zip(ours, offline)
        )
        row.append("yes" if same else f"NO ({len(offline)} offline)")
    else:
        row.append("not checked")
    return row


def online_case(report, quick):
    rows = []
    lengths = [(1500, 1200)] if quick else [(1500, 1200), (3000, 2400), (6000, 4800)]
    for n_reference, n_live in lengths:
        errors = []
        for seed in range(3):
            reference, live, truth = make_ecg_pair(
                n_reference, n_live, n_beats=n_reference // 125, random_state=seed
            )
            offline = path_distance(alignkit.dtw(reference, live).path, truth)
            aligner = OnlineAligner(reference, search_width=500).partial_fit(live)
            online = path_distance(np.c_[aligner.positions_, np.arange(n_live)], truth)
            errors.append((online, offline))
        online, offline = np.mean(errors, axis=0)
        rows.append(
            [
                f"{n_reference} x {n_live}",
                f"{offline:.2f}",
                f"{online:.2f}",
                f"{online / offline:.2f}",
            ]
        )
    emit(report, table(["reference x live", "offline DTW error", "online error", "ratio"], rows))
    n_frames = 5000 if quick else 40000
    reference, live, _ = make_ecg_pair(n_frames, n_frames, n_beats=n_frames // 125)
    OnlineAligner(reference[:100], search_width=50).partial_fit(live[:100])  # compile
    aligner = OnlineAligner(reference, search_width=500)
    began = time.perf_counter()
    aligner.partial_fit(live)
    whole = (time.perf_counter() - began) / n_frames * 1e3
    aligner.reset()
    began = time.perf_counter()
    for frame in live[:5000]:
        aligner.partial_fit(frame[None])
    single = (time.perf_counter() - began) / 5000 * 1e3
    emit(report)
    emit(
        report,
        table(
            [
                "frames",
                "search width",
                "ms per frame (one call)",
                "ms per frame (one call per frame)",
            ],
            [[n_frames, 500, f"{whole:.3f}", f"{single:.3f}"]],
        ),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 points, fewer pairs")
    args = parser.parse_args()
    report = []
    emit(report, "## Streams")
    for line in environment_lines():
        emit(report, line)
    emit(report)
    emit(report, f"### SPRING, query of {QUERY_LENGTH}, threshold {THRESHOLD}, chunks of {CHUNK}")
    lengths = (10**4, 10**5) if args.quick else (10**5, 10**6)
    rows = [spring_case(report, n_points, check=True) for n_points in lengths]
    emit(
        report,
        table(
            [
                "points",
                "µs per point",
                "CPU µs per point",
                "peak KiB (matcher)",
                "matches",
                "same as offline search",
            ],
            rows,
        ),
    )
    emit(report)
    emit(report, "### On-line time warping, search width 500")
    online_case(report, args.quick)
    emit(report)
    emit(report, f"- load average at end: {load_average()}")


if __name__ == "__main__":
    main()
