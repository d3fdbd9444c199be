"""alignkit.core.progress: the progress bar of long calls, and the calls that draw it.

Truths: rates and times left computed by hand from a clock the tests set,
the number of pairs of a matrix (``n (n - 1) / 2`` or ``n_x n_y``), and the
fitted attributes (``n_iter_``, ``inertia_``, ``loss_curve_``) of the
estimators whose progress is shown.
"""

import io
import os
import re
import sys
import types
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest

import alignkit
from alignkit.core import progress
from alignkit.core.progress import Progress, progress_bar, progress_requested
from alignkit.distances import pairwise_distances, pairwise_gak


class _Stream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


class _Clock:
    """A clock read by the bars: ``clock.now`` seconds, set by the test."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(progress, "_clock", fake)
    return fake


def _collection(count, length, seed=0):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.standard_normal(length + k % 3)) for k in range(count)]


# -- the line: rate and time left ------------------------------------------------------


def test_rate_and_time_left_are_the_hand_computed_ones(clock):
    out = _Stream(tty=False)
    bar = Progress(10, "work", unit="items", stream=out)
    clock.now = 4.0
    bar.update(2)  # 2 items in 4 s: 0.5 items/s, 8 left: 16 s
    assert out.getvalue() == "work 2/10 items 20% | 0.5 items/s | ETA 0:16\n"
    clock.now = 10.0
    bar.update(8, loss=0.123456789)  # 10 in 10 s: 1 item/s; done, so the time taken
    assert out.getvalue().splitlines()[-1] == (
        "work 10/10 items 100% | 1 items/s | 0:10 elapsed | loss=0.123457"
    )
    bar.close()  # the closing line was drawn: nothing more
    assert len(out.getvalue().splitlines()) == 2


def test_large_rates_and_long_times_are_readable(clock):
    bar = Progress(100_000, "pairs", unit="pairs", stream=_Stream(tty=False))
    clock.now = 2.0
    bar.n = 2500  # 1,250 pairs/s; 97,500 left: 78 s
    assert bar.line() == "pairs 2500/100000 pairs 2% | 1.25k pairs/s | ETA 1:18"
    slow = Progress(1000, "epochs", unit="", stream=_Stream(tty=False))
    clock.now = 12.0
    slow.n = 1  # 1 in 10 s: 0.1 it/s, 999 left: 9,990 s = 2 h 46 min 30 s
    assert slow.line() == "epochs 1/1000 0% | 0.1 it/s | ETA 2:46:30"
    assert Progress(5, "x", stream=_Stream(tty=False)).line().endswith("| ? it/s | ETA ?")


def test_warm_start_counts_only_the_items_of_this_call(clock):
    out = _Stream(tty=False)
    bar = Progress(30, "fit", unit="epochs", initial=20, stream=out)
    clock.now = 5.0
    bar.update(5)  # 5 epochs in 5 s (not 25): 1 epoch/s, 5 left
    assert out.getvalue() == "fit 25/30 epochs 83% | 1 epochs/s | ETA 0:05\n"


def test_set_total_closes_a_bar_that_converged_early(clock):
    out = _Stream(tty=False)
    with Progress(50, "km", unit="iterations", stream=out, every=100) as bar:
        clock.now = 3.0
        bar.update(3, inertia=1.5)
        assert out.getvalue() == ""  # every=100: no line yet
        bar.set_total(3)  # converged: the closing line at once, not again on leaving
        assert out.getvalue().endswith("elapsed | inertia=1.5\n")
    assert out.getvalue().splitlines() == [
        "km 3/3 iterations 100% | 1 iterations/s | 0:03 elapsed | inertia=1.5"
    ]


def test_a_bar_left_early_prints_its_closing_line(clock):
    out = _Stream(tty=False)
    with Progress(100, "fit", unit="epochs", stream=out, every=1000) as bar:
        clock.now = 2.0
        bar.update(4)
    assert out.getvalue() == "fit 4/100 epochs 4% | 2 epochs/s | 0:02 elapsed\n"


# -- where the bar is drawn --------------------------------------------------------------


def test_a_terminal_redraws_one_line_at_most_ten_times_a_second(clock):
    out = _Stream(tty=True)
    with Progress(100, "work", stream=out) as bar:
        for k in range(100):
            clock.now = (k + 1) / 32  # 32 updates a second (exact in binary): every fourth
            bar.update(1)
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")  # one line, ended once
    frames = text[:-1].split("\r")[1:]
    assert len(frames) == 25
    assert frames[0].startswith("work 4/100 it 4% | 32 it/s | ETA 0:03")
    assert frames[-1].startswith("work 100/100 it 100% | 32 it/s | 0:03 elapsed")
    # A line never leaves characters of a longer one drawn before it.
    widths = [len(frame) for frame in frames[:-1]]
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_a_shorter_terminal_line_covers_every_longer_one_before_it(clock):
    out = _Stream(tty=True)
    bar = Progress(10, "work", stream=out)
    for k, note in enumerate(["a long note", "short", "short"]):
        clock.now = 0.25 * (k + 1)
        bar.update(1, note=note)
    frames = out.getvalue().split("\r")[1:]
    assert [len(frame) for frame in frames] == [len(frames[0])] * 3
    assert frames[2].rstrip().endswith("| note=short")


def test_a_log_gets_a_line_every_tenth_of_the_work(clock):
    out = _Stream(tty=False)
    with Progress(100, "work", stream=out) as bar:
        for k in range(100):
            clock.now = k + 1.0
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert [line.split()[1] for line in lines] == [f"{10 * k}/100" for k in range(1, 11)]
    assert lines[-1] == "work 100/100 it 100% | 1 it/s | 1:40 elapsed"


def test_a_notebook_gets_lines_even_on_a_tty(clock, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    out = _Stream(tty=True)
    with Progress(4, "work", stream=out) as bar:
        for k in range(4):
            clock.now = k + 1.0
            bar.update(1)
    assert "\r" not in out.getvalue()
    assert len(out.getvalue().splitlines()) == 4


def test_the_stream_is_sys_stderr_at_the_time_of_writing(clock, capsys):
    with progress_bar(2, "work") as bar:
        bar.update(2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("work 2/2 it 100%")


def test_a_broken_or_missing_stream_never_fails_the_call(clock, monkeypatch):
    class Broken(_Stream):
        def write(self, text):
            raise OSError("the pipe is closed")

    with Progress(3, "work", stream=Broken(tty=True)) as bar:
        bar.update(3)
    assert not bar.enabled
    monkeypatch.setattr(sys, "stderr", None)
    with progress_bar(3, "work") as bar:
        bar.update(3)


def test_a_failing_call_ends_the_terminal_line_before_the_traceback(clock):
    out = _Stream(tty=True)
    with pytest.raises(KeyboardInterrupt), Progress(10, "work", stream=out) as bar:
        clock.now = 1.0
        bar.update(5)
        raise KeyboardInterrupt
    assert out.getvalue().startswith("\rwork 5/10 it 50%") and out.getvalue().endswith("\n")
    assert out.getvalue().count("\r") == 1  # no closing line for a call that failed


def _bar_in_a_worker(n_updates):
    """Draw a bar on a fake terminal set as sys.stderr, with a clock of 1 s an update."""
    fake = _Clock()
    progress._clock, sys.stderr = fake, _Stream(tty=True)
    with progress_bar(n_updates, "work") as bar:
        for k in range(n_updates):
            fake.now = k + 1.0
            bar.update(1)
    return sys.stderr.getvalue(), os.getpid()


def test_a_loky_worker_prints_lines_named_by_its_pid_every_few_seconds():
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_bar_in_a_worker)(20) for _ in range(2)
    )
    for text, pid in results:
        assert pid != os.getpid() and "\r" not in text
        lines = text.splitlines()
        assert all(line.startswith(f"[worker {pid}] work ") for line in lines)
        # Lines every tenth (2 updates = 2 s) but at most one in 5 s: at 6, 12, 18 s,
        # and the closing line at 20 s.
        counts = [line.split()[3] for line in lines]
        assert counts == ["6/20", "12/20", "18/20", "20/20"]
        assert lines[-1].endswith("| 0:20 elapsed")


def test_a_thread_prints_lines_named_by_the_thread(clock):
    out = _Stream(tty=True)

    def draw():
        with Progress(2, "work", stream=out) as bar:
            bar.update(2)

    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
        pool.submit(draw).result()
    assert "\r" not in out.getvalue() and out.getvalue().startswith("[pool_0] work 2/2")


# -- switches: verbose and the progress config ---------------------------------------


def test_verbose_zero_prints_nothing_unless_the_config_asks(capsys):
    assert not progress_requested(0) and progress_requested(2)
    with progress_bar(3, "work", verbose=0) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""
    with alignkit.config_context(progress=True):
        assert progress_requested(0)
        pairwise_distances(_collection(4, 10))
    assert _closing_line(capsys.readouterr().err).startswith("pairwise DTW 6/6 pairs 100%")


class _FakeTqdm:
    """Records what alignkit asks of ``tqdm.auto.tqdm``."""

    made = []

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.total, self.calls = kwargs, kwargs["initial"], None, []
        self.total = kwargs["total"]
        _FakeTqdm.made.append(self)

    def update(self, n):
        self.n += n
        self.calls.append(("update", n))

    def set_postfix(self, values, refresh):
        self.calls.append(("postfix", values, refresh))

    def refresh(self):
        self.calls.append(("refresh", self.total))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def fake_tqdm(monkeypatch):
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = _FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    _FakeTqdm.made = []
    return _FakeTqdm


def test_config_progress_tqdm_draws_with_tqdm_auto(fake_tqdm, capsys):
    with alignkit.config_context(progress="tqdm"):
        with progress_bar(10, "fit", progress_requested(0), unit="epochs", initial=2) as bar:
            bar.update(3, loss=0.25)
            bar.set_total(5)
    (made,) = fake_tqdm.made
    assert made.kwargs == {
        "total": 10,
        "initial": 2,
        "desc": "fit",
        "unit": "epochs",
        "file": sys.stderr,
    }
    assert made.calls == [
        ("postfix", {"loss": "0.25"}, False),
        ("update", 3),
        ("refresh", 5),
        ("close",),
    ]
    assert bar.n == 5 and bar.total == 5
    assert capsys.readouterr().err == ""  # tqdm drew it, not alignkit


def test_tqdm_is_not_used_in_workers(fake_tqdm):
    def draw():
        with alignkit.config_context(progress="tqdm"):
            return progress_bar(2, "work", stream=io.StringIO())

    with ThreadPoolExecutor(1) as pool:
        assert isinstance(pool.submit(draw).result(), Progress)
    assert fake_tqdm.made == []


def test_without_tqdm_the_config_falls_back_to_the_built_in_bar(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails
    out = _Stream(tty=False)
    with alignkit.config_context(progress="tqdm"):
        with pytest.warns(UserWarning, match="tqdm is not installed"):
            bar = progress_bar(2, "work", stream=out)
    assert isinstance(bar, Progress)
    with bar:
        bar.update(2)
    assert out.getvalue().startswith("work 2/2 it 100%")


def test_real_tqdm_counts_the_items():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with alignkit.config_context(progress="tqdm"):
        with progress_bar(4, "work", stream=out) as bar:
            bar.update(4, loss=0.5)
    assert bar.n == 4 and "4/4" in out.getvalue() and "loss=0.5" in out.getvalue()


# -- the long calls -----------------------------------------------------------------------


def _closing_line(err):
    lines = err.strip().splitlines()
    assert lines, "no progress printed"
    return lines[-1]


@pytest.mark.parametrize("engine", ["joblib", "numba"])
def test_pairwise_shows_every_pair_with_two_workers(engine, capsys, monkeypatch):
    from alignkit.distances import _pairwise

    monkeypatch.setattr(_pairwise, "_CELLS_PER_TASK", 2000)  # many blocks and rounds
    X, Y = _collection(13, 30), _collection(5, 20, seed=1)
    D = pairwise_distances(X, verbose=1, n_jobs=2, engine=engine)
    err = capsys.readouterr().err
    closing = r"pairwise DTW 78/78 pairs 100% \| \S+ pairs/s \| \d+:\d\d elapsed"
    assert re.fullmatch(closing, _closing_line(err))
    counts = [int(line.split()[2].split("/")[0]) for line in err.splitlines()]
    assert counts == sorted(counts) and len(counts) > 2  # it moved, and never back
    pairwise_distances(X, Y, verbose=1, n_jobs=2, engine=engine)
    assert _closing_line(capsys.readouterr().err).startswith("pairwise DTW 65/65 pairs 100%")
    np.testing.assert_array_equal(D, pairwise_distances(X, engine=engine))
    assert capsys.readouterr().err == ""  # verbose=0: nothing


@pytest.mark.parametrize("engine", ["numba", "joblib"])
def test_pairwise_elastic_metric_shows_every_pair(engine, capsys, monkeypatch):
    from alignkit.distances import _pairwise

    monkeypatch.setattr(_pairwise, "_CELLS_PER_TASK", 2000)  # many blocks and rounds
    X, Y = _collection(13, 30), _collection(5, 20, seed=1)
    D = pairwise_distances(X, metric="msm", verbose=1, n_jobs=2, engine=engine)
    err = capsys.readouterr().err
    assert _closing_line(err).startswith("pairwise MSM 78/78 pairs 100%"), err
    counts = [int(line.split()[2].split("/")[0]) for line in err.splitlines()]
    assert counts == sorted(counts) and len(counts) > 2
    pairwise_distances(X, Y, metric="erp", verbose=1, n_jobs=2, engine=engine)
    assert _closing_line(capsys.readouterr().err).startswith("pairwise ERP 65/65 pairs 100%")
    np.testing.assert_array_equal(D, pairwise_distances(X, metric="msm", engine=engine))
    assert capsys.readouterr().err == ""


def test_dba_shows_its_iterations_and_the_objective(capsys):
    X = _collection(8, 25)
    average = alignkit.dba(X, n_iter=5, verbose=1)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("DBA ") for line in lines)
    done = int(lines[-1].split()[1].split("/")[0])
    assert lines[-1].startswith(f"DBA {done}/{done} iterations 100%") and 1 <= done <= 5
    # The objective shown last is the one of the returned average.
    objective = sum(alignkit.dtw_distance(x, average, squared=True) for x in X)
    shown = float(lines[-1].split("objective=")[1].split()[0])
    assert shown == pytest.approx(objective, rel=1e-5)
    np.testing.assert_array_equal(average, alignkit.dba(X, n_iter=5))
    assert capsys.readouterr().err == ""


def test_soft_dtw_barycenter_shows_its_iterations(capsys):
    X = _collection(5, 15)
    barycenter = alignkit.soft_dtw_barycenter(X, n_iter=4, verbose=1)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("soft-DTW barycenter ") for line in lines)
    done = int(lines[-1].split()[2].split("/")[0])
    assert lines[-1].startswith(f"soft-DTW barycenter {done}/{done} iterations") and done <= 4
    objective = sum(alignkit.soft_dtw(barycenter, x) for x in X)
    assert float(lines[-1].split("objective=")[1].split()[0]) == pytest.approx(objective, rel=1e-5)
    np.testing.assert_array_equal(barycenter, alignkit.soft_dtw_barycenter(X, n_iter=4))
    assert capsys.readouterr().err == ""


def test_pairwise_in_loky_workers_is_counted_here(capsys):
    X = _collection(9, 15)
    with joblib.parallel_config(backend="loky"):
        pairwise_distances(X, verbose=1, n_jobs=2, block_size=2)
    err = capsys.readouterr().err
    assert "[worker" not in err and _closing_line(err).startswith("pairwise DTW 36/36 pairs")


def test_pairwise_gak_shows_its_pairs_with_the_diagonal(capsys):
    X, Y = _collection(6, 12), _collection(4, 9, seed=2)
    pairwise_gak(X, verbose=1, n_jobs=2)
    assert _closing_line(capsys.readouterr().err).startswith("pairwise GAK 21/21 pairs 100%")
    pairwise_gak(X, Y, verbose=1)
    assert _closing_line(capsys.readouterr().err).startswith("pairwise GAK 24/24 pairs 100%")
    pairwise_gak(X, Y)
    assert capsys.readouterr().err == ""


def test_kmeans_under_the_config_shows_one_bar_not_its_inner_matrices(capsys):
    X = _collection(12, 20)
    with alignkit.config_context(progress=True):
        model = alignkit.TimeSeriesKMeans(n_clusters=2, random_state=0).fit(X)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("TimeSeriesKMeans ") for line in lines)
    assert lines[-1].startswith(f"TimeSeriesKMeans {model.n_iter_}/{model.n_iter_} iterations")


def test_a_torch_aligner_shows_its_epochs(capsys):
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal((12, 2)), rng.standard_normal((10, 2))) for _ in range(3)]
    model = alignkit.DeepCTWAligner(max_epochs=3, verbose=1, random_state=0).fit(pairs)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["DeepCTWAligner", f"{k}/3", "epochs"] for k in (1, 2, 3)
    ]
    assert lines[-1].endswith(f"loss={model.loss_curve_[-1]:.6g}") and "elapsed" in lines[-1]
    alignkit.DeepCTWAligner(max_epochs=2, random_state=0).fit(pairs)
    assert capsys.readouterr().err == ""
