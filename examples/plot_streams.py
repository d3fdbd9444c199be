"""
Streams: SPRING matches and on-line time warping
================================================

Two tools for data that arrives point by point. SPRING
(:class:`~alignkit.StreamMatcher`) reports each occurrence
of a query in an unbounded stream as soon as no later, overlapping
subsequence can beat it. On-line time warping
(:class:`~alignkit.OnlineAligner`) follows a live
recording along a reference, one frame at a time, in a band of the DTW matrix.
"""

# %%
# SPRING over a stream that arrives in chunks
# -------------------------------------------
# A motif is planted, warped and noisy, at known places of a random walk; the
# stream is then fed in chunks of 50 points, as a sensor would deliver it.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit import OnlineAligner, StreamMatcher
from alignkit.datasets import make_ecg_pair

rng = np.random.default_rng(0)
grid = np.linspace(0.0, 1.0, 40)
query = np.exp(-(((grid - 0.3) / 0.1) ** 2)) - 0.8 * np.exp(-(((grid - 0.7) / 0.08) ** 2))
stream = 0.3 * np.cumsum(rng.normal(0.0, 0.1, 2000))
stream -= np.convolve(stream, np.ones(101) / 101, mode="same")  # remove the slow drift
planted = []
for start in (250, 800, 1150, 1700):
    copy = np.repeat(query, rng.integers(1, 3, len(query)))
    stream[start : start + len(copy)] = copy + rng.normal(0.0, 0.05, len(copy))
    planted.append((start, start + len(copy) - 1))

matcher = StreamMatcher(query, threshold=1.0)
matches, reported_at = [], []
for first in range(0, len(stream), 50):
    for match in matcher.update(stream[first : first + 50]):
        matches.append(match)
        reported_at.append(matcher.n_seen_ - 1)
matches += matcher.flush()
reported_at += [len(stream) - 1] * (len(matches) - len(reported_at))
for match, when in zip(matches, reported_at):
    print(
        f"match {match.start}-{match.end}, distance {match.distance:.3f}, "
        f"reported after point {when}"
    )
print("planted:", planted)

figure, axes = plt.subplots(figsize=(10, 3.2))
axes.plot(stream, color="0.5", lw=0.8, label="stream")
for index, (first, last) in enumerate(planted):
    axes.axvspan(first, last, color="tab:green", alpha=0.2, label="planted" if index == 0 else None)
for index, (match, when) in enumerate(zip(matches, reported_at)):
    span = np.arange(match.start, match.end + 1)
    axes.plot(span, stream[span], color="tab:red", lw=1.5, label="match" if index == 0 else None)
    axes.axvline(when, color="tab:red", ls=":", lw=1, label="reported" if index == 0 else None)
axes.set_xlabel("stream index")
axes.set_title("SPRING: each match (red) and the end of the chunk that reported it (dotted)")
axes.legend(loc="lower left", ncols=4, fontsize="small")
figure.tight_layout()

# %%
# On-line time warping against the offline path
# ---------------------------------------------
# Two synthetic ECG recordings of the same beats at different, varying speeds,
# with their true alignment. The live one is fed frame by frame; the online
# path is drawn over offline DTW's path and the truth.
reference, live, truth = make_ecg_pair(1500, 1200, n_beats=12, random_state=1)
aligner = OnlineAligner(reference, search_width=100)
snapshots = {}
for frame_index, frame in enumerate(live):
    aligner.partial_fit(frame[None])
    if frame_index + 1 in (300, 700):
        snapshots[frame_index + 1] = aligner.positions_.copy()
offline = alignkit.dtw(reference, live).path
online = np.c_[aligner.positions_, np.arange(len(live))]
print(
    "mean path error (frames): online",
    round(alignkit.metrics.path_distance(online, truth), 2),
    "offline",
    round(alignkit.metrics.path_distance(offline, truth), 2),
)

figure, axes = plt.subplots(figsize=(6, 5))
axes.plot(truth[:, 1], truth[:, 0], color="black", lw=3, alpha=0.3, label="true warp")
axes.plot(offline[:, 1], offline[:, 0], color="tab:blue", lw=1, label="offline DTW")
for count, positions in snapshots.items():
    axes.plot(np.arange(count), positions, lw=4, alpha=0.4, label=f"online, after {count} frames")
axes.plot(online[:, 1], online[:, 0], color="tab:red", lw=1, ls="--", label="online, all frames")
axes.set_xlabel("live frame")
axes.set_ylabel("reference frame")
axes.set_title("On-line time warping (search width 100)")
axes.legend(fontsize="small")
figure.tight_layout()
plt.show()
