"""Batch work over collections with joblib (any joblib backend, Dask included).

Work is cut into one chunk per worker so that process start-up and pickling
happen once per worker, not once per sequence. Numba kernels release the GIL,
so the default threading-free ``loky`` backend and ``prefer="threads"`` both
scale; inside one worker the kernels run single-threaded (``n_jobs`` never
maps to numba threads and joblib workers at once).
"""

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

__all__ = ["map_sequences", "pairwise_dtw"]


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


def _pack(sequences):
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sequences], out=offsets[1:])
    return np.ascontiguousarray(np.concatenate(sequences, axis=0)), offsets


def _balanced_row_chunks(count, n_chunks):
    """Row ranges of the upper triangle holding about the same number of pairs."""
    work = np.cumsum(np.arange(count - 1, -1, -1))
    targets = work[-1] * np.arange(1, n_chunks) / n_chunks
    edges = np.concatenate([[0], np.searchsorted(work, targets) + 1, [count]])
    edges = np.unique(np.clip(edges, 0, count))
    return list(zip(edges[:-1], edges[1:]))


def pairwise_dtw(sequences, window, n_jobs=None, verbose=0):
    """Symmetric matrix of summed squared DTW costs between validated sequences.

    Parameters
    ----------
    sequences : list of ndarray of shape (n_timepoints_i, n_channels)
        Validated sequences.
    window : Window
        Parsed window without a mask.
    n_jobs : int, default=None
        Number of joblib workers, each computing a block of rows of the upper
        triangle with the same amount of work.
    verbose : int, default=0
        joblib verbosity.

    Returns
    -------
    distances : ndarray of shape (n_sequences, n_sequences)
        Zero diagonal; ``distances[a, b]`` is the summed squared cost.
    """
    from .kernels._numba._dtw import dtw_upper_rows

    flat, offsets = _pack(sequences)
    count = len(sequences)
    chunks = _balanced_row_chunks(count, effective_n_jobs(n_jobs))
    if len(chunks) == 1:
        blocks = [dtw_upper_rows(flat, offsets, window.kind, window.param, 0, count)]
    else:
        blocks = Parallel(n_jobs=n_jobs, verbose=verbose)(
            delayed(dtw_upper_rows)(flat, offsets, window.kind, window.param, start, stop)
            for start, stop in chunks
        )
    upper = np.concatenate(blocks, axis=0)
    return upper + upper.T
