"""alignkit.core.parallel: configuration travels into joblib workers and threads."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from joblib import Parallel
from joblib import delayed as joblib_delayed

import alignkit
from alignkit.core.parallel import delayed, map_sequences, with_config
from alignkit.exceptions import AlignkitMemoryError

# 300 x 300 with the cost matrix: 8 * 90,000 bytes for the band plus as much for the
# matrix, about 1.4 MB, over a 1 MiB limit and far under the 4 GiB default.
N_TIMEPOINTS = 300


def _cost_matrix_or_error(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, N_TIMEPOINTS))
    try:
        alignkit.dtw(a, b, return_cost_matrix=True)
    except AlignkitMemoryError as error:
        return f"refused: {error}"
    return "allocated"


@pytest.fixture
def small_memory_limit():
    before = alignkit.get_config()["max_memory"]
    alignkit.set_config(max_memory=2**20)
    yield
    alignkit.set_config(max_memory=before)


def test_the_limit_holds_in_the_calling_thread(small_memory_limit):
    assert _cost_matrix_or_error(0).startswith("refused: a DTW path")
    assert "above max_memory=1 MiB" in _cost_matrix_or_error(0)


def test_joblib_loky_workers_get_the_callers_configuration(small_memory_limit):
    results = Parallel(n_jobs=2, backend="loky")(
        delayed(_cost_matrix_or_error)(seed) for seed in range(4)
    )
    assert all(result.startswith("refused: a DTW path") for result in results), results
    # Control: joblib's own delayed runs the workers on the defaults, so they allocate.
    plain = Parallel(n_jobs=2, backend="loky")(
        joblib_delayed(_cost_matrix_or_error)(seed) for seed in range(4)
    )
    assert plain == ["allocated"] * 4


def test_joblib_threads_get_the_callers_configuration(small_memory_limit):
    results = Parallel(n_jobs=2, backend="threading")(
        delayed(_cost_matrix_or_error)(seed) for seed in range(4)
    )
    assert all(result.startswith("refused") for result in results), results


def test_thread_pool_with_the_helper_gets_the_callers_configuration(small_memory_limit):
    with ThreadPoolExecutor(max_workers=2) as pool:
        carried = list(pool.map(with_config(_cost_matrix_or_error), range(4)))
        plain = list(pool.map(_cost_matrix_or_error, range(4)))
    assert all(result.startswith("refused") for result in carried), carried
    assert plain == ["allocated"] * 4  # control: pool threads start on the defaults


def test_every_key_travels_and_the_worker_is_restored_after_the_task():
    def snapshot(_):
        return alignkit.get_config()

    with alignkit.config_context(
        max_memory=12345, progress=True, strict_plugins=True, plugin_autoload=False
    ):
        expected = alignkit.get_config()
        with ThreadPoolExecutor(max_workers=1) as pool:
            inside = pool.submit(with_config(snapshot), 0).result()
            after = pool.submit(snapshot, 0).result()
    assert inside == expected
    assert after["max_memory"] == 4 * 2**30 and after["progress"] is False


def test_configuration_is_captured_when_the_task_is_made():
    with alignkit.config_context(max_memory=777):
        task = with_config(lambda: alignkit.get_config()["max_memory"])
    assert task() == 777
    assert alignkit.get_config()["max_memory"] != 777


def test_configured_call_pickles_and_keeps_name_and_config():
    with alignkit.config_context(max_memory=2**20):
        function, args, kwargs = delayed(_cost_matrix_or_error)(3)
    assert function.__name__ == "_cost_matrix_or_error"
    assert (args, kwargs) == ((3,), {})
    restored = pickle.loads(pickle.dumps(function))
    assert restored(*args).startswith("refused")


def test_map_sequences_carries_the_configuration(small_memory_limit):
    results = map_sequences(_cost_matrix_or_error, list(range(4)), n_jobs=2)
    assert all(result.startswith("refused") for result in results), results
    assert map_sequences(len, [[1], [1, 2], [1, 2, 3]], n_jobs=2) == [1, 2, 3]


def test_dtw_aligner_with_n_jobs_obeys_config_context_as_without():
    # Hardening issue, item 6: n_jobs=2 used to ignore a config_context that n_jobs=None obeys.
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(200, 1)) for _ in range(6)]
    serial = alignkit.DTWAligner().fit(sequences)
    parallel = alignkit.DTWAligner(n_jobs=2).fit(sequences)
    for aligner in (serial, parallel):
        with alignkit.config_context(max_memory=2**16):
            with pytest.raises(AlignkitMemoryError, match="above max_memory"):
                aligner.transform(sequences)
    np.testing.assert_array_equal(parallel.transform(sequences), serial.transform(sequences))


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_map_sequences_counts_every_sequence_in_order(n_jobs, capsys):
    # The bar is counted in this process as the chunks return; results keep their order.
    items = [[0] * k for k in range(1, 23)]
    assert map_sequences(len, items, n_jobs=n_jobs, verbose=1) == list(range(1, 23))
    err = capsys.readouterr().err
    assert "alignment 22/22 sequences 100%" in err, err
    assert map_sequences(len, items, n_jobs=n_jobs) == list(range(1, 23))
    assert capsys.readouterr().err == ""


def test_dtw_aligner_verbose_shows_the_medoid_and_transform_bars(capsys):
    rng = np.random.default_rng(1)
    sequences = [rng.normal(size=(30, 1)) for _ in range(5)]
    aligner = alignkit.DTWAligner(verbose=1).fit(sequences)
    assert "10/10 pairs" in capsys.readouterr().err  # the medoid: 5 * 4 / 2 pairs
    aligner.transform(sequences)
    assert "alignment 5/5 sequences" in capsys.readouterr().err


@pytest.mark.parametrize("value", [1, "yes", None, "TQDM"])
def test_set_config_refuses_a_progress_that_is_not_a_bool_or_tqdm(value):
    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="progress must be True, False or 'tqdm'"):
        alignkit.set_config(progress=value)
    assert alignkit.get_config()["progress"] is False


@pytest.mark.parametrize("backend", ["threading", "loky"])
@pytest.mark.parametrize("return_as", ["list", "generator", "generator_unordered"])
def test_every_task_of_a_generator_gets_the_callers_configuration(
    backend, return_as, small_memory_limit
):
    # joblib takes the tasks after the first pre_dispatch ones from the generator in its own
    # threads, where a plain joblib.Parallel + delayed saw the default configuration.
    from alignkit.core.parallel import Parallel

    tasks = (delayed(_cost_matrix_or_error)(seed) for seed in range(12))
    results = Parallel(n_jobs=2, backend=backend, pre_dispatch="1", return_as=return_as)(tasks)
    results = list(results)
    assert len(results) == 12 and all(r.startswith("refused") for r in results), results


def test_map_sequences_with_many_chunks_carries_the_configuration(small_memory_limit):
    # 4 chunks per worker: most are dispatched after the first ones return.
    with joblib.parallel_config(backend="threading", pre_dispatch="1"):
        results = map_sequences(_cost_matrix_or_error, list(range(16)), n_jobs=2)
    assert all(result.startswith("refused") for result in results), results
