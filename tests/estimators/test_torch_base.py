"""The shared training base of torch aligners, tested on a small torch estimator.

The toy estimator fits a linear model by minibatch SGD from a random
initialisation, so seeding, warm starts, early stopping, callbacks and
pickling all have visible effects.
"""

import io
import pickle

import numpy as np
import pytest
from _no_torch import run_without_torch
from sklearn.base import BaseEstimator, RegressorMixin, clone

from alignkit.callbacks import Callback, EarlyStopping, ProgressBar
from alignkit.core.params import check_estimator_params
from alignkit.estimators._torch_base import TRAINING_PARAMETER_CONSTRAINTS, TorchTrainingMixin
from alignkit.exceptions import InvalidInputError, InvalidParameterError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


class ToyRegressor(TorchTrainingMixin, RegressorMixin, BaseEstimator):
    """A linear model trained by minibatch SGD.

    Parameters
    ----------
    learning_rate : float, default=0.05
        Step size.
    %(training_parameters)s

    Attributes
    ----------
    model_ : torch.nn.Linear
        The model.
    %(training_attributes)s
    """

    _parameter_constraints = dict(TRAINING_PARAMETER_CONSTRAINTS)

    def __init__(
        self,
        learning_rate=0.05,
        device="cpu",
        random_state=None,
        max_epochs=20,
        verbose=0,
        warm_start=False,
        callbacks=None,
        early_stopping=False,
        validation_fraction=0.2,
        n_iter_no_change=3,
        tol=0.0,
    ):
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state
        self.max_epochs = max_epochs
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def fit(self, X, y):
        check_estimator_params(self)
        torch = self._import_torch()
        device = self._resolve_device()
        X = torch.as_tensor(np.asarray(X, dtype=np.float64), device=device)
        y = torch.as_tensor(np.asarray(y, dtype=np.float64), device=device)
        train, val = self._split_validation(len(X), np.random.default_rng(0))
        with self._torch_context():
            if not self._is_warm():
                self.model_ = torch.nn.Linear(X.shape[1], 1).double().to(device)
                self.optimizer_ = torch.optim.SGD(self.model_.parameters(), lr=self.learning_rate)

            def epoch(_):
                order = torch.randperm(len(train))
                total = 0.0
                for start in range(0, len(train), 8):
                    rows = torch.as_tensor(train[order[start : start + 8].numpy()])
                    self.optimizer_.zero_grad()
                    loss = ((self.model_(X[rows]).squeeze(1) - y[rows]) ** 2).mean()
                    loss.backward()
                    self.optimizer_.step()
                    total += float(loss.detach()) * len(rows)
                return total / len(train)

            def validate():
                with torch.no_grad():
                    rows = torch.as_tensor(val)
                    return float(((self.model_(X[rows]).squeeze(1) - y[rows]) ** 2).mean())

            self._run_epochs(epoch, validate if len(val) else None)
        return self

    def predict(self, X):
        with torch.no_grad():
            X = torch.as_tensor(np.asarray(X, dtype=np.float64), device=self.device_)
            return self.model_(X).squeeze(1).cpu().numpy()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.normal(size=64)
    return X, y


def test_training_learns_and_records_history(data):
    X, y = data
    model = ToyRegressor(random_state=0).fit(X, y)
    assert model.n_iter_ == 20 and len(model.loss_curve_) == 20 and len(model.history_) == 20
    assert model.loss_curve_[-1] < 0.01 * model.loss_curve_[0]
    np.testing.assert_allclose(model.model_.weight.detach().numpy()[0], [1, -2, 0.5], atol=0.05)
    assert [h["epoch"] for h in model.history_] == list(range(1, 21))
    assert model.validation_scores_ == []
    assert str(model.device_) == "cpu"


def test_random_state_reproducible_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = ToyRegressor(random_state=7, max_epochs=3).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected_next)  # fit did not consume it
    second = ToyRegressor(random_state=7, max_epochs=3).fit(X, y)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    other = ToyRegressor(random_state=8, max_epochs=3).fit(X, y)
    assert other.loss_curve_ != first.loss_curve_


def test_warm_start_continues_and_cold_start_restarts(data):
    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=2, warm_start=True).fit(X, y)
    weights = model.model_.weight.detach().clone()
    model.fit(X, y)
    assert model.n_iter_ == 4 and len(model.loss_curve_) == 4
    assert model.loss_curve_[2] < model.loss_curve_[0]  # continued from the trained weights
    cold = ToyRegressor(random_state=0, max_epochs=2).fit(X, y)
    np.testing.assert_array_equal(cold.model_.weight.detach(), weights)
    cold.fit(X, y)
    assert cold.n_iter_ == 2


