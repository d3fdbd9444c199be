"""
Soft attention as a learned alignment
=====================================

A network that must rebuild each frame of a warped copy from the source
sequence can only do so by attending to the source frame the copy shows. Its
attention weights are then a soft alignment that can be read frame by frame,
and the monotone path that collects the most attention is a hard alignment
that can be scored against the truth like DTW's. This example trains
:class:`alignkit.SoftAttentionAligner` in ``mode="align"`` on copies where each
source frame is repeated 0, 1 or 2 times at random (about 20 s of CPU on one
thread), and compares its hard path with DTW's and CTW's on the same pairs.
"""

# %%
# Warped copies with a known alignment
# ------------------------------------
# :func:`alignkit.datasets.make_warped_copy` returns the pairs, the true paths
# and, with ``return_sources=True``, the source frame behind each copied frame.
import matplotlib.pyplot as plt
import numpy as np

from alignkit import CTWAligner, SoftAttentionAligner, UniformAligner, dtw
from alignkit.datasets import make_warped_copy
from alignkit.metrics import path_distance

train, _ = make_warped_copy(n_pairs=350, random_state=0)
test, true_paths, sources = make_warped_copy(n_pairs=100, random_state=1, return_sources=True)
a, b = test[0]
print(f"source {a.shape}, copy {b.shape}; source frame of each copied frame: {sources[0]}")

# %%
# Train, then score the attention and the hard path on held-out pairs
# -------------------------------------------------------------------
model = SoftAttentionAligner(max_epochs=100, random_state=0).fit(train)
weights = model.attention(test)
mass = np.mean([w[np.arange(len(s)), s].mean() for w, s in zip(weights, sources)])
alignments = model.align_pairs(test)
learned = np.mean([path_distance(al.path, p) for al, p in zip(alignments, true_paths)])
uniform = np.mean(
    [path_distance(UniformAligner().align(x, y).path, p) for (x, y), p in zip(test, true_paths)]
)
print(f"attention mass on the true source frame: {mass:.2f}")
print(f"hard-path error {learned:.2f} frames (uniform path: {uniform:.2f} frames)")

# %%
# The same held-out pairs aligned by DTW (the copy has the source's channels,
# so plain DTW applies) and by CTW fitted on the same training pairs.
ctw = CTWAligner().fit(train)
for name, found in (
    ("DTW", [dtw(x, y).path for x, y in test]),
    ("CTW", [al.path for al in ctw.align_pairs(test)]),
):
    error = np.mean([path_distance(path, p) for path, p in zip(found, true_paths)])
    print(f"{name} path error {error:.2f} frames")

# %%
# The attention matrix with the true path
# ---------------------------------------
# Each column is one copied frame's attention over the source frames (the
# soft matrix of the :class:`~alignkit.AttentionAlignment`). The true
# source frames are drawn as circles and the hard path as a line; a source
# frame that the copy skips has no circle and no attention.
alignment = alignments[0]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), width_ratios=(3, 2))
image = left.imshow(
    alignment.soft_matrix, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1
)
left.plot(alignment.path[:, 1], alignment.path[:, 0], "w-", lw=1.5, label="hard path")
left.plot(
    np.arange(len(b)), sources[0], "o", mfc="none", mec="red", ms=9, label="true source frame"
)
left.set(xlabel="frame of the copy b", ylabel="frame of the source a", title="Attention")
left.legend(loc="upper left", fontsize="small")
fig.colorbar(image, ax=left, label="attention weight")
right.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_)
right.set(xlabel="epoch", ylabel="reconstruction loss", yscale="log", title="Training")
fig.tight_layout()
plt.show()
