"""Asymmetric DTW (ZCTW's ``adtw``): every reference frame matched to one sequence frame.

The reference (latent) axis advances one frame per step; the sequence stays
or advances by one frame, so the path has the reference's length. Recurrence
over latent columns ``j``::

    D[i, j] = c(i, j) + min(D[i - 1, j - 1], D[i, j - 1]),   D[0, 0] = c(0, 0)

with ``c`` the squared Euclidean cost and ``inf`` outside the per-row band.
Ties prefer advancing.
"""

import numpy as np
from numba import njit

from ._dtw import _sqeuclidean
from ._flags import JIT_OPTIONS

_INF = np.inf


@njit(**JIT_OPTIONS)
def asymmetric_dtw(sequence, reference, lo, hi):
    """Best asymmetric path of ``sequence`` against ``reference``, and its cost.

    Parameters
    ----------
    sequence : ndarray of shape (n_frames, n_channels), float64
    reference : ndarray of shape (n_latent, n_channels), float64
    lo, hi : ndarray of shape (n_frames,), int64
        Row ``i`` of ``sequence`` may match latent frames ``lo[i] <= j < hi[i]``.

    Returns
    -------
    path : ndarray of shape (n_latent,), int64
        The sequence frame matched to each latent frame.
    total : float
        The summed cost of the path; ``inf`` when the band admits none
        (``path`` is then meaningless).
    """
    n_frames = sequence.shape[0]
    n_latent = reference.shape[0]
    total = np.full(n_frames, _INF)
    if lo[0] <= 0 < hi[0]:
        total[0] = _sqeuclidean(sequence, 0, reference, 0)
    advance = np.zeros((n_frames, n_latent), dtype=np.bool_)
    for j in range(1, n_latent):
        # From the last frame down, so total[i - 1] still holds column j - 1.
        for i in range(n_frames - 1, -1, -1):
            stay = total[i]
            moved = total[i - 1] if i > 0 else _INF
            step = moved <= stay
            advance[i, j] = step
            if lo[i] <= j < hi[i]:
                total[i] = _sqeuclidean(sequence, i, reference, j) + (moved if step else stay)
            else:
                total[i] = _INF
    path = np.empty(n_latent, dtype=np.int64)
    frame = n_frames - 1
    for j in range(n_latent - 1, -1, -1):
        path[j] = frame
        if frame > 0 and advance[frame, j]:
            frame -= 1
    return path, total[n_frames - 1]
