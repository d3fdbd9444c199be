"""
Soft-DTW: a smooth relaxation of DTW
====================================

DTW takes the cheapest warping path; soft-DTW (Cuturi & Blondel, 2017)
replaces that minimum by a *soft* minimum with a smoothing parameter
``gamma > 0``, which averages over all paths, each weighted by
``exp(-cost / gamma)``. The result is differentiable, which makes it a loss
for gradient descent (see :func:`alignkit.soft_dtw_grad` and
:func:`alignkit.soft_dtw_barycenter`). This example shows what the smoothing
does: to the alignment, to the value, and why the *divergence* is the
version to use as a distance.
"""

# %%
# Two warped copies of a pattern
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np

import alignkit


def pattern(time):
    """A damped oscillation on [0, 1]."""
    return np.sin(3 * np.pi * time) * np.exp(-(((time - 0.5) / 0.35) ** 2))


a = pattern(np.linspace(0.0, 1.0, 30))
b = pattern(np.linspace(0.0, 1.0, 40) ** 1.4)  # slow start, fast end
hard = alignkit.dtw(a, b)
print(f"DTW summed squared cost: {alignkit.dtw_distance(a, b, squared=True):.4f}")

# %%
# The expected alignment
# ----------------------
# :func:`alignkit.soft_dtw_alignment` returns the value and the matrix ``E``:
# ``E[i, j]`` is the probability that ``a[i]`` is matched with ``b[j]`` when a
# path is drawn with probability proportional to ``exp(-cost / gamma)``. For a
# large ``gamma`` the probability spreads over many paths around the DTW path;
# as ``gamma`` shrinks it concentrates on the DTW path (red). The few grey
# cells left at ``gamma = 0.001`` are where another path costs almost the same.
gammas = [1.0, 0.1, 0.01, 0.001]
figure, axes = plt.subplots(1, len(gammas), figsize=(13, 3.6), sharey=True, layout="constrained")
for ax, gamma in zip(axes, gammas):
    value, expected = alignkit.soft_dtw_alignment(a, b, gamma=gamma)
    image = ax.imshow(expected, origin="lower", cmap="Greys", vmin=0, vmax=1)
    ax.plot(hard.path[:, 1], hard.path[:, 0], color="tab:red", lw=0.8, label="DTW path")
    ax.set_title(f"gamma = {gamma:g}\nsoft-DTW = {value:.3f}")
    ax.set_xlabel("b (timepoint)")
axes[0].set_ylabel("a (timepoint)")
axes[0].legend(loc="upper left", fontsize="small")
figure.colorbar(image, ax=axes, label="P(a[i] matched with b[j])")
plt.show()

# %%
# The value tends to the DTW cost
# -------------------------------
# The soft minimum is never above the minimum, so soft-DTW is at most the
# summed squared DTW cost (``dtw_distance(a, b, squared=True)``), and it tends
# to that cost as ``gamma -> 0``: the gap below, on log scales, shrinks to zero
# with ``gamma``. For a large ``gamma`` the value even turns negative (see the
# titles above): many paths together weigh more than the best one alone.
gamma_grid = np.logspace(-4, 1, 41)
dtw_cost = alignkit.dtw_distance(a, b, squared=True)
gaps = [dtw_cost - alignkit.soft_dtw(a, b, gamma=gamma) for gamma in gamma_grid]

figure, ax = plt.subplots(figsize=(7, 3.8))
ax.loglog(gamma_grid, gaps, marker=".")
ax.set_xlabel("gamma")
ax.set_ylabel("DTW cost - soft-DTW value")
ax.set_title("Soft-DTW stays below the DTW cost and converges to it")
figure.tight_layout()
plt.show()
for gamma in (1e-2, 1e-3, 1e-4):
    print(f"gamma = {gamma:g}: soft-DTW = {alignkit.soft_dtw(a, b, gamma=gamma):.6f}")

# %%
# The divergence
# --------------
# Soft-DTW is not a distance: ``soft_dtw(a, a)`` is negative, not zero.
# :func:`alignkit.soft_dtw_divergence` subtracts the two self terms,
# ``soft_dtw(a, b) - (soft_dtw(a, a) + soft_dtw(b, b)) / 2``, which is zero for
# ``a == b`` and positive otherwise (Blondel, Mensch & Vert, 2021).
print(f"soft_dtw(a, a)            = {alignkit.soft_dtw(a, a, gamma=0.1):.3f}")
print(f"soft_dtw_divergence(a, a) = {alignkit.soft_dtw_divergence(a, a, gamma=0.1):.3f}")

# %%
# Compare ``a`` with copies of itself shifted in time by a fraction of a
# timepoint up to a few timepoints. DTW is jagged: how well the samples of a
# shifted copy line up with those of ``a`` changes from one shift to the
# next. The divergence with ``gamma = 0.1`` is smooth, and smallest (zero) at
# no shift, which is what an optimiser needs; a smaller ``gamma`` follows DTW
# more closely, wiggles included.
time = np.linspace(0.0, 1.0, 40)
reference = pattern(time)
shifts = np.linspace(-0.12, 0.12, 97)
shifted = [pattern(time + shift) for shift in shifts]
dtw_costs = [alignkit.dtw_distance(reference, s, squared=True) for s in shifted]

figure, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(shifts, dtw_costs, color="tab:red", label="DTW cost")
for gamma in (0.1, 0.01):
    divergences = [alignkit.soft_dtw_divergence(reference, s, gamma=gamma) for s in shifted]
    ax.plot(shifts, divergences, label=f"soft-DTW divergence, gamma = {gamma:g}")
ax.set_xlabel("time shift of the copy (fraction of the duration)")
ax.set_ylabel("dissimilarity to the unshifted pattern")
ax.set_title("DTW is jagged in the shift; the divergence is smooth")
ax.legend()
figure.tight_layout()
plt.show()
