"""Constraints shared by the generators.

Parameters are declared with :func:`alignkit.core.params.validate_params`; a
pair such as ``speed=(low, high)`` is declared with
:class:`alignkit.core.params.Pair`, which checks it element by element so that
each message names the element (``speed[1]``) in the same format.
"""

import numpy as np

from ..core.params import Integral, Interval, Pair, Real

__all__ = [
    "NON_NEGATIVE",
    "POSITIVE_INT",
    "N_TIMEPOINTS",
    "SPEED",
    "RandomStateLike",
    "at_least",
    "length_range",
]

# What ``random_state`` may be, as scikit-learn's ``check_random_state`` reads it.
RandomStateLike = int | np.random.RandomState | None

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")  # refuses NaN and inf
# A speed range (low, high), both positive and finite.
SPEED = Pair(Interval(Real, 0, None, closed="neither"), ordered=True)


def at_least(minimum):
    """The constraint "an int >= minimum"."""
    return Interval(Integral, minimum, None, closed="left")


# A length: an int, or a range (low, high) of ints, each at least 2.
N_TIMEPOINTS = [at_least(2), Pair(at_least(2), ordered=True)]


def length_range(n_timepoints):
    """``(low, high)`` from a checked ``n_timepoints`` (see :data:`N_TIMEPOINTS`)."""
    if isinstance(n_timepoints, Integral):
        return int(n_timepoints), int(n_timepoints)
    low, high = n_timepoints
    return int(low), int(high)
