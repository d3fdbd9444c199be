"""Distance matrices of the DTW variants DDTW and WDTW (``pairwise_distances(metric=...)``).

DDTW's matrix is DTW's on the derivative estimates, computed once per
sequence and handed to the DTW block kernels, so it runs as fast as DTW.
WDTW's local cost depends on the phase difference, so each pair runs the
banded weighted-DTW kernel of :func:`alignkit.distances.wdtw`, pairs in
joblib threads (the kernel releases the GIL). Values equal the pair
functions' (:func:`~alignkit.distances.ddtw`, :func:`~alignkit.distances.wdtw`).
"""

from numbers import Real

import numpy as np

from ..core.params import Interval, StrOptions, check_params
from ..exceptions import InvalidParameterError

__all__ = ["VARIANT_METRICS", "check_variant_params", "ddtw_inputs", "wdtw_matrix"]

VARIANT_METRICS = ("ddtw", "wdtw")

_CONSTRAINTS = {
    "ddtw": ({"kind": [StrOptions({"keogh", "central"})]}, {"kind": "keogh"}),
    "wdtw": (
        {
            "g": [Interval(Real, 0, None, closed="left")],
            "max_weight": [Interval(Real, 0, None, closed="neither")],
        },
        {"g": 0.05, "max_weight": 1.0},
    ),
}


def check_variant_params(metric, params, owner):
    """``params`` of ``metric`` ("ddtw" or "wdtw") with their defaults; errors name ``owner``."""
    constraints, defaults = _CONSTRAINTS[metric]
    unknown = sorted(set(params or {}) - set(constraints))
    if unknown:
        raise InvalidParameterError(
            f"The 'metric_params' parameter of {owner} has {unknown[0]!r}, which {metric} "
            f"does not take; it takes {', '.join(sorted(constraints))}."
        )
    check_params(constraints, params or {}, metric)
    return {**defaults, **(params or {})}


def _derivatives(sequences, kind, name, first=0):
    """The sequences DDTW runs DTW on: Keogh's interior derivatives, or central ones."""
    from ._variants import _derivative

    out = []
    for k, sequence in enumerate(sequences):
        derivative = _derivative(sequence, kind, f"{name}[{first + k}]")
        out.append(np.ascontiguousarray(derivative[1:-1] if kind == "keogh" else derivative))
    return out


def _wdtw_rows(x_sequences, y_sequences, start, stop, symmetric, window, g, max_weight):
    """Rows ``[start, stop)`` of the summed weighted costs (upper triangle if symmetric)."""
    from ..kernels._numba._bounds import band_bounds
    from ..kernels._numba._weighted import wdtw_banded_matrix
    from ._variants import wdtw_weights

    rows = np.zeros((stop - start, len(y_sequences)))
    for i in range(start, stop):
        a = x_sequences[i]
        for j in range(i + 1 if symmetric else 0, len(y_sequences)):
            b = y_sequences[j]
            n, m = len(a), len(b)
            lo, hi, _ = band_bounds(window.resolve(n, m), n, m)
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(hi - lo, out=offsets[1:])
            weights = wdtw_weights(max(n, m), g, max_weight)
            rows[i - start, j] = wdtw_banded_matrix(a, b, lo, hi, offsets, weights)[-1]
    return start, rows


def ddtw_inputs(x_sequences, y_sequences, params, owner="pairwise_distances", first_row=0):
    """The derivative collections DDTW's matrix is DTW's of (``y_sequences=None``: ``X``)."""
    kind = check_variant_params("ddtw", params, owner)["kind"]
    x_d = _derivatives(x_sequences, kind, "X", first_row)
    return x_d, None if y_sequences is None else _derivatives(y_sequences, kind, "Y")


def wdtw_matrix(
    x_sequences, y_sequences, window, params, n_jobs, verbose=False, owner="pairwise_distances"
):
    """The summed weighted costs of every pair (``y_sequences=None``: ``X``, symmetric).

    ``window`` is a parsed band (:class:`~alignkit.core.window.Window`); the
    row blocks run as joblib threads and a truthy ``verbose`` shows the bar
    of the pairs.
    """
    from joblib import effective_n_jobs

    from ..core.parallel import Parallel, delayed
    from ..core.progress import progress_bar

    values = check_variant_params("wdtw", params, owner)
    symmetric = y_sequences is None
    y_sequences = x_sequences if symmetric else y_sequences
    n_rows, n_cols = len(x_sequences), len(y_sequences)
    costs = np.zeros((n_rows, n_cols))
    n_blocks = min(n_rows, 4 * max(1, effective_n_jobs(n_jobs)))
    edges = np.linspace(0, n_rows, n_blocks + 1).astype(int)
    tasks = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator_unordered")(
        delayed(_wdtw_rows)(
            x_sequences, y_sequences, int(start), int(stop), symmetric, window,
            float(values["g"]), float(values["max_weight"]),
        )
        for start, stop in zip(edges[:-1], edges[1:])
        if stop > start
    )  # fmt: skip
    total = n_rows * (n_rows - 1) // 2 if symmetric else n_rows * n_cols
    with progress_bar(total, "pairwise WDTW", verbose, unit="pairs") as bar:
        for start, rows in tasks:
            costs[start : start + len(rows)] = rows
            stop = start + len(rows)
            bar.update(sum(n_cols - 1 - i if symmetric else n_cols for i in range(start, stop)))
    if symmetric:
        costs += costs.T  # the strict upper triangle, mirrored
    return costs
