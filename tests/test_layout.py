"""Input layouts (issue 13, item 3): aeon's channels-first sequences, channels-last images.

Truths: arrays transposed by hand with ``np.transpose`` / ``np.moveaxis``, aeon's own
``dtw_pairwise_distance`` (the summed squared cost, alignkit's ``squared=True``), and the
brute-force DP of ``tests/_reference.py``. The user guide page on layouts is run as a doctest.
"""

import doctest
import importlib
from pathlib import Path

import numpy as np
import pytest
from _reference import reference_dtw

import alignkit
from alignkit import DTWAligner
from alignkit.exceptions import InvalidInputError, InvalidParameterError
from alignkit.validation import check_collection, check_images, check_pair, check_sequence

GUIDE = Path(__file__).parents[1] / "docs" / "user_guide" / "input.rst"
SEQUENCE_HINT = r"from_aeon.*sequence_layout='ntc'"


def _aeon_collection(seed, n_cases=6, n_channels=1, n_timepoints=50):
    return np.random.default_rng(seed).normal(size=(n_cases, n_channels, n_timepoints))


def _by_hand(X):
    """aeon's (n, c, t) as alignkit's (n, t, c), without alignkit."""
    return np.transpose(X, (0, 2, 1))


# ---------------------------------------------------------------------------------------------
# Collections in aeon's layout
# ---------------------------------------------------------------------------------------------


def test_aeon_collection_is_refused_with_the_hint():
    X = _aeon_collection(0)
    with pytest.raises(InvalidInputError, match=r"^X has shape \(6, 1, 50\).*" + SEQUENCE_HINT):
        alignkit.pairwise_distances(X)
    with pytest.raises(InvalidInputError, match=r"^Y has shape \(6, 1, 50\).*from_aeon\(Y\)"):
        alignkit.pairwise_distances(_by_hand(X), X)
    with pytest.raises(InvalidInputError, match=r"aeon/sktime's layout"):
        DTWAligner().fit(X)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_from_aeon_and_nct_equal_transposed_data_and_aeon(n_channels):
    X = _aeon_collection(1, n_channels=n_channels, n_timepoints=40)
    expected = alignkit.pairwise_distances(_by_hand(X), squared=True)
    converted = alignkit.from_aeon(X)
    assert [s.shape for s in converted] == [(40, n_channels)] * 6
    for sequence, case in zip(converted, X):
        np.testing.assert_array_equal(sequence, case.T)
    np.testing.assert_allclose(alignkit.pairwise_distances(converted, squared=True), expected)
    with alignkit.config_context(sequence_layout="nct"):
        np.testing.assert_allclose(alignkit.pairwise_distances(X, squared=True), expected)
    aeon = importlib.import_module("aeon.distances")
    np.testing.assert_allclose(aeon.dtw_pairwise_distance(X, window=None), expected, rtol=1e-10)
    assert not np.allclose(expected, 0.0)


def test_from_aeon_np_list_of_unequal_lengths_matches_aeon():
    rng = np.random.default_rng(2)
    X = [rng.normal(size=(2, n)) for n in (30, 17, 24, 9)]
    converted = alignkit.from_aeon(X)
    assert [s.shape for s in converted] == [(30, 2), (17, 2), (24, 2), (9, 2)]
    aeon = importlib.import_module("aeon.distances")
    np.testing.assert_allclose(
        alignkit.pairwise_distances(converted, squared=True),
        aeon.dtw_pairwise_distance(X, window=None),
        rtol=1e-10,
    )
    by_hand = alignkit.pairwise_distances([x.T for x in X], squared=True)
    with alignkit.config_context(sequence_layout="nct"):
        np.testing.assert_allclose(alignkit.pairwise_distances(X, squared=True), by_hand)


def test_from_aeon_reads_aeon_whatever_the_configuration():
    X = _aeon_collection(3, n_cases=2, n_channels=2, n_timepoints=9)
    for layout in ("auto", "ntc", "nct"):
        with alignkit.config_context(sequence_layout=layout):
            converted = alignkit.from_aeon(X)
        for sequence, case in zip(converted, X):
            np.testing.assert_array_equal(sequence, case.T)
            assert sequence.dtype == np.float64 and sequence.flags.c_contiguous


def test_from_aeon_univariate_two_d_and_padding():
    rows = np.arange(12.0).reshape(3, 4)  # aeon's numpy2D: (n_cases, n_timepoints)
    assert [s.tolist() for s in alignkit.from_aeon(rows)] == [[[v] for v in r] for r in rows]
    padded = np.full((2, 2, 6), np.nan)  # aeon layout, second case 4 timepoints long
    padded[0] = np.arange(12.0).reshape(2, 6)
    padded[1, :, :4] = np.arange(8.0).reshape(2, 4)
    converted = alignkit.from_aeon(padded)
    assert [len(s) for s in converted] == [6, 4]
    np.testing.assert_array_equal(converted[1], padded[1, :, :4].T)


