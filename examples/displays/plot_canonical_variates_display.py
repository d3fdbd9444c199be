"""
CanonicalVariatesDisplay: what canonical time warping learned
=============================================================

CTW (and deep CTW) project two sequences of different channel counts into a
shared space, where DTW aligns them.
:class:`~alignkit.plotting.CanonicalVariatesDisplay` shows the projected
sequences (the canonical variates) on their own timelines, then along the
alignment path, where an aligner that did its job makes them agree.
"""

# %%
# From a fitted CTW aligner
# -------------------------
# Two warped, rotated and noisy copies of one 2-D spiral, in 3 and 5
# channels.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import make_warped_spirals
from alignkit.plotting import CanonicalVariatesDisplay

rng = np.random.default_rng(0)
spirals = make_warped_spirals(n_sequences=2, random_state=0)[0]
a = spirals[0]
b = np.hstack([spirals[1], rng.standard_normal((len(spirals[1]), 2)) * 0.1])
ctw = alignkit.CTWAligner(n_components=2).fit([(a, b)])
display = CanonicalVariatesDisplay.from_estimator(ctw, a, b, components="all")

# %%
# The artists
# -----------
# After warping, point ``k`` of each "after" line is the variate at the
# ``k``-th matched pair, so the two lines can be compared point by point.
after_a = display.lines_after_a_[0].get_ydata()
after_b = display.lines_after_b_[0].get_ydata()
print(f"first variate along the path: correlation {np.corrcoef(after_a, after_b)[0, 1]:.3f}")

# %%
# From variates and an alignment
# ------------------------------
# The constructor takes variates from any model with the alignment of the
# pair; here the first two channels of each side, aligned by DTW, without
# projection.
raw = alignkit.dtw(a[:, :2], b[:, :2])
display = CanonicalVariatesDisplay(a[:, :2], b[:, :2], raw, labels=("a, raw", "b, raw"))
display.plot(title="the first two channels, no projection")
plt.show()
