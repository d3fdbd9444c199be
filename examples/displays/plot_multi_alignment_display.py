"""
MultiAlignmentDisplay: several sequences on one timeline (GCTW)
===============================================================

Generalised canonical time warping (:func:`alignkit.multiview.gctw`) aligns
several sequences at once: each gets a warp onto one latent timeline and a
projection into a shared space. :class:`~alignkit.plotting.MultiAlignmentDisplay`
draws every warp, and, given the sequences, their first canonical variate on
the latent timeline, where the sequences agree.
"""

# %%
# Four warped spirals
# -------------------
import matplotlib.pyplot as plt

from alignkit.datasets import make_warped_spirals
from alignkit.multiview import gctw
from alignkit.plotting import MultiAlignmentDisplay

spirals = make_warped_spirals(n_sequences=4, random_state=0)[0]
result = gctw(spirals, n_components=2)
print("lengths", list(result.lengths), "latent timeline", len(result.paths))
display = MultiAlignmentDisplay(result, spirals).plot()

# %%
# The artists
# -----------
# ``warp_lines_[k]`` holds sequence ``k``'s frame at each latent step: a
# monotone curve, flat where the sequence lingers.
for k, line in enumerate(display.warp_lines_):
    frames = line.get_ydata()
    print(f"sequence {k}: frames {frames[0]:.0f} to {frames[-1]:.0f}")

# %%
# The warps alone
# ---------------
# Without the sequences the display draws the warps only, here into axes of
# our own, labelled.
figure, ax = plt.subplots(figsize=(5, 4), layout="constrained")
labels = [f"spiral {k} ({length} frames)" for k, length in enumerate(result.lengths)]
MultiAlignmentDisplay(result, labels=labels).plot(ax=ax, title="warps only")
plt.show()
