"""Subsequence search against brute force, dtaidistance and dtw-python.

The brute force tries every start and end of the series with the reference
DP of ``_reference.py`` and selects matches greedily by the documented rule;
dtaidistance's ``subsequence_alignment`` (penalty 0: squared differences,
distance = square root of the sum) and dtw-python's open-begin/open-end DTW
give the best match independently.
"""

import dtw as dtw_python
import numpy as np
import pytest
from _reference import assert_valid_path, band_cells, itakura_cells, reference_dtw
from dtaidistance.subsequence.dtw import subsequence_alignment

from alignkit.distances._subsequence import subsequence_search
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.kernels._numba._bounds import fraction_to_radius


def _select(candidates, k, zone):
    """Greedy selection: increasing cost, spans kept more than ``zone`` apart."""
    kept = []
    for cost, start, end in sorted(candidates, key=lambda c: (c[0], c[2])):
        if all(start > e + zone or end < s - zone for _, s, e in kept):
            kept.append((cost, start, end))
        if len(kept) == k:
            break
    return kept


def _brute_force_subsequences(query, series, k, zone):
    candidates = []
    for end in range(len(series)):
        costs = [reference_dtw(query, series[s : end + 1])[-1, -1] for s in range(end + 1)]
        start = int(np.argmin(costs))
        candidates.append((costs[start], start, end))
    return _select(candidates, k, zone)


def _znorm(x):
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    std = x.std(axis=0)
    return np.where(std > 1e-8, (x - x.mean(axis=0)) / np.where(std > 1e-8, std, 1.0), 0.0)


def _brute_force_windows(query, series, k, zone, mask=None):
    n = len(query)
    query = _znorm(query)
    candidates = []
    for start in range(len(series) - n + 1):
        window = _znorm(series[start : start + n])
        candidates.append((reference_dtw(query, window, mask)[-1, -1], start, start + n - 1))
    return _select(candidates, k, zone)


def _check(matches, expected, query, squared=True):
    assert [(m.start, m.end) for m in matches] == [(s, e) for _, s, e in expected]
    for match, (cost, start, end) in zip(matches, expected):
        assert match.distance == pytest.approx(cost if squared else np.sqrt(cost), rel=1e-9)
        assert tuple(match.path[0]) == (0, start)
        assert tuple(match.path[-1]) == (len(query) - 1, end)
        assert_valid_path(match.path - [0, start], len(query), end - start + 1)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("k", "zone"), [(1, None), (3, None), (4, 0), (2, 9)])
