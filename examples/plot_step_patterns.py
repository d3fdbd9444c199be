"""
Step patterns: which moves a warping path may make
==================================================

A *step pattern* lists the local moves a DTW path may take and how much each
one costs. The default, ``symmetric1``, allows a step right, up, or
diagonally, each paying the local cost of the cell it reaches. Others weigh
the diagonal twice (``symmetric2``), advance the first sequence by exactly one
timepoint per step (``asymmetric``), or limit the local slope of the path
(Sakoe and Chiba's ``symmetricP2``). :func:`alignkit.dtw` takes any of them
through ``step_pattern`` and follows dtw-python's definitions.
"""

# %%
# A pair with a pause
# -------------------
# ``b`` is ``a`` played at a varying speed, with a pause: it holds still for
# 14 steps (15 timepoints show the same instant) in the middle of the rise.
# Since we built ``b`` from ``a``, we know which timepoint of ``a`` each
# timepoint of ``b`` shows (dashed below).
import matplotlib.pyplot as plt
import numpy as np

import alignkit


def pattern(time):
    """A smooth rise and fall on [0, 1]."""
    return np.sin(2.5 * np.pi * time) * np.exp(-(((time - 0.45) / 0.4) ** 2))


n, m = 45, 60
a = pattern(np.linspace(0.0, 1.0, n))
moving = np.linspace(0.0, 1.0, m - 14) ** 1.2
shown = np.insert(moving, 12, np.full(14, moving[12]))  # the pause
b = pattern(shown)
true_i = shown * (n - 1)  # a's (fractional) timepoint shown at each timepoint of b
local_cost = (a[:, None] - b[None, :]) ** 2

# %%
# Four patterns on the same pair
# ------------------------------
# ``normalized_distance`` divides the summed weighted cost by ``n + m``
# (symmetric2, symmetricP2) or ``n`` (asymmetric), so that it compares across
# lengths; symmetric1 has no normalisation. We use ``squared=True`` to see the
# sums themselves.
patterns = ["symmetric1", "symmetric2", "asymmetric", "symmetricP2"]
alignments = {name: alignkit.dtw(a, b, step_pattern=name, squared=True) for name in patterns}


def longest_pause(path):
    """Most consecutive steps along which ``a`` stands still while ``b`` moves."""
    still = np.diff(path[:, 0]) == 0
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, still.astype(int), 0])))[::2]
    return int(runs.max()) if len(runs) else 0


for name, alignment in alignments.items():
    normalized = alignment.normalized_distance
    normalized = "-" if normalized is None else f"{normalized:.5f}"
    print(
        f"{name:12s} summed cost {alignment.distance:.4f}, normalized {normalized:>7s}, "
        f"{len(alignment.path)} cells, longest pause of a: {longest_pause(alignment.path)} steps"
    )

# %%
# The paths over the local cost ``(a[i] - b[j]) ** 2``, with the true
# correspondence dashed.
figure, axes = plt.subplots(1, 4, figsize=(15, 4.2), sharey=True, layout="constrained")
for ax, (name, alignment) in zip(axes, alignments.items()):
    ax.imshow(local_cost, origin="lower", cmap="Greys", aspect="auto")
    ax.plot(np.arange(m), true_i, "--", color="tab:blue", lw=1.2, label="true")
    ax.plot(
        alignment.path[:, 1], alignment.path[:, 0], ".-", color="tab:red", ms=3, lw=1, label="path"
    )
    ax.set_title(name)
    ax.set_xlabel("b (timepoint)")
axes[0].set_ylabel("a (timepoint)")
axes[0].legend(loc="upper left", fontsize="small")
plt.show()

# %%
# The darker a cell, the higher its cost. symmetric1 and symmetric2 follow
# the pause exactly: ``a`` stands still for 14 steps while ``b`` moves (their
# paths differ in one cell here; symmetric2 pays the diagonal twice, so unlike
# symmetric1 it does not favour diagonal shortcuts). asymmetric advances ``a`` by one
# timepoint at every step and ``b`` by 0, 1 or 2, so each timepoint of ``a``
# is matched exactly once: it cannot stand still, and it crosses the pause
# at two timepoints of ``b`` per timepoint of ``a`` at most. symmetricP2
# keeps the local slope between 2/3 and 3/2 (a step of ``b`` alone only after
# two diagonal steps), so it must leave the cheap valley and pays for it in
# its cost.
#
# Slope constraints guard against pathological warpings, where one timepoint
# is matched to many, at the price of missing real pauses like this one. The
# summed costs of different patterns are not comparable (their weights
# differ); ``normalized_distance`` compares pairs of different lengths under
# one pattern.