def test_early_stopping_stops_and_restores_best(data):
    X, y = data
    # A learning rate that makes the validation loss blow up after improving early.
    model = ToyRegressor(
        random_state=0, learning_rate=0.6, max_epochs=50, early_stopping=True, n_iter_no_change=2
    )
    with np.errstate(all="ignore"):
        try:
            model.fit(X, y)
        except FloatingPointError:
            pytest.fail("early stopping should stop before the loss overflows")
    assert model.n_iter_ < 50
    best = int(np.argmin(model.validation_scores_))
    assert model.n_iter_ == best + 1 + 2  # patience epochs after the best one
    # The model kept is the best epoch's, not the last one's.
    X_val = X[model._split_validation(len(X), np.random.default_rng(0))[1]]
    y_val = y[model._split_validation(len(X), np.random.default_rng(0))[1]]
    restored = float(np.mean((model.predict(X_val) - y_val) ** 2))
    assert restored == pytest.approx(model.validation_scores_[best], rel=1e-9)


def test_nonfinite_loss_raises_with_advice(data):
    X, y = data
    with pytest.raises(FloatingPointError, match="learning_rate"):
        ToyRegressor(random_state=0, learning_rate=5.0, max_epochs=200).fit(X, y * 1e3)


def test_callbacks_are_called_and_can_stop(data):
    X, y = data
    seen = []

    class Recorder(Callback):
        def on_train_begin(self, estimator, logs):
            seen.append(("begin", logs["max_epochs"], logs["n_iter"]))

        def on_epoch_end(self, estimator, logs):
            seen.append(("epoch", logs["epoch"], estimator.n_iter_))
            return logs["epoch"] == 3

        def on_train_end(self, estimator, logs):
            seen.append(("end", logs["epoch"], None))

    model = ToyRegressor(random_state=0, callbacks=[Recorder()]).fit(X, y)
    assert model.n_iter_ == 3
    assert seen == [
        ("begin", 20, 0),
        ("epoch", 1, 1),
        ("epoch", 2, 2),
        ("epoch", 3, 3),
        ("end", 3, None),
    ]


def test_verbose_prints_progress(data, capsys):
    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=2, verbose=1).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("ToyRegressor 2/2 epochs 100% | ")
    assert lines[1].endswith(f"elapsed | loss={model.loss_curve_[1]:.6g}")


def test_progress_bar_every():
    out = io.StringIO()
    bar = ProgressBar(stream=out, every=5)
    bar.on_train_begin(None, {"max_epochs": 7, "n_iter": 0})
    for epoch in range(1, 8):
        bar.on_epoch_end(None, {"epoch": epoch, "loss": 1.0})
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["5/7", "7/7"]


def test_early_stopping_min_delta():
    stop = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.5, restore_best=False)
    stop.on_train_begin(None, {})
    # Improvements smaller than min_delta do not count.
    results = [
        stop.on_epoch_end(None, {"epoch": k + 1, "loss": 0.0, "val_loss": v})
        for k, v in enumerate([10.0, 9.8, 9.7])
    ]
    assert results == [False, False, True] and stop.best_epoch_ == 1 and stop.stopped_epoch_ == 3


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"max_epochs": 0},
            r"'max_epochs' parameter of ToyRegressor must be an int in the range \[1, inf\)",
        ),
        ({"max_epochs": 2.5}, "max_epochs"),
        (
            {"validation_fraction": 1.0},
            r"'validation_fraction' parameter .* must be a float in the range \(0.0, 1.0\)",
        ),
        ({"tol": -1.0}, r"'tol' parameter .* must be a float in the range \[0.0, inf\)"),
        (
            {"callbacks": ProgressBar()},
            "'callbacks' parameter of ToyRegressor must be an instance of 'list'",
        ),
        ({"device": "tpu"}, "device"),
        ({"device": "cuda:7"} if not torch.cuda.is_available() else {"device": "cuda:99"}, "cuda"),
    ],
)
def test_bad_params(data, params, message):
    X, y = data
    with pytest.raises(InvalidInputError, match=message):
        ToyRegressor(**params).fit(X, y)


def test_early_stopping_needs_samples():
    with pytest.raises(InvalidInputError, match="early_stopping needs at least one"):
        ToyRegressor(early_stopping=True).fit(np.ones((1, 2)), np.ones(1))


def test_pickle_round_trip_keeps_model_and_optimizer(data):
    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=3, warm_start=True).fit(X, y)
    state = model.__getstate__()
    assert "model_" not in state and isinstance(state["_torch_payload"], bytes)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # The optimizer still drives the loaded model's own parameters.
    assert loaded.optimizer_.param_groups[0]["params"][0] is loaded.model_.weight
    loaded.fit(X, y)
    model.fit(X, y)
    assert loaded.n_iter_ == 6
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-12)
    assert clone(model).get_params() == model.get_params()


