"""
GlimpseDisplay: where a recurrent attention model looks
=======================================================

A recurrent attention model (:class:`~alignkit.GlimpseAligner`) classifies an
image from a few glimpses, each a stack of square patches around one location,
the narrowest sharp and each next one wider and coarser.
:class:`~alignkit.plotting.GlimpseDisplay` draws the glimpse centres in order,
the squares of the retina's scales at each, and a ground-truth box.
"""

# %%
# Given locations
# ---------------
# The constructor takes one image and the glimpse centres ``(x, y)`` in
# ``[-1, 1]`` (``(0, 0)`` the image centre, ``x`` the column). Here: the
# centre, then the true digit's centre.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import make_digit_canvas
from alignkit.plotting import GlimpseDisplay

canvas = make_digit_canvas(200, kind="TC", random_state=0)
image, box = canvas.images[0], canvas.boxes[0]
size = image.shape[-1]
row, col = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
locations = [[0.0, 0.0], [2 * col / size - 1, 2 * row / size - 1]]
display = GlimpseDisplay(image, locations, patch_size=8, n_scales=3, box=box).plot()
widths = [patch.get_width() for patch in display.patches_[1]]
print(
    f"second glimpse at pixel ({display.trajectory_.get_xdata()[1]:.1f}, "
    f"{display.trajectory_.get_ydata()[1]:.1f}); squares {widths} pixels wide"
)

# %%
# From a fitted GlimpseAligner
# ----------------------------
# ``from_estimator`` reads the locations from the policy
# (:meth:`~alignkit.GlimpseAligner.predict_locations`) and the squares from the
# retina's parameters. Two epochs on 200 canvases keep this fast, so the policy
# has learned little; :ref:`sphx_glr_auto_examples_plot_glimpse.py` trains one.
model = alignkit.GlimpseAligner(n_glimpses=4, max_epochs=2, random_state=0)
model.fit(canvas.images, canvas.labels)
figure, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
for ax, image, box in zip(axes, canvas.images, canvas.boxes):
    GlimpseDisplay.from_estimator(model, image, box=box, ax=ax)
print("locations of image 0:", np.round(model.predict_locations(canvas.images[:1])[0], 2).tolist())
plt.show()
