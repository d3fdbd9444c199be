"""The ``n_threads`` setting of the torch aligners (issue 13, item 8).

torch's intra-op thread count is per process. Every public method of a torch
aligner that runs torch sets it from ``n_threads`` and restores it after, also
when the method raises; ``n_threads=None`` honours the limit joblib gives its
worker processes (``OMP_NUM_THREADS = cpu_count() // n_jobs``) and the CPUs
other processes keep busy.
"""

import multiprocessing
import os
import threading
import time

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import alignkit
from alignkit.callbacks import Callback
from alignkit.datasets import make_digit_canvas, make_nonlinear_views, make_warped_copy
from alignkit.estimators import _torch_base
from alignkit.estimators._torch_base import resolve_n_threads
from alignkit.exceptions import InvalidParameterError

torch = pytest.importorskip("torch")
training = pytest.importorskip("alignkit.kernels._torch._training")

PAIRS, _ = make_nonlinear_views(n_pairs=4, random_state=0)
COPIES, _ = make_warped_copy(n_pairs=6, n_timepoints=8, random_state=0)
CANVAS = make_digit_canvas(8, "T", random_state=0)


def _deep_ctw(**params):
    return alignkit.DeepCTWAligner(n_outputs=4, n_components=2, max_epochs=3, **params)


def _soft_attention(**params):
    return alignkit.SoftAttentionAligner(hidden_size=8, mode="predict", max_epochs=2, **params)


def _stn(**params):
    return alignkit.STNAligner(max_epochs=2, batch_size=4, **params)


def _glimpse(**params):
    return alignkit.GlimpseAligner(
        max_epochs=2, batch_size=4, n_glimpses=2, glimpse_hidden=8, loc_hidden=8, core_hidden=16,
        **params,
    )  # fmt: skip


def _public_calls(model):
    """Every public method of ``model`` (fitted) that runs torch, called once."""
    if isinstance(model, alignkit.DeepCTWAligner):
        return [
            lambda: model.align(*PAIRS[0]),
            lambda: model.align_pairs(PAIRS[:2]),
            lambda: model.transform(PAIRS[:2]),
            lambda: model.score(PAIRS[:2]),
        ]
    if isinstance(model, alignkit.SoftAttentionAligner):
        return [
            lambda: model.attention(COPIES[:2]),
            lambda: model.align(*COPIES[0]),
            lambda: model.align_pairs(COPIES[:2]),
            lambda: model.transform(COPIES[:2]),
            lambda: model.score(COPIES[:2]),
            lambda: model.predict([a for a, _ in COPIES[:2]]),
        ]
    images, labels = CANVAS.images, CANVAS.labels
    calls = [
        lambda: model.predict(images[:3]),
        lambda: model.predict_proba(images[:3]),
        lambda: model.transform(images[:3]),
        lambda: model.score(images, labels),
    ]
    if isinstance(model, alignkit.STNAligner):
        return [*calls, lambda: model.predict_transform(images[:3])]
    return [*calls, lambda: model.predict_locations(images[:3])]


CASES = {
    "DeepCTWAligner": (_deep_ctw, (PAIRS,)),
    "SoftAttentionAligner": (_soft_attention, (COPIES,)),
    "STNAligner": (_stn, (CANVAS.images, CANVAS.labels)),
    "GlimpseAligner": (_glimpse, (CANVAS.images, CANVAS.labels)),
}


@pytest.fixture
def torch_threads():
    """Leave torch's thread count as each test found it."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


class ThreadSpy(Callback):
    """Records torch's thread count at every epoch end (runs inside fit)."""

    def __init__(self, raise_at=None):
        self.raise_at = raise_at
        self.seen = []

    def on_epoch_end(self, estimator, logs):
        self.seen.append(torch.get_num_threads())
        if self.raise_at is not None and logs["epoch"] >= self.raise_at:
            raise RuntimeError("stop here")


