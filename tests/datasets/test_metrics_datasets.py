"""path_distance against a brute-force double loop; dataset generators against their definitions.

Also: the generators' declared parameters (one message format, ints that are not
floats), and Flatten against numpy's reshape.
"""

import numpy as np
import pytest
from _reference import assert_valid_path
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alignkit
from alignkit import UniformAligner
from alignkit.core import params
from alignkit.datasets import (
    digit_images,
    make_digit_canvas,
    make_digit_captions,
    make_ecg_pair,
    make_nonlinear_views,
    make_warped_collection,
    make_warped_copy,
    make_warped_spirals,
    warp_to_path,
    warp_views,
)
from alignkit.exceptions import InvalidInputError, InvalidParameterError
from alignkit.metrics import path_distance
from alignkit.preprocessing import Flatten


def brute_force_path_distance(p, q):
    """Mean over both paths of each point's Euclidean distance to the nearest point of the other."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    to_q = [min(np.hypot(*(x - y)) for y in q) for x in p]
    to_p = [min(np.hypot(*(y - x)) for x in p) for y in q]
    return (sum(to_q) + sum(to_p)) / (len(p) + len(q))


POINTS = hnp.arrays(
    np.int64, st.tuples(st.integers(1, 15), st.just(2)), elements=st.integers(0, 20)
)


@settings(max_examples=80)
@given(POINTS, POINTS)
def test_path_distance_equals_brute_force(p, q):
    expected = brute_force_path_distance(p, q)
    assert path_distance(p, q) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert path_distance(q, p) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=40)
@given(POINTS)
def test_path_distance_is_zero_for_equal_paths(p):
    assert path_distance(p, p) == 0.0
    assert path_distance(p.tolist(), p[::-1]) == 0.0


def test_path_distance_hand_value():
    # (0, 1) is 1 away from both points of the diagonal path: total 1 over 5 points.
    assert path_distance([[0, 0], [1, 1]], [[0, 0], [0, 1], [1, 1]]) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 2)), r"path_a must be a non-empty array of shape \(path_length, 2\)"),
        (np.zeros((3, 3)), r"got shape \(3, 3\)"),
        (np.zeros(4), r"got shape \(4,\)"),
        ([[0, 0], [np.nan, 1]], r"path_a must hold finite numbers"),
    ],
)
def test_path_distance_refuses_bad_paths(bad, message):
    with pytest.raises(InvalidInputError, match=message):
        path_distance(bad, [[0, 0]])


@pytest.mark.parametrize(
    "bad, message",
    [
        # A complex path measured 0.0 from its real part (issue 13, item 4).
        (np.array([[0, 0], [1, 1]]) + 5j, r"path_a must hold real numbers .* complex128"),
        ([[True, False]], r"path_a must hold real numbers .* bool"),
        ([["0", "0"]], r"path_a must hold real numbers"),
        ([[0, 0], [1, np.inf]], r"path_a must hold finite numbers, got path_a\[1\] = \[1.0, inf\]"),
        (
            np.ma.masked_array([[0, 0], [9, 9]], mask=[[False, False], [True, True]]),
            r"path_a is a masked array with masked entries",
        ),
    ],
)
def test_path_distance_refuses_values_it_would_misread(bad, message):
    with pytest.raises(InvalidInputError, match=message):
        path_distance(bad, [[0, 0], [1, 1]])


def test_complex_path_is_not_measured_by_its_real_part():
    path = np.array([[0, 0], [1, 1]])
    assert path_distance(path, path) == 0.0
    with pytest.raises(InvalidInputError):
        path_distance(path + 1j, path)


def test_path_distance_keeps_fractional_points_and_unmasked_arrays():
    # Fractional positions are measured as they are: never truncated to frames.
    fractional = [[0.0, 0.0], [0.5, 1.5], [2.7, 2.2]]
    frames = [[0, 0], [1, 1], [2, 2]]
    expected = brute_force_path_distance(fractional, frames)
    assert path_distance(fractional, frames) == pytest.approx(expected, rel=1e-12)
    assert path_distance(np.int64(fractional), frames) != pytest.approx(expected)
    # A masked array with nothing masked is its data.
    unmasked = np.ma.masked_array(fractional, mask=False)
    assert path_distance(unmasked, frames) == pytest.approx(expected, rel=1e-12)
    assert path_distance(np.float32(fractional), frames) == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# warp_to_path
# ---------------------------------------------------------------------------------------------


@st.composite
def warps(draw):
    # One frame of b (m = 1) has its own test below.
    n = draw(st.integers(1, 30))
    m = draw(st.integers(2, 30))
    positions = draw(
        hnp.arrays(np.float64, m, elements=st.floats(-2.0, n + 1.0, allow_subnormal=False))
    )
    return np.sort(positions), n


def _expected_rows(positions, n):
    """Rounded (halves up), clipped positions; the first and last are pinned to the corners."""
    rows = [min(max(int(np.floor(p + 0.5)), 0), n - 1) for p in positions]
    rows[0] = 0
    rows[-1] = n - 1
    return rows


@settings(max_examples=100)
@given(warps())
def test_warp_to_path_is_valid_and_passes_through_rounded_positions(warp):
    positions, n = warp
    m = len(positions)
    path = warp_to_path(positions, n)
    assert_valid_path(path, n, m)
    cells = {tuple(cell) for cell in path.tolist()}
    rows = _expected_rows(positions, n)
    for j in range(1, m - 1):
        assert (rows[j], j) in cells
    # Frames of a that b skips stay with the earlier frame of b: one column per frame of a.
    for i in range(n):
        columns = sorted(j for ii, j in cells if ii == i)
        assert len(columns) == 1 or i == rows[columns[0]]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_warp_to_path_single_frame_of_b(n):
    # Every frame of a is matched to the only frame of b.
    path = warp_to_path([0.0], n)
    np.testing.assert_array_equal(path, np.c_[np.arange(n), np.zeros(n, dtype=int)])


def test_warp_to_path_identity_and_docstring_case():
    np.testing.assert_array_equal(
        warp_to_path(np.arange(5.0), 5), np.c_[np.arange(5), np.arange(5)]
    )
    np.testing.assert_array_equal(
        warp_to_path([0.0, 2.0, 3.0], 4), [[0, 0], [1, 0], [2, 1], [3, 2]]
    )


@pytest.mark.parametrize(
    "positions, message",
    [
        ([], r"positions must be a non-empty 1-D array of finite numbers"),
        ([0.0, np.nan], r"non-empty 1-D array of finite numbers"),
        ([[0.0, 1.0]], r"non-empty 1-D array"),
        ([0.0, 2.0, 1.0], r"positions must be non-decreasing"),
    ],
)
def test_warp_to_path_refuses_bad_positions(positions, message):
    with pytest.raises(InvalidInputError, match=message):
        warp_to_path(positions, 4)


# ---------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_ecg_pair_dtw_beats_uniform_baseline(random_state):
    a, b, true_path = make_ecg_pair(random_state=random_state)
    assert a.shape == (300, 1) and b.shape == (240, 1)
    assert_valid_path(true_path, 300, 240)
    dtw_error = path_distance(alignkit.dtw(a, b).path, true_path)
    uniform_error = path_distance(UniformAligner().align(a, b).path, true_path)
    assert dtw_error < uniform_error


def test_ecg_pair_is_reproducible_and_sized():
    first = make_ecg_pair(n_timepoints_a=120, n_timepoints_b=150, random_state=5)
    second = make_ecg_pair(n_timepoints_a=120, n_timepoints_b=150, random_state=5)
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert_valid_path(first[2], 120, 150)
    with pytest.raises(
        InvalidInputError,
        match=r"The 'n_beats' parameter of make_ecg_pair must be an int in the range "
        r"\[2, inf\)\. Got 1 instead\.",
    ):
        make_ecg_pair(n_beats=1)


def test_warped_collection_shapes_labels_and_seed():
    X, y = make_warped_collection(
        n_sequences=30, n_timepoints=(20, 25), n_classes=3, random_state=4
    )
    assert len(X) == 30 and y.shape == (30,)
    assert set(np.unique(y)) <= {0, 1, 2}
    assert all(x.ndim == 2 and x.shape[1] == 1 and 20 <= len(x) <= 25 for x in X)
    X_again, y_again = make_warped_collection(
        n_sequences=30, n_timepoints=(20, 25), n_classes=3, random_state=4
    )
    np.testing.assert_array_equal(y, y_again)
    for x, x_again in zip(X, X_again):
        np.testing.assert_array_equal(x, x_again)


# ---------------------------------------------------------------------------------------------
# Declared parameters of the generators
# ---------------------------------------------------------------------------------------------

_RECORDING = np.random.default_rng(0).normal(size=(40, 4))
_VIEWS = {"recording": _RECORDING, "views": [[0, 1], [2, 3]]}

# (generator, parameter, smallest allowed int, other arguments that keep the call small)
INT_PARAMETERS = [
    (make_ecg_pair, "n_timepoints_a", 2, {}),
    (make_ecg_pair, "n_timepoints_b", 2, {}),
    (make_ecg_pair, "n_beats", 2, {}),
    (make_warped_collection, "n_sequences", 1, {}),
    (make_warped_collection, "n_classes", 1, {"n_sequences": 3}),
    (make_warped_spirals, "n_sequences", 2, {"n_timepoints": 30}),
    (make_warped_spirals, "n_timepoints", 2, {}),
    (make_warped_spirals, "n_segments", 1, {"n_timepoints": 30}),
    (make_nonlinear_views, "n_pairs", 1, {"n_timepoints": 30}),
    (make_nonlinear_views, "n_timepoints", 2, {"n_pairs": 2}),
    (make_nonlinear_views, "n_noise", 0, {"n_pairs": 2, "n_timepoints": 30}),
    (make_nonlinear_views, "n_segments", 1, {"n_pairs": 2, "n_timepoints": 30}),
    (warp_views, "n_segments", 1, _VIEWS),
    (warp_to_path, "n_timepoints", 1, {"positions": [0.0, 1.0]}),
    (digit_images, "digit_size", 2, {}),
    (make_digit_canvas, "n_images", 1, {}),
    (make_digit_canvas, "canvas_size", 2, {"n_images": 2}),
    (make_digit_canvas, "digit_size", 2, {"n_images": 2}),
    (make_digit_canvas, "n_clutter", 0, {"n_images": 2, "kind": "TC"}),
    (make_digit_canvas, "clutter_size", 1, {"n_images": 2, "kind": "TC"}),
    (make_warped_copy, "n_pairs", 1, {}),
    (make_warped_copy, "n_timepoints", 2, {"n_pairs": 3}),
    (make_warped_copy, "n_channels", 1, {"n_pairs": 3}),
    (make_digit_captions, "n_images", 1, {}),
    (make_digit_captions, "digit_size", 2, {"n_images": 2}),
]
_IDS = [f"{function.__name__}-{name}" for function, name, _, _ in INT_PARAMETERS]


def _assert_same(first, second):
    """Equal nested outputs: arrays, tuples, lists and named tuples of arrays."""
    if isinstance(first, (tuple, list)):
        assert type(first) is type(second) and len(first) == len(second)
        for x, y in zip(first, second):
            _assert_same(x, y)
    else:
        np.testing.assert_array_equal(first, second)


def _call(function, kwargs):
    if function in (warp_to_path, digit_images):
        return function(**kwargs)
    return function(**kwargs, random_state=0)


@pytest.mark.parametrize("function, name, minimum, extra", INT_PARAMETERS, ids=_IDS)
def test_int_parameters_refuse_floats_bools_and_small_values(function, name, minimum, extra):
    # datasets._check_int accepted 3.0 where every other copy refused it; the
    # declared constraint refuses it everywhere, naming the function and the parameter.
    message = rf"The '{name}' parameter of {function.__name__} must be an int in the range \[{minimum}, inf\)"  # noqa: E501
    for bad in (float(minimum + 1), True, minimum - 1, str(minimum + 1)):
        with pytest.raises(InvalidParameterError, match=message + rf".* Got {bad!r} instead"):
            _call(function, {**extra, name: bad})


@pytest.mark.parametrize("function, name, minimum, extra", INT_PARAMETERS, ids=_IDS)
def test_int_parameters_accept_numpy_ints(function, name, minimum, extra):
    value = minimum + 1
    _assert_same(
        _call(function, {**extra, name: np.int64(value)}), _call(function, {**extra, name: value})
    )


def test_invalid_parameter_error_is_an_input_value_and_type_error():
    with pytest.raises(InvalidInputError) as info:
        make_warped_copy(n_pairs=2.0)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    "function, kwargs, message",
    [
        # Formerly in tests/test_stn.py and tests/test_deep_ctw.py, in the old wording.
        (make_digit_canvas, {"kind": "Q"}, r"'kind' parameter of make_digit_canvas must be a str "),
        (make_digit_canvas, {"n_images": 0}, r"range \[1, inf\) or None. Got 0 instead"),
        (make_digit_canvas, {"noise": -1.0}, r"'noise' parameter .* range \[0.0, inf\)"),
        (make_digit_canvas, {"noise": np.inf}, r"'noise' parameter .* Got inf instead"),
        (make_digit_captions, {"kind": "Q"}, r"'kind' parameter of make_digit_captions"),
        (make_nonlinear_views, {"nonlinearity": -1.0}, r"'nonlinearity' parameter .* \[0.0, inf\)"),
        (make_nonlinear_views, {"noise": np.nan}, r"'noise' parameter .* Got nan instead"),
        (make_nonlinear_views, {"n_channels": (3,)}, r"'n_channels' parameter .* must be a pair"),
        (make_nonlinear_views, {"n_channels": 3}, r"'n_channels' .* pair .* Got 3 instead"),
        (make_nonlinear_views, {"n_channels": (3, 0)}, r"'n_channels\[1\]' .* \[1, inf\)"),
        (make_nonlinear_views, {"n_channels": (3, 2.0)}, r"'n_channels\[1\]' .* Got 2.0 instead"),
        (make_warped_spirals, {"speed": (0.0, 0.5)}, r"'speed\[0\]' parameter .* \(0.0, inf\)"),
        (make_warped_spirals, {"speed": (0.3, np.inf)}, r"'speed\[1\]' parameter"),
        (make_warped_spirals, {"speed": (0.9, 0.3)}, r"'speed' .* low <= high. Got \(0.9, 0.3\)"),
        (make_warped_spirals, {"return_positions": "yes"}, r"'return_positions' parameter"),
        (warp_views, {**_VIEWS, "speed": (0.5, 0.2)}, r"'speed' parameter of warp_views"),
        (make_warped_copy, {"n_timepoints": (9, 5)}, r"'n_timepoints' .* low <= high"),
        (make_warped_copy, {"n_timepoints": (1, 5)}, r"'n_timepoints\[0\]' .* \[2, inf\)"),
        (make_warped_copy, {"n_timepoints": (5.0, 6)}, r"'n_timepoints\[0\]' .* Got 5.0"),
        (make_warped_copy, {"n_timepoints": 2.5}, r"'n_timepoints' parameter .* Got 2.5"),
        (make_warped_copy, {"reverse": 1}, r"'reverse' parameter of make_warped_copy"),
        (make_warped_collection, {"n_timepoints": (1, 3)}, r"'n_timepoints\[0\]' .* \[2, inf\)"),
        (make_warped_collection, {"n_timepoints": (6, 3)}, r"'n_timepoints' .* low <= high"),
        (make_warped_collection, {"noise": -0.1}, r"'noise' parameter of make_warped_collection"),
        (make_ecg_pair, {"random_state": "seed"}, r"'random_state' parameter of make_ecg_pair"),
    ],
)
def test_generators_name_the_bad_parameter(function, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        function(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        # Checks that need more than one parameter or the data: InvalidInputError.
        ({"source_indices": [0, 5000]}, r"source_indices\[1\] = 5000"),
        ({"kind": "TC", "clutter_size": 40}, "clutter_size=40 must be at most"),
    ],
)
def test_canvas_checks_against_the_data(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        make_digit_canvas(**kwargs)


def test_pairs_accept_arrays_and_lists():
    first, _ = make_warped_spirals(n_timepoints=40, speed=np.array([0.3, 0.9]), random_state=1)
    second, _ = make_warped_spirals(n_timepoints=40, speed=[0.3, 0.9], random_state=1)
    _assert_same(first, second)
    pairs, _ = make_nonlinear_views(n_pairs=2, n_timepoints=30, n_channels=[3, 4], random_state=0)
    assert pairs[0][0].shape[1] == 3 + 2 and pairs[0][1].shape[1] == 4 + 2


def test_warped_collection_takes_one_length_or_a_range():
    X, _ = make_warped_collection(n_sequences=6, n_timepoints=12, random_state=0)
    assert [len(x) for x in X] == [12] * 6
    X, _ = make_warped_collection(n_sequences=30, n_timepoints=(5, 7), random_state=0)
    assert {len(x) for x in X} <= {5, 6, 7}


def test_each_public_call_validates_its_parameters_once(monkeypatch):
    # Every check (validate_params' wrapper and check_params) ends in _check_made.
    owners = []
    check = params._check_made

    def counting(constraints, values, owner):
        owners.append(owner)
        return check(constraints, values, owner)

    monkeypatch.setattr(params, "_check_made", counting)
    make_digit_captions(2, random_state=0)
    assert owners == ["make_digit_captions"]
    owners.clear()
    make_digit_canvas(2, random_state=0)
    assert owners == ["make_digit_canvas"]  # digit_images is not validated again


# ---------------------------------------------------------------------------------------------
# Flatten
# ---------------------------------------------------------------------------------------------


def test_flatten_is_a_reshape_per_sequence():
    X = np.arange(24.0).reshape(4, 3, 2)
    np.testing.assert_array_equal(Flatten().fit_transform(X), X.reshape(4, 6))
    np.testing.assert_array_equal(Flatten().fit_transform(list(X)), X.reshape(4, 6))
    assert Flatten().fit(X) is not None


@pytest.mark.parametrize(
    "X, message",
    [
        ([np.zeros((3, 1)), np.zeros((4, 1))], r"X must hold sequences of one shape .* \(4, 1\)"),
        (3.0, r"X must be a collection of sequences, got the scalar 3.0"),
    ],
)
def test_flatten_refuses_what_it_cannot_flatten(X, message):
    with pytest.raises(InvalidInputError, match=message):
        Flatten().transform(X)
