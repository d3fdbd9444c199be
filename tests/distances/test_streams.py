"""Stream alignment: SPRING against a plain-Python SPRING and brute force; on-line time warping
against known warps and offline DTW.

The SPRING reference below is the paper's definition written out over the
whole stream at once: the star-padded subsequence DTW matrix, column by
column with its start matrix, and the reporting rule applied after each
column (report the candidate when every cell is at least as costly or starts
after its end, then drop the cells that start inside it). It shares no code
with the Numba kernel. Each reported match is further checked against the
brute-force DTW of the query and its span, and the best one against
``subsequence_search``.
"""

import pickle

import numpy as np
import pytest
from _reference import assert_valid_path, path_cost, reference_dtw
from hypothesis import given
from hypothesis import strategies as st

import alignkit
from alignkit.datasets import make_ecg_pair
from alignkit.distances._streams import OnlineAligner, StreamMatcher
from alignkit.distances._subsequence import subsequence_search
from alignkit.exceptions import InvalidInputError, InvalidParameterError
from alignkit.metrics import path_distance


def _spring_reference(query, stream, threshold, squared=False):
    """SPRING over a whole stream in plain Python: a list of ``(start, end, distance)``."""
    query = np.asarray(query, dtype=float).reshape(len(query), -1)
    stream = np.asarray(stream, dtype=float).reshape(len(stream), -1)
    n = len(query)
    scale = (lambda total: total) if squared else np.sqrt
    cost = [np.inf] * n
    start = [0] * n
    pending, pending_start, pending_end = np.inf, 0, 0
    matches = []
    for time, point in enumerate(stream):
        local = [float(((query[i] - point) ** 2).sum()) for i in range(n)]
        new_cost, new_start = [0.0] * n, [0] * n
        for i in range(n):
            # Predecessors in the order that breaks ties: diagonal, previous query
            # timepoint, previous stream point; row -1 is the star row (cost 0).
            options = [
                (cost[i - 1], start[i - 1]) if i > 0 else (0.0, time),
                (new_cost[i - 1], new_start[i - 1]) if i > 0 else (0.0, time),
                (cost[i], start[i]),
            ]
            best = min(range(3), key=lambda option: (options[option][0], option))
            new_cost[i] = local[i] + options[best][0]
            new_start[i] = options[best][1]
        cost, start = new_cost, new_start
        if scale(pending) <= threshold and all(
            cost[i] >= pending or start[i] > pending_end for i in range(n)
        ):
            matches.append((pending_start, pending_end, float(scale(pending))))
            cost = [np.inf if start[i] <= pending_end else cost[i] for i in range(n)]
            pending = np.inf
        if scale(cost[-1]) <= threshold and cost[-1] < pending:
            pending, pending_start, pending_end = cost[-1], start[-1], time
    if np.isfinite(pending):
        matches.append((pending_start, pending_end, float(scale(pending))))
    return matches


def _run(matcher, stream, cuts=()):
    matches = []
    for chunk in np.split(np.asarray(stream), sorted(cuts)):
        matches += matcher.update(chunk)
    return matches + matcher.flush()


def _triples(matches):
    return [(m.start, m.end, m.distance) for m in matches]


def _stream(seed, length, n_channels=1, n_planted=3, query_length=8):
    """A random walk with noisy, warped copies of a query planted in it."""
    rng = np.random.default_rng(seed)
    query = np.cumsum(rng.standard_normal((query_length, n_channels)), axis=0)
    stream = np.cumsum(rng.standard_normal((length, n_channels)), axis=0) * 0.5
    for position in rng.choice(
        np.arange(5, length - 3 * query_length, 3 * query_length), n_planted
    ):
        copy = np.repeat(query, rng.integers(1, 3, query_length), axis=0)
        copy = copy + 0.1 * rng.standard_normal(copy.shape)
        stream[position : position + len(copy)] = copy
    return query, stream


