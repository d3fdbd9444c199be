"""Canonical correlation analysis: the one CCA module of alignkit.

- :func:`multiset_cca`: multi-set CCA solved exactly as a generalised
  eigenproblem, the spatial step of canonical time warping (CTW, two views)
  and of its generalised form (GCTW, m >= 3 views);
- :func:`linear_cca`: two-view CCA with an additive ridge per view, the
  final linear layer of deep CTW on top of its encoders. Its differentiable
  torch twin, which deep CTW trains through, is
  ``alignkit.kernels._torch._cca.canonical_correlations`` (torch-only code
  lives under ``kernels/_torch``, so importing this module never imports
  torch).

Private: the aligners call them on views that are already warped onto one
timeline.

With ``m`` centred views ``X_k`` of shape ``(n_frames, d_k)``, covariance
blocks ``C_kl = X_k^T X_l / n_frames`` and a ridge ``reg`` in ``[0, 1)``, the
projections ``V = [V_1; ...; V_m]`` are the leading eigenvectors of

.. math::

    A v = \\lambda B v, \\quad
    A = [C_{kl}]_{k \\ne l} \\ (\\text{zero diagonal blocks}), \\quad
    B = \\mathrm{blkdiag}_k\\big((1 - reg) C_{kk} + reg I\\big),

as in F. Zhou's reference ``mcca.m``. ``scipy.linalg.eigh(A, B)`` returns
B-orthonormal eigenvectors, ``V^T B V = I``, i.e.
``sum_k V_k^T ((1 - reg) C_kk + reg I) V_k = I``: with two views each view
carries half of the unit variance, and the eigenvalues are the canonical
correlations.
"""

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

from ..exceptions import InvalidInputError

__all__ = ["multiset_cca", "ctw_objective", "linear_cca", "resolve_n_components"]

# A view covariance whose smallest eigenvalue is below this fraction of its
# largest is treated as singular: eigh(A, B) would return meaningless vectors.
_SINGULAR_RTOL = 1e-10


def _check_views(views):
    if not isinstance(views, (list, tuple)) or len(views) < 2:
        raise InvalidInputError("views must be a list of at least 2 arrays")
    arrays = []
    for k, view in enumerate(views):
        array = np.asarray(view, dtype=np.float64)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] == 0:
            raise InvalidInputError(
                f"views[{k}] must have shape (n_frames, n_channels), got {array.shape}"
            )
        if not np.isfinite(array).all():
            raise InvalidInputError(f"views[{k}] contains NaN or infinite values")
        arrays.append(array)
    n_frames = {len(a) for a in arrays}
    if len(n_frames) != 1:
        raise InvalidInputError(
            "views must be warped onto one timeline (same number of frames), got "
            f"{[len(a) for a in arrays]}"
        )
    if len(arrays[0]) < 2:
        raise InvalidInputError("views need at least 2 frames to estimate covariances")
    return arrays


def _check_reg(reg):
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not 0.0 <= reg < 1.0:
        raise InvalidInputError(f"reg must be a float in [0, 1), got {reg!r}")
    return float(reg)


def resolve_n_components(n_components: int | float, correlations: ArrayLike) -> int:
    """Number of canonical components to keep.

    Parameters
    ----------
    n_components : int or float
        An int ``>= 1`` keeps that many components; a float in ``(0, 1)`` keeps
        the smallest number ``b`` whose leading correlations hold at least that
        fraction of their total (negative values clipped to 0), as ZCTW's
        ``thEgy``.
    correlations : ndarray of shape (n_available,)
        Generalised eigenvalues, sorted in descending order.

    Returns
    -------
    n_components : int

    Examples
    --------
    >>> from alignkit.multiview._cca import resolve_n_components
    >>> resolve_n_components(0.9, [0.9, 0.5, 0.1])
    2
    >>> resolve_n_components(3, [0.9, 0.5, 0.1])
    3
    """
    correlations = np.asarray(correlations, dtype=np.float64)
    available = len(correlations)
    if isinstance(n_components, numbers.Integral) and not isinstance(n_components, bool):
        if not 1 <= n_components <= available:
            raise InvalidInputError(
                f"n_components={n_components} must be between 1 and {available} "
                "(the smallest channel count of the views)"
            )
        return int(n_components)
    if isinstance(n_components, numbers.Real) and 0.0 < n_components < 1.0:
        energy = np.clip(correlations, 0.0, None)
        total = energy.sum()
        if total <= 0.0:
            return 1
        cumulative = np.cumsum(energy) / total
        # The tolerance keeps fractions met exactly from being missed by rounding.
        return int(min(np.searchsorted(cumulative, n_components - 1e-12) + 1, available))
    raise InvalidInputError(
        "n_components must be an int >= 1 (a count) or a float in (0, 1) "
        f"(a fraction of the correlation energy), got {n_components!r}"
    )


