"""Tests of alignkit.core.params against scikit-learn's parameter validation, and Pair.

scikit-learn's ``sklearn.utils._param_validation`` is the oracle: for a grid of
constraints and values, alignkit accepts and refuses what it does, with the
same message. alignkit checks without importing scikit-learn (so the first
call of a public function does not pay for scipy and pandas); only its
``Interval`` differs on purpose, by refusing booleans.
"""

import itertools
import re
import subprocess
import sys
from numbers import Integral, Real

import numpy as np
import pytest
import scipy.sparse
from sklearn.utils import _param_validation as skl

from alignkit.core import params as ak
from alignkit.core.params import Interval, Pair, check_param, check_params, validate_params
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


# --- scikit-learn as the oracle --------------------------------------------------------

# Constraint classes are built in both libraries from one description: (class, args, kwargs).
_INTERVALS = [
    ((Integral, 1, None), {"closed": "left"}),
    ((Integral, 0, 10), {"closed": "both"}),
    ((Integral, None, 5), {"closed": "neither"}),
    ((Integral, -3, 3), {"closed": "right"}),
    ((Integral, None, None), {"closed": "neither"}),
    ((Real, 0, None), {"closed": "neither"}),
    ((Real, 0, 1), {"closed": "both"}),
    ((Real, 0.5, 2.5), {"closed": "left"}),
    ((Real, None, 0), {"closed": "right"}),
    ((Real, None, None), {"closed": "both"}),
]
_DESCRIBED = [("Interval", args, kwargs) for args, kwargs in _INTERVALS] + [
    ("StrOptions", ({"joblib", "numba"},), {}),
    ("StrOptions", ({"auto", "old"},), {"deprecated": {"old"}}),
    ("Options", (Integral, {1, 2}), {}),
    ("Options", (Real, {0.5, np.inf}), {}),
    ("HasMethods", ("fit",), {}),
    ("HasMethods", (["fit", "predict"],), {}),
]
_SHARED = [
    "array-like",
    "sparse matrix",
    "random_state",
    "boolean",
    "verbose",
    "cv_object",
    "nan",
    callable,
    None,
    int,
    str,
    list,
    tuple,
    np.ndarray,
    Real,
]


def _build(module, described):
    if not isinstance(described, tuple):
        return described
    kind, args, kwargs = described
    return getattr(module, kind)(*args, **kwargs)


def _constraint_pairs():
    """(alignkit's, scikit-learn's) lists of constraints: single ones, then mixed with Hidden.

    Each list gets its own instances: scikit-learn marks a constraint object
    hidden in place, which would leak into other lists sharing it.
    """
    singles = _DESCRIBED + _SHARED

    def both(*described, hidden=()):
        ours = [_build(ak, d) for d in described]
        theirs = [_build(skl, d) for d in described]
        for k in hidden:
            ours[k], theirs[k] = ak.Hidden(ours[k]), skl.Hidden(theirs[k])
        return ours, theirs

    lists = [both(d) for d in singles]
    lists += [both(d1, d2) for d1, d2 in itertools.combinations(singles[::3], 2)]
    for triple in zip(singles[::2], singles[1::2], singles[5:]):
        lists += [both(*triple), both(*triple, hidden=(1,))]
    return lists


class _Estimator:
    def fit(self):
        return self

    def split(self):
        return iter(())

    def get_n_splits(self):
        return 0


_VALUES = [
    -1,
    0,
    1,
    2,
    3,
    10,
    2**32,
    -2.5,
    0.0,
    0.5,
    1.0,
    2.5,
    np.int64(3),
    np.float32(0.5),
    np.float64(2.0),
    np.nan,
    np.inf,
    -np.inf,
    "joblib",
    "old",
    "other",
    "",
    None,
    [1, 2],
    (0.5, 1),
    np.array([1.0, 2.0]),
    np.zeros((2, 2)),
    np.float64(0.5).reshape(()) * np.ones(()),
    scipy.sparse.csr_matrix(np.eye(2)),
    np.random.RandomState(0),
    np.random.default_rng(0),
    len,
    _Estimator(),
    object(),
    {"a": 1},
    range(3),
]


def _sklearn_outcome(constraints, value):
    try:
        skl.validate_parameter_constraints({"p": constraints}, {"p": value}, "owner")
    except skl.InvalidParameterError as error:
        return str(error)
    return None


def _alignkit_outcome(constraints, value):
    try:
        check_params({"p": constraints}, {"p": value}, "owner")
    except InvalidParameterError as error:
        return str(error)
    return None


