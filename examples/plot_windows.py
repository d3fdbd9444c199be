"""
Window shapes
=============

A window restricts the cells ``(i, j)`` that a warping path may visit. alignkit
stores a window as per-row column bounds ``[lo, hi)`` (plus a cell mask for
user masks), computed by ``window_bounds(window, n, m)``. This example
draws those cells as images for the windows :func:`alignkit.dtw` accepts, and
the optimal path between two random sequences inside each one.

Every band contains the *diagonal*: the cells that the straight line from
``(0, 0)`` to ``(n - 1, m - 1)`` passes through. So a band admits a path for
any pair of lengths, and a radius of 0 keeps the path on the cells the line
crosses (for equal lengths, the main diagonal).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.validation import window_bounds


def allowed_cells(window, n, m):
    """Boolean image of the cells a path may visit in an ``n`` by ``m`` problem."""
    lo, hi, cell_ok = window_bounds(window, n, m)
    image = np.zeros((n, m), dtype=bool)
    start = 0
    for i in range(n):
        width = hi[i] - lo[i]
        # Bands allow every cell in [lo, hi); a mask says cell by cell.
        image[i, lo[i] : hi[i]] = cell_ok[start : start + width] if len(cell_ok) else True
        start += width
    return image


# %%
# A user mask: any boolean array of shape ``(n, m)`` that allows ``(0, 0)`` and
# ``(n - 1, m - 1)``. This one forbids a block in the middle, so the path must go
# around it.
n_mask, m_mask = 30, 45
mask = np.ones((n_mask, m_mask), dtype=bool)
mask[8:22, 12:30] = False

cases = [
    ("radius 0 (the diagonal)", 0, 30, 45),
    ("Sakoe-Chiba, radius 3", 3, 30, 30),
    ("Sakoe-Chiba, radius 3,\nunequal lengths", 3, 30, 45),
    ("Sakoe-Chiba, 20% of 45\n(radius 9)", 0.2, 30, 45),
    ("Itakura, max slope 2", ("itakura", 2.0), 30, 30),
    ("Itakura, max slope 2,\nunequal lengths", ("itakura", 2.0), 30, 45),
    ("Itakura, max slope 3", ("itakura", 3.0), 30, 45),
    ("user mask", mask, n_mask, m_mask),
]

rng = np.random.default_rng(0)
figure, axes = plt.subplots(2, 4, figsize=(15, 7.5))
for ax, (title, window, n, m) in zip(axes.ravel(), cases):
    a = np.cumsum(rng.standard_normal(n))
    b = np.cumsum(rng.standard_normal(m))
    path = alignkit.dtw(a, b, window=window).path
    ax.imshow(allowed_cells(window, n, m), origin="lower", cmap="Blues", vmin=0, vmax=1.6)
    ax.plot(path[:, 1], path[:, 0], color="tab:red", lw=1.5, label="DTW path")
    ax.set_title(title)
    ax.set_xlabel(f"b (timepoint, m = {m})")
    ax.set_ylabel(f"a (timepoint, n = {n})")
axes[0, 0].legend(loc="upper left", fontsize="small")
figure.suptitle("Cells a warping path may visit (blue), and the optimal path inside them")
figure.tight_layout()
plt.show()

# %%
# With unequal lengths the band follows the slanted diagonal, so the radius is
# measured around the line from ``(0, 0)`` to ``(n - 1, m - 1)``, not around
# ``i = j``. A float window is a fraction of the longer length (the UCR
# archive's convention), rounded to the nearest timepoint. The Itakura
# parallelogram keeps the slope of the path between ``1 / max_slope`` and
# ``max_slope`` (relative to the diagonal) and always contains the diagonal,
# so it too admits a path for any lengths.
