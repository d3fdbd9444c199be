"""
Canonical time warping: aligning two modalities
===============================================

Two sensors record the same motion, but each in its own coordinates, with its
own number of channels and its own timing. DTW compares raw frames, so it is
misled when the coordinates differ. Canonical time warping (CTW) alternates
canonical correlation analysis, which finds projections of both modalities
into a shared space, and DTW of the projected sequences. This example
follows the synthetic protocol of Zhou and De la Torre: two copies of a 2-D
spiral, each randomly warped in time, rotated, scaled and translated, with
one extra channel of noise.
"""

# %%
# Two warped, transformed spirals
# -------------------------------
# :func:`alignkit.datasets.make_warped_spirals` returns the sequences and the
# ground-truth path between them.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import make_warped_spirals
from alignkit.metrics import path_distance

(a, b), (_, true_path) = make_warped_spirals(random_state=2)
print(a.shape, b.shape)

# %%
# Align with CTW, DTW and uniform warping
# ---------------------------------------
# The CTW aligner is found in the registry under ``"ctw"``.
ctw = alignkit.get_aligner("ctw").align(a, b)
by_dtw = alignkit.dtw(a, b)
straight = alignkit.UniformAligner().align(a, b).path
for name, path in (("CTW", ctw.path), ("DTW", by_dtw.path), ("uniform", straight)):
    print(f"{name:8s} error {path_distance(path, true_path):.2f} frames")
print(ctw)

# %%
# The two modalities before and after alignment
# ---------------------------------------------
# Left: the raw spatial channels, in different coordinates. Right: the first
# canonical variate of each sequence, with ``b`` put on ``a``'s timeline
# along the CTW path.
variates_a = (a - ctw.offsets[0]) @ ctw.projections[0]
variates_b = (b - ctw.offsets[1]) @ ctw.projections[1]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(a[:, 0], a[:, 1], label="a")
left.plot(b[:, 0], b[:, 1], label="b")
left.set(title="Raw spatial channels", xlabel="channel 0", ylabel="channel 1")
left.legend()
right.plot(variates_a[:, 0], label="a, first variate")
right.plot(ctw.warp_to_a(variates_b)[:, 0], "--", label="b on a's timeline")
right.set(title="After CTW", xlabel="frame of a")
right.legend()
fig.tight_layout()

# %%
# The path against the ground truth, and the objective per round
# --------------------------------------------------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(true_path[:, 1], true_path[:, 0], "k", lw=3, alpha=0.4, label="ground truth")
left.plot(ctw.path[:, 1], ctw.path[:, 0], label="CTW")
left.plot(by_dtw.path[:, 1], by_dtw.path[:, 0], label="DTW")
left.plot(straight[:, 1], straight[:, 0], ":", label="uniform")
left.set(xlabel="frame of b", ylabel="frame of a", title="Warping paths")
left.legend()
right.plot(np.arange(1, ctw.n_iter + 1), ctw.objective_history, "o-")
right.set(xlabel="round", ylabel="objective", title="CTW objective per round", yscale="log")
fig.tight_layout()
plt.show()
