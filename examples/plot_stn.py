"""
Spatial transformer networks: learning to undo rotations, scales and shifts
===========================================================================

A spatial transformer network (Jaderberg et al., 2015) puts a small
localisation network in front of a classifier. It predicts, for each image,
the parameters of a transform; a grid generator and a differentiable bilinear
sampler warp the image accordingly, and the classifier reads the warped image.
Trained on labels alone, the transformer learns to bring every digit into a
canonical pose: the alignment is implicit.

The digits are scikit-learn's bundled 8x8 digits, upsampled to 16x16, rotated
by up to 45 degrees, scaled by 0.7-1.2 and placed at random on a 32x32 canvas
(the "RTS" protocol of the paper), by
:func:`alignkit.datasets.make_digit_canvas`, which also returns the true
transforms. The spatial transformer is compared with the same CNN without it.
"""

# %%
# Distorted digits, held-out source images
# ----------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from alignkit import STNAligner
from alignkit.datasets import make_digit_canvas

torch.set_num_threads(1)
sources = np.arange(1797)
train = make_digit_canvas(3000, "RTS", source_indices=sources[sources % 5 != 0], random_state=0)
test = make_digit_canvas(None, "RTS", source_indices=sources[sources % 5 == 0], random_state=1)
print(train.images.shape, test.images.shape)

# %%
# Train the ST-CNN and the plain CNN
# ----------------------------------
# ``transformation=None`` removes the spatial transformer: the same
# classifier reads the raw canvas. The localiser starts at the identity and
# learns at a tenth of the classifier's rate (``loc_lr_mult``).
models = {}
for name, transformation in (("CNN", None), ("ST-CNN (affine)", "affine")):
    start = time.process_time()
    models[name] = STNAligner(transformation=transformation, max_epochs=25, random_state=0)
    models[name].fit(train.images, train.labels)
    error = 1 - models[name].score(test.images, test.labels)
    print(f"{name:16s} test error {error:.3f}  ({time.process_time() - start:.0f} CPU s)")

# %%
# Before and after, with the sampling grid
# ----------------------------------------
# Top: held-out canvases with the sampling grid: the lines of a 7x7 grid over
# the output frame, mapped by the predicted sampling map into the input, show
# where each part of the warped image is read from; the thick outline is the
# output frame's edge (the region the transformer samples). Normalised
# coordinates become pixel positions by the same ``align_corners`` convention
# as the sampler: with the default ``False``, -1 and 1 are the outer edges of
# the first and last pixels. Bottom: what the classifier sees.
stn = models["ST-CNN (affine)"]
shown = test.images[:8]
matrices = stn.predict_transform(shown)
rectified = stn.transform(shown)[:, 0]
size = shown.shape[-1]


def to_pixels(normalised, n_pixels):
    """Normalised input coordinates -> pixel positions (0 is the first pixel's centre)."""
    if stn.align_corners:
        return (normalised + 1) * (n_pixels - 1) / 2
    return (normalised + 1) * n_pixels / 2 - 0.5


def mapped_lines(matrix, n_lines=7):
    """Grid lines of the output frame as (columns, rows) in input pixels."""
    ticks = np.linspace(-1, 1, n_lines)
    ends = [-1.0, 1.0]
    segments = [([t, t], ends) for t in ticks] + [(ends, [t, t]) for t in ticks]
    for x, y in segments:
        mapped = matrix @ np.array([x, y, [1.0, 1.0]])
        xy = mapped[:2] / mapped[2]
        yield to_pixels(xy[0], size), to_pixels(xy[1], size)


outline = np.array([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1], [-1, -1, 1]], float).T
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for k in range(8):
    axes[0, k].imshow(shown[k], cmap="gray_r")
    for cols, rows in mapped_lines(matrices[k]):
        axes[0, k].plot(cols, rows, color="tab:orange", lw=0.6, alpha=0.9)
    corners = matrices[k] @ outline
    cols, rows = to_pixels(corners[:2] / corners[2], size)
    axes[0, k].plot(cols, rows, color="tab:red", lw=1.5)
    axes[1, k].imshow(rectified[k], cmap="gray_r")
    axes[0, k].set_title(f"label {test.labels[k]}", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("input")
axes[1, 0].set_ylabel("warped")
fig.tight_layout()

# %%
# Does the transformer find a canonical pose?
# -------------------------------------------
# Composing the predicted sampling map with the inverse of the true distortion
# maps the output frame into the upright digit's own coordinates. If every
# digit were brought to one pose, these maps would all be the same; their
# spread (relative to the frame's size) measures how far from that they are.
# The input itself (identity map) is the reference.
points = np.array([[-0.5, -0.5, 1], [0.5, -0.5, 1], [0.5, 0.5, 1], [-0.5, 0.5, 1]]).T


def pose_spread(sampling_maps):
    mapped = np.linalg.inv(test.transforms) @ sampling_maps @ points
    mapped = mapped[:, :2] / mapped[:, 2:]
    spread = np.linalg.norm(mapped - mapped.mean(axis=0), axis=1).mean()
    return spread / np.linalg.norm(mapped[:, :, 0] - mapped[:, :, 2], axis=1).mean()


identity = np.tile(np.eye(3), (len(test.images), 1, 1))
print(
    f"pose spread: input {pose_spread(identity):.3f}, "
    f"after the transformer {pose_spread(stn.predict_transform(test.images)):.3f}"
)

# %%
# Training curves
# ---------------
fig, ax = plt.subplots(figsize=(5, 3))
for name, model in models.items():
    ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training cross-entropy")
ax.legend()
fig.tight_layout()
plt.show()
