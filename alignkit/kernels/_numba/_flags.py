"""The one place where Numba compilation flags are defined.

The dynamic programmes use ``inf`` as "no path", so the fast-math set
leaves out ``nnan`` and ``ninf`` (numba issues 2919/2923). It leaves out
``reassoc`` so sums keep their order, and ``contract``: LLVM fuses
``cost + best`` into an FMA in some kernels and not in others, so the path's
distance and ``dtw_distance`` would differ in the last bits, and results
would depend on the CPU.

Kernels are cached on disk (``cache=True``) so a second process, or a joblib
worker, starts without compiling. Where Numba finds no writable cache
location (a read-only install without a writable ``NUMBA_CACHE_DIR``), the
decorator would raise ``RuntimeError: cannot cache function``; the kernels
then compile in memory instead, with one warning.
"""

import warnings

FASTMATH = frozenset({"nsz", "arcp", "afn"})


def _probe():
    """A function of this folder: Numba's cache locators are looked up for it."""


def disk_cache_available():
    """Whether Numba can write its cache for the kernels of this folder.

    Returns
    -------
    available : bool
        False when every cache location Numba would use (``NUMBA_CACHE_DIR``,
        the package's ``__pycache__``, the user-wide cache) is read-only.
    """
    from numba.core.caching import FunctionCache

    try:
        FunctionCache(_probe)
    except RuntimeError:
        return False
    return True


CACHE = disk_cache_available()
if not CACHE:
    warnings.warn(
        "Numba cannot write its cache for alignkit's kernels (NUMBA_CACHE_DIR, the package "
        "folder and the user cache are read-only): kernels compile in memory in every process. "
        "Set NUMBA_CACHE_DIR to a writable folder to cache them.",
        RuntimeWarning,
        stacklevel=2,
    )

JIT_OPTIONS = {"cache": CACHE, "nogil": True, "fastmath": set(FASTMATH)}

# For vectorised kernels without possible division by zero: Python's error
# model branches on every division to raise ZeroDivisionError, which blocks
# vectorisation.
VECTOR_JIT_OPTIONS = {**JIT_OPTIONS, "error_model": "numpy"}