def _blocks(arrays, reg):
    n_frames = len(arrays[0])
    sizes = [a.shape[1] for a in arrays]
    stacked = np.hstack(arrays)
    with np.errstate(over="ignore", invalid="ignore"):
        covariance = stacked.T @ stacked / n_frames
    if not np.isfinite(covariance).all():
        worst = int(np.argmax([np.max(np.abs(a)) for a in arrays]))
        raise InvalidInputError(
            f"the covariance of view {worst} overflows float64 (largest magnitude "
            f"{np.max(np.abs(arrays[worst])):.3g}); rescale the views, for example by "
            "standardising each channel"
        )
    edges = np.concatenate([[0], np.cumsum(sizes)])
    a_matrix = covariance.copy()
    b_matrix = np.zeros_like(covariance)
    for k, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
        block = (1.0 - reg) * covariance[start:stop, start:stop] + reg * np.eye(sizes[k])
        _check_block(block, k, reg)
        a_matrix[start:stop, start:stop] = 0.0
        b_matrix[start:stop, start:stop] = block
    return a_matrix, b_matrix, edges


def _check_block(block, k, reg):
    eigenvalues = np.linalg.eigvalsh(block)
    largest = eigenvalues[-1]
    if largest <= 0.0 or eigenvalues[0] <= _SINGULAR_RTOL * largest:
        rank = int(np.sum(eigenvalues > _SINGULAR_RTOL * max(largest, 0.0)))
        raise InvalidInputError(
            f"the covariance of view {k} is singular (rank {rank} < {len(block)} channels, "
            f"with reg={reg}): constant or collinear channels, or fewer distinct frames than "
            "channels. Pass reg > 0 (e.g. reg=1e-3) to regularise it."
        )


