"""Validation at the public boundary: every bad input is refused with a message that says where.

Each case is asserted through its message, for the validators themselves and
for the public entry points (``alignkit.dtw`` names ``a`` and ``b``, the
aligners name ``X``).
"""

import numpy as np
import pytest
from _reference import reference_dtw

import alignkit
from alignkit import DTWAligner, UniformAligner
from alignkit.exceptions import AlignkitMemoryError, InvalidInputError
from alignkit.validation import check_collection, check_sequence


def _with(value, timepoint, channel, shape=(6, 2)):
    array = np.arange(np.prod(shape), dtype=float).reshape(shape)
    array[timepoint, channel] = value
    return array


# ---------------------------------------------------------------------------------------------
# One sequence
# ---------------------------------------------------------------------------------------------

BAD_SEQUENCES = [
    (_with(np.nan, 3, 1), r"holds (?i:nan) at timepoint 3, channel 1; sequences must be finite"),
    (_with(np.inf, 0, 0), r"holds inf at timepoint 0, channel 0"),
    (_with(-np.inf, 5, 1), r"holds -inf at timepoint 5, channel 1"),
    (np.array([1.0, np.nan]), r"holds (?i:nan) at timepoint 1, channel 0"),
    (np.zeros(0), r"is empty \(0 timepoints\)"),
    (np.zeros((0, 3)), r"is empty \(0 timepoints\)"),
    (np.zeros((5, 0)), r"has 0 channels"),
    (["a", "b", "c"], r"has non-numeric dtype <U1; pass numbers"),
    (
        np.array([1.0, {}], dtype=object),
        r"is ragged or holds non-numeric values \(dtype object\)",
    ),
    ([[1.0, 2.0], [3.0]], r"is ragged or not array-like"),
    (np.array([1 + 2j, 3]), r"is complex; alignkit aligns real values"),
    (np.float64(3.0), r"has 0 dimensions \(shape \(\)\)"),
    (np.zeros((2, 3, 4)), r"has 3 dimensions \(shape \(2, 3, 4\)\)"),
    (np.zeros((2, 3, 4, 5)), r"has 4 dimensions"),
]


@pytest.mark.parametrize("value, message", BAD_SEQUENCES)
def test_check_sequence_messages(value, message):
    with pytest.raises(InvalidInputError, match=r"^sequence " + message):
        check_sequence(value)
    with pytest.raises(InvalidInputError, match=r"^s\[4\] " + message):
        check_sequence(value, name="s", index=4)


def _partner(value):
    """A valid first sequence with the channels of ``value``, so ``value`` fails for itself."""
    try:
        array = np.asarray(value)
    except ValueError:
        return np.zeros(4)
    return np.zeros((4, 2)) if array.ndim == 2 and array.shape[1] == 2 else np.zeros(4)


@pytest.mark.parametrize("value, message", BAD_SEQUENCES)
def test_dtw_names_a_and_b(value, message):
    for function in (alignkit.dtw, alignkit.dtw_distance):
        with pytest.raises(InvalidInputError, match=r"^a " + message):
            function(value, np.zeros((4, 2)))
        if "channels" not in message:
            with pytest.raises(InvalidInputError, match=r"^b " + message):
                function(_partner(value), value)


def test_dtw_channel_mismatch_names_b():
    for function in (alignkit.dtw, alignkit.dtw_distance):
        with pytest.raises(InvalidInputError, match=r"^b has 3 channels but 2 were expected"):
            function(np.zeros((4, 2)), np.zeros((5, 3)))
    with pytest.raises(InvalidInputError, match=r"^b has 1 channels but 2 were expected"):
        UniformAligner().align(np.zeros((4, 2)), np.zeros(5))


def test_invalid_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        alignkit.dtw([np.nan], [1.0])


# ---------------------------------------------------------------------------------------------
# Collections
# ---------------------------------------------------------------------------------------------

BAD_COLLECTIONS = [
    ([], r"^X is empty \(0 sequences\)"),
    (np.zeros((0, 5)), r"^X is empty \(0 sequences\)"),
    ([np.zeros(3), np.zeros((3, 2))], r"^X\[1\] has 2 channels but 1 were expected"),
    (
        [np.zeros(3), _with(np.nan, 2, 0, shape=(4, 1))],
        r"^X\[1\] holds (?i:nan) at timepoint 2, channel 0",
    ),
    ([np.zeros(3), np.zeros(2), np.zeros(0)], r"^X\[2\] is empty \(0 timepoints\)"),
    ([np.zeros(3), ["x", "y"]], r"^X\[1\] has non-numeric dtype"),
    ([np.zeros(3), [[1.0], [2.0, 3.0]]], r"^X\[1\] is ragged or not array-like"),
    ([np.zeros(3), np.ones(3) * 1j], r"^X\[1\] is complex"),
    (np.zeros(4), r"^X has 1 dimensions \(shape \(4,\)\)"),
    (np.zeros((2, 3, 4, 5)), r"^X has 4 dimensions \(shape \(2, 3, 4, 5\)\)"),
    (np.array(["ab", "cd"]), r"^X has non-numeric dtype"),
    ("abc", r"^X must be a collection of sequences, got str"),
    (None, r"^X must be a collection of sequences, got NoneType"),
    (np.full((2, 3), np.inf), r"^X\[0\] holds inf at timepoint 0, channel 0"),
    # Issue 13, item 3: aeon's (n_sequences, n_channels, n_timepoints) was read as 1-frame rows.
    (
        np.zeros((6, 1, 50)),
        r"^X has shape \(6, 1, 50\): read as \(n_sequences, n_timepoints, n_channels\).*"
        r"aeon/sktime.*alignkit\.from_aeon\(X\).*sequence_layout='ntc'",
    ),
    (np.zeros((2, 0, 3)), r"^X\[0\] is empty"),  # no timepoints: empty, not a layout question
]


