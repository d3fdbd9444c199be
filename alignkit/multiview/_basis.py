"""Monotone time-warp bases and the Gauss-Newton step of generalised time warping.

Generalised time warping (GTW; Zhou & De la Torre, CVPR 2012) writes the warp
of sequence ``i`` onto a latent timeline of ``l`` frames as
``p_i = Q_i a_i``: ``Q_i`` of shape ``(l, k)`` is a fixed bank of increasing
functions from ``[0, l-1]`` onto ``[0, n_i-1]`` (0-based frames) and
``a_i >= 0`` are weights. F. Zhou's reference (``baTem.m``, ``ftwCont.m``)
constrains ``a_i >= 0``, ``p_i(1) >= 1`` and ``p_i(l) <= n_i`` (1-based);
every basis runs from the first to the last frame, so these boundary
constraints say exactly that the weights sum to 1: each warp is a convex
combination of the bases, monotone and anchored at both ends. The
Gauss-Newton step is then a small quadratic programme over a product of
simplices, solved here with SLSQP.

Private: :func:`alignkit.multiview.gctw` is the public entry point.
"""

import numbers
from collections.abc import Sequence

import numpy as np
from scipy import optimize

from ..exceptions import InvalidInputError

__all__ = [
    "check_bases",
    "basis_bank",
    "interpolate_frames",
    "simplex_qp",
    "fit_weights",
    "gauss_newton_system",
    "warp_energy",
    "gauss_newton_step",
]

# Numeric parameters after the family name: pol (k, s); tan (k, a, b).
_FAMILY_PARAMS = {"pol": ("n_bases", "spread"), "tan": ("n_bases", "slope", "spread")}
# Step fractions tried by the line search: 1, 1/2, ..., 1/2**9.
_LINE_SEARCH_STEPS = 0.5 ** np.arange(10)


def _check_spec(spec, index):
    where = f"bases[{index}]"
    if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in _FAMILY_PARAMS:
        raise InvalidInputError(
            f"{where} must be a tuple ('pol', n_bases, spread) or "
            f"('tan', n_bases, slope, spread), got {spec!r}"
        )
    family, values = spec[0], tuple(spec[1:])
    names = _FAMILY_PARAMS[family]
    if len(values) != len(names):
        raise InvalidInputError(
            f"{where}: a {family!r} basis takes ({', '.join(names)}), got {len(values)} "
            f"values in {spec!r}"
        )
    n_bases = values[0]
    if isinstance(n_bases, bool) or not isinstance(n_bases, numbers.Integral) or n_bases < 1:
        raise InvalidInputError(f"{where}: n_bases must be an int >= 1, got {n_bases!r}")
    for name, value in zip(names[1:], values[1:]):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidInputError(f"{where}: {name} must be a number, got {value!r}")
        if not np.isfinite(value) or value < 0 or (name == "slope" and value == 0):
            bound = "> 0" if name == "slope" else ">= 0"
            raise InvalidInputError(f"{where}: {name} must be finite and {bound}, got {value!r}")
    return (family, int(n_bases), *(float(v) for v in values[1:]))


def check_bases(bases: Sequence[tuple]) -> tuple[tuple, ...]:
    """Validate a basis specification.

    Parameters
    ----------
    bases : sequence of tuple
        Families of monotone bases: ``("pol", k, s)`` for ``k`` powers
        ``x**w`` with ``w`` in ``logspace(-s, s, k)``, and ``("tan", k, a, b)``
        for ``k`` normalised ``tanh(a (x - c))`` on ``x`` in ``[-3, 3]`` with
        centres ``c`` in ``linspace(-b, b, k)`` (ZCTW's ``baTemAlg``).

    Returns
    -------
    bases : tuple of tuple
        The specification with ints and floats.

    Examples
    --------
    >>> from alignkit.multiview._basis import check_bases
    >>> check_bases([("pol", 3, 0.4)])
    (('pol', 3, 0.4),)
    """
    if isinstance(bases, (str, bytes)) or not isinstance(bases, (tuple, list)) or not bases:
        raise InvalidInputError(
            "bases must be a non-empty sequence of tuples such as "
            f"(('pol', 3, 0.4), ('tan', 3, 0.6, 1.0)), got {bases!r}"
        )
    return tuple(_check_spec(spec, index) for index, spec in enumerate(bases))


