"""
DTW basics: align two heartbeat recordings
==========================================

Two synthetic electrocardiograms (ECG) show the same heartbeats, but the
second one was recorded at a different, varying speed. Dynamic time warping
(DTW) finds which timepoint of one matches which timepoint of the other.
Because the data are synthetic, the true matching is known, so we can measure
how far the DTW path is from it, and compare with the uniform baseline that
simply stretches one recording linearly onto the other.
"""

# %%
# The data
# --------
# :func:`~alignkit.datasets.make_ecg_pair` returns the two recordings, of
# shapes ``(n_timepoints, n_channels)``, and the true warping path.
import matplotlib.pyplot as plt

import alignkit
from alignkit.datasets import make_ecg_pair
from alignkit.metrics import path_distance
from alignkit.plotting import plot_alignment, plot_cost_matrix

a, b, true_path = make_ecg_pair()
print(f"a: {a.shape}, b: {b.shape}, true path: {len(true_path)} matched pairs")

# %%
# Align them
# ----------
# :func:`alignkit.dtw` returns an :class:`~alignkit.Alignment`: the path (an
# array of matched index pairs ``(i, j)``), the distance and, when asked, the
# accumulated cost matrix.
alignment = alignkit.dtw(a, b, return_cost_matrix=True)
print(alignment)
print("first matched pairs:", alignment.path[:5].tolist())

# %%
# Each grey line joins a timepoint of ``a`` to the timepoint of ``b`` it is
# matched with (one line in three is drawn, to keep the picture readable).
plot_alignment(alignment, a, b, max_lines=130)
plt.show()

# %%
# The accumulated cost matrix: cell ``(i, j)`` holds the cost of the best path
# from ``(0, 0)`` to ``(i, j)``. The DTW path (red) runs along the valley of low
# cost; the true path is dashed. The recordings are drawn along the margins.
plot_cost_matrix(alignment, a, b, true_path=true_path)
plt.show()

# %%
# How good is the path?
# ---------------------
# :func:`~alignkit.metrics.path_distance` is the mean distance, in frames,
# between the points of two paths. The uniform baseline
# (:class:`~alignkit.UniformAligner`) matches timepoints along a straight line.
uniform = alignkit.UniformAligner().align(a, b)
print(f"DTW error:     {path_distance(alignment.path, true_path):.2f} frames")
print(f"uniform error: {path_distance(uniform.path, true_path):.2f} frames")

# %%
# DTW is much closer to the truth. Where it goes wrong, between the first two
# beats, it matches a whole stretch of the flat segment of one recording with a
# single timepoint of the other: flat signals carry no timing information, and
# the noise decides.
#
# Windows
# -------
# A window limits how far the path may stray from the diagonal, which makes
# DTW faster and prevents pathological warps, but a window narrower than the
# real timing difference forces a wrong path. A Sakoe-Chiba band allows a
# fixed number of timepoints on each side of the diagonal (an int radius, or a
# float fraction of the longer length); an Itakura parallelogram bounds the
# slope of the path.
windows = {
    "no window": None,
    "Sakoe-Chiba, radius 20": 20,
    "Sakoe-Chiba, radius 5": 5,
    "Itakura, max slope 2": ("itakura", 2.0),
}
figure, axes = plt.subplots(1, len(windows), figsize=(16, 4.4), sharey=True)
for ax, (name, window) in zip(axes, windows.items()):
    windowed = alignkit.dtw(a, b, window=window, return_cost_matrix=True)
    error = path_distance(windowed.path, true_path)
    print(f"{name:<24} distance {windowed.distance:.3f}   error {error:.2f} frames")
    plot_cost_matrix(
        windowed, ax=ax, true_path=true_path, title=f"{name}\nerror {error:.2f} frames"
    )
for ax in axes[1:]:
    ax.set_ylabel("")
figure.tight_layout()
plt.show()

# %%
# A radius of 20 timepoints leaves the optimal path unchanged at a fraction of
# the cost; a radius of 5 is narrower than the actual timing difference between
# the recordings, so the path is pushed away from the truth, and its distance
# rises. The Itakura parallelogram is wide in the middle and narrow at both
# ends, where the two paths must meet anyway.
