"""
SamplingGridDisplay: where a spatial transformer reads its output from
======================================================================

A spatial transformer (:class:`~alignkit.STNAligner`) warps each image by a
predicted transform. :class:`~alignkit.plotting.SamplingGridDisplay` draws the
lines of a grid over the output frame mapped into each input (where each part
of the warped image is read from), the output frame's edge thick, and the
warped images below.
"""

# %%
# The true transforms
# -------------------
# The constructor takes images, warped images and the ``3 x 3`` sampling
# matrices (output coordinates to input coordinates, both in ``[-1, 1]``).
# :func:`~alignkit.datasets.make_digit_canvas` returns the transform that
# placed each upright digit on its canvas: as a sampling matrix it maps the
# output frame onto the digit's square, so sampling with it (here with torch's
# own sampler, the convention of the STN) brings each digit upright and fills
# the frame with it.
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import alignkit
from alignkit.datasets import make_digit_canvas
from alignkit.plotting import SamplingGridDisplay

rotated = make_digit_canvas(200, kind="R", random_state=0)
images, matrices = rotated.images[:4], rotated.transforms[:4]
inputs = torch.as_tensor(images, dtype=torch.float32)[:, None]
grid = F.affine_grid(
    torch.as_tensor(matrices[:, :2], dtype=torch.float32), inputs.shape, align_corners=False
)
upright = F.grid_sample(inputs, grid, align_corners=False)[:, 0].numpy()
display = SamplingGridDisplay(images, upright, matrices).plot()
print(f"{len(display.outlines_)} frames, each with {len(display.grid_lines_[0])} grid lines")

# %%
# From a fitted STNAligner
# ------------------------
# ``from_estimator`` asks the aligner for its transforms and warped images.
# Two epochs on 200 rotated digits keep this fast, so the transforms have
# barely left the identity; :ref:`sphx_glr_auto_examples_plot_stn.py`
# trains one that rectifies.
stn = alignkit.STNAligner(max_epochs=2, random_state=0).fit(rotated.images, rotated.labels)
display = SamplingGridDisplay.from_estimator(stn, rotated.images[:6])
plt.show()