def _family_columns(spec, n_latent):
    family, n_bases = spec[0], spec[1]
    if family == "pol":
        x = np.linspace(0.0, 1.0, n_latent)
        exponents = np.logspace(-spec[2], spec[2], n_bases) if n_bases > 1 else np.ones(1)
        return x[:, None] ** exponents[None, :]
    slope, spread = spec[2], spec[3]
    x = np.linspace(-3.0, 3.0, n_latent)
    centres = np.linspace(-spread, spread, n_bases) if n_bases > 1 else np.zeros(1)
    return np.tanh(slope * (x[:, None] - centres[None, :]))


def basis_bank(n_latent: int, n_frames: int, bases: Sequence[tuple]) -> np.ndarray:
    """The bank ``Q`` of monotone warps from the latent timeline onto a sequence.

    Parameters
    ----------
    n_latent : int
        Length ``l >= 2`` of the latent timeline.
    n_frames : int
        Length ``n >= 2`` of the sequence.
    bases : sequence of tuple
        Basis families, see :func:`check_bases`.

    Returns
    -------
    bank : ndarray of shape (n_latent, n_bases)
        Each column increases from 0 to ``n_frames - 1`` (0-based frame
        positions), so any convex combination of the columns is a monotone
        warp anchored at both ends.

    Examples
    --------
    >>> from alignkit.multiview._basis import basis_bank
    >>> bank = basis_bank(5, 9, [("pol", 3, 0.4)])
    >>> bank[:, 1].tolist()  # the middle power is the uniform warp
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    columns = np.hstack([_family_columns(spec, n_latent) for spec in check_bases(bases)])
    low, high = columns[0], columns[-1]
    span = high - low
    if np.any(span <= 0) or np.any(np.diff(columns, axis=0) < 0):
        raise InvalidInputError(
            f"bases {bases!r} give a constant or decreasing warp on {n_latent} latent frames; "
            "use a larger slope"
        )
    return (columns - low) / span * (n_frames - 1)


def interpolate_frames(sequence: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of a sequence at fractional frame positions.

    Parameters
    ----------
    sequence : ndarray of shape (n_frames, n_channels)
        At least 2 frames.
    positions : ndarray of shape (n_positions,)
        0-based positions, clipped to ``[0, n_frames - 1]``.

    Returns
    -------
    frames : ndarray of shape (n_positions, n_channels)

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import interpolate_frames
    >>> interpolate_frames(np.array([[0.0], [10.0]]), np.array([0.0, 0.25, 1.0]))[:, 0]
    array([ 0. ,  2.5, 10. ])
    """
    positions = np.clip(positions, 0.0, len(sequence) - 1)
    lower = np.minimum(np.floor(positions).astype(np.int64), len(sequence) - 2)
    fraction = (positions - lower)[:, None]
    return sequence[lower] * (1.0 - fraction) + sequence[lower + 1] * fraction


def simplex_qp(
    hessian: np.ndarray, linear: np.ndarray, start: np.ndarray, block_sizes: Sequence[int]
) -> np.ndarray:
    """Minimise ``x^T H x / 2 + f^T x`` over a product of simplices.

    Parameters
    ----------
    hessian : ndarray of shape (n_weights, n_weights)
        Symmetric positive semi-definite ``H``.
    linear : ndarray of shape (n_weights,)
        ``f``.
    start : ndarray of shape (n_weights,)
        A feasible starting point.
    block_sizes : sequence of int
        Sizes of the consecutive blocks; each block is non-negative and sums
        to 1.

    Returns
    -------
    weights : ndarray of shape (n_weights,)
        The minimiser found by SLSQP, projected back onto the constraints
        (clipped at 0, each block rescaled to sum 1).

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import simplex_qp
    >>> x = simplex_qp(np.eye(2), np.array([-1.0, 0.0]), np.array([0.5, 0.5]), [2])
    >>> np.round(x, 6).tolist()
    [1.0, 0.0]
    """
    edges = np.concatenate([[0], np.cumsum(block_sizes)])
    sums = np.zeros((len(block_sizes), edges[-1]))
    for block, (begin, end) in enumerate(zip(edges[:-1], edges[1:])):
        sums[block, begin:end] = 1.0
    # SLSQP's tolerances are absolute: bring the problem to unit scale first.
    scale = max(np.abs(np.diag(hessian)).max(), np.abs(linear).max(), 1e-300)
    hessian, linear = hessian / scale, linear / scale
    result = optimize.minimize(
        lambda x: 0.5 * x @ hessian @ x + linear @ x,
        start,
        jac=lambda x: hessian @ x + linear,
        bounds=[(0.0, None)] * edges[-1],
        constraints=[{"type": "eq", "fun": lambda x: sums @ x - 1.0, "jac": lambda x: sums}],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 200},
    )
    weights = np.clip(result.x, 0.0, None)
    return weights / (sums.T @ (sums @ weights))


