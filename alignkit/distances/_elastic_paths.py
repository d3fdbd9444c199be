"""The optimal alignments of the elastic distances: ``<name>_path(a, b, ...) -> (path, distance)``.

One function per distance of :mod:`alignkit.distances._elastic` (ERP, EDR,
LCSS, MSM, TWE, ADTW), with the parameters of its ``<name>_distance``: each
validates as that function does, runs its driver with ``keep=True`` (the
moves of the whole matrix, checked against ``max_memory``) and traces the
moves back.
"""

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import InvalidInputError
from ..validation import WindowLike
from ._elastic import (
    _ADTW_PARAMS,
    _DOC,
    _EDR_PARAMS,
    _ERP_PARAMS,
    _LCSS_PARAMS,
    _MSM_PARAMS,
    _TWE_PARAMS,
    _check,
    _erp_reference,
    adtw_cost,
    edr_cost,
    edr_epsilon,
    erp_cost,
    lcss_cost,
    msm_cost,
    twe_cost,
)

__all__ = ["adtw_path", "edr_path", "erp_path", "lcss_path", "msm_path", "twe_path"]

# The paragraphs of the path docstrings, besides those they share with the distances.
_PATH_DOC = {
    **_DOC,
    "warp_penalty": """warp_penalty : float, default=1.0
        The cost of a step that advances one sequence alone, ``>= 0``.""",
    "path": """path : ndarray of shape (path_length, 2)
        Continuous, monotone, from ``(0, 0)`` to ``(n-1, m-1)``""",
}


def _path(moves):
    from ..kernels._numba._elastic import backtrack

    return backtrack(moves)


def erp_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    g: float = 0.0,
    g_arr: ArrayLike | None = None,
) -> tuple[np.ndarray, float]:
    """The optimal ERP alignment of two sequences, and their ERP distance.

    Parameters
    ----------
    {pair}
    {window}
    {g}

    Returns
    -------
    {path}. A step
        ``(1, 0)`` leaves ``a[i]`` out (a gap), ``(0, 1)`` leaves ``b[j]``
        out; a gap before the first match stays on row or column 0.
    distance : float
        As :func:`erp_distance`.

    See Also
    --------
    erp_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import erp_path
    >>> path, distance = erp_path([0.0, 1.0, 2.0], [0.0, 2.0])
    >>> path.tolist(), distance
    ([[0, 0], [1, 0], [2, 1]], 1.0)
    """
    a, b, parsed = _check("erp_path", _ERP_PARAMS, a, b, window, g=g, g_arr=g_arr)
    value, moves = erp_cost(
        a, b, parsed, _erp_reference(g, g_arr, a.shape[1], "erp_path"), keep=True
    )
    return _path(moves), value


def edr_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    epsilon: float | None = None,
) -> tuple[np.ndarray, float]:
    """An optimal EDR alignment of two sequences, and their EDR distance.

    Parameters
    ----------
    {pair}
    {window}
    epsilon : float, default=None
        The matching threshold, as in :func:`edr_distance`.

    Returns
    -------
    {path}; a diagonal
        step is a match or a substitution, the others are insertions or
        deletions.
    distance : float
        As :func:`edr_distance`.

    See Also
    --------
    edr_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import edr_path
    >>> path, distance = edr_path([0.0, 1.0, 2.0], [0.0, 2.0], epsilon=0.5)
    >>> path.tolist(), round(distance, 4)
    ([[0, 0], [1, 0], [2, 1]], 0.3333)
    """
    a, b, parsed = _check("edr_path", _EDR_PARAMS, a, b, window, epsilon=epsilon)
    value, moves = edr_cost(a, b, parsed, edr_epsilon(a, b, epsilon), keep=True)
    return _path(moves), value


