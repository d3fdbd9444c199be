"""
Averaging warped sequences: DBA and soft-DTW barycenters
========================================================

The average of a collection of sequences that differ by time warps should
look like each of them, with the features where they typically are. The
arithmetic mean after stretching every sequence to a common length does not:
features that occur at different times are smeared out. A *barycenter* under
DTW is the sequence with the smallest summed DTW cost to the collection.
:func:`alignkit.dba` (DTW barycenter averaging) finds one by alternating
alignment and averaging; :func:`alignkit.soft_dtw_barycenter` minimises the
smooth soft-DTW objective with a gradient method instead.
"""

# %%
# A collection of warped copies
# -----------------------------
# The template is a narrow peak followed by a dip. Each copy is the template
# resampled along a random monotone warp (a speed that varies smoothly,
# between about a third and three times the average) to a random length, plus
# noise. We score every average by its summed squared DTW cost to the
# collection, the objective that DBA minimises.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.distances import medoid_index

rng = np.random.default_rng(1)
grid = np.linspace(0.0, 1.0, 200)
template = np.exp(-(((grid - 0.3) / 0.05) ** 2)) - 0.7 * np.exp(-(((grid - 0.65) / 0.06) ** 2))


def warped_copy(length):
    """The template along a random monotone warp, ``length`` timepoints, noisy."""
    speed = np.interp(
        np.linspace(0, 1, length), np.linspace(0, 1, 5), np.exp(rng.normal(0, 0.5, 5))
    )
    position = np.concatenate([[0.0], np.cumsum(speed[1:])])
    sequence = np.interp(position / position[-1], grid, template)
    return (sequence + 0.03 * rng.standard_normal(length))[:, None]


X = [warped_copy(length) for length in rng.integers(50, 91, size=12)]
print("lengths:", [len(x) for x in X])


def summed_cost(average):
    """Sum over the collection of the squared DTW cost to ``average``."""
    return sum(alignkit.dtw_distance(x, average, squared=True) for x in X)


# %%
# Three averages of the same length
# ---------------------------------
# Both barycenters start from the medoid (the sequence with the smallest
# summed cost to the others) and keep its length; the arithmetic mean uses
# the same length, every sequence resampled linearly to it by
# :class:`~alignkit.UniformAligner`.
medoid = X[medoid_index(X)]
n_timepoints = len(medoid)
averages = {
    "arithmetic mean": alignkit.UniformAligner(n_timepoints=n_timepoints)
    .fit_transform(X)
    .mean(axis=0),
    "DBA": alignkit.dba(X),
    "soft-DTW barycenter, gamma = 0.1": alignkit.soft_dtw_barycenter(X, gamma=0.1),
}
print(f"medoid: {n_timepoints} timepoints, summed cost {summed_cost(medoid):.3f}")
for name, average in averages.items():
    print(f"{name}: summed cost {summed_cost(average):.3f}")

# %%
# The collection (left, each sequence stretched to the common duration so that
# they can be overlaid) and each average over it, with the template dashed.
# The peaks of the copies do not line up, so the arithmetic mean has a lower,
# wider peak than any of them. DBA and the soft-DTW barycenter keep (nearly)
# the height and width of the template's features, and the soft-DTW
# barycenter is smoother. Where the features lie in time is arbitrary for a
# DTW average; both keep roughly that of the medoid they started from.
figure, axes = plt.subplots(1, 4, figsize=(15, 3.4), sharey=True, layout="constrained")
stretched = alignkit.UniformAligner(n_timepoints=n_timepoints).fit_transform(X)
for ax in axes:
    for sequence in stretched:
        ax.plot(sequence[:, 0], color="0.6", lw=0.7)
axes[0].set_title(f"{len(X)} warped copies")
for ax, (name, average) in zip(axes[1:], averages.items()):
    ax.plot(
        np.linspace(0, n_timepoints - 1, len(template)), template, "k--", lw=1, label="template"
    )
    ax.plot(average[:, 0], color="tab:red", lw=2.2, label="average")
    ax.set_title(f"{name}\nsummed DTW cost {summed_cost(average):.2f}", fontsize="medium")
for ax in axes:
    ax.set_xlabel("timepoint")
axes[1].legend(loc="lower left", fontsize="small")
plt.show()

# %%
# DBA has the lowest summed DTW cost: it descends that very objective. The
# soft-DTW barycenter minimises soft-DTW instead, which for a large ``gamma``
# rewards an average that is close to the sequences along many paths at once
# (hence smoother); its *DTW* cost comes closer to DBA's as ``gamma`` shrinks:
for gamma in (1.0, 0.1, 0.01):
    barycenter = alignkit.soft_dtw_barycenter(X, gamma=gamma)
    print(f"gamma = {gamma:g}: summed DTW cost {summed_cost(barycenter):.3f}")

# %%
# Soft-DTW's advantage is elsewhere: it is differentiable, so it accepts
# weights per sequence (``weights=``) and serves as a loss inside models
# trained by gradient descent.
