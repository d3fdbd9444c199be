"""ERP, EDR, LCSS, MSM, TWE and ADTW against aeon, plain-Python dynamic programmes and brute force.

aeon is the oracle where it follows the published definitions. Two of its
distances do not, and two of its paths are not optimal; each test that meets
one says so and checks alignkit against the brute force instead:

- ERP (aeon 1.x): every cell of the first row and column is the *total* gap cost
  of the sequence instead of the cumulative one (Chen & Ng 2004).
- EDR (aeon 1.x): the first row and column are 0 instead of ``i`` and ``j``
  (Chen, Özsu & Oria 2005), so leading points of one sequence are dropped free.
- ``compute_min_return_path`` (ERP, MSM, TWE, ADTW paths) steps to the smallest
  neighbour without the cost of the step, so its path can cost more than the
  distance.
- ``lcss_alignment_path`` never ends when its backtrack leaves the window.
"""

import importlib

import numpy as np
import pytest
from _reference import all_paths, assert_valid_path

import alignkit
from alignkit.distances import _elastic, _elastic_paths
from alignkit.exceptions import InvalidInputError, InvalidParameterError, WindowError
from alignkit.validation import window_bounds

aeon_distances = importlib.import_module("aeon.distances")
INF = float("inf")

SHAPES = [(9, 9, 1), (13, 8, 1), (7, 15, 2), (11, 12, 3)]


def _pair(n, m, channels, seed):
    rng = np.random.default_rng(seed + 100 * n + m + 1000 * channels)
    return rng.normal(size=(n, channels)), rng.normal(size=(m, channels))


def _allowed(window, n, m):
    """The window's cells as a nested list of booleans (all cells for None)."""
    lo, hi, cell_ok = window_bounds(window, n, m)
    cells = [[False] * m for _ in range(n)]
    position = 0
    for i in range(n):
        for j in range(lo[i], hi[i]):
            cells[i][j] = bool(cell_ok[position]) if len(cell_ok) else True
            position += 1
    return cells


def _norm(u, v):
    return float(np.sqrt(np.sum((np.asarray(u) - np.asarray(v)) ** 2)))


def _sq(u, v):
    return float(np.sum((np.asarray(u) - np.asarray(v)) ** 2))


# Plain-Python dynamic programmes over the padded (n + 1) x (m + 1) matrix, written from the
# papers' recurrences; ``cells[i][j]`` says whether cell (i, j) may be used.