def multiset_cca(
    views: Sequence[ArrayLike], reg: float = 0.0, n_components: int | float = 0.95
) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Multi-set CCA of views that share one timeline.

    Parameters
    ----------
    views : list of array-like of shape (n_frames, d_k)
        ``m >= 2`` views, already warped onto a common timeline (same
        ``n_frames``). Each is centred here.
    reg : float, default=0.0
        Ridge blend in ``[0, 1)``: view covariances become
        ``(1 - reg) C_kk + reg I``. Needed when a view covariance is singular.
    n_components : int or float, default=0.95
        Components kept: an int count, or a float in ``(0, 1)`` fraction of
        the correlation energy (see :func:`resolve_n_components`).

    Returns
    -------
    projections : list of ndarray of shape (d_k, n_components)
        ``V_k`` per view, normalised so that
        ``sum_k V_k^T ((1 - reg) C_kk + reg I) V_k = I`` with
        ``C_kk = X_k^T X_k / n_frames`` of the centred view. Each column's
        sign makes its largest-magnitude entry in the first view positive.
    correlations : ndarray of shape (min_k d_k,)
        The leading generalised eigenvalues in descending order. For two
        views these are the canonical correlations (regularised when
        ``reg > 0``); for more, the sum of the pairwise covariances of the
        components under the normalisation above.
    n_components : int
        The number of columns of each projection.

    Raises
    ------
    InvalidInputError
        When the views disagree in length, hold NaN, have fewer than 2 frames,
        a view covariance is singular with the given ``reg``, or the
        covariances overflow float64.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._cca import multiset_cca
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(200, 1))
    >>> x = np.hstack([latent, rng.normal(size=(200, 1))])
    >>> y = np.hstack([rng.normal(size=(200, 2)), 2 * latent])
    >>> projections, correlations, b = multiset_cca([x, y], n_components=1)
    >>> round(float(correlations[0]), 6), b
    (1.0, 1)
    """
    reg = _check_reg(reg)
    arrays = [a - a.mean(axis=0) for a in _check_views(views)]
    a_matrix, b_matrix, edges = _blocks(arrays, reg)
    eigenvalues, eigenvectors = linalg.eigh(a_matrix, b_matrix)
    available = min(a.shape[1] for a in arrays)
    order = np.argsort(eigenvalues)[::-1][:available]
    correlations = eigenvalues[order]
    n_kept = resolve_n_components(n_components, correlations)
    vectors = eigenvectors[:, order[:n_kept]]
    first = vectors[edges[0] : edges[1]]
    signs = np.sign(first[np.argmax(np.abs(first), axis=0), np.arange(n_kept)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    projections = [vectors[start:stop] for start, stop in zip(edges[:-1], edges[1:])]
    return projections, correlations, n_kept


def ctw_objective(
    views: Sequence[ArrayLike], projections: Sequence[ArrayLike], reg: float = 0.0
) -> float:
    """The (G)CTW objective of warped views under given projections.

    Parameters
    ----------
    views : list of array-like of shape (n_frames, d_k)
        Views warped onto one timeline; each is centred here (the offset of
        the homogeneous coordinate is the mean of the warped frames).
    projections : list of array-like of shape (d_k, n_components)
    reg : float, default=0.0
        The ridge of :func:`multiset_cca`, giving the penalty weight.

    Returns
    -------
    objective : float
        ``sum_{k<l} ||X_k V_k - X_l V_l||_F^2 / n_frames
        + reg / (1 - reg) * sum_k ||V_k||_F^2``. At the output of
        :func:`multiset_cca` with two views this equals
        ``n_components / (1 - reg) - sum(correlations[:n_components])``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._cca import ctw_objective
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> ctw_objective([x, x], [np.eye(1), np.eye(1)])
    0.0
    """
    reg = _check_reg(reg)
    arrays = [a - a.mean(axis=0) for a in _check_views(views)]
    if len(projections) != len(arrays):
        raise InvalidInputError(f"got {len(projections)} projections for {len(arrays)} views")
    projected = [a @ np.asarray(v, dtype=np.float64) for a, v in zip(arrays, projections)]
    residual = 0.0
    for k in range(len(projected)):
        for other in projected[k + 1 :]:
            residual += float(np.sum((projected[k] - other) ** 2))
    penalty = sum(float(np.sum(np.asarray(v, dtype=np.float64) ** 2)) for v in projections)
    return residual / len(arrays[0]) + reg / (1.0 - reg) * penalty


def linear_cca(
    h_a: np.ndarray, h_b: np.ndarray, reg_a: float, reg_b: float, n_components: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Two-view CCA with a ridge per view: projections, means and correlations.

    With centred views, ``S_aa = H_a^T H_a / (L - 1) + reg_a I`` (and so for
    ``b``) and ``S_ab = H_a^T H_b / (L - 1)``, the correlations are the
    singular values of ``L_a^{-1} S_ab L_b^{-T}`` (Cholesky factors
    ``S = L L^T``), as in
    ``alignkit.kernels._torch._cca.canonical_correlations``. With its
    singular vectors ``U`` and ``V``, ``W_a = L_a^{-T} U`` and
    ``W_b = L_b^{-T} V``.

    Parameters
    ----------
    h_a : ndarray of shape (n_frames, n_features_a)
        First view, one row per frame.
    h_b : ndarray of shape (n_frames, n_features_b)
        Second view, on the same frames.
    reg_a, reg_b : float
        Ridge added to each view's covariance (``>= 0``; ``> 0`` when a
        view's covariance is singular).
    n_components : int
        Number of columns of each projection, at most
        ``min(n_features_a, n_features_b)``.

    Returns
    -------
    projections : tuple of ndarray
        ``(W_a, W_b)`` of shapes ``(n_features_a, n_components)`` and
        ``(n_features_b, n_components)``: the variates ``(H - mean) W`` have
        ``W^T S W = I`` (unit variance with the ridge) and cross-covariance
        ``diag(correlations[:n_components])``.
    means : tuple of ndarray
        The views' means, subtracted before projecting.
    correlations : ndarray of shape (min(n_features_a, n_features_b),)
        All canonical correlations, in descending order.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._cca import linear_cca
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(500, 1))
    >>> h_a = np.hstack([latent, rng.normal(size=(500, 1))])
    >>> h_b = np.hstack([rng.normal(size=(500, 1)), -3 * latent])
    >>> (w_a, w_b), means, correlations = linear_cca(h_a, h_b, 0.0, 0.0, 1)
    >>> round(float(correlations[0]), 6), w_a.shape, w_b.shape
    (1.0, (2, 1), (2, 1))
    """
    n_frames = len(h_a)
    means = (h_a.mean(axis=0), h_b.mean(axis=0))
    h_a, h_b = h_a - means[0], h_b - means[1]
    s_aa = h_a.T @ h_a / (n_frames - 1) + reg_a * np.eye(h_a.shape[1])
    s_bb = h_b.T @ h_b / (n_frames - 1) + reg_b * np.eye(h_b.shape[1])
    l_a, l_b = np.linalg.cholesky(s_aa), np.linalg.cholesky(s_bb)
    whitened = np.linalg.solve(l_a, h_a.T @ h_b / (n_frames - 1))
    whitened = np.linalg.solve(l_b, whitened.T).T
    left, correlations, right_t = np.linalg.svd(whitened)
    w_a = np.linalg.solve(l_a.T, left[:, :n_components])
    w_b = np.linalg.solve(l_b.T, right_t[:n_components].T)
    return (w_a, w_b), means, correlations
