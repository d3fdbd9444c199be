"""
Clustering warped sequences: k-means with DBA, k-medoids, silhouette
====================================================================

Sequences of one class differ by time warps, so k-means under the Euclidean
distance splits them by *when* their features occur rather than by *what*
they are. Under DTW the assignment step compares shapes, and the centres are
DTW barycenters (DBA) that keep the features sharp.
:class:`~alignkit.estimators._clustering.TimeSeriesKMeans` clusters a
collection of sequences of different lengths this way; it prunes most exact
DTWs of the assignment step with lower bounds without changing any label.
:class:`~alignkit.estimators._clustering.TimeSeriesKMedoids` picks centres
among the sequences themselves, under any of alignkit's distances.
"""

# %%
# Three classes of warped templates
# ---------------------------------
# :func:`alignkit.datasets.make_warped_collection` draws each sequence from one
# of three smooth templates, along a random monotone warp, to a random length
# between 40 and 70 timepoints, plus noise.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import adjusted_rand_score

from alignkit import (
    TimeSeriesKMeans,
    TimeSeriesKMedoids,
    silhouette_score,
)
from alignkit.datasets import make_warped_collection

X, y = make_warped_collection(
    n_sequences=45, n_timepoints=(40, 70), n_classes=3, noise=0.1, random_state=4
)
print("lengths from", min(map(len, X)), "to", max(map(len, X)))

# %%
# K-means under DTW
# -----------------
# Three clusters, k-means++ seeding on DTW costs, DBA updates. The adjusted
# Rand index compares the clusters with the classes (1 is a perfect match).
kmeans = TimeSeriesKMeans(n_clusters=3, window=0.2, random_state=0).fit(X)
print(f"k-means: {kmeans.n_iter_} iterations, inertia {kmeans.inertia_:.2f}")
print(f"adjusted Rand index: {adjusted_rand_score(y, kmeans.labels_):.3f}")
share = kmeans.n_dtw_skipped_ / kmeans.n_dtw_pairs_
print(f"{share:.0%} of {kmeans.n_dtw_pairs_} sequence-centre DTWs skipped by lower bounds")

# %%
# Each panel shows the members of one cluster (grey) and its DBA centre (red).
# The members do not line up in time, yet the centre keeps the height and
# width of their features, at the length of the sequence it started from.
figure, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True, layout="constrained")
for k, ax in enumerate(axes):
    for index in np.flatnonzero(kmeans.labels_ == k):
        ax.plot(X[index][:, 0], color="0.65", lw=0.7)
    centre = kmeans.cluster_centers_[k]
    ax.plot(centre[:, 0], color="tab:red", lw=2.4, label="DBA centre")
    ax.set_title(f"cluster {k}: {np.sum(kmeans.labels_ == k)} sequences")
    ax.set_xlabel("timepoint")
axes[0].legend(loc="lower left", fontsize="small")
plt.show()

# %%
# K-medoids under another distance
# --------------------------------
# A medoid is a training sequence, so any distance will do; here MSM with PAM
# swaps. The silhouette scores both clusterings on one DTW matrix.
kmedoids = TimeSeriesKMedoids(n_clusters=3, metric="msm", method="pam", random_state=0).fit(X)
print(f"k-medoids (MSM): adjusted Rand index {adjusted_rand_score(y, kmedoids.labels_):.3f}")
print(f"medoids: sequences {kmedoids.medoid_indices_.tolist()}")
for name, labels in (("k-means", kmeans.labels_), ("k-medoids", kmedoids.labels_)):
    print(f"{name}: DTW silhouette {silhouette_score(X, labels, window=0.2):.3f}")