@pytest.mark.parametrize("value, message", BAD_COLLECTIONS)
def test_check_collection_messages(value, message):
    with pytest.raises(InvalidInputError, match=message):
        check_collection(value)


@pytest.mark.parametrize("value, message", BAD_COLLECTIONS)
def test_aligners_name_x_in_fit_and_transform(value, message):
    good = [np.zeros(3), np.ones(4)]
    for aligner in (DTWAligner(), UniformAligner(), DTWAligner(reference=np.zeros(3))):
        with pytest.raises(InvalidInputError, match=message):
            aligner.fit(value)
        fitted = aligner.fit(good)
        if "channels but" in message:
            continue
        with pytest.raises(InvalidInputError, match=message):
            fitted.transform(value)


def test_transform_checks_channels_seen_in_fit():
    aligner = DTWAligner().fit([np.zeros((3, 2)), np.ones((4, 2))])
    with pytest.raises(InvalidInputError, match=r"^X\[0\] has 1 channels but 2 were expected"):
        aligner.transform([np.zeros(5)])


def test_given_reference_is_validated_by_name():
    with pytest.raises(
        InvalidInputError, match=r"^reference holds (?i:nan) at timepoint 1, channel 0"
    ):
        DTWAligner(reference=[0.0, np.nan]).fit([np.zeros(3)])
    with pytest.raises(InvalidInputError, match=r"^X\[0\] has 1 channels but 2 were expected"):
        DTWAligner(reference=np.zeros((3, 2))).fit([np.zeros(3)])
    with pytest.raises(
        InvalidInputError,
        match=r"'reference' parameter of DTWAligner must be a str among .*'dba'.* or an "
        r"array-like. Got 'x' instead",
    ):
        DTWAligner(reference="x").fit([np.zeros(3)])


def test_three_d_array_with_trailing_nan_padding_recovers_lengths():
    rng = np.random.default_rng(0)
    lengths = [7, 4, 9, 1]
    padded = np.full((4, 9, 2), np.nan)
    for k, length in enumerate(lengths):
        padded[k, :length] = rng.normal(size=(length, 2))
    original = padded.copy()
    sequences = check_collection(padded)
    assert [len(s) for s in sequences] == lengths
    for k, length in enumerate(lengths):
        np.testing.assert_array_equal(sequences[k], padded[k, :length])
    np.testing.assert_array_equal(padded, original)
    aligned = UniformAligner(n_timepoints=5).fit_transform(padded)
    assert np.isfinite(aligned).all()


def test_three_d_array_nan_inside_is_refused():
    padded = np.zeros((2, 5, 1))
    padded[1, 3:] = np.nan
    padded[1, 1] = np.nan
    with pytest.raises(
        InvalidInputError, match=r"^X\[1\] holds (?i:nan) at timepoint 1, channel 0"
    ):
        check_collection(padded)
    partial = np.zeros((2, 5, 2))
    partial[0, 4, 1] = np.nan  # one channel missing is not padding
    with pytest.raises(
        InvalidInputError, match=r"^X\[0\] holds (?i:nan) at timepoint 4, channel 1"
    ):
        check_collection(partial)


def test_three_d_array_all_nan_sequence_is_refused():
    padded = np.zeros((3, 4, 1))
    padded[1] = np.nan
    with pytest.raises(InvalidInputError, match=r"^X\[1\] is empty \(every timepoint is NaN"):
        check_collection(padded)
    with pytest.raises(InvalidInputError, match=r"^X\[1\] is empty"):
        DTWAligner().fit(padded)


def test_two_d_array_is_univariate_rows():
    X = np.arange(12.0).reshape(3, 4)
    sequences = check_collection(X)
    assert [s.shape for s in sequences] == [(4, 1)] * 3
    for row, sequence in zip(X, sequences):
        np.testing.assert_array_equal(sequence[:, 0], row)
    transformed = DTWAligner(reference=X[0]).fit(X).transform(X)
    assert transformed.shape == (3, 4, 1)


def test_tuple_and_list_collections_agree():
    items = (np.zeros(3), np.arange(5.0))
    as_tuple, as_list = check_collection(items), check_collection(list(items))
    for x, y in zip(as_tuple, as_list):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.uint8, np.bool_])