def lcss_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    epsilon: float = 1.0,
) -> tuple[np.ndarray, float]:
    """The matched pairs of a longest common subsequence, and the LCSS distance.

    Parameters
    ----------
    {pair}
    {window}
    {lcss_epsilon}

    Returns
    -------
    path : ndarray of shape (n_matches, 2)
        The matched pairs ``(i, j)``, strictly increasing in both indices (not
        a continuous path: unmatched points are skipped), as aeon's
        ``lcss_alignment_path`` returns them. Empty when nothing matches.
    distance : float
        As :func:`lcss_distance`.

    See Also
    --------
    lcss_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import lcss_path
    >>> path, distance = lcss_path([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 9.0, 3.0], epsilon=0.5)
    >>> path.tolist(), distance
    ([[0, 0], [1, 1], [3, 3]], 0.25)
    """
    from ..kernels._numba._elastic import lcss_matches

    a, b, parsed = _check("lcss_path", _LCSS_PARAMS, a, b, window, epsilon=epsilon)
    value, moves = lcss_cost(a, b, parsed, float(epsilon), keep=True)
    return lcss_matches(moves), value


def msm_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    independent: bool = True,
    c: float = 1.0,
) -> tuple[np.ndarray, float]:
    """An optimal MSM alignment of two sequences, and their MSM distance.

    Parameters
    ----------
    {pair}
    {window}
    independent : bool, default=True
        As in :func:`msm_distance`. With several channels, ``True`` aligns each
        channel on its own, so there is no single path: use
        ``independent=False``.
    {c}

    Returns
    -------
    {path}: a diagonal
        step is a move, the others splits or merges.
    distance : float
        As :func:`msm_distance`.

    Raises
    ------
    InvalidInputError
        If ``independent=True`` and the sequences have several channels.

    See Also
    --------
    msm_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import msm_path
    >>> path, distance = msm_path([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    >>> path.tolist(), distance
    ([[0, 0], [1, 1], [2, 1], [3, 2]], 1.0)
    """
    a, b, parsed = _check("msm_path", _MSM_PARAMS, a, b, window, independent=independent, c=c)
    if independent and a.shape[1] > 1:
        raise InvalidInputError(
            f"msm_path with independent=True aligns each of the {a.shape[1]} channels of a "
            "and b on its own path; pass independent=False for one path over all channels"
        )
    value, moves = msm_cost(a, b, parsed, float(c), independent, keep=True)
    return _path(moves), value


def twe_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    nu: float = 0.001,
    lmbda: float = 1.0,
) -> tuple[np.ndarray, float]:
    """An optimal TWE alignment of two sequences, and their TWE distance.

    Parameters
    ----------
    {pair}
    {window}
    {nu_lmbda}

    Returns
    -------
    {path}.
    distance : float
        As :func:`twe_distance`.

    See Also
    --------
    twe_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import twe_path
    >>> path, distance = twe_path([0.0, 1.0, 2.0], [0.0, 2.0], nu=0.0)
    >>> path.tolist(), distance
    ([[0, 0], [1, 0], [2, 1]], 3.0)
    """
    a, b, parsed = _check("twe_path", _TWE_PARAMS, a, b, window, nu=nu, lmbda=lmbda)
    value, moves = twe_cost(a, b, parsed, float(nu), float(lmbda), keep=True)
    return _path(moves), value


def adtw_path(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    warp_penalty: float = 1.0,
) -> tuple[np.ndarray, float]:
    """An optimal ADTW alignment of two sequences, and their ADTW distance.

    Parameters
    ----------
    {pair}
    {window}
    {warp_penalty}

    Returns
    -------
    {path}.
    distance : float
        As :func:`adtw_distance`.

    See Also
    --------
    adtw_distance : The distance alone, in O(n + m) memory.

    Examples
    --------
    >>> from alignkit.distances import adtw_path
    >>> path, distance = adtw_path([0.0, 1.0, 2.0], [0.0, 2.0], warp_penalty=0.5)
    >>> path.tolist(), distance
    ([[0, 0], [1, 0], [2, 1]], 1.5)
    """
    a, b, parsed = _check("adtw_path", _ADTW_PARAMS, a, b, window, warp_penalty=warp_penalty)
    value, moves = adtw_cost(a, b, parsed, float(warp_penalty), keep=True)
    return _path(moves), value


for _function in (erp_path, edr_path, lcss_path, msm_path, twe_path, adtw_path):
    _function.__doc__ = _function.__doc__.format(**_PATH_DOC)
del _function