def fit_weights(bank: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """Least-squares weights on the simplex whose combination is closest to a warp.

    Parameters
    ----------
    bank : ndarray of shape (n_latent, n_bases)
    warp : ndarray of shape (n_latent,)

    Returns
    -------
    weights : ndarray of shape (n_bases,)
        Non-negative, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import basis_bank, fit_weights
    >>> bank = basis_bank(20, 11, [("pol", 3, 0.4)])
    >>> np.round(fit_weights(bank, np.linspace(0, 10, 20)), 6).tolist()
    [0.0, 1.0, 0.0]
    """
    start = np.full(bank.shape[1], 1.0 / bank.shape[1])
    return simplex_qp(bank.T @ bank, -(bank.T @ warp), start, [bank.shape[1]])


def _split(weights, banks):
    edges = np.cumsum([0, *(bank.shape[1] for bank in banks)])
    return [weights[begin:end] for begin, end in zip(edges[:-1], edges[1:])]


def warp_energy(
    projected: Sequence[np.ndarray],
    banks: Sequence[np.ndarray],
    weights: np.ndarray,
    smoothness: float = 0.0,
) -> float:
    """The temporal objective of GTW at given weights, projections held fixed.

    Parameters
    ----------
    projected : list of ndarray of shape (n_frames_i, n_components)
        The projected (and offset) sequences ``Y_i``.
    banks : list of ndarray of shape (n_latent, k_i)
    weights : ndarray of shape (sum_i k_i,)
    smoothness : float, default=0.0

    Returns
    -------
    energy : float
        ``sum_{i<j} ||Y_i(p_i) - Y_j(p_j)||_F^2 / l
        + smoothness * sum_i ||diff(p_i)||^2 / l``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import basis_bank, warp_energy
    >>> y = np.arange(5.0)[:, None]
    >>> bank = basis_bank(5, 5, [("pol", 1, 0.0)])
    >>> warp_energy([y, y], [bank, bank], np.ones(2))
    0.0
    """
    warped = [
        interpolate_frames(y, bank @ a)
        for y, bank, a in zip(projected, banks, _split(weights, banks))
    ]
    total = np.sum(warped, axis=0)
    residual = len(warped) * sum(np.sum(w**2) for w in warped) - np.sum(total**2)
    penalty = sum(np.sum(np.diff(bank @ a) ** 2) for bank, a in zip(banks, _split(weights, banks)))
    return float((residual + smoothness * penalty) / len(total))


def gauss_newton_system(
    projected: Sequence[np.ndarray],
    banks: Sequence[np.ndarray],
    weights: np.ndarray,
    smoothness: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The QP ``(H, f)`` of one Gauss-Newton step, linearised at ``weights``.

    Each warped sequence is linearised as ``Y_i(Q_i (a_i + d_i)) ~ v_i + G_i
    d_i`` with ``v_i = Y_i(p_i)`` and row block ``t`` of ``G_i`` equal to the
    time derivative of ``Y_i`` (central differences, interpolated at
    ``p_i(t)``) times ``Q_i[t]``, as in ZCTW's ``aliGN.m``. Then half of the
    linearised :func:`warp_energy` is ``d^T H d / 2 + f^T d`` plus a constant,
    with ``H = (m blkdiag(G_i^T G_i) - G^T G + smoothness blkdiag(D_i^T D_i)) / l``
    and ``f_i = (G_i^T (m v_i - sum_j v_j) + smoothness D_i^T D_i a_i) / l``,
    where ``D_i`` is the first difference of ``Q_i`` along time.

    Parameters
    ----------
    projected : list of ndarray of shape (n_frames_i, n_components)
    banks : list of ndarray of shape (n_latent, k_i)
    weights : ndarray of shape (sum_i k_i,)
    smoothness : float, default=0.0

    Returns
    -------
    hessian : ndarray of shape (sum_i k_i, sum_i k_i)
    linear : ndarray of shape (sum_i k_i,)

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import basis_bank, gauss_newton_system
    >>> y = np.arange(5.0)[:, None] ** 2
    >>> bank = basis_bank(5, 5, [("pol", 2, 0.3)])
    >>> hessian, linear = gauss_newton_system([y, y], [bank, bank], np.full(4, 0.5))
    >>> bool(np.allclose(linear, 0.0)), hessian.shape
    (True, (4, 4))
    """
    n_sequences, n_latent = len(projected), banks[0].shape[0]
    values, jacobians, roughness = [], [], []
    for y, bank, a in zip(projected, banks, _split(weights, banks)):
        positions = bank @ a
        slopes = interpolate_frames(np.gradient(y, axis=0), positions)
        values.append(interpolate_frames(y, positions))
        jacobians.append((slopes[:, :, None] * bank[:, None, :]).reshape(-1, bank.shape[1]))
        steps = np.diff(bank, axis=0)
        roughness.append(steps.T @ steps)
    stacked = np.hstack(jacobians)
    hessian = -stacked.T @ stacked
    total = np.sum(values, axis=0).ravel()
    linear, begin = [], 0
    for jacobian, value, rough, a in zip(jacobians, values, roughness, _split(weights, banks)):
        end = begin + jacobian.shape[1]
        hessian[begin:end, begin:end] += n_sequences * jacobian.T @ jacobian + smoothness * rough
        linear.append(jacobian.T @ (n_sequences * value.ravel() - total) + smoothness * rough @ a)
        begin = end
    return hessian / n_latent, np.concatenate(linear) / n_latent


def gauss_newton_step(
    projected: Sequence[np.ndarray],
    banks: Sequence[np.ndarray],
    weights: np.ndarray,
    smoothness: float = 0.0,
) -> np.ndarray:
    """One constrained Gauss-Newton step on the warp weights, with a line search.

    Solves the QP of :func:`gauss_newton_system` over the simplices, then
    halves the step until :func:`warp_energy` does not increase (the feasible
    set is convex, so every fraction of the step stays feasible). ZCTW's
    ``aliGN.m`` takes the full step unchecked; the line search makes the
    temporal half of each round a descent step.

    Parameters
    ----------
    projected : list of ndarray of shape (n_frames_i, n_components)
    banks : list of ndarray of shape (n_latent, k_i)
    weights : ndarray of shape (sum_i k_i,)
        Feasible current weights.
    smoothness : float, default=0.0

    Returns
    -------
    weights : ndarray of shape (sum_i k_i,)
        The new weights; the old ones when no fraction of the step helps.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.multiview._basis import basis_bank, gauss_newton_step, warp_energy
    >>> t = np.linspace(0, 1, 40)
    >>> y0, y1 = np.sin(3 * t)[:, None], np.sin(3 * t**1.5)[:, None]
    >>> banks = [basis_bank(40, 40, [("pol", 1, 0.0)]), basis_bank(40, 40, [("pol", 3, 0.4)])]
    >>> start = np.array([1.0, 0.0, 1.0, 0.0])
    >>> step = gauss_newton_step([y0, y1], banks, start)
    >>> bool(warp_energy([y0, y1], banks, step) < warp_energy([y0, y1], banks, start))
    True
    """
    hessian, linear = gauss_newton_system(projected, banks, weights, smoothness)
    sizes = [bank.shape[1] for bank in banks]
    # The QP in the new weights x = a + d: x^T H x / 2 + (f - H a)^T x.
    target = simplex_qp(hessian, linear - hessian @ weights, weights, sizes)
    current = warp_energy(projected, banks, weights, smoothness)
    for fraction in _LINE_SEARCH_STEPS:
        candidate = weights + fraction * (target - weights)
        if warp_energy(projected, banks, candidate, smoothness) <= current:
            return candidate
    return weights
