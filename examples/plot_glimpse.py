"""
Recurrent attention: where does the model look?
===============================================

A recurrent attention model (Mnih et al., 2014) classifies an image from a few
small glimpses. Each glimpse is a stack of patches around one location, the
first sharp and narrow, the others twice as wide and coarser. After each
glimpse a recurrent core updates its state and a stochastic policy picks the
next location; the policy is trained by REINFORCE, rewarded when the class is
right. The glimpse locations are the alignment: they say where in the image the
evidence was found.

The images are cluttered canvases: a 16x16 digit at a random position on a
40x40 canvas, with four 8x8 patches cut from other digits
(:func:`alignkit.datasets.make_digit_canvas`, kind ``"TC"``), which also
returns the true digit boxes.
"""

# %%
# Cluttered digits
# ----------------
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from alignkit import GlimpseAligner
from alignkit.datasets import make_digit_canvas

torch.set_num_threads(1)
sources = np.arange(1797)
train = make_digit_canvas(5 * 1437, "TC", source_indices=sources[sources % 5 != 0], random_state=0)
test = make_digit_canvas(None, "TC", source_indices=sources[sources % 5 == 0], random_state=1)
size = test.images.shape[-1]


def hit_rate(locations, canvas):
    """Fraction of glimpses after the first whose centre lies in the digit box."""
    pixels = (locations + 1) * size / 2
    boxes = canvas.boxes[:, None]
    inside = (
        (pixels[..., 0] >= boxes[..., 1])
        & (pixels[..., 0] <= boxes[..., 3])
        & (pixels[..., 1] >= boxes[..., 0])
        & (pixels[..., 1] <= boxes[..., 2])
    )
    return inside[:, 1:].mean()


# %%
# Train the model
# ---------------
# Four glimpses of three 8x8 patches (8, 16 and 32 pixels wide), on 7185
# training canvases (five per source digit). The reward is the probability of
# the true class, a denser signal than the paper's 0/1. About 2.5 CPU minutes.
start = time.process_time()
model = GlimpseAligner(n_glimpses=4, n_scales=3, reward="probability", max_epochs=100)
model.set_params(random_state=0).fit(train.images, train.labels)
locations = model.predict_locations(test.images)
print(f"trained in {time.process_time() - start:.0f} CPU s")
print(f"test error {1 - model.score(test.images, test.labels):.3f}")
print(f"glimpses in the digit box: learned {hit_rate(locations, test):.2f}, ", end="")
print(f"canvas centre {hit_rate(np.zeros_like(locations), test):.2f}")

# %%
# Glimpse trajectories
# --------------------
# The first glimpse is always the canvas centre; the next ones are the policy's
# choices. The green box is the true digit; the squares show the narrowest patch.
fig, axes = plt.subplots(2, 6, figsize=(13, 4.6))
for ax, image, path, box, label in zip(
    axes.ravel(), test.images, locations, test.boxes, test.labels
):
    ax.imshow(image, cmap="gray_r")
    cols, rows = (path[:, 0] + 1) * size / 2 - 0.5, (path[:, 1] + 1) * size / 2 - 0.5
    ax.plot(cols, rows, "-o", color="tab:red", ms=3, lw=1)
    for step, (col, row) in enumerate(zip(cols, rows)):
        ax.add_patch(plt.Rectangle((col - 4, row - 4), 8, 8, fill=False, color="tab:red", lw=0.8))
        ax.annotate(str(step + 1), (col, row), color="tab:blue", fontsize=8)
    r0, c0, r1, c1 = box
    ax.add_patch(
        plt.Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, color="tab:green")
    )
    ax.set_title(f"true {label}, predicted {model.predict(image[None])[0]}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %%
# Training curves
# ---------------
# The mean reward of the sampled trajectories (their training accuracy) and the
# hybrid loss.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
epochs = np.arange(1, model.n_iter_ + 1)
left.plot(epochs, model.reward_curve_)
left.set_xlabel("epoch")
left.set_ylabel("training accuracy (sampled)")
right.plot(epochs, model.loss_curve_)
right.set_xlabel("epoch")
right.set_ylabel("hybrid loss")
fig.tight_layout()
plt.show()