def test_model_saved_on_missing_gpu_loads_on_cpu_with_warning(data):
    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=2).fit(X, y)
    expected = model.predict(X)
    model.device_ = torch.device("cuda:31")  # as if trained on a GPU this machine lacks
    payload = pickle.dumps(model)
    with pytest.warns(UserWarning, match=r"trained on cuda:31.*loaded on the CPU"):
        loaded = pickle.loads(payload)
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict(X), expected)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_model_pickles_and_loads_on_gpu(data):
    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=2, device="cuda").fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.model_.weight.device.type == "cuda"
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


def test_without_torch_construct_clone_work_and_fit_names_the_extra():
    result = run_without_torch(
        """
        import numpy as np
        from sklearn.base import BaseEstimator, clone
        from alignkit.core.params import check_estimator_params
        from alignkit.estimators._torch_base import (
            TRAINING_PARAMETER_CONSTRAINTS,
            TorchTrainingMixin,
        )

        class Toy(TorchTrainingMixin, BaseEstimator):
            _parameter_constraints = TRAINING_PARAMETER_CONSTRAINTS

            def __init__(self, device="cpu", random_state=None, max_epochs=3):
                self.device = device
                self.random_state = random_state
                self.max_epochs = max_epochs

            def fit(self, X, y=None):
                check_estimator_params(self)
                self._import_torch()
                return self

        model = clone(Toy(max_epochs=5))
        assert model.get_params()["max_epochs"] == 5
        try:
            import torch
        except ImportError:
            print("torch is missing")
        try:
            model.fit(np.ones((3, 2)))
        except ImportError as error:
            print("IMPORTERROR", error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "torch is missing" in result.stdout
    assert "IMPORTERROR" in result.stdout and "alignkit[torch]" in result.stdout
    assert "Toy.fit" in result.stdout


def test_every_torch_aligner_works_without_torch_until_fit():
    result = run_without_torch(
        """
        import sys
        import numpy as np
        from sklearn.base import clone
        import alignkit
        from alignkit.datasets import make_digit_canvas, make_nonlinear_views, make_warped_copy

        pairs, _ = make_nonlinear_views(n_pairs=3, random_state=0)
        copies, _ = make_warped_copy(n_pairs=3, random_state=0)
        canvas = make_digit_canvas(6, "T", random_state=0)
        cases = [
            (alignkit.DeepCTWAligner(n_outputs=4, n_components=2), (pairs,)),
            (alignkit.SoftAttentionAligner(hidden_size=8), (copies,)),
            (alignkit.STNAligner(max_epochs=1), (canvas.images, canvas.labels)),
            (alignkit.GlimpseAligner(max_epochs=1), (canvas.images, canvas.labels)),
        ]
        for model, data in cases:
            name = type(model).__name__
            copy = clone(model).set_params(random_state=3)
            assert copy.get_params()["random_state"] == 3, name
            try:
                copy.fit(*data)
            except ImportError as error:
                assert "alignkit[torch]" in str(error), (name, str(error))
                print("IMPORTERROR", name)
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr
    for name in ("DeepCTWAligner", "SoftAttentionAligner", "STNAligner", "GlimpseAligner"):
        assert f"IMPORTERROR {name}" in result.stdout, result.stdout


def test_joblib_round_trip(data, tmp_path):
    import joblib  # a scikit-learn dependency, always installed

    X, y = data
    model = ToyRegressor(random_state=0, max_epochs=3).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.device_ == torch.device("cpu") and loaded.n_iter_ == 3


def test_early_stopping_restore_keeps_optimizer_on_the_model(data):
    """The restored optimizer must drive the restored model, so a warm fit still trains it."""
    X, y = data
    stop = EarlyStopping(monitor="val_loss", patience=1)
    model = ToyRegressor(
        random_state=0,
        learning_rate=0.6,
        max_epochs=30,
        early_stopping=True,
        n_iter_no_change=1,
        warm_start=True,
        callbacks=[stop],
    )
    with np.errstate(all="ignore"):
        model.fit(X, y)
    assert model.optimizer_.param_groups[0]["params"][0] is model.model_.weight
    assert stop._best_state is None  # the callback (a parameter) keeps no model copy
    before = model.model_.weight.detach().clone()
    model.set_params(early_stopping=False, learning_rate=0.01, max_epochs=1, callbacks=None)
    model.fit(X, y)
    assert not torch.equal(model.model_.weight.detach(), before)


# -- parameters and docs declared once ----------------------------------------------------

LEARNED = ("STNAligner", "GlimpseAligner", "SoftAttentionAligner", "DeepCTWAligner")


@pytest.mark.parametrize("name", LEARNED)
def test_every_parameter_is_constrained_and_the_shared_ones_once(name):
    import inspect

    import alignkit

    cls = getattr(alignkit, name)
    parameters = set(inspect.signature(cls).parameters)
    constraints = cls._parameter_constraints
    assert parameters <= set(constraints), sorted(parameters - set(constraints))
    shared = set(TRAINING_PARAMETER_CONSTRAINTS) & parameters - {"learning_rate"}
    assert len(shared) >= 10
    for param in shared:
        assert constraints[param] is TRAINING_PARAMETER_CONSTRAINTS[param], param


@pytest.mark.parametrize("name", LEARNED)
def test_shared_parameter_docs_come_from_the_base_with_the_class_defaults(name):
    import ast
    import inspect

    from numpydoc.docscrape import ClassDoc

    import alignkit
    from alignkit.estimators._torch_base import _PARAMETER_DOCS

    cls = getattr(alignkit, name)
    assert "%(training" not in cls.__doc__
    documented = {}
    for section in ("Parameters", "Attributes"):
        for entry in ClassDoc(cls)[section]:
            for item in entry.name.split(","):
                documented.setdefault(section, {})[item.strip()] = entry
    signature = inspect.signature(cls).parameters
    assert set(documented["Parameters"]) == set(signature)
    for param, entry in documented["Parameters"].items():
        assert entry.desc, f"{name}.{param} is undocumented"
        stated = entry.type.rpartition("default=")[2]
        assert ast.literal_eval(stated) == signature[param].default, (param, entry.type)
        if param in _PARAMETER_DOCS:
            shared = _PARAMETER_DOCS[param].splitlines()[1:]
            assert entry.desc == [line.strip() for line in shared], param
    for attribute in ("loss_curve_", "validation_scores_", "history_", "n_iter_", "device_"):
        assert documented["Attributes"][attribute].desc, (name, attribute)


def test_ill_formed_callbacks_are_refused_by_index(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match=r"callbacks\[1\] is a str"):
        ToyRegressor(callbacks=[ProgressBar(stream=io.StringIO()), "loud"]).fit(X, y)


# -- torch loaded one way -------------------------------------------------------------------


def test_kernel_modules_load_through_the_guarded_entry_point():
    from alignkit.kernels._torch import load

    for name in ("_attention", "_glimpse", "_spatial", "_training"):
        module = load(name)
        assert module.__name__ == f"alignkit.kernels._torch.{name}"
        assert module.torch is torch
    with pytest.raises(ModuleNotFoundError, match="_missing"):
        load("_missing")  # a wrong name is not reported as a missing torch


def test_without_torch_loading_a_kernel_or_unpickling_a_fitted_model_names_the_extra(tmp_path):
    from alignkit.datasets import make_digit_canvas
    from alignkit.estimators._stn import STNAligner

    canvas = make_digit_canvas(12, kind="clean", random_state=0)
    fitted = STNAligner(transformation="attention", max_epochs=1, random_state=0)
    fitted.fit(canvas.images, canvas.labels)
    (tmp_path / "fitted.pkl").write_bytes(pickle.dumps(fitted))
    (tmp_path / "unfitted.pkl").write_bytes(pickle.dumps(STNAligner(max_epochs=2)))
    result = run_without_torch(
        f"""
        import pickle, sys
        from alignkit.kernels._torch import load

        try:
            load("_spatial", "STNAligner.fit")
        except ImportError as error:
            print("LOAD", error)
        with open({str(tmp_path / "unfitted.pkl")!r}, "rb") as f:
            print("UNFITTED", pickle.load(f).get_params()["max_epochs"])
        with open({str(tmp_path / "fitted.pkl")!r}, "rb") as f:
            try:
                pickle.load(f)
            except ImportError as error:
                print("UNPICKLE", type(error).__name__, error)
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert "STNAligner.fit needs PyTorch" in lines["LOAD"] and "alignkit[torch]" in lines["LOAD"]
    assert lines["UNFITTED"] == "2"
    assert lines["UNPICKLE"].startswith("ImportError Unpickling a fitted STNAligner needs")
    assert "alignkit[torch]" in lines["UNPICKLE"]


def test_read_only_arrays_are_copied_before_torch_wraps_them():
    from alignkit.kernels._torch import load

    training = load("_training")
    writable = np.arange(6, dtype=np.float32).reshape(2, 3)
    read_only = writable.copy()
    read_only.setflags(write=False)
    tensor = training.as_tensor(read_only, "cpu")
    assert not np.shares_memory(tensor.numpy(), read_only)
    np.testing.assert_array_equal(tensor.numpy(), read_only)
    assert np.shares_memory(training.as_tensor(writable, "cpu").numpy(), writable)  # no copy