def ref_erp(a, b, g, cells, boundary="cumulative"):
    n, m = len(a), len(b)
    gap_a = [_norm(a[i], g) for i in range(n)]
    gap_b = [_norm(b[j], g) for j in range(m)]
    d = [[INF] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0
    for i in range(1, n + 1):
        d[i][0] = sum(gap_a[:i]) if boundary == "cumulative" else sum(gap_a)
    for j in range(1, m + 1):
        d[0][j] = sum(gap_b[:j]) if boundary == "cumulative" else sum(gap_b)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if cells[i - 1][j - 1]:
                d[i][j] = min(
                    d[i - 1][j - 1] + _norm(a[i - 1], b[j - 1]),
                    d[i - 1][j] + gap_a[i - 1],
                    d[i][j - 1] + gap_b[j - 1],
                )
    return d[n][m]


def ref_edr(a, b, epsilon, cells, boundary="edits"):
    n, m = len(a), len(b)
    d = [[INF] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = float(i) if boundary == "edits" else 0.0
    for j in range(m + 1):
        d[0][j] = float(j) if boundary == "edits" else 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if cells[i - 1][j - 1]:
                substitution = 0.0 if _norm(a[i - 1], b[j - 1]) < epsilon else 1.0
                d[i][j] = min(d[i - 1][j - 1] + substitution, d[i - 1][j] + 1.0, d[i][j - 1] + 1.0)
    return d[n][m] / max(n, m)


def ref_lcss(a, b, epsilon, cells):
    n, m = len(a), len(b)
    length = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if not cells[i - 1][j - 1]:
                continue
            if _norm(a[i - 1], b[j - 1]) <= epsilon:
                length[i][j] = length[i - 1][j - 1] + 1
            else:
                length[i][j] = max(length[i - 1][j], length[i][j - 1])
    return 1.0 - length[n][m] / min(n, m)


def _msm_split_1d(new, before, other, c):
    if min(before, other) <= new <= max(before, other):
        return c
    return c + min(abs(new - before), abs(new - other))


def _msm_split_nd(new, before, other, c):
    if _sq((before + other) / 2.0, new) <= _sq(before, other) / 4.0:
        return c
    return c + min(_sq(before, new), _sq(other, new))


def _msm_steps(a, b, c, dependent):
    """MSM's costs of entering (i, j) by a move (diagonal), from above, from the left."""
    if dependent:
        return (
            lambda i, j: _sq(a[i], b[j]),
            lambda i, j: _msm_split_nd(a[i], a[i - 1], b[j], c),
            lambda i, j: _msm_split_nd(b[j], a[i], b[j - 1], c),
        )
    return (
        lambda i, j: abs(a[i] - b[j]),
        lambda i, j: _msm_split_1d(a[i], a[i - 1], b[j], c),
        lambda i, j: _msm_split_1d(b[j], a[i], b[j - 1], c),
    )


def _twe_steps(a, b, nu, lmbda):
    zero = np.zeros(a.shape[1])
    prev_a = [zero, *a[:-1]]
    prev_b = [zero, *b[:-1]]
    return (
        lambda i, j: _norm(a[i], b[j]) + _norm(prev_a[i], prev_b[j]) + 2 * nu * abs(i - j),
        lambda i, j: _norm(a[i], prev_a[i]) + nu + lmbda,
        lambda i, j: _norm(b[j], prev_b[j]) + nu + lmbda,
    )


def _adtw_steps(a, b, penalty):
    return (
        lambda i, j: _sq(a[i], b[j]),
        lambda i, j: _sq(a[i], b[j]) + penalty,
        lambda i, j: _sq(a[i], b[j]) + penalty,
    )


def ref_warping(steps, n, m, cells):
    """The DP of a distance over warping paths: ``steps`` are the costs of entering a cell."""
    diag, down, right = steps
    d = [[INF] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0
    for i in range(n):
        for j in range(m):
            if cells[i][j]:
                d[i + 1][j + 1] = min(
                    d[i][j] + diag(i, j),
                    d[i][j + 1] + down(i, j) if i > 0 else INF,
                    d[i + 1][j] + right(i, j) if j > 0 else INF,
                )
    return d[n][m]


def warping_path_cost(steps, path):
    """The exact cost of one warping path: each cell entered by the step that reaches it."""
    diag, down, right = steps
    total = diag(0, 0)
    for (i0, j0), (i, j) in zip(path[:-1], path[1:], strict=True):
        total += diag(i, j) if (i - i0, j - j0) == (1, 1) else down(i, j) if i > i0 else right(i, j)
    return total


def ref_msm(a, b, c, cells, independent):
    if independent:
        return sum(
            ref_warping(_msm_steps(a[:, k], b[:, k], c, False), len(a), len(b), cells)
            for k in range(a.shape[1])
        )
    return ref_warping(_msm_steps(a, b, c, True), len(a), len(b), cells)


# name -> (alignkit distance, path, aeon distance, aeon path, parameter sets)
CASES = {
    "msm": (
        _elastic.msm_distance,
        _elastic_paths.msm_path,
        aeon_distances.msm_distance,
        aeon_distances.msm_alignment_path,
        [{}, {"c": 0.1}, {"c": 2.5, "independent": False}, {"independent": False}],
    ),
    "twe": (
        _elastic.twe_distance,
        _elastic_paths.twe_path,
        aeon_distances.twe_distance,
        aeon_distances.twe_alignment_path,
        [{}, {"nu": 0.1, "lmbda": 0.5}, {"nu": 0.0, "lmbda": 3.0}],
    ),
    "adtw": (
        _elastic.adtw_distance,
        _elastic_paths.adtw_path,
        aeon_distances.adtw_distance,
        aeon_distances.adtw_alignment_path,
        [{}, {"warp_penalty": 0.0}, {"warp_penalty": 0.05}, {"warp_penalty": 7.0}],
    ),
    "lcss": (
        _elastic.lcss_distance,
        _elastic_paths.lcss_path,
        aeon_distances.lcss_distance,
        aeon_distances.lcss_alignment_path,
        [{}, {"epsilon": 0.3}, {"epsilon": 0.0}],
    ),
}
CASE_PARAMS = [(name, params) for name, case in CASES.items() for params in case[4]]


def _reference(name, a, b, params, cells):
    if name == "msm":
        return ref_msm(a, b, params.get("c", 1.0), cells, params.get("independent", True))
    if name == "twe":
        steps = _twe_steps(a, b, params.get("nu", 0.001), params.get("lmbda", 1.0))
        return ref_warping(steps, len(a), len(b), cells)
    if name == "adtw":
        return ref_warping(
            _adtw_steps(a, b, params.get("warp_penalty", 1.0)), len(a), len(b), cells
        )
    return ref_lcss(a, b, params.get("epsilon", 1.0), cells)


@pytest.mark.parametrize("name, params", CASE_PARAMS)
@pytest.mark.parametrize("n, m, channels", SHAPES)
def test_equals_aeon(name, params, n, m, channels):
    ours, _, theirs, _, _ = CASES[name]
    for seed in range(3):
        a, b = _pair(n, m, channels, seed)
        assert ours(a, b, **params) == pytest.approx(theirs(a.T, b.T, **params), rel=1e-9, abs=0)


@pytest.mark.parametrize("name, params", CASE_PARAMS)
@pytest.mark.parametrize("w", [0.0, 0.1, 0.35, 0.8])
def test_windows_equal_aeon(name, params, w):
    """aeon's window=w is alignkit's radius int(w * n) for equal lengths, its mask otherwise."""
    ours, _, theirs, _, _ = CASES[name]
    for seed, (n, m) in enumerate([(20, 20), (17, 23), (25, 14)]):
        a, b = _pair(n, m, 2, seed)
        expected = theirs(a.T, b.T, window=w, **params)
        mask = aeon_distances.create_bounding_matrix(n, m, w)
        assert ours(a, b, window=mask, **params) == pytest.approx(expected, rel=1e-9, abs=0)
        if n == m:
            assert ours(a, b, window=int(w * n), **params) == pytest.approx(expected, rel=1e-9)


WINDOWS = [None, 0, 1, 0.3, ("itakura", 1.5), "mask"]


def _window(window, n, m, seed):
    if window != "mask":
        return window
    mask = np.random.default_rng(seed).random((n, m)) < 0.7
    mask[np.arange(n), np.minimum(np.arange(n) * m // n, m - 1)] = True
    mask[0, 0] = mask[-1, -1] = True
    return mask


@pytest.mark.parametrize("name, params", CASE_PARAMS)
@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_equals_the_plain_dynamic_programme(name, params, window):
    ours = CASES[name][0]
    for seed, (n, m, channels) in enumerate([(5, 5, 1), (4, 7, 2), (7, 3, 1)]):
        a, b = _pair(n, m, channels, seed)
        win = _window(window, n, m, seed)
        expected = _reference(name, a, b, params, _allowed(win, n, m))
        if not np.isfinite(expected):
            with pytest.raises(WindowError, match="admits no alignment"):
                ours(a, b, window=win, **params)
            continue
        assert ours(a, b, window=win, **params) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def _steps(name, a, b, params):
    if name == "msm":
        return _msm_steps(
            a if a.shape[1] > 1 else a[:, 0],
            b if b.shape[1] > 1 else b[:, 0],
            params.get("c", 1.0),
            not params.get("independent", True),
        )
    if name == "twe":
        return _twe_steps(a, b, params.get("nu", 0.001), params.get("lmbda", 1.0))
    return _adtw_steps(a, b, params.get("warp_penalty", 1.0))


WARPING = [(name, params) for name, params in CASE_PARAMS if name != "lcss"]


@pytest.mark.parametrize("name, params", WARPING)
def test_warping_distances_are_the_cheapest_of_all_paths(name, params):
    """Brute force: the minimum exact cost over every monotone continuous path."""
    ours = CASES[name][0]
    for seed, (n, m) in enumerate([(4, 4), (3, 6), (6, 4)]):
        a, b = _pair(n, m, 1, seed)
        steps = _steps(name, a, b, params)
        best = min(warping_path_cost(steps, path.tolist()) for path in all_paths(n, m))
        assert ours(a, b, **params) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("name, params", WARPING)
@pytest.mark.parametrize("window", [None, 2, "mask"], ids=str)
def test_paths_are_optimal_and_equal_aeon_where_its_path_is(name, params, window):
    _, path_of, _, aeon_path, _ = CASES[name]
    multichannel = not params.get("independent", True) or name != "msm"
    optimal_in_aeon = 0
    for seed, (n, m) in enumerate([(12, 12), (9, 14), (15, 10), (6, 6), (10, 7)]):
        a, b = _pair(n, m, 2 if multichannel else 1, seed)
        win = _window(window, n, m, seed)
        path, distance = path_of(a, b, window=win, **params)
        assert_valid_path(path, n, m)
        cells = _allowed(win, n, m)
        assert all(cells[i][j] for i, j in path.tolist())
        steps = _steps(name, a, b, params)
        assert warping_path_cost(steps, path.tolist()) == pytest.approx(distance, rel=1e-12)
        assert distance == pytest.approx(CASES[name][0](a, b, window=win, **params), rel=1e-15)
        if window is None:
            theirs = [list(cell) for cell in aeon_path(a.T, b.T, **params)[0]]
            if warping_path_cost(steps, theirs) == pytest.approx(distance, rel=1e-12):
                optimal_in_aeon += 1
                assert path.tolist() == theirs
    if window is None and not params:
        assert optimal_in_aeon >= 1


def test_aeon_min_return_path_can_cost_more_than_the_distance():
    """aeon's path steps to the smallest neighbour, ignoring ADTW's penalty on the step."""
    a = np.array([[0.0], [1.0], [1.0], [0.0]])
    b = np.array([[0.0], [1.2], [0.0]])
    steps = _adtw_steps(a, b, 1.0)
    theirs = [list(cell) for cell in aeon_distances.adtw_alignment_path(a.T, b.T)[0]]
    path, distance = _elastic_paths.adtw_path(a, b)
    assert warping_path_cost(steps, path.tolist()) == pytest.approx(distance)
    assert warping_path_cost(steps, theirs) > distance + 0.1


def test_lcss_path_equals_aeon_and_its_pairs_match():
    for seed, (n, m, channels) in enumerate([(12, 12, 1), (9, 14, 2), (15, 10, 1)]):
        a, b = _pair(n, m, channels, seed)
        path, distance = _elastic_paths.lcss_path(a, b, epsilon=0.6)
        theirs, their_distance = aeon_distances.lcss_alignment_path(a.T, b.T, epsilon=0.6)
        assert path.tolist() == [list(pair) for pair in theirs]
        assert distance == pytest.approx(their_distance, rel=1e-12)
        assert len(path) == round((1 - distance) * min(n, m))


@pytest.mark.parametrize("window", [1, 3, "mask"], ids=str)
def test_lcss_path_in_a_window(window):
    """aeon's lcss_alignment_path may never return here; the pairs are checked directly."""
    for seed, (n, m) in enumerate([(12, 12), (9, 14), (15, 10)]):
        a, b = _pair(n, m, 1, seed)
        win = _window(window, n, m, seed)
        cells = _allowed(win, n, m)
        path, distance = _elastic_paths.lcss_path(a, b, window=win, epsilon=0.8)
        assert distance == pytest.approx(ref_lcss(a, b, 0.8, cells), rel=1e-12)
        assert len(path) == round((1 - distance) * min(n, m))
        assert np.all(np.diff(path, axis=0) > 0)
        for i, j in path.tolist():
            assert cells[i][j] and _norm(a[i], b[j]) <= 0.8


def _anchored(a, b, anchors):
    """Prepend distinct, far apart points to both: the best alignment starts by matching them."""
    head = np.repeat(1000.0 * np.arange(1, anchors + 1)[:, None], a.shape[1], axis=1)
    return np.concatenate([head, a]), np.concatenate([head, b])


@pytest.mark.parametrize("n, m, channels", SHAPES)
@pytest.mark.parametrize("g", [0.0, 0.4])
def test_erp_equals_the_papers_recurrence_and_aeon_where_the_start_is_a_match(n, m, channels, g):
    for seed in range(3):
        a, b = _pair(n, m, channels, seed)
        cells = _allowed(None, n, m)
        assert _elastic.erp_distance(a, b, g=g) == pytest.approx(
            ref_erp(a, b, np.full(channels, g), cells), rel=1e-12
        )
        # aeon's known bug: its first row and column hold the total gap cost.
        assert aeon_distances.erp_distance(a.T, b.T, g=g) == pytest.approx(
            ref_erp(a, b, np.full(channels, g), cells, boundary="total"), rel=1e-12
        )
        x, y = _anchored(a, b, 1)
        assert _elastic.erp_distance(x, y, g=g) == pytest.approx(
            aeon_distances.erp_distance(x.T, y.T, g=g), rel=1e-9
        )


def test_erp_g_arr_and_windows():
    a, b = _pair(9, 12, 2, 0)
    g_arr = np.array([0.3, -0.2])
    x, y = _anchored(a, b, 1)
    assert _elastic.erp_distance(x, y, g_arr=g_arr) == pytest.approx(
        aeon_distances.erp_distance(x.T, y.T, g_arr=g_arr), rel=1e-9
    )
    for window in [0, 2, 0.3, ("itakura", 2.0), "mask"]:
        win = _window(window, 9, 12, 1)
        expected = ref_erp(a, b, g_arr, _allowed(win, 9, 12))
        assert _elastic.erp_distance(a, b, window=win, g_arr=g_arr) == pytest.approx(expected)
    mask = aeon_distances.create_bounding_matrix(len(x), len(y), 0.3)
    assert _elastic.erp_distance(x, y, window=mask) == pytest.approx(
        aeon_distances.erp_distance(x.T, y.T, window=0.3), rel=1e-9
    )


@pytest.mark.parametrize("n, m, channels", SHAPES)
@pytest.mark.parametrize("epsilon", [None, 0.2, 0.9])
def test_edr_equals_the_papers_recurrence_and_aeon_once_anchored(n, m, channels, epsilon):
    for seed in range(3):
        a, b = _pair(n, m, channels, seed)
        cells = _allowed(None, n, m)
        eps = max(np.std(a), np.std(b)) / 4 if epsilon is None else epsilon
        assert _elastic.edr_distance(a, b, epsilon=epsilon) == pytest.approx(
            ref_edr(a, b, eps, cells), rel=1e-12
        )
        # aeon's known deviation: a first row and column of zeros.
        assert aeon_distances.edr_distance(a.T, b.T, epsilon=epsilon) == pytest.approx(
            ref_edr(a, b, eps, cells, boundary="zero"), rel=1e-12
        )
        # max(n, m) anchors make a free start cost more than it saves: aeon then agrees.
        x, y = _anchored(a, b, max(n, m))
        assert _elastic.edr_distance(x, y, epsilon=eps) == pytest.approx(
            aeon_distances.edr_distance(x.T, y.T, epsilon=eps), rel=1e-9
        )


@pytest.mark.parametrize("window", [None, 1, 0.2, "mask"], ids=str)
def test_erp_and_edr_paths_hold_an_optimal_alignment(window):
    """The plain DP restricted to the path's cells reaches the distance."""
    for seed, (n, m) in enumerate([(8, 8), (6, 10), (11, 5)]):
        a, b = _pair(n, m, 2, seed)
        win = _window(window, n, m, seed)
        for path_of, reference in [
            (_elastic_paths.erp_path, lambda cells, a=a, b=b: ref_erp(a, b, np.zeros(2), cells)),
            (_elastic_paths.edr_path, lambda cells, a=a, b=b: ref_edr(a, b, 0.5, cells)),
        ]:
            kwargs = {"epsilon": 0.5} if path_of is _elastic_paths.edr_path else {}
            path, distance = path_of(a, b, window=win, **kwargs)
            assert_valid_path(path, n, m)
            # A gap before the first match sits on row or column 0, inside the window or not.
            cells = _allowed(win, n, m)
            on_path = [[False] * m for _ in range(n)]
            for i, j in path.tolist():
                on_path[i][j] = cells[i][j]
            assert reference(on_path) == pytest.approx(distance, rel=1e-12)
            assert reference(cells) == pytest.approx(distance, rel=1e-12)


DISTANCES = {
    "erp": _elastic.erp_distance,
    "edr": _elastic.edr_distance,
    "lcss": _elastic.lcss_distance,
    "msm": _elastic.msm_distance,
    "twe": _elastic.twe_distance,
    "adtw": _elastic.adtw_distance,
}


@pytest.mark.parametrize("name", DISTANCES)
def test_symmetric_and_zero_on_identical_inputs(name):
    distance = DISTANCES[name]
    for seed, (n, m, channels) in enumerate([(10, 14, 1), (16, 9, 3)]):
        a, b = _pair(n, m, channels, seed)
        assert distance(a, b) == pytest.approx(distance(b, a), rel=1e-12)
        assert distance(a, a) == 0.0
        assert distance(a, b) > 0.0


@pytest.mark.parametrize(
    "name, params",
    [
        ("erp", {}),
        ("erp", {"g": 0.5}),
        ("msm", {}),
        ("msm", {"c": 0.2}),
        ("twe", {}),
        ("twe", {"nu": 0.5, "lmbda": 0.1}),
    ],
)
def test_metrics_satisfy_the_triangle_inequality(name, params):
    distance = DISTANCES[name]
    rng = np.random.default_rng(5)
    for _ in range(60):
        x, y, z = (rng.normal(size=(int(rng.integers(2, 12)), 1)) for _ in range(3))
        assert (
            distance(x, z, **params) <= distance(x, y, **params) + distance(y, z, **params) + 1e-9
        )


def test_adtw_without_penalty_is_squared_dtw():
    a, b = _pair(30, 22, 2, 3)
    assert _elastic.adtw_distance(a, b, warp_penalty=0.0) == pytest.approx(
        alignkit.dtw_distance(a, b, squared=True), rel=1e-12
    )


def test_independent_msm_is_the_sum_of_its_channels():
    a, b = _pair(12, 9, 3, 0)
    total = sum(_elastic.msm_distance(a[:, k], b[:, k]) for k in range(3))
    assert _elastic.msm_distance(a, b) == pytest.approx(total, rel=1e-12)
    with pytest.raises(InvalidInputError, match="independent=False"):
        _elastic_paths.msm_path(a, b)


@pytest.mark.parametrize("name", DISTANCES)
def test_bad_sequences_are_refused_naming_the_argument(name):
    distance = DISTANCES[name]
    good = np.zeros((5, 2))
    with pytest.raises(InvalidInputError, match=r"\bb\b.*(NaN|nan)"):
        distance(good, np.array([[0.0, 1.0], [np.nan, 0.0]]))
    with pytest.raises(InvalidInputError, match=r"\ba\b.*empty"):
        distance(np.zeros((0, 2)), good)
    with pytest.raises(InvalidInputError, match=r"\bb\b.*channels"):
        distance(good, np.zeros((4, 3)))
    with pytest.raises(WindowError, match="shape"):
        distance(good, good, window=np.ones((4, 4), dtype=bool))


@pytest.mark.parametrize(
    "function, params, parameter",
    [
        (_elastic.erp_distance, {"g": np.inf}, "g"),
        (_elastic.erp_distance, {"g": "0"}, "g"),
        (_elastic_paths.erp_path, {"g_arr": [1.0, 2.0, 3.0]}, "g_arr"),
        (_elastic.edr_distance, {"epsilon": -0.1}, "epsilon"),
        (_elastic_paths.edr_path, {"epsilon": np.nan}, "epsilon"),
        (_elastic.lcss_distance, {"epsilon": -1}, "epsilon"),
        (_elastic_paths.lcss_path, {"epsilon": np.inf}, "epsilon"),
        (_elastic.msm_distance, {"c": -1.0}, "c"),
        (_elastic_paths.msm_path, {"independent": "yes"}, "independent"),
        (_elastic.twe_distance, {"nu": -0.001}, "nu"),
        (_elastic_paths.twe_path, {"lmbda": np.inf}, "lmbda"),
        (_elastic.adtw_distance, {"warp_penalty": -2.0}, "warp_penalty"),
        (_elastic_paths.adtw_path, {"warp_penalty": True}, "warp_penalty"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(function, params, parameter):
    a, b = _pair(6, 5, 2, 0)
    with pytest.raises(
        InvalidParameterError, match=f"'{parameter}' parameter of {function.__name__}"
    ):
        function(a, b, **params)


def test_a_mask_without_an_alignment_is_refused():
    a, b = _pair(4, 4, 1, 0)
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, 0] = mask[3, 3] = mask[1, 1] = mask[2, 1] = True
    for distance in (DISTANCES[name] for name in ("erp", "edr", "msm", "twe", "adtw")):
        with pytest.raises(WindowError, match="admits no alignment"):
            distance(a, b, window=mask)


def test_exported_from_alignkit_distances():
    from alignkit import distances

    for module in (_elastic, _elastic_paths):
        for name in module.__all__:
            assert getattr(distances, name) is getattr(module, name)
            assert name in distances.__all__


@pytest.mark.parametrize("strict", [False, True])
def test_squared_threshold_matches_exactly_the_pairs_the_root_does(strict):
    """LCSS and EDR compare squared distances: the same pairs must match as with the root."""
    rng = np.random.default_rng(0)
    for epsilon in [0.0, 1.0, 0.1, 0.3, *rng.uniform(0, 3, 200)]:
        threshold = _elastic.squared_threshold(float(epsilon), strict)
        candidates = [epsilon * epsilon, 0.0, threshold]
        for _ in range(3):
            candidates += [np.nextafter(c, d) for c in candidates for d in (-np.inf, np.inf)]
        for value in candidates:
            if value < 0:
                continue
            root = np.sqrt(value)
            assert (value <= threshold) == (root < epsilon if strict else root <= epsilon)


# --- the anti-diagonal sweep and the matrices (issue 15: speed, pairwise, k-medoids) -------

SWEEP_CASES = [
    ("erp", {}),
    ("erp", {"g": 0.3}),
    ("edr", {}),
    ("edr", {"epsilon": 0.4}),
    ("lcss", {"epsilon": 0.5}),
    ("msm", {}),
    ("msm", {"c": 0.2, "independent": False}),
    ("twe", {"nu": 0.05, "lmbda": 0.5}),
    ("adtw", {"warp_penalty": 0.3}),
]


def _aeon_agrees(name, a, b):
    """Inputs on which aeon's definition equals the papers' (see the module docstring)."""
    if name == "erp":
        return _anchored(a, b, 1)
    if name == "edr":
        return _anchored(a, b, max(len(a), len(b)))
    return a, b


@pytest.mark.parametrize("name, params", SWEEP_CASES)
def test_a_thousand_random_pairs_of_unequal_lengths_equal_aeon(name, params):
    """Issue 15's check: every elastic distance against aeon to 1e-9 on 1,000 random pairs."""
    ours, theirs = DISTANCES[name], getattr(aeon_distances, f"{name}_distance")
    rng = np.random.default_rng(len(name) + len(params))
    for _ in range(1000):
        n, m = rng.integers(2, 30, size=2)
        channels = int(rng.integers(1, 3))
        a, b = rng.normal(size=(n, channels)), rng.normal(size=(m, channels))
        x, y = _aeon_agrees(name, a, b)
        eps = {"epsilon": max(np.std(a), np.std(b)) / 4} if params == {} and name == "edr" else {}
        expected = theirs(x.T, y.T, **params, **eps)
        assert ours(x, y, **params, **eps) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name, params", SWEEP_CASES)
@pytest.mark.parametrize("window", [None, 0, 3, 0.2, ("itakura", 1.6)], ids=str)
def test_the_sweep_equals_the_row_kernel_to_the_last_bit(name, params, window):
    """A band runs the anti-diagonal sweep, the same band as a mask the row kernel."""
    for seed, (n, m, channels) in enumerate([(40, 40, 1), (33, 51, 2), (60, 17, 1), (1, 9, 1)]):
        a, b = _pair(n, m, channels, seed)
        lo, hi, _ = window_bounds(window, n, m)
        mask = np.zeros((n, m), dtype=bool)
        for i in range(n):
            mask[i, lo[i] : hi[i]] = True
        assert DISTANCES[name](a, b, window=window, **params) == DISTANCES[name](
            a, b, window=mask, **params
        )


@pytest.mark.parametrize("name, params", SWEEP_CASES)
@pytest.mark.parametrize("engine, n_jobs", [("joblib", 1), ("joblib", 2), ("numba", 2)])
def test_matrices_equal_the_pair_functions(name, params, engine, n_jobs):
    rng = np.random.default_rng(7)
    X = [np.cumsum(rng.normal(size=(int(rng.integers(5, 25)), 2)), axis=0) for _ in range(9)]
    Y = X[2:6]
    distance = DISTANCES[name]
    for window in (None, 0.3):
        expected = np.array([[distance(x, y, window=window, **params) for y in X] for x in X])
        got = alignkit.distances.pairwise_distances(
            X, window=window, metric=name, metric_params=params, engine=engine, n_jobs=n_jobs
        )
        upper = np.triu_indices(len(X), 1)
        np.testing.assert_array_equal(got[upper], expected[upper])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert np.all(np.diag(got) == 0.0)
        rect = alignkit.distances.pairwise_distances(
            X, Y, window=window, metric=name, metric_params=params, engine=engine, n_jobs=n_jobs
        )
        np.testing.assert_array_equal(rect, expected[:, 2:6])


def test_a_matrix_that_overflows_names_the_pair():
    X = [np.array([0.0, 1.0]), np.array([0.0, 1e308, -1e308]), np.array([1e308, -1e308])]
    with pytest.raises(InvalidInputError, match=r"ADTW cost between X\[0\] and X\[1\] overflows"):
        alignkit.distances.pairwise_distances(X, metric="adtw")