def _spy_modules(monkeypatch):
    """Record torch's thread count at every call of a torch module."""
    seen = []
    call = torch.nn.Module.__call__

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return call(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "__call__", spy)
    return seen


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("n_threads", "outside"), [(1, 3), (2, 1)])
def test_every_public_method_runs_with_n_threads_and_restores_them(
    name, n_threads, outside, monkeypatch, torch_threads
):
    make, data = CASES[name]
    spy = ThreadSpy()
    model = make(n_threads=n_threads, random_state=0, callbacks=[spy])
    torch.set_num_threads(outside)
    seen = _spy_modules(monkeypatch)
    model.fit(*data)
    assert torch.get_num_threads() == outside
    assert spy.seen == [n_threads] * model.n_iter_
    for call in [*_public_calls(model), lambda: model.fit_transform(*data)]:
        seen.clear()
        call()
        assert seen, f"{name}: a public call ran no torch module"
        assert set(seen) == {n_threads}, name
        assert torch.get_num_threads() == outside


@pytest.mark.parametrize("name", CASES)
def test_threads_are_restored_when_fit_raises(name, torch_threads):
    make, data = CASES[name]
    torch.set_num_threads(3)
    spy = ThreadSpy(raise_at=1)
    with pytest.raises(RuntimeError, match="stop here"):
        make(n_threads=1, random_state=0, callbacks=[spy]).fit(*data)
    assert spy.seen == [1]
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2"])
def test_bad_n_threads_raise_naming_the_parameter(name, bad, torch_threads):
    make, data = CASES[name]
    with pytest.raises(InvalidParameterError, match=r"'n_threads' parameter of " + name):
        make(n_threads=bad).fit(*data)
    assert torch.get_num_threads() == torch_threads


@pytest.mark.parametrize("name", CASES)
def test_n_threads_is_a_parameter_that_clones(name):
    model = CASES[name][0](n_threads=2)
    assert model.get_params()["n_threads"] == 2
    assert clone(model).get_params()["n_threads"] == 2
    assert CASES[name][0]().get_params()["n_threads"] is None


def _fitted_output(make, data, n_threads):
    model = make(n_threads=n_threads, random_state=0).fit(*data)
    calls = _public_calls(model)
    outputs = [calls[0](), calls[2]()]  # continuous outputs and discrete ones (paths, labels)
    arrays = []
    for output in outputs:
        items = output if isinstance(output, list) else [output]
        for item in items:
            matrix = getattr(item, "path", item)
            arrays.append(np.asarray(matrix, dtype=np.float64).ravel())
    return np.asarray(model.loss_curve_), np.concatenate(arrays)


def test_one_and_two_threads_fit_the_same_deep_ctw(torch_threads):
    make, data = CASES["DeepCTWAligner"]
    losses_1, outputs_1 = _fitted_output(make, data, 1)
    losses_2, outputs_2 = _fitted_output(make, data, 2)
    np.testing.assert_array_equal(losses_1, losses_2)
    np.testing.assert_array_equal(outputs_1, outputs_2)


@pytest.mark.parametrize("name", ["SoftAttentionAligner", "STNAligner", "GlimpseAligner"])
def test_thread_counts_agree_to_float32_rounding_and_each_count_repeats(name, torch_threads):
    # These networks run in float32, and torch splits their reductions between
    # threads, so the sums may round differently: equal to float32 rounding
    # between counts, and bit for bit at a fixed count.
    make, data = CASES[name]
    losses_1, outputs_1 = _fitted_output(make, data, 1)
    losses_2, outputs_2 = _fitted_output(make, data, 2)
    again_2 = _fitted_output(make, data, 2)
    np.testing.assert_allclose(losses_1, losses_2, rtol=1e-5)
    np.testing.assert_allclose(outputs_1, outputs_2, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(losses_2, again_2[0])
    np.testing.assert_array_equal(outputs_2, again_2[1])


# -- what None resolves to -------------------------------------------------------------


def test_none_is_the_physical_cores_when_nothing_competes(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda: 0)
    physical = joblib.cpu_count(only_physical_cores=True)
    assert resolve_n_threads(None) == min(physical, os.cpu_count())
    assert resolve_n_threads(5) == 5


@pytest.mark.parametrize(("value", "limit"), [("1", 1), ("1,1", 1), ("0", None), ("x", None)])
def test_none_honours_omp_num_threads(value, limit, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda: 0)
    physical = min(joblib.cpu_count(only_physical_cores=True), os.cpu_count())
    assert resolve_n_threads(None) == (physical if limit is None else min(physical, limit))


def test_none_leaves_the_cpus_other_processes_use(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    physical = min(joblib.cpu_count(only_physical_cores=True), os.cpu_count())
    monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda: os.cpu_count())
    assert resolve_n_threads(None) == 1
    monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda: os.cpu_count() - 1)
    assert resolve_n_threads(None) == 1
    monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda: 0)
    assert resolve_n_threads(None) == physical


