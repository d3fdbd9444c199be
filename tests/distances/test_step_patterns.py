"""Step patterns and open ends against dtw-python (the oracle) and a dense reference DP.

dtw-python 1.9.0 defines every named pattern; with ``dist_method="sqeuclidean"``
its local cost is alignkit's, so with ``squared=True`` its ``distance``,
``normalizedDistance``, ``index1`` and ``index2`` must equal ours. Where
dtw-python has no answer (a mask window whose cells a multi-step pattern
crosses, open ends with symmetric1) the truth is a plain-Python DP written
from the table's definition here, or the symmetric1 reference of ``_reference.py``.
"""

import pickle

import dtw as dtw_python
import numpy as np
import pytest
from _reference import assert_valid_path, local_cost, reference_dtw

import alignkit
from alignkit.distances.step_patterns import StepPattern, check_step_pattern
from alignkit.exceptions import InvalidInputError, WindowError

NAMES = [
    "symmetric1",
    "symmetric2",
    "asymmetric",
    "symmetricP05",
    "symmetricP1",
    "symmetricP2",
    "asymmetricP05",
    "asymmetricP1",
    "asymmetricP2",
]
N_PATTERNS = [name for name in NAMES if getattr(dtw_python, name).hint == "N"]
SHAPES = [(20, 25), (25, 20), (22, 22), (9, 13)]


def _pair(seed, n, m, n_channels=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_channels)), rng.normal(size=(m, n_channels))


def _peer(a, b, name, **kwargs):
    return dtw_python.dtw(
        a, b, dist_method="sqeuclidean", step_pattern=getattr(dtw_python, name), **kwargs
    )


def _assert_same(ours, peer):
    assert ours.distance == pytest.approx(peer.distance, rel=1e-12)
    if np.isnan(peer.normalizedDistance):
        assert ours.normalized_distance is None
    else:
        assert ours.normalized_distance == pytest.approx(peer.normalizedDistance, rel=1e-12)
    np.testing.assert_array_equal(ours.index_a, peer.index1)
    np.testing.assert_array_equal(ours.index_b, peer.index2)