@pytest.mark.parametrize("n_channels", [1, 2])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("threshold", [1.0, 4.0, np.inf])
def test_spring_equals_plain_python_reference(n_channels, squared, threshold):
    for seed in range(3):
        query, stream = _stream(seed, 150, n_channels)
        limit = threshold**2 if squared and np.isfinite(threshold) else threshold
        expected = _spring_reference(query, stream, limit, squared)
        got = _triples(_run(StreamMatcher(query, limit, squared=squared), stream))
        assert [m[:2] for m in got] == [m[:2] for m in expected]
        np.testing.assert_allclose([m[2] for m in got], [m[2] for m in expected], rtol=1e-12)
        if threshold == 1.0:
            assert len(got) >= 1  # the planted copies are found


@pytest.mark.parametrize("threshold", [0.0, 2.0, np.inf])
def test_spring_breaks_ties_as_the_reference_and_subsequence_search(threshold):
    # Small integers make equal costs everywhere: the tie rules decide the matches.
    rng = np.random.default_rng(11)
    for _ in range(5):
        stream = rng.integers(0, 3, 120).astype(float)
        query = rng.integers(0, 3, 5).astype(float)
        got = _triples(_run(StreamMatcher(query, threshold, squared=True), stream))
        assert got == _spring_reference(query, stream, threshold, squared=True)
        if threshold == np.inf:
            offline = subsequence_search(query, stream, squared=True)[0]
            best = min(got, key=lambda match: (match[2], match[1]))
            assert best == (offline.start, offline.end, offline.distance)


