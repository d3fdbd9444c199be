"""
Deep canonical time warping: aligning nonlinear views
=====================================================

Canonical time warping (CTW) projects two modalities LINEARLY into a shared
space before aligning them with DTW. When each modality sees the shared signal
through a nonlinear map, no linear projection recovers it well. Deep CTW
(:class:`alignkit.DeepCTWAligner`) learns one small neural network per
modality, trained to maximise the total canonical correlation of the frames
matched by the current alignment, and re-aligns with DTW after each training
step.

The data follow the spiral protocol of CTW with nonlinear views
(:func:`alignkit.datasets.make_nonlinear_views`): a 2-D spiral, each sequence
warped in time at random, seen by modality ``a`` through a random map
``W2 tanh(s W1 z + c)`` into 10 channels and by modality ``b`` through another
into 15, plus 2 noise channels each. The maps are shared by all pairs, so a
model trained on 20 pairs aligns 20 new ones.
"""

# %%
# Nonlinear views with known alignments
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA

import alignkit
from alignkit.datasets import make_nonlinear_views
from alignkit.estimators._uniform import uniform_path
from alignkit.metrics import path_distance

torch.set_num_threads(1)
pairs, true_paths = make_nonlinear_views(n_pairs=40, nonlinearity=3.0, random_state=1)
train, test, test_truth = pairs[:20], pairs[20:], true_paths[20:]
print("a:", test[0][0].shape, " b:", test[0][1].shape)

# %%
# Fit Deep CTW and linear CTW on the same 20 pairs
# ------------------------------------------------
# Deep CTW starts from the uniform paths; each epoch is one full-batch Adam
# step on the correlation loss, then a linear CCA of the encoder outputs and
# DTW of every pair in the canonical space.
deep = alignkit.DeepCTWAligner(random_state=0).fit(train)
ctw = alignkit.CTWAligner().fit(train)

# %%
# The correlation objective cannot tell the true alignment from one re-timed
# the same way for every pair, so what the encoders settle on depends on
# their initial weights. ``path_prior="diagonal"`` adds an assumption that
# holds here (the random warps lead neither way on average) and removes the
# shared re-timing at every epoch.
deep_prior = alignkit.DeepCTWAligner(path_prior="diagonal", random_state=0).fit(train)

# %%
# DTW needs the same channels on both sides: as a baseline, reduce each
# modality to 2 principal components (fitted on the training pairs) first.
pca_a = PCA(2).fit(np.vstack([a for a, _ in train]))
pca_b = PCA(2).fit(np.vstack([b for _, b in train]))


def dtw_path(a, b):
    return alignkit.dtw(pca_a.transform(a), pca_b.transform(b)).path


paths = {
    "Deep CTW": [alignment.path for alignment in deep.align_pairs(test)],
    "Deep CTW, diagonal prior": [a.path for a in deep_prior.align_pairs(test)],
    "CTW": [alignment.path for alignment in ctw.align_pairs(test)],
    "DTW (PCA)": [dtw_path(a, b) for a, b in test],
    "uniform": [uniform_path(len(a), len(b)) for a, b in test],
}
errors = {
    name: np.mean([path_distance(p, t) for p, t in zip(found, test_truth)])
    for name, found in paths.items()
}
for name, error in errors.items():
    print(f"{name:25s} mean held-out error {error:.2f} frames")

# %%
# Training curve and paths against the ground truth
# -------------------------------------------------
# Left: minus the total canonical correlation of the 16 encoder outputs per
# epoch (the lowest possible value is -16). Right: the paths found for one
# held-out pair.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(np.arange(1, deep.n_iter_ + 1), deep.loss_curve_)
left.set(xlabel="epoch", ylabel="loss (- total correlation)", title="Deep CTW training")
truth = test_truth[0]
right.plot(truth[:, 1], truth[:, 0], "k", lw=4, alpha=0.3, label="ground truth")
for name, found in paths.items():
    right.plot(found[0][:, 1], found[0][:, 0], label=f"{name} ({errors[name]:.2f})")
right.set(xlabel="frame of b", ylabel="frame of a", title="A held-out pair")
right.legend(fontsize="small")
fig.tight_layout()
plt.show()