def _feasible(call):
    """The result of ``call``, or None where the pattern's slopes admit no path."""
    try:
        return call()
    except ValueError:
        return None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_named_patterns_equal_dtw_python(name, shape):
    for seed in range(3):
        a, b = _pair(seed, *shape)
        peer = _feasible(lambda: _peer(a, b, name))  # noqa: B023
        if peer is None:
            with pytest.raises(InvalidInputError, match="slope"):
                alignkit.dtw(a, b, step_pattern=name)
            continue
        ours = alignkit.dtw(a, b, step_pattern=name, squared=True)
        _assert_same(ours, peer)
        rooted = alignkit.dtw(a, b, step_pattern=name)
        assert rooted.distance == pytest.approx(np.sqrt(peer.distance), rel=1e-12)
        distance = alignkit.dtw_distance(a, b, step_pattern=name, squared=True)
        assert distance == pytest.approx(peer.distance, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("radius", [1, 3, 6])
def test_sakoe_chiba_band_equals_dtw_python(name, radius):
    # dtw-python's band is |i - j| <= r, alignkit's for equal lengths too.
    for seed in range(3):
        a, b = _pair(100 + seed, 24, 24, n_channels=1)
        peer = _peer(a, b, name, window_type="sakoechiba", window_args={"window_size": radius})
        ours = alignkit.dtw(a, b, step_pattern=name, squared=True, window=radius)
        _assert_same(ours, peer)


@pytest.mark.parametrize("name", NAMES)
def test_cost_matrix_equals_dtw_python(name):
    a, b = _pair(7, 15, 18)
    peer = _peer(a, b, name, keep_internals=True)
    ours = alignkit.dtw(a, b, step_pattern=name, squared=True, return_cost_matrix=True)
    expected = np.where(np.isnan(peer.costMatrix), np.inf, peer.costMatrix)
    np.testing.assert_allclose(ours.cost_matrix, expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["typeIIIc", "typeIVc", "typeIds", "typeIIc", "mori2006"])
def test_user_table_equals_dtw_python(name):
    """Patterns built from dtw-python's own tables, normalisation "M" included."""
    peer_pattern = getattr(dtw_python, name)
    pattern = StepPattern(peer_pattern.mx, normalization=peer_pattern.hint, name=name)
    for seed in range(3):
        a, b = _pair(200 + seed, 18, 24)
        peer = dtw_python.dtw(
            a, b, dist_method="sqeuclidean", step_pattern=peer_pattern, open_end=True
        )
        ours = alignkit.dtw(a, b, step_pattern=pattern, squared=True, open_end=True)
        _assert_same(ours, peer)


@pytest.mark.parametrize("seed", range(6))
def test_generic_kernel_equals_fast_kernel_for_symmetric1(seed):
    copy = StepPattern(alignkit.distances.step_patterns.symmetric1.table, name="copy")
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rng.integers(1, 30), 3))
    b = rng.normal(size=(rng.integers(1, 30), 3))
    mask = rng.random((len(a), len(b))) < 0.8
    mask[0, 0] = mask[-1, -1] = True
    mask[np.arange(len(a)), np.arange(len(a)) * (len(b) - 1) // max(len(a) - 1, 1)] = True
    for window in (None, 2, 0.3, ("itakura", 2.0), mask):
        try:
            fast = alignkit.dtw(a, b, window=window, return_cost_matrix=True)
        except WindowError:
            with pytest.raises(WindowError):
                alignkit.dtw(a, b, window=window, step_pattern=copy)
            continue
        generic = alignkit.dtw(a, b, window=window, step_pattern=copy, return_cost_matrix=True)
        assert generic.distance == pytest.approx(fast.distance, rel=1e-12)
        np.testing.assert_array_equal(generic.path, fast.path)
        np.testing.assert_allclose(generic.cost_matrix, fast.cost_matrix, rtol=1e-12)
        assert generic.normalized_distance is None


def _reference_pattern_dtw(cost, table, mask):
    """Dense DP from a pattern table's definition; every pattern cell must be in ``mask``."""
    n, m = cost.shape
    patterns = [table[table[:, 0] == p, 1:] for p in np.unique(table[:, 0])]
    acc = np.full((n, m), np.inf)
    acc[0, 0] = cost[0, 0]
    for i in range(n):
        for j in range(m):
            if not mask[i, j] or (i, j) == (0, 0):
                continue
            for rows in patterns:
                cells = [(i - int(di), j - int(dj)) for di, dj, _ in rows]
                if min(min(c) for c in cells) < 0 or not all(mask[c] for c in cells):
                    continue
                weights = rows[1:, 2]
                total = acc[cells[0]] + sum(w * cost[c] for c, w in zip(cells[1:], weights))
                acc[i, j] = min(acc[i, j], total)
    return acc


@pytest.mark.parametrize("name", ["symmetric2", "symmetricP1", "asymmetricP2", "asymmetric"])
def test_mask_window_keeps_every_pattern_cell_inside(name):
    pattern = check_step_pattern(name)
    rng = np.random.default_rng(3)
    for _ in range(4):
        a, b = rng.normal(size=(12, 1)), rng.normal(size=(14, 1))
        mask = rng.random((12, 14)) < 0.85
        mask[0, 0] = mask[-1, -1] = True
        expected = _reference_pattern_dtw(local_cost(a, b), pattern.table, mask)[-1, -1]
        if not np.isfinite(expected):
            with pytest.raises(WindowError):
                alignkit.dtw(a, b, step_pattern=name, window=mask)
            continue
        ours = alignkit.dtw(a, b, step_pattern=name, window=mask, squared=True)
        assert ours.distance == pytest.approx(expected, rel=1e-12)
        assert mask[ours.index_a, ours.index_b].all()


@pytest.mark.parametrize("name", N_PATTERNS)
@pytest.mark.parametrize(("open_begin", "open_end"), [(True, True), (True, False), (False, True)])
def test_open_ends_equal_dtw_python(name, open_begin, open_end):
    for seed in range(3):
        a, b = _pair(300 + seed, 12, 40)
        peer = _peer(a, b, name, open_begin=open_begin, open_end=open_end)
        ours = alignkit.dtw(
            a, b, step_pattern=name, squared=True, open_begin=open_begin, open_end=open_end
        )
        _assert_same(ours, peer)
        assert ours.index_a[0] == 0 and ours.index_a[-1] == len(a) - 1


@pytest.mark.parametrize("name", ["symmetric2", "symmetricP05", "symmetricP1"])
def test_open_end_with_n_plus_m_normalisation_equals_dtw_python(name):
    for seed in range(3):
        a, b = _pair(400 + seed, 15, 30)
        peer = _peer(a, b, name, open_end=True)
        _assert_same(alignkit.dtw(a, b, step_pattern=name, squared=True, open_end=True), peer)


@pytest.mark.parametrize("name", ["symmetric2", "symmetricP2"])
def test_open_begin_refuses_patterns_not_normalised_by_n(name):
    a, b = _pair(0, 5, 9)
    with pytest.raises(ValueError, match="'N' normalization"):
        _peer(a, b, name, open_begin=True, open_end=True)
    with pytest.raises(InvalidInputError, match="open_begin=True needs a step pattern"):
        alignkit.dtw(a, b, step_pattern=name, open_begin=True)


def test_symmetric1_open_ends_minimise_the_summed_cost():
    """dtw-python refuses open ends without normalisation; the truth is the reference DP."""
    rng = np.random.default_rng(5)
    for _ in range(5):
        a, b = rng.normal(size=(6, 1)), rng.normal(size=(15, 1))
        open_end = alignkit.dtw(a, b, open_end=True, squared=True)
        assert open_end.distance == pytest.approx(reference_dtw(a, b)[-1].min(), rel=1e-12)
        both = alignkit.dtw(a, b, open_begin=True, open_end=True, squared=True)
        spans = [
            reference_dtw(a, b[s : e + 1])[-1, -1] for s in range(len(b)) for e in range(s, len(b))
        ]
        assert both.distance == pytest.approx(min(spans), rel=1e-12)
        start, end = both.index_b[0], both.index_b[-1]
        assert reference_dtw(a, b[start : end + 1])[-1, -1] == pytest.approx(both.distance)
        assert_valid_path(both.path - [0, start], len(a), end - start + 1)


def test_named_patterns_resolve_and_pickle():
    for name in NAMES:
        pattern = check_step_pattern(name)
        assert pattern.name == name
        assert pattern.normalization == {"NA": None}.get(
            getattr(dtw_python, name).hint, getattr(dtw_python, name).hint
        )
        clone = pickle.loads(pickle.dumps(pattern))
        np.testing.assert_array_equal(clone.table, pattern.table)
        assert clone.normalization == pattern.normalization
    with pytest.raises(InvalidInputError, match="symmetricP05"):
        check_step_pattern("symmetric3")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[1, 1, 1]], "shape"),
        ([[1, 1, 1, 1], [1, 0, 0, 1]], "origin"),
        ([[1, 0, 0, -1], [1, 0, 0, 1]], "origin"),
        ([[1, 1, 1, -1], [1, 0, 0, -1]], "only the first row"),
        ([[1, 1, 1, -1], [1, 1, 2, 1]], "towards"),
        ([[1, 1, 1, -1], [1, 1, 1, 1]], "towards"),
        ([[2, 1, 1, -1], [2, 0, 0, 1]], "ids"),
        ([[1, 1.5, 1, -1], [1, 0, 0, 1]], "integers"),
        ([[1, 1, 1, -1], [1, 0, 0, np.nan]], "finite"),
    ],
)
def test_malformed_tables_raise(table, message):
    with pytest.raises(InvalidInputError, match=message):
        StepPattern(table)