def test_numeric_dtypes_are_converted_to_float64(dtype):
    rng = np.random.default_rng(1)
    a = (rng.integers(0, 2, size=(9, 2))).astype(dtype)
    b = (rng.integers(0, 2, size=(7, 2))).astype(dtype)
    sequence = check_sequence(a)
    assert sequence.dtype == np.float64 and sequence.flags.c_contiguous
    expected = reference_dtw(a.astype(float), b.astype(float))[-1, -1]
    assert alignkit.dtw(a, b, squared=True).distance == pytest.approx(expected)
    assert alignkit.dtw_distance(a, b, squared=True) == pytest.approx(expected)
    assert all(s.dtype == np.float64 for s in check_collection([a, b]))


def test_non_contiguous_input_is_accepted():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(20, 6))
    a, b = base[::2, ::3], base[1::3, 1::3]
    assert not a.flags.c_contiguous
    expected = reference_dtw(a, b)[-1, -1]
    assert alignkit.dtw_distance(a, b, squared=True) == pytest.approx(expected)
    assert check_sequence(a).flags.c_contiguous


def _read_only(array):
    array = np.array(array)
    array.setflags(write=False)
    return array


def test_read_only_inputs_work_and_nothing_is_modified():
    rng = np.random.default_rng(3)
    X = [_read_only(rng.normal(size=(n, 2))) for n in (8, 11, 9, 10)]
    copies = [x.copy() for x in X]
    a, b = X[0], X[1]
    expected = reference_dtw(a, b)[-1, -1]
    assert alignkit.dtw(a, b, squared=True).distance == pytest.approx(expected)
    assert alignkit.dtw(a, b, window=2, return_cost_matrix=True).distance > 0
    assert alignkit.dtw_distance(a, b, squared=True) == pytest.approx(expected)
    assert alignkit.dtw_distance(a, b, window=_read_only(np.ones((8, 11), bool))) > 0
    aligner = DTWAligner(window=3).fit(X)
    aligned = aligner.transform(X)
    assert aligned.shape == (4, len(aligner.reference_), 2)
    UniformAligner().fit_transform(X)
    stacked = _read_only(np.stack([x[:8] for x in X]))
    DTWAligner().fit(stacked).transform(stacked)
    for x, copy in zip(X, copies):
        np.testing.assert_array_equal(x, copy)


def test_inputs_are_not_modified_by_padding_or_conversion():
    padded = np.full((2, 5, 1), np.nan)
    padded[0, :3, 0] = [1.0, 2.0, 3.0]
    padded[1, :, 0] = np.arange(5.0)
    original = padded.copy()
    X = DTWAligner().fit(padded).transform(padded)
    assert X.shape[0] == 2
    np.testing.assert_array_equal(padded, original)
    ints = np.arange(6)
    alignkit.dtw(ints, ints[::-1])
    np.testing.assert_array_equal(ints, np.arange(6))


# ---------------------------------------------------------------------------------------------
# Memory guard
# ---------------------------------------------------------------------------------------------


def test_memory_guard_refuses_full_path_but_not_distance():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=200), rng.normal(size=200)
    expected = alignkit.dtw(a, b).distance
    with alignkit.config_context(max_memory=1000):
        with pytest.raises(AlignkitMemoryError, match=r"max_memory"):
            alignkit.dtw(a, b)
        assert alignkit.dtw_distance(a, b) == pytest.approx(expected)
    assert alignkit.get_config()["max_memory"] != 1000


def test_memory_guard_counts_the_band_only():
    # A full 200 x 200 path needs 320 kB of accumulated cost; a radius-5 band about 18 kB.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=200), rng.normal(size=200)
    with alignkit.config_context(max_memory=100_000):
        with pytest.raises(AlignkitMemoryError, match=r"lengths 200 and 200.*max_memory"):
            alignkit.dtw(a, b)
        assert alignkit.dtw(a, b, window=5).distance == pytest.approx(
            alignkit.dtw_distance(a, b, window=5)
        )
        with pytest.raises(AlignkitMemoryError):
            alignkit.dtw(a, b, window=5, return_cost_matrix=True)


def test_memory_error_is_a_memory_error():
    with alignkit.config_context(max_memory=10):
        with pytest.raises(MemoryError):
            alignkit.dtw(np.zeros(50), np.zeros(50))


def test_masked_arrays_are_refused_when_something_is_masked():
    # Issue 13, item 4: the mask was dropped silently.
    values = np.ma.masked_array([0.0, 1.0, 2.0, 3.0], mask=[False, False, True, False])
    with pytest.raises(InvalidInputError, match=r"a masked array with a masked value at index \(2"):
        check_sequence(values, name="a")
    with pytest.raises(InvalidInputError, match=r"X\[1\] is a masked array"):
        check_collection([np.zeros(3), values])
    with pytest.raises(InvalidInputError, match=r"X is a masked array .* index \(0, 2\)"):
        check_collection(np.ma.masked_array([[0.0, 1.0, 2.0]], mask=[[0, 0, 1]]))
    unmasked = np.ma.masked_array([0.0, 1.0, 2.0], mask=False)
    np.testing.assert_array_equal(check_sequence(unmasked), [[0.0], [1.0], [2.0]])
    assert type(check_sequence(unmasked)) is np.ndarray
