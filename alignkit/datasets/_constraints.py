"""Constraints shared by the generators, and the check of a pair-valued parameter.

Scalar parameters are declared with :func:`alignkit.core.params.validate_params`;
a pair such as ``speed=(low, high)`` is declared there as ``"array-like"`` and
checked element by element here, so that each message names the element
(``speed[1]``) in the same format.
"""

import numpy as np

from ..core.params import Integral, Interval, Real, check_params
from ..exceptions import InvalidParameterError

__all__ = [
    "NON_NEGATIVE",
    "POSITIVE_INT",
    "SPEED",
    "RandomStateLike",
    "at_least",
    "check_pair",
    "length_range",
]

# What ``random_state`` may be, as scikit-learn's ``check_random_state`` reads it.
RandomStateLike = int | np.random.RandomState | None

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")  # refuses NaN and inf
SPEED = Interval(Real, 0, None, closed="neither")


def at_least(minimum):
    """The constraint "an int >= minimum"."""
    return Interval(Integral, minimum, None, closed="left")


def check_pair(value, name, element, owner, *, ordered=False):
    """Check a parameter that is a pair of values, element by element.

    Parameters
    ----------
    value : object
        The parameter's value: a tuple, a list or a 1-D array of two values.
    name : str
        The parameter's name.
    element : constraint
        What each of the two values must satisfy.
    owner : str
        The function the parameter belongs to, for the message.
    ordered : bool, default=False
        Also require ``value[0] <= value[1]`` (a range ``(low, high)``).

    Returns
    -------
    pair : tuple
        The two values.

    Raises
    ------
    InvalidParameterError
        If ``value`` is not a pair, if an element violates ``element`` (the
        message names ``name[index]``) or if an ordered pair is decreasing.
    """
    if not (
        (isinstance(value, (tuple, list)) and len(value) == 2)
        or (isinstance(value, np.ndarray) and value.shape == (2,))
    ):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a pair (a tuple or list of 2 values). "
            f"Got {value!r} instead."
        )
    for index, item in enumerate(value):
        label = f"{name}[{index}]"
        check_params({label: [element]}, {label: item}, owner)
    if ordered and value[0] > value[1]:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a range (low, high) with "
            f"low <= high. Got {value!r} instead."
        )
    return tuple(value)


def length_range(n_timepoints, owner):
    """``(low, high)`` from ``n_timepoints``: an int, or a pair of ints, each at least 2."""
    if isinstance(n_timepoints, Integral):
        return int(n_timepoints), int(n_timepoints)
    low, high = check_pair(n_timepoints, "n_timepoints", at_least(2), owner, ordered=True)
    return int(low), int(high)
