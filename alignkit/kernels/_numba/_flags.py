"""The one place where Numba compilation flags are defined.

The dynamic programmes use ``inf`` as "no path", so the fast-math set
leaves out ``nnan`` and ``ninf`` (numba issues 2919/2923). It leaves out
``reassoc`` so sums keep their order, and ``contract``: LLVM fuses
``cost + best`` into an FMA in some kernels and not in others, so the path's
distance and ``dtw_distance`` would differ in the last bits, and results
would depend on the CPU.
"""

FASTMATH = frozenset({"nsz", "arcp", "afn"})

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH)}

# For vectorised kernels without possible division by zero: Python's error
# model branches on every division to raise ZeroDivisionError, which blocks
# vectorisation.
VECTOR_JIT_OPTIONS = {**JIT_OPTIONS, "error_model": "numpy"}