FROM_AEON_ERRORS = [
    ([], r"^X is empty \(0 sequences\)"),
    (np.zeros((0, 2, 5)), r"^X is empty \(0 sequences\)"),
    ([np.zeros((2, 5)), np.zeros((2, 0))], r"^X\[1\] is empty \(0 timepoints\)"),
    ([np.zeros((2, 5)), np.zeros((3, 5))], r"^X\[1\] has 3 channels but 2 were expected"),
    ([np.zeros((2, 5)), np.zeros((1, 2, 5))], r"^X\[1\] has 3 dimensions.*under sequence_lay"),
    (np.zeros((2, 3, 4, 5)), r"^X has 4 dimensions"),
    ([np.zeros((2, 5)), np.full((2, 5), np.inf)], r"^X\[1\] holds inf at timepoint 0, channel 0"),
    (None, r"^X must be a collection of sequences"),
    (np.zeros((3, 2, 4), dtype=complex), r"^X is complex"),
]


@pytest.mark.parametrize("value, message", FROM_AEON_ERRORS)
def test_from_aeon_errors_name_the_case(value, message):
    with pytest.raises(InvalidInputError, match=message):
        alignkit.from_aeon(value)


def test_from_aeon_nan_position_is_in_alignkit_axes():
    X = _aeon_collection(4, n_cases=3, n_channels=2, n_timepoints=10)
    X[1, 0, 4] = np.nan  # channel 0, timepoint 4 of case 1
    with pytest.raises(
        InvalidInputError, match=r"^X\[1\] holds (?i:nan) at timepoint 4, channel 0"
    ):
        alignkit.from_aeon(X)
    with alignkit.config_context(sequence_layout="nct"):
        with pytest.raises(InvalidInputError, match=r"^X\[1\] holds (?i:nan) at timepoint 4, ch"):
            check_collection(X)


# ---------------------------------------------------------------------------------------------
# Pairs (the DTW family) and single sequences
# ---------------------------------------------------------------------------------------------


def test_dtw_pair_in_aeon_layout_is_read_under_nct():
    # A pair is read as given under "auto" (short many-channel pairs are legitimate);
    # stating aeon's layout reads each sequence as (n_channels, n_timepoints).
    X = _aeon_collection(5)
    expected = alignkit.dtw(X[0].T, X[1].T)
    assert len(expected.path) > 50  # a real alignment, not the one cell [[0, 0]]
    with alignkit.config_context(sequence_layout="nct"):
        alignment = alignkit.dtw(X[0], X[1])
        distance = alignkit.dtw_distance(X[0], X[1], squared=True)
        aligned = DTWAligner().align(X[0], X[1])
    np.testing.assert_array_equal(alignment.path, expected.path)
    np.testing.assert_array_equal(aligned.path, expected.path)
    assert distance == pytest.approx(reference_dtw(X[0].T, X[1].T)[-1, -1], rel=1e-12)


def test_short_many_channel_pairs_are_read_as_given():
    rng = np.random.default_rng(6)
    short, long = rng.normal(size=(2, 3)), rng.normal(size=(9, 3))
    a, b = check_pair(short, long[:1])
    assert (a.shape, b.shape) == ((2, 3), (1, 3))
    assert alignkit.dtw_distance(short, long[:1], squared=True) == pytest.approx(
        reference_dtw(short, long[:1])[-1, -1], rel=1e-12
    )


def test_single_sequence_is_trusted_under_auto_and_transposed_under_nct():
    wide = np.arange(10.0).reshape(2, 5)
    assert check_sequence(wide).shape == (2, 5)
    with alignkit.config_context(sequence_layout="nct"):
        np.testing.assert_array_equal(check_sequence(wide), wide.T)
        np.testing.assert_array_equal(check_sequence(np.arange(4.0)), np.arange(4.0)[:, None])
        rows = check_collection(np.arange(12.0).reshape(3, 4))  # univariate rows stay rows
        assert [s.shape for s in rows] == [(4, 1)] * 3
        listed = check_collection([wide, wide[:, :3]])
        assert [s.shape for s in listed] == [(5, 2), (3, 2)]


# ---------------------------------------------------------------------------------------------
# Short sequences of many channels
# ---------------------------------------------------------------------------------------------


