"""
Where a captioning model looks: soft attention over an image grid
=================================================================

Show, Attend and Tell (Xu et al., 2015) decodes a caption one token at a
time, and at each token spreads its attention over the cells of a CNN's
feature grid. Here the images are digits translated at random on a larger
canvas and the caption is two tokens, the digit's class and its parity. The
class can only be read from the digit, so at the class token the attention
should sit inside the digit's box, wherever the digit is: the box is the
ground truth. :class:`alignkit.SoftAttentionAligner` with ``input="grid"``
trains on one CPU thread; the whole example runs in about a minute.
"""

# %%
# Captioned digit canvases
# ------------------------
# ``make_digit_captions`` returns ``(image, caption)`` pairs and the canvas
# with each digit's box. Training and held-out images use different source
# digits.
import matplotlib.pyplot as plt
import numpy as np
import torch

from alignkit import SoftAttentionAligner
from alignkit.datasets import make_digit_captions

torch.set_num_threads(1)
order = np.random.RandomState(0).permutation(1797)
train, _ = make_digit_captions(1000, kind="T", source_indices=order[:1400], random_state=0)
test, canvas = make_digit_captions(300, kind="T", source_indices=order[1400:], random_state=1)
print(f"image {test[0][0].shape}, caption {test[0][1].tolist()}, box {canvas.boxes[0]}")

# %%
# Train the captioner
# -------------------
# The same pairs convention as for sequences: ``X`` is a list of
# ``(source, target)`` pairs, here ``(image, tokens)``.
model = SoftAttentionAligner(
    input="grid", hidden_size=64, batch_size=16, max_epochs=25, random_state=0
).fit(train)
print(f"attention grid {model.grid_shape_}, tokens {model.classes_.tolist()}")

# %%
# Attention mass inside the digit's box at the class token
# --------------------------------------------------------
# ``attention(X, upsample=True)`` spreads each cell's weight over the pixels
# it covers, so the maps are at image resolution and still sum to 1. A box
# edge may cut a pixel: the pixel counts by the fraction inside.


def box_fraction(attention_map, box):
    """Attention mass inside ``box`` = (row_min, col_min, row_max, col_max), pixel edges."""
    height, width = attention_map.shape
    rows, cols = np.arange(height), np.arange(width)
    inside_rows = np.clip(np.minimum(rows + 1, box[2]) - np.maximum(rows, box[0]), 0, 1)
    inside_cols = np.clip(np.minimum(cols + 1, box[3]) - np.maximum(cols, box[1]), 0, 1)
    return float((attention_map * np.outer(inside_rows, inside_cols)).sum())


maps = model.attention(test, upsample=True)
inside = np.mean([box_fraction(m[0], box) for m, box in zip(maps, canvas.boxes)])
boxes = canvas.boxes
share = np.mean((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])) / 40**2
decoded = model.predict(canvas.images)
accuracy = np.mean([d[0] == caption[0] for d, (_, caption) in zip(decoded, test)])
print(f"class token: {inside:.2f} of the attention inside the box, {inside / share:.1f} times")
print(f"the box's share of the canvas ({share:.2f}); class accuracy {accuracy:.2f}")

# %%
# Attention per decoded token
# ---------------------------
# Feeding the decoded tokens back (teacher forcing on the model's own output)
# gives the attention behind each decoded token. The true box is drawn in red.
shown = range(4)
pairs = [(canvas.images[k], decoded[k]) for k in shown]
fig, axes = plt.subplots(len(pairs), 3, figsize=(7, 2.4 * len(pairs)))
for row, ((image, tokens), maps_k, box) in enumerate(
    zip(pairs, model.attention(pairs, upsample=True), canvas.boxes)
):
    axes[row, 0].imshow(image, cmap="gray")
    axes[row, 0].set_title("image")
    for step in range(2):
        ax = axes[row, step + 1]
        ax.imshow(image, cmap="gray")
        if step < len(tokens):
            ax.imshow(maps_k[step], cmap="inferno", alpha=0.6, interpolation="bilinear")
            ax.set_title(f"token {step}: '{tokens[step]}'")
    for ax in axes[row]:
        ax.add_patch(
            plt.Rectangle(
                (box[1] - 0.5, box[0] - 0.5),
                box[3] - box[1],
                box[2] - box[0],
                fill=False,
                ec="red",
                lw=1,
            )
        )
        ax.set_axis_off()
fig.tight_layout()
plt.show()