def test_none_shares_the_competitors_out_over_the_machine(monkeypatch):
    # 2 CPUs of 16 (taskset, a cpuset container): the kernel's count of running
    # tasks is for the whole machine, so competitors are spread over its CPUs.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_torch_base, "_physical_cores", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for others, expected in [(0, 2), (2, 1), (8, 1), (40, 1)]:
        monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda others=others: others)
        assert resolve_n_threads(None) == expected, others
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(_torch_base, "_physical_cores", lambda: 8)
    for others, expected in [(0, 8), (8, 8), (9, 7), (15, 1), (40, 1)]:
        monkeypatch.setattr(_torch_base, "_running_elsewhere", lambda others=others: others)
        assert resolve_n_threads(None) == expected, others


def _spin(ready, stop_at):
    ready.set()
    while time.time() < stop_at:
        pass


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="counts tasks through /proc")
def test_busy_processes_are_counted_as_running_elsewhere():
    context = multiprocessing.get_context("spawn")
    events = [context.Event() for _ in range(2)]
    stop_at = time.time() + 30
    busy = [context.Process(target=_spin, args=(event, stop_at)) for event in events]
    for process in busy:
        process.start()
    try:
        assert all(event.wait(20) for event in events)
        # Both spinners are always running or waiting for a CPU.
        assert _torch_base._running_elsewhere() >= 2
    finally:
        for process in busy:
            process.terminate()
            process.join()


# -- nested and concurrent blocks ----------------------------------------------------


def test_blocks_nest_and_concurrent_blocks_restore_the_first_count(torch_threads):
    torch.set_num_threads(3)
    with training.torch_threads(2):
        assert torch.get_num_threads() == 2
        with training.torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 3
    # Two threads: the first to leave must not reset the count under the second.
    first_in, second_in, first_out, seen = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
        [],
    )

    def first():
        with training.torch_threads(1):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with training.torch_threads(1):
            second_in.set()
            first_out.wait(10)
            seen.append(torch.get_num_threads())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [1]
    assert torch.get_num_threads() == 3


# -- joblib workers ----------------------------------------------------------------------


def _fit_in_worker():
    import torch

    torch.set_num_threads(2)  # as a script or another library may have left it
    spy = ThreadSpy()
    _deep_ctw(random_state=0, callbacks=[spy]).fit(PAIRS)
    return spy.seen, torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


def test_in_a_loky_worker_none_takes_the_workers_share(monkeypatch):
    parent_limit = os.environ.get("OMP_NUM_THREADS")
    share = max(joblib.cpu_count() // 2, 1) if parent_limit is None else int(parent_limit)
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_fit_in_worker)() for _ in range(2)
    )
    for seen, after, limit in results:
        assert limit == str(share)  # what joblib gives each of its two workers
        assert seen and set(seen) <= set(range(1, share + 1))
        assert after == 2
        if joblib.cpu_count() == 2 and parent_limit is None:
            assert set(seen) == {1}


class ThreadLog(Callback):
    """Appends torch's thread count to a file at each epoch end (survives worker processes)."""

    def __init__(self, path=None):
        self.path = path

    def on_epoch_end(self, estimator, logs):
        with open(self.path, "a") as log:
            log.write(f"{torch.get_num_threads()}\n")


def test_grid_search_with_two_jobs_does_not_oversubscribe(tmp_path):
    log = tmp_path / "threads.txt"
    search = GridSearchCV(
        _deep_ctw(random_state=0, callbacks=[ThreadLog(str(log))]),
        {"max_epochs": [1, 2]},
        cv=2,
        n_jobs=2,
        refit=False,  # a refit would train in this process, outside the workers
    )
    search.fit(PAIRS)
    seen = [int(line) for line in log.read_text().split()]
    parent_limit = os.environ.get("OMP_NUM_THREADS")
    share = max(joblib.cpu_count() // 2, 1) if parent_limit is None else int(parent_limit)
    assert len(seen) >= 2 * (1 + 2)  # every candidate and fold trained in a worker
    assert max(seen) <= share