def test_short_embeddings_need_the_layout_stated():
    frames = np.random.default_rng(7).normal(size=(3, 20, 512))
    with pytest.raises(InvalidInputError, match=r"^X has shape \(3, 20, 512\).*" + SEQUENCE_HINT):
        check_collection(frames)
    expected = reference_dtw(frames[0], frames[1])[-1, -1]
    assert alignkit.dtw_distance(frames[0], frames[1], squared=True) == pytest.approx(
        expected, rel=1e-12
    )  # a pair is read as given
    as_list = check_collection(list(frames))  # a list is read as given, also under "auto"
    assert [s.shape for s in as_list] == [(20, 512)] * 3
    with alignkit.config_context(sequence_layout="ntc"):
        assert [s.shape for s in check_collection(frames)] == [(20, 512)] * 3
        assert alignkit.dtw_distance(frames[0], frames[1], squared=True) == pytest.approx(
            expected, rel=1e-12
        )
        matrix = alignkit.pairwise_distances(frames, squared=True)
    assert matrix[0, 1] == pytest.approx(expected, rel=1e-12)
    assert matrix[1, 2] == pytest.approx(reference_dtw(frames[1], frames[2])[-1, -1], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def _photos(seed, n_images=12):
    return np.random.default_rng(seed).uniform(size=(n_images, 16, 16, 3))


def test_check_images_layouts():
    photos = _photos(8, n_images=4)
    with pytest.raises(
        InvalidInputError, match=r"^X has shape \(4, 16, 16, 3\).*image_layout='nhwc'.*moveaxis"
    ):
        check_images(photos)
    with alignkit.config_context(image_layout="nhwc"):
        moved = check_images(photos)
        assert check_images(photos[:, :, :, 0]).shape == (4, 1, 16, 16)  # 3-D: one channel
        with pytest.raises(InvalidInputError, match=r"^X is empty"):
            check_images(np.zeros((2, 16, 16, 0)))
    np.testing.assert_array_equal(moved, np.moveaxis(photos, -1, 1))
    assert moved.flags.c_contiguous and moved.dtype == np.float64
    with alignkit.config_context(image_layout="nchw"):
        assert check_images(photos).shape == (4, 16, 16, 3)  # trusted: 16 channels
    assert check_images(np.moveaxis(photos, -1, 1)).shape == (4, 3, 16, 16)
    assert check_images(np.zeros((2, 3, 16, 3))).shape == (2, 3, 16, 3)  # both axes could be


@pytest.mark.parametrize("name", ["STNAligner", "GlimpseAligner"])
def test_learned_image_aligners_refuse_channels_last(name):
    pytest.importorskip("torch")
    labels = np.arange(12) % 2
    with pytest.raises(InvalidInputError, match=r"image_layout='nhwc'"):
        getattr(alignkit, name)(max_epochs=1).fit(_photos(9), labels)


def test_stn_channels_last_fit_equals_moved_fit():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    photos, labels = _photos(10), np.arange(12) % 2
    moved = np.moveaxis(photos, -1, 1)
    params = dict(transformation="attention", max_epochs=1, random_state=0)
    expected = alignkit.STNAligner(**params).fit(moved, labels)
    with alignkit.config_context(image_layout="nhwc"):
        model = alignkit.STNAligner(**params).fit(photos, labels)
        proba = model.predict_proba(photos)
        warped = model.transform(photos)
    assert model.image_shape_ == expected.image_shape_ == (3, 16, 16)
    np.testing.assert_allclose(proba, expected.predict_proba(moved), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(warped, expected.transform(moved), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("sequence_layout", "tnc", "'auto', 'ntc', 'nct'"),
        ("sequence_layout", None, "'auto', 'ntc', 'nct'"),
        ("image_layout", "NHWC", "'auto', 'nchw', 'nhwc'"),
        ("image_layout", 3, "'auto', 'nchw', 'nhwc'"),
    ],
)
def test_set_config_refuses_bad_layouts(key, value, allowed):
    before = alignkit.get_config()
    message = rf"^set_config got {key}={value!r}; {key} must be one of {allowed}$"
    with pytest.raises(InvalidParameterError, match=message):
        alignkit.set_config(**{key: value})
    with pytest.raises(ValueError, match=message):
        with alignkit.config_context(max_memory=10, **{key: value}):
            pass  # pragma: no cover
    assert alignkit.get_config() == before


def test_layout_defaults_and_context_restore():
    assert alignkit.get_config()["sequence_layout"] == "auto"
    assert alignkit.get_config()["image_layout"] == "auto"
    with alignkit.config_context(sequence_layout="nct", image_layout="nhwc"):
        assert alignkit.get_config()["sequence_layout"] == "nct"
        assert alignkit.get_config()["image_layout"] == "nhwc"
    assert alignkit.get_config()["sequence_layout"] == "auto"


def test_user_guide_page_runs():
    result = doctest.testfile(
        str(GUIDE),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 20 and result.failed == 0
