"""The one place where Numba compilation flags are defined.

The dynamic programmes use ``inf`` as "no path", so the fast-math set
leaves out ``nnan`` and ``ninf`` (numba issues 2919/2923), and it leaves out
``reassoc`` so sums keep their order and results are reproducible.
"""

FASTMATH = frozenset({"nsz", "arcp", "contract", "afn"})

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH)}