def test_unknown_normalisation_and_bad_flags_raise():
    with pytest.raises(InvalidInputError, match="normalization"):
        StepPattern([[1, 1, 1, -1], [1, 0, 0, 1]], normalization="N*M")
    with pytest.raises(InvalidInputError, match="open_end"):
        alignkit.dtw([1.0, 2.0], [1.0], open_end="yes")


def test_symmetric1_kernel_gives_the_table_driven_kernels_numbers():
    # align_pattern runs symmetric1 on a dedicated kernel: the same accumulated costs and
    # choices as the table-driven one, on small integer inputs (many ties), full, banded and
    # masked windows, with and without an open begin.
    from alignkit.distances.step_patterns import symmetric1
    from alignkit.kernels._numba import _steps
    from alignkit.kernels._numba._bounds import band_bounds
    from alignkit.validation import check_window

    rng = np.random.default_rng(0)
    di, dj, weight, starts = symmetric1.kernel_arrays()
    for trial in range(300):
        n, m = (int(v) for v in rng.integers(1, 20, 2))
        channels = int(rng.integers(1, 3))
        x = rng.integers(0, 3, (n, channels)).astype(float)
        y = rng.integers(0, 3, (m, channels)).astype(float)
        if trial % 3 == 0:
            window = check_window(None, shape=(n, m))
        elif trial % 3 == 1:
            window = check_window(int(rng.integers(0, 6)), shape=(n, m))
        else:
            mask = rng.random((n, m)) < 0.8
            mask[np.arange(n), np.arange(n) * max(m - 1, 0) // max(n - 1, 1)] = True
            mask[0, 0] = mask[-1, -1] = True
            window = check_window(mask, shape=(n, m))
        lo, hi, cell_ok = band_bounds(window, n, m)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(hi - lo, out=offsets[1:])
        for open_begin in (False, True):
            table = _steps.steps_matrix(
                x, y, di, dj, weight, starts, lo, hi, offsets, cell_ok, open_begin
            )
            fast = _steps.symmetric1_matrix(x, y, lo, hi, offsets, cell_ok, open_begin)
            np.testing.assert_array_equal(fast[0], table[0])
            np.testing.assert_array_equal(fast[1], table[1])