def test_each_match_is_the_dtw_of_its_span_and_below_threshold():
    query, stream = _stream(7, 300, n_channels=2, n_planted=4)
    matches = _run(StreamMatcher(query, threshold=3.0), stream)
    assert len(matches) >= 2
    for match in matches:
        span = stream[match.start : match.end + 1]
        assert match.distance <= 3.0
        assert np.isclose(match.distance, np.sqrt(reference_dtw(query, span)[-1, -1]))
        assert_valid_path(match.path - [0, match.start], len(query), len(span))
        assert np.isclose(path_cost(query, span, match.path - [0, match.start]), match.distance**2)
    spans = sorted((m.start, m.end) for m in matches)
    assert all(end < next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("seed", range(4))
def test_best_match_equals_subsequence_search(seed):
    rng = np.random.default_rng(seed)
    stream = np.cumsum(rng.standard_normal(2000))
    query = stream[700:764] + 0.2 * rng.standard_normal(64)
    for squared in (False, True):
        matches = _run(StreamMatcher(query, threshold=np.inf, squared=squared), stream)
        best = min(matches, key=lambda match: (match.distance, match.end))
        offline = subsequence_search(query, stream, squared=squared)[0]
        assert (best.start, best.end) == (offline.start, offline.end)
        assert best.distance == pytest.approx(offline.distance, rel=1e-12)
        np.testing.assert_array_equal(best.path, offline.path)


@given(st.lists(st.integers(0, 200), max_size=12), st.integers(0, 3))
def test_any_chunking_gives_the_same_matches(cuts, seed):
    query, stream = _stream(seed, 200, n_planted=4)
    whole = _run(StreamMatcher(query, threshold=2.0), stream)
    chunked = _run(StreamMatcher(query, threshold=2.0), stream, cuts)
    assert _triples(chunked) == _triples(whole)
    for a, b in zip(chunked, whole):
        np.testing.assert_array_equal(a.path, b.path)


def test_pickle_reset_flush_and_no_path():
    query, stream = _stream(3, 240, n_planted=4)
    whole = _triples(_run(StreamMatcher(query, threshold=2.0), stream))
    matcher = StreamMatcher(query, threshold=2.0)
    first = matcher.update(stream[:111])
    clone = pickle.loads(pickle.dumps(matcher))
    rest = clone.update(stream[111:]) + clone.flush()
    assert _triples(first + rest) == whole
    assert clone.n_seen_ == 0  # flush ends the stream
    matcher.reset()
    assert _triples(_run(matcher, stream)) == whole
    lean = _run(StreamMatcher(query, threshold=2.0, return_path=False), stream)
    assert _triples(lean) == whole and all(m.path is None for m in lean)


def test_buffer_for_paths_stays_short():
    rng = np.random.default_rng(0)
    stream = np.cumsum(rng.standard_normal(20000))
    matcher = StreamMatcher(stream[100:132], threshold=1.0)
    longest = 0
    for chunk in np.split(stream, 40):
        matcher.update(chunk)
        longest = max(longest, len(matcher._buffer))
    assert longest < 1000


def test_bad_input_for_the_matcher():
    with pytest.raises(InvalidInputError, match="query is empty"):
        StreamMatcher([], threshold=1.0)
    with pytest.raises(InvalidParameterError, match="'threshold' parameter of StreamMatcher"):
        StreamMatcher([1.0, 2.0], threshold=-0.5)
    matcher = StreamMatcher([[1.0, 0.0], [2.0, 0.0]], threshold=0.1)
    with pytest.raises(InvalidInputError, match="3 channels but 2"):
        matcher.update(np.zeros((4, 3)))
    with pytest.raises(InvalidInputError, match=r"shape \(n_points, 2\)"):
        matcher.update([1.0, 0.0])
    query, stream = _stream(1, 200, n_planted=4)
    whole = _triples(_run(StreamMatcher(query, threshold=2.0), stream))
    matcher = StreamMatcher(query, threshold=2.0)
    found = matcher.update(stream[:100])
    broken = stream[100:150].copy()
    broken[17] = np.nan
    with pytest.raises(InvalidInputError, match="NaN at stream index 117 .point 17"):
        matcher.update(broken)
    assert matcher.n_seen_ == 100  # nothing consumed: the matcher goes on
    found += matcher.update(stream[100:]) + matcher.flush()
    assert _triples(found) == whole


def test_channels_first_layout_names_the_stream_index():
    query = np.zeros((3, 2))
    matcher = StreamMatcher(query, threshold=0.0)
    chunk = np.zeros((2, 10))  # (n_channels, n_points) under sequence_layout="nct"
    chunk[1, 7] = np.nan
    with alignkit.config_context(sequence_layout="nct"):
        with pytest.raises(InvalidInputError, match="stream index 7 .point 7 .*channel 1"):
            matcher.update(chunk)
        found = matcher.update(np.zeros((2, 10))) + matcher.flush()
    plain = StreamMatcher(query, threshold=0.0)
    assert _triples(found) == _triples(plain.update(np.zeros((10, 2))) + plain.flush())


def _error(path, truth):
    return path_distance(path, truth)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("search_width", [100, 500])
def test_online_path_error_within_1_5x_offline(seed, search_width):
    reference, live, truth = make_ecg_pair(1500, 1200, n_beats=12, random_state=seed)
    offline = _error(alignkit.dtw(reference, live).path, truth)
    aligner = OnlineAligner(reference, search_width=search_width).partial_fit(live)
    positions = np.c_[aligner.positions_, np.arange(len(live))]
    assert _error(positions, truth) <= 1.5 * offline
    assert _error(aligner.path_[:, ::-1], truth) <= 1.5 * offline


def test_online_band_costs_equal_the_full_dp_when_the_band_covers_everything():
    # With search_width beyond both lengths every cell up to the corner is computed, so the
    # band's last row is the last row of the full DP with Dixon's weights (1, 1, 2).
    reference, live, _ = make_ecg_pair(70, 50, n_beats=3, random_state=3)
    aligner = OnlineAligner(reference, search_width=100).partial_fit(live)
    last_row, last_col = aligner.path_[-1]
    cost = ((live[:, None, 0] - reference[None, : last_col + 1, 0]) ** 2).tolist()
    acc = [[np.inf] * (last_col + 1) for _ in range(len(live))]
    for t in range(len(live)):
        for j in range(last_col + 1):
            if t == 0 and j == 0:
                acc[t][j] = cost[0][0]
                continue
            acc[t][j] = min(
                acc[t - 1][j - 1] + 2 * cost[t][j] if t and j else np.inf,
                acc[t - 1][j] + cost[t][j] if t else np.inf,
                acc[t][j - 1] + cost[t][j] if j else np.inf,
            )
    band = aligner._acc[last_row % 100, : last_col + 1]
    np.testing.assert_allclose(band, acc[last_row], rtol=1e-12)


def test_online_follows_known_warps():
    reference = np.sin(np.linspace(0, 12, 400)) + np.linspace(0, 1, 400)
    same = OnlineAligner(reference, search_width=50).partial_fit(reference)
    np.testing.assert_array_equal(same.positions_, np.arange(400))
    # The live sequence plays the reference at half speed: frame t shows frame t // 2.
    slow = OnlineAligner(reference, search_width=50).partial_fit(np.repeat(reference, 2))
    assert np.abs(slow.positions_ - np.arange(800) // 2).max() <= 2
    assert slow.position_ == 399


@pytest.mark.parametrize("max_run_count", [1, 3])
def test_online_path_is_monotone_continuous_with_bounded_runs(max_run_count):
    reference, live, _ = make_ecg_pair(600, 300, n_beats=5, random_state=4)
    aligner = OnlineAligner(reference, search_width=80, max_run_count=max_run_count)
    path = aligner.partial_fit(live).path_
    assert tuple(path[0]) == (0, 0) and path[-1, 0] == len(live) - 1
    steps = np.diff(path, axis=0)
    assert {tuple(step) for step in steps.tolist()} <= {(1, 0), (0, 1), (1, 1)}
    assert len(aligner.positions_) == aligner.n_frames_ == len(live)
    assert np.all(np.diff(aligner.positions_) >= 0)
    # More than max_run_count steps of one kind in a row force the other kind.
    run, longest = 1, 1
    for previous, step in zip(steps.tolist(), steps.tolist()[1:]):
        run = run + 1 if step == previous and step != [1, 1] else 1
        longest = max(longest, run)
    assert longest <= max_run_count + 1


@given(st.lists(st.integers(0, 300), max_size=10))
def test_online_chunking_does_not_matter(cuts):
    reference, live, _ = make_ecg_pair(300, 300, n_beats=3, random_state=2)
    whole = OnlineAligner(reference, search_width=40).partial_fit(live)
    chunked = OnlineAligner(reference, search_width=40)
    for chunk in np.split(live, sorted(cuts)):
        chunked.partial_fit(chunk)
    np.testing.assert_array_equal(chunked.path_, whole.path_)
    np.testing.assert_array_equal(chunked.positions_, whole.positions_)


def test_online_pickle_reset_and_bad_input():
    reference, live, _ = make_ecg_pair(200, 200, n_beats=3, random_state=5)
    whole = OnlineAligner(reference, search_width=30).partial_fit(live)
    aligner = OnlineAligner(reference, search_width=30).partial_fit(live[:77])
    clone = pickle.loads(pickle.dumps(aligner)).partial_fit(live[77:])
    np.testing.assert_array_equal(clone.path_, whole.path_)
    assert aligner.reset().n_frames_ == 0 and aligner.position_ is None
    np.testing.assert_array_equal(aligner.partial_fit(live).positions_, whole.positions_)
    with pytest.raises(InvalidInputError, match="reference is empty"):
        OnlineAligner([])
    with pytest.raises(InvalidParameterError, match="'search_width' parameter of OnlineAligner"):
        OnlineAligner(reference, search_width=1)
    with pytest.raises(InvalidParameterError, match="'max_run_count' parameter"):
        OnlineAligner(reference, max_run_count=0)
    aligner = OnlineAligner(reference, search_width=30).partial_fit(live[:50])
    broken = live[50:].copy()
    broken[3, 0] = np.inf
    with pytest.raises(InvalidInputError, match="inf at stream index 53"):
        aligner.partial_fit(broken)
    with pytest.raises(InvalidInputError, match="2 channels but 1"):
        aligner.partial_fit(np.zeros((3, 2)))
    np.testing.assert_array_equal(aligner.partial_fit(live[50:]).path_, whole.path_)
