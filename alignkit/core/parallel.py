"""Batch work over collections with joblib (any joblib backend, Dask included).

Work is cut into one chunk per worker so that process start-up and pickling
happen once per worker, not once per sequence. Numba kernels release the GIL,
so the default threading-free ``loky`` backend and ``prefer="threads"`` both
scale; inside one worker the kernels run single-threaded (``n_jobs`` never
maps to numba threads and joblib workers at once).

alignkit's configuration (:func:`alignkit.get_config`: ``max_memory``,
``backend``, ``device``, the plugin switches) is per thread, and a joblib
worker process starts with the defaults. :class:`Parallel` (with
:func:`delayed`) and :func:`with_config` carry the caller's configuration to
where the work runs, as scikit-learn's ``sklearn.utils.parallel`` does:
every joblib call in alignkit goes through this :class:`Parallel`, which
captures the configuration when it is called, in the calling thread, and
code that hands work to threads wraps it with :func:`with_config`.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import joblib
import numpy as np
from joblib import effective_n_jobs

from .._config import config_context, get_config
from .progress import progress_bar

__all__ = ["Parallel", "delayed", "map_sequences", "with_config"]

_T = TypeVar("_T")


class _ConfiguredCall:
    """``function`` run under the configuration captured when it was wrapped (picklable)."""

    def __init__(self, function, config):
        self.function = function
        self.config = config
        functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        with config_context(**self.config):
            return self.function(*args, **kwargs)

    def __reduce__(self):
        # update_wrapper copies attributes (__wrapped__, __dict__) a pickle need not carry.
        return type(self), (self.function, self.config)


def with_config(function: Callable[..., _T]) -> Callable[..., _T]:
    """``function`` bound to the calling thread's alignkit configuration.

    Configuration set with :func:`alignkit.set_config` or
    :func:`alignkit.config_context` holds for the thread that set it; a
    thread pool's threads start with the defaults. Wrap the work handed to
    them so it runs under the configuration of the thread that wrapped it.

    Parameters
    ----------
    function : callable

    Returns
    -------
    configured : callable
        Calls ``function`` with the same arguments, inside
        ``config_context(**config)`` where ``config`` is the configuration at
        the time of wrapping. Picklable when ``function`` is.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import alignkit
    >>> from alignkit.core.parallel import with_config
    >>> def limit():
    ...     return alignkit.get_config()["max_memory"]
    >>> with alignkit.config_context(max_memory=2**20):
    ...     with ThreadPoolExecutor(1) as pool:
    ...         pool.submit(limit).result(), pool.submit(with_config(limit)).result()
    (4294967296, 1048576)
    """
    return _ConfiguredCall(function, get_config())


def delayed(
    function: Callable[..., Any],
) -> Callable[..., tuple[Callable[..., Any], tuple, dict[str, Any]]]:
    """:func:`joblib.delayed` that carries alignkit's configuration into the worker.

    Use it wherever ``joblib.delayed`` would be used. Under :class:`Parallel`
    every task runs under the configuration of the thread that called
    :class:`Parallel`. Under a plain :class:`joblib.Parallel` the
    configuration is the one of the thread that creates the task: joblib
    creates the first tasks in the calling thread but takes later ones from
    a generator in its own threads (where the configuration is the default),
    so pass it a list, or use :class:`Parallel`.

    Parameters
    ----------
    function : callable
        Picklable for process-based backends.

    Returns
    -------
    delayed_function : callable
        ``delayed_function(*args, **kwargs)`` returns the task tuple
        ``(configured_function, args, kwargs)`` that :class:`joblib.Parallel`
        takes.

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.core.parallel import Parallel, delayed
    >>> def limit(_):
    ...     return alignkit.get_config()["max_memory"]
    >>> with alignkit.config_context(max_memory=2**20):
    ...     Parallel(n_jobs=2, backend="threading")(delayed(limit)(k) for k in range(2))
    [1048576, 1048576]
    """

    @functools.wraps(function)
    def delayed_function(*args, **kwargs):
        return with_config(function), args, kwargs

    return delayed_function


class Parallel(joblib.Parallel):
    """:class:`joblib.Parallel` whose tasks run under the caller's alignkit configuration.

    The configuration is captured when the object is called, in the calling
    thread, and bound to every task as joblib takes it from the iterable,
    which joblib does partly in its own threads: a generator of tasks stays
    lazy (the chunks of a series read from disk are read as they are
    dispatched) and every task sees the caller's ``max_memory``, ``backend``
    and the rest. The arguments are :class:`joblib.Parallel`'s.

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.core.parallel import Parallel, delayed
    >>> def limit(_):
    ...     return alignkit.get_config()["max_memory"]
    >>> with alignkit.config_context(max_memory=2**20):
    ...     values = Parallel(n_jobs=2, backend="threading", pre_dispatch="1")(
    ...         delayed(limit)(k) for k in range(8)
    ...     )
    >>> values == [2**20] * 8
    True
    """

    def __call__(self, iterable):
        """Run the tasks of ``iterable`` (``(function, args, kwargs)`` tuples).

        Parameters
        ----------
        iterable : iterable of tuple
            Tasks, as :func:`delayed` makes them.

        Returns
        -------
        results : list or generator
            As :class:`joblib.Parallel` returns them (``return_as``).
        """
        return super().__call__(_bound_to(iterable, get_config()))


def _bound_to(iterable, config):
    """The tasks of ``iterable``, each function run under ``config``."""
    for function, args, kwargs in iterable:
        if isinstance(function, _ConfiguredCall):
            function = function.function
        yield _ConfiguredCall(function, config), args, kwargs


def _chunks(count, n_chunks):
    n_chunks = max(1, min(n_chunks, count))
    edges = np.linspace(0, count, n_chunks + 1).astype(int)
    return [(edges[k], edges[k + 1]) for k in range(n_chunks)]


def _apply(func, items):
    return [func(item) for item in items]


def map_sequences(
    func: Callable[[np.ndarray], _T],
    sequences: Sequence[np.ndarray],
    n_jobs: int | None = None,
    verbose: int = 0,
) -> list[_T]:
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
        When truthy, a progress bar of the sequences on standard error
        (``alignkit.core.progress``), counted here as the chunks return.

    Returns
    -------
    results : list
        ``func(sequence)`` for every sequence, in order; each call runs under
        the caller's alignkit configuration (see :func:`delayed`).
    """
    workers = effective_n_jobs(n_jobs)
    with progress_bar(len(sequences), "alignment", verbose, unit="sequences") as bar:
        if workers == 1:
            results = []
            for sequence in sequences:
                results.append(func(sequence))
                bar.update(1)
            return results
        # Several chunks per worker, so that the bar moves while they run.
        parts = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_apply)(func, sequences[start:stop])
            for start, stop in _chunks(len(sequences), 4 * workers)
        )
        results = []
        for part in parts:
            results.extend(part)
            bar.update(len(part))
        return results
