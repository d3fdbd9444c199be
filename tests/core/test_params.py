"""Tests of alignkit.core.params: the Pair constraint and its element-by-element message."""

from numbers import Integral, Real

import numpy as np
import pytest

from alignkit.core.params import Interval, Pair, check_params
from alignkit.exceptions import InvalidParameterError

AT_LEAST_2 = Interval(Integral, 2, None, closed="left")


@pytest.mark.parametrize("value", [(2, 3), [4, 4], np.array([2, 9]), (np.int64(2), 5)])
def test_pair_accepts_pairs_of_valid_elements(value):
    check_params({"grid": [Pair(AT_LEAST_2)]}, {"grid": value}, "owner")


@pytest.mark.parametrize(
    "value, message",
    [
        (
            (2, 1),
            r"^The 'grid\[1\]' parameter of owner must be an int in the range \[2, inf\)\. "
            r"Got 1 instead\.$",
        ),
        ((True, 3), r"'grid\[0\]' parameter of owner .* Got True instead"),
        ((2.0, 3), r"'grid\[0\]' parameter of owner .* Got 2.0 instead"),
        (
            (3,),
            r"^The 'grid' parameter of owner must be a pair \(a tuple or list of 2 values\)\. "
            r"Got \(3,\) instead\.$",
        ),
        ((2, 3, 4), r"'grid' parameter of owner must be a pair"),
        ("ab", r"'grid' parameter of owner must be a pair"),
        (np.zeros((2, 1)), r"'grid' parameter of owner must be a pair"),
    ],
)
def test_pair_names_the_bad_element(value, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_params({"grid": [Pair(AT_LEAST_2)]}, {"grid": value}, "owner")


def test_ordered_pair_refuses_a_decreasing_range():
    speed = {"speed": [Pair(Interval(Real, 0, None, closed="neither"), ordered=True)]}
    check_params(speed, {"speed": (0.3, 0.3)}, "owner")
    with pytest.raises(InvalidParameterError, match=r"low <= high\. Got \(0\.9, 0\.3\) instead"):
        check_params(speed, {"speed": (0.9, 0.3)}, "owner")


def test_pair_among_other_constraints():
    constraints = {"size": [AT_LEAST_2, Pair(AT_LEAST_2), None]}
    for value in (5, (2, 2), None):
        check_params(constraints, {"size": value}, "owner")
    with pytest.raises(
        InvalidParameterError, match=r"int in the range \[2, inf\), a pair .* or None\. Got 1"
    ):
        check_params(constraints, {"size": 1}, "owner")
    with pytest.raises(InvalidParameterError, match=r"'size\[1\]'"):
        check_params(constraints, {"size": (2, 0)}, "owner")