def _label(constraints):
    shown = [
        f"hidden {c.constraint}" if isinstance(c, skl.Hidden) else str(skl.make_constraint(c))
        for c in constraints
    ]
    # Sets print in hash order, which differs between processes (and xdist workers must
    # collect the same ids): sort their elements.
    label = " | ".join(shown)
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m[1].split(", "))) + "}", label)


_PAIRS = _constraint_pairs()


@pytest.mark.parametrize("constraints, oracle", _PAIRS, ids=[_label(o) for _, o in _PAIRS])
def test_accepts_refuses_and_words_as_scikit_learn(constraints, oracle):
    # Booleans too, except where alignkit's Interval refuses them on purpose (tested below):
    # the shorthands ("random_state", "verbose", "cv_object") read True as scikit-learn does.
    unwrapped = [c.constraint if isinstance(c, ak.Hidden) else c for c in constraints]
    has_interval = any(isinstance(c, ak.Interval) for c in unwrapped)
    for value in _VALUES + ([] if has_interval else [True, False, np.True_]):
        expected = _sklearn_outcome(oracle, value)
        assert _alignkit_outcome(constraints, value) == expected, (constraints, value)
        if len(constraints) == 1:
            try:
                check_param("p", value, constraints, "owner")
            except InvalidParameterError as error:
                assert str(error) == expected
            else:
                assert expected is None


@pytest.mark.parametrize("value", [True, False, np.True_, np.bool_(False)])
@pytest.mark.parametrize("args, kwargs", _INTERVALS)
def test_interval_refuses_booleans_that_scikit_learn_accepts_as_numbers(value, args, kwargs):
    ours, theirs = ak.Interval(*args, **kwargs), skl.Interval(*args, **kwargs)
    assert not ours.is_satisfied_by(value)
    assert str(ours) == str(theirs)
    with pytest.raises(InvalidParameterError, match=rf"Got {value!r} instead\.$"):
        check_params({"p": [ours]}, {"p": value}, "owner")


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((Integral, 1.5, None), {"closed": "left"}),
        ((Integral, None, 3), {"closed": "both"}),
        ((Real, 1, 0), {"closed": "both"}),
        ((Real, "0", None), {"closed": "left"}),
        ((Real, 0, 1), {"closed": "open"}),
        ((complex, 0, 1), {"closed": "both"}),
    ],
)
def test_malformed_intervals_are_refused_when_declared_like_scikit_learn(args, kwargs):
    with pytest.raises((TypeError, ValueError)) as theirs:
        skl.Interval(*args, **kwargs)
    with pytest.raises(type(theirs.value)):
        ak.Interval(*args, **kwargs)


def test_unknown_constraints_and_no_validation():
    with pytest.raises(ValueError, match="Unknown constraint type: 3"):
        check_params({"p": [3]}, {"p": 1}, "owner")
    check_params({"p": "no_validation", "q": [int]}, {"p": object(), "r": "unchecked"}, "f")


def test_validate_params_names_the_function_like_scikit_learn():
    constraints = {"k": [Interval(Integral, 1, None, closed="left")], "mode": ["boolean"]}

    @validate_params(constraints)
    def search(x, k=1, *, mode=False):
        return x, k, mode

    @skl.validate_params(
        {"k": [skl.Interval(Integral, 1, None, closed="left")], "mode": ["boolean"]},
        prefer_skip_nested_validation=True,
    )
    def search_sklearn(x, k=1, *, mode=False):
        return x, k, mode

    assert search(0, 2, mode=np.True_) == (0, 2, np.True_)
    for kwargs in ({"k": 0}, {"mode": "no"}, {"k": 1.0}):
        with pytest.raises(skl.InvalidParameterError) as theirs:
            search_sklearn(0, **kwargs)
        with pytest.raises(InvalidParameterError) as ours:
            search(0, **kwargs)
        assert str(ours.value) == str(theirs.value).replace("search_sklearn", "search")
    with pytest.raises(TypeError, match="has no parameters"):
        validate_params({"missing": [int]})(lambda x: x)


def test_checking_imports_neither_scikit_learn_nor_scipy():
    # Issue 13, item 7: the first parameter check imported scikit-learn (about a second).
    code = (
        "import sys, numpy as np, alignkit\n"
        "alignkit.pairwise_distances(np.zeros((3, 4)), n_jobs=1)\n"
        "from alignkit.core.params import check_params, Interval, Integral\n"
        "check_params({'p': ['array-like', 'sparse matrix', 'random_state']}, {'p': [1]}, 'f')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'pandas'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr
