"""Batch work over collections with joblib (any joblib backend, Dask included).

Work is cut into one chunk per worker so that process start-up and pickling
happen once per worker, not once per sequence. Numba kernels release the GIL,
so the default threading-free ``loky`` backend and ``prefer="threads"`` both
scale; inside one worker the kernels run single-threaded (``n_jobs`` never
maps to numba threads and joblib workers at once).
"""

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

__all__ = ["map_sequences"]


def _chunks(count, n_chunks):
    n_chunks = max(1, min(n_chunks, count))
    edges = np.linspace(0, count, n_chunks + 1).astype(int)
    return [(edges[k], edges[k + 1]) for k in range(n_chunks)]


def _apply(func, items):
    return [func(item) for item in items]


def map_sequences(func, sequences, n_jobs=None, verbose=0):
    """Apply ``func`` to every sequence, in parallel chunks.

    Parameters
    ----------
    func : callable
        Picklable function of one sequence.
    sequences : list of ndarray
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` means all cores.
    verbose : int, default=0
        joblib verbosity (progress messages).

    Returns
    -------
    results : list
        ``func(sequence)`` for every sequence, in order.
    """
    workers = effective_n_jobs(n_jobs)
    if workers == 1:
        return [func(sequence) for sequence in sequences]
    parts = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_apply)(func, sequences[start:stop])
        for start, stop in _chunks(len(sequences), workers)
    )
    return [result for part in parts for result in part]