def test_subsequence_dtw_equals_brute_force(seed, k, zone):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(6, 2))
    series = rng.normal(size=(40, 2))
    series[10:16] = query + 0.1 * rng.normal(size=(6, 2))
    matches = subsequence_search(query, series, k=k, exclusion_zone=zone, squared=True)
    expected = _brute_force_subsequences(query, series, k, 6 // 2 if zone is None else zone)
    _check(matches, expected, query)


def _relative_mask(window, n, length):
    """The window placed at a match's start, cropped to ``length`` columns (independent build)."""
    if isinstance(window, tuple):
        return itakura_cells(n, n, window[1]) if length == n else np.zeros((n, length), bool)
    radius = window if isinstance(window, int) else fraction_to_radius(window, n, n)
    rows, cols = np.indices((n, length))
    return np.abs(rows - cols) <= radius


def _brute_force_banded(query, series, k, zone, window):
    """Every (start, end): plain DTW inside the window; per end the cheapest, earliest start."""
    candidates = []
    for end in range(len(series)):
        best, best_start = np.inf, -1
        for start in range(end + 1):
            mask = _relative_mask(window, len(query), end - start + 1)
            cost = reference_dtw(query, series[start : end + 1], mask)[-1, -1]
            if cost < best:
                best, best_start = cost, start
        if np.isfinite(best):
            candidates.append((best, best_start, end))
    return _select(candidates, k, zone)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("window", [0, 1, 3, 0.2, ("itakura", 2.0)])
@pytest.mark.parametrize(("k", "zone"), [(1, None), (3, 0), (2, 4)])
def test_windowed_subsequence_dtw_equals_brute_force(seed, window, k, zone):
    # Odd and even query lengths: the kernel's two row buffers swap roles.
    n = (6, 5, 7)[seed]
    rng = np.random.default_rng(40 + seed)
    query = rng.normal(size=(n, 2))
    series = rng.normal(size=(30, 2))
    stretched = np.repeat(query, [1, 2] + [1] * (n - 2), axis=0)
    series[8 : 9 + n] = stretched + 0.1 * rng.normal(size=(n + 1, 2))
    matches = subsequence_search(
        query, series, k=k, window=window, exclusion_zone=zone, squared=True
    )
    expected = _brute_force_banded(query, series, k, n // 2 if zone is None else zone, window)
    assert len(matches) == len(expected) > 0
    _check(matches, expected, query)
    for match in matches:
        i, j = match.path[:, 0], match.path[:, 1] - match.start
        assert _relative_mask(window, n, match.end - match.start + 1)[i, j].all()


def test_windowed_best_match_equals_dtw_python_sakoe_chiba_asymmetric():
    # dtw-python's Sakoe-Chiba window is |i - j| <= r on the pair: the band
    # placed at each candidate's start.
    rng = np.random.default_rng(50)
    query, series = rng.normal(size=(7, 1)), rng.normal(size=(40, 1))
    for radius in (1, 2):
        best = (np.inf, None)
        for start in range(len(series)):
            for end in range(start, len(series)):
                try:
                    peer = dtw_python.dtw(
                        query,
                        series[start : end + 1],
                        dist_method="sqeuclidean",
                        step_pattern=dtw_python.asymmetric,
                        window_type="sakoechiba",
                        window_args={"window_size": radius},
                        distance_only=True,
                    )
                except ValueError:
                    continue
                if peer.distance < best[0]:
                    best = (peer.distance, (start, end))
        ours = subsequence_search(
            query, series, window=radius, step_pattern="asymmetric", squared=True
        )[0]
        assert ours.distance == pytest.approx(best[0], rel=1e-12)
        assert (ours.start, ours.end) == best[1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window", [None, 2])
def test_znormalized_search_equals_brute_force(seed, window):
    rng = np.random.default_rng(10 + seed)
    query = np.sin(np.linspace(0, 3, 12)) + 0.1 * rng.normal(size=12)
    series = np.cumsum(rng.normal(size=120))
    series[50:62] = 5 * query + 3
    mask = None if window is None else band_cells(12, 12, window)
    matches = subsequence_search(query, series, k=3, znormalize=True, window=window, squared=True)
    _check(matches, _brute_force_windows(query, series, 3, 6, mask), query)
    assert matches[0].start == 50


def test_znormalized_search_prunes_with_lb_kim(monkeypatch):
    from alignkit.distances import _subsequence as subsequence

    calls = []
    original = subsequence._window_cost

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(subsequence, "_window_cost", counting)
    rng = np.random.default_rng(0)
    query = np.sin(np.linspace(0, 6, 30))
    series = rng.normal(size=600)
    series[300:330] = query
    matches = subsequence_search(query, series, znormalize=True)
    assert matches[0].start == 300 and matches[0].distance == pytest.approx(0.0, abs=1e-6)
    assert len(calls) < (600 - 30 + 1) / 2


@pytest.mark.parametrize("seed", range(5))
def test_best_match_equals_dtaidistance(seed):
    rng = np.random.default_rng(20 + seed)
    query = rng.normal(size=15)
    series = rng.normal(size=200)
    series[120:138] = np.interp(np.linspace(0, 14, 18), np.arange(15), query)
    peer = subsequence_alignment(query, series, penalty=0).best_match(minlength=1)
    ours = subsequence_search(query, series)[0]
    assert ours.distance == pytest.approx(peer.distance, rel=1e-9)
    assert [ours.start, ours.end] == list(peer.segment)


@pytest.mark.parametrize("name", ["asymmetric", "asymmetricP05", "asymmetricP1", "asymmetricP2"])
def test_best_match_equals_dtw_python_open_begin_and_end(name):
    for seed in range(3):
        rng = np.random.default_rng(30 + seed)
        query, series = rng.normal(size=(10, 1)), rng.normal(size=(70, 1))
        peer = dtw_python.dtw(
            query,
            series,
            dist_method="sqeuclidean",
            step_pattern=getattr(dtw_python, name),
            open_begin=True,
            open_end=True,
        )
        ours = subsequence_search(query, series, step_pattern=name, squared=True)[0]
        assert ours.distance == pytest.approx(peer.distance, rel=1e-12)
        np.testing.assert_array_equal(ours.path[:, 0], peer.index1)
        np.testing.assert_array_equal(ours.path[:, 1], peer.index2)


def test_argument_errors():
    query, series = np.arange(4.0), np.arange(20.0)
    with pytest.raises(WindowError, match="radius must be >= 0"):
        subsequence_search(query, series, window=-2)
    with pytest.raises(WindowError, match="shape"):
        subsequence_search(query, series, window=np.ones((4, 5), dtype=bool))
    with pytest.raises(InvalidInputError, match="open_begin"):
        subsequence_search(query, series, step_pattern="symmetric2")
    with pytest.raises(InvalidInputError, match="fewer than the query"):
        subsequence_search(series, query, znormalize=True)
    with pytest.raises(InvalidInputError, match="'k' parameter of subsequence_search must be"):
        subsequence_search(query, series, k=0)
    with pytest.raises(InvalidInputError, match="exclusion_zone"):
        subsequence_search(query, series, exclusion_zone=-1)
    with pytest.raises(InvalidInputError, match="channels"):
        subsequence_search(np.zeros((3, 2)), series)
