"""
Subsequence search: find a warped motif in a long series
========================================================

A short *query* (a motif) occurs several times inside a long, noisy series,
each time played at a different, varying speed. :func:`alignkit.subsequence_search`
finds the ``k`` best non-overlapping matches with subsequence DTW: the whole
query is aligned with a part of the series whose start and end are free, so a
match can be shorter or longer than the query. Because we plant the motif
ourselves, we know where the matches should be.
"""

# %%
# A motif planted at known positions
# ----------------------------------
# The motif is a peak followed by a dip. Each copy is the motif resampled along
# a random monotone warp to a random length (between 0.7 and 1.4 times the
# query's), then added to a slowly varying, noisy background.
import matplotlib.pyplot as plt
import numpy as np

import alignkit

rng = np.random.default_rng(3)
n_query = 40
grid = np.linspace(0.0, 1.0, n_query)
query = np.exp(-(((grid - 0.3) / 0.1) ** 2)) - 0.8 * np.exp(-(((grid - 0.7) / 0.08) ** 2))


def warped_copy(motif, length, rng):
    """``motif`` resampled to ``length`` points along a random monotone warp."""
    rate = np.exp(rng.normal(0.0, 0.4, 4))
    speed = np.interp(np.linspace(0, 1, length), np.linspace(0, 1, 4), rate)
    position = np.concatenate([[0.0], np.cumsum(speed[1:])])
    return np.interp(position / position[-1], np.linspace(0, 1, len(motif)), motif)


n_series = 1500
time = np.arange(n_series)
series = 0.15 * np.sin(2 * np.pi * time / 700) + rng.normal(0.0, 0.08, n_series)

true_starts = [150, 520, 900, 1260]
true_spans = []
for start in true_starts:
    copy = warped_copy(query, int(n_query * rng.uniform(0.7, 1.4)), rng)
    series[start : start + len(copy)] += copy
    true_spans.append((start, start + len(copy) - 1))
print("planted copies (first, last timepoint):", true_spans)

# %%
# Search
# ------
# Each :class:`~alignkit.Match` gives the first and last matched timepoints of
# the series, the DTW distance of the query to that part, and the warping path.
# ``exclusion_zone`` (half the query by default) keeps the matches apart.
matches = alignkit.subsequence_search(query, series, k=4)


def planted_copy(timepoint):
    """Index of the planted copy that contains ``timepoint``, or None."""
    return next(
        (k for k, (first, last) in enumerate(true_spans) if first <= timepoint <= last), None
    )


for rank, match in enumerate(matches, start=1):
    print(
        f"match {rank}: timepoints {match.start:4d}-{match.end:4d} "
        f"(length {match.end - match.start + 1:2d}), distance {match.distance:.3f}, "
        f"inside planted copy {planted_copy(match.start)}"
    )

# %%
# Each planted copy is found once, in the noise. The matches are a little
# shorter than the copies: the motif's nearly flat ends cost about the same
# whichever few timepoints of the background they are matched to. Above: the
# series, with the matched parts in red and the planted copies shaded. Below:
# each match drawn along its warping path against the query's timepoints
# (``path[:, 0]`` indexes the query, ``path[:, 1]`` the series), which undoes
# the warp.
figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), height_ratios=(1.3, 1))
top.plot(series, color="0.45", lw=0.8, label="series")
for index, (first, last) in enumerate(true_spans):
    top.axvspan(first, last, color="tab:green", alpha=0.2, label="planted" if index == 0 else None)
for rank, match in enumerate(matches, start=1):
    span = np.arange(match.start, match.end + 1)
    top.plot(span, series[span], color="tab:red", lw=1.6, label="match" if rank == 1 else None)
    top.annotate(str(rank), (match.start, series[span].min() - 0.3), color="tab:red")
top.set_xlabel("timepoint")
top.set_title("The 4 best matches of the query (red) and the planted copies (green)")
top.set_ylim(series.min() - 0.45, series.max() + 0.2)
top.legend(loc="upper left", fontsize="small", ncols=3)

bottom.plot(query, color="black", lw=2.5, label="query")
for rank, match in enumerate(matches, start=1):
    bottom.plot(
        match.path[:, 0], series[match.path[:, 1]], lw=1, alpha=0.8, label=f"match {rank}, warped"
    )
bottom.set_xlabel("query timepoint")
bottom.set_title("Each match warped onto the query along its DTW path")
bottom.legend(loc="upper right", fontsize="small")
figure.tight_layout()
plt.show()

# %%
# Subsequence DTW compares raw values. When the copies may also be shifted
# or scaled in amplitude, ``znormalize=True`` compares z-normalised windows of
# the query's length instead (the UCR suite's definition), at the cost of
# fixed-length matches.
