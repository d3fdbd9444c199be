"""Shared training base of every torch aligner.

:class:`TorchTrainingMixin` gives a torch aligner:

- the shared training parameters declared once: their constraints
  (:data:`TRAINING_PARAMETER_CONSTRAINTS`, merged into a subclass's
  ``_parameter_constraints``) and their numpydoc text (filled into the
  ``%(training_parameters)s`` and ``%(training_attributes)s`` lines of a
  subclass docstring, with the defaults read from its ``__init__``);
- torch loaded through :func:`alignkit.kernels._torch.load` only when fitting
  (an ImportError naming ``alignkit[torch]`` when it is missing; construction,
  ``get_params`` and ``clone`` never need it);
- device resolution (``device_`` from the ``device`` parameter);
- the torch threads of ``n_threads`` around every public method that runs
  torch (:func:`with_torch_threads`), restored after it, even when it raises;
- seeding from ``random_state`` inside a forked torch RNG, so results are
  reproducible on the CPU and the user's global torch RNG is left untouched;
- one epoch loop with callbacks (:mod:`alignkit.callbacks`): ``history_``,
  ``loss_curve_``, ``validation_scores_``, ``n_iter_``, ``verbose`` progress,
  early stopping on a validation split, ``warm_start``;
- pickling that stores every torch object (modules, tensors, optimizers) on
  the CPU, so a model trained on a GPU loads on a CPU-only machine (with a
  warning) and on its own device otherwise; unpickling a fitted model without
  torch raises the ImportError naming ``alignkit[torch]``.

:class:`TorchClassifierMixin` adds the label handling of the task modes that
predict classes (``classes_``, NaN labels refused).
"""

import copy
import functools
import inspect
import os
import re
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import cpu_count
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ..callbacks import EarlyStopping, ProgressBar
from ..core.params import Interval, check_params
from ..core.progress import progress_requested
from ..exceptions import InvalidInputError, InvalidParameterError
from ..kernels._torch import import_torch, load, resolve_device

__all__ = [
    "TRAINING_PARAMETER_CONSTRAINTS",
    "TorchClassifierMixin",
    "TorchTrainingMixin",
    "resolve_n_threads",
    "with_torch_threads",
]

_PAYLOAD = "_torch_payload"
_DEVICES = "_torch_devices"

TRAINING_PARAMETER_CONSTRAINTS = {
    "learning_rate": [Interval(Real, 0, np.inf, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    # A torch.device cannot be named without importing torch: resolve_device checks it in fit.
    "device": "no_validation",
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "callbacks": [list, tuple, None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
}
"""Constraints of the training parameters every torch aligner shares."""

# The text of each shared parameter; ``{default}`` is read from the subclass's __init__.
_PARAMETER_DOCS = {
    "max_epochs": """\
max_epochs : int, default={default}
    Passes over the training data in one call to ``fit`` (fewer if
    ``early_stopping`` stops it; with ``warm_start``, this many more).""",
    "device": """\
device : str, torch.device or None, default={default}
    ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``,
    ``"cuda:N"`` or ``"mps"``; ``None`` reads the ``device`` key of
    :func:`alignkit.get_config`.""",
    "n_threads": """\
n_threads : int or None, default={default}
    Torch intra-op threads while ``fit``, ``predict``, ``transform``,
    ``score`` and the other methods that run torch work; torch's own setting
    is restored after each call (the interop threads are left alone).
    ``None`` takes, at the start of each call and of each training epoch,
    the physical cores :func:`joblib.cpu_count` counts (it honours CPU
    affinity and container quotas), at most ``OMP_NUM_THREADS`` when set
    (joblib sets it to ``cpu_count() // n_jobs`` in its worker processes, so
    ``GridSearchCV(n_jobs=...)`` does not oversubscribe), and, on Linux, at
    most the CPUs of its affinity that other processes leave free; at least 1. An int is used as
    given. Results are reproducible for a fixed int; between thread counts
    torch's float32 sums may differ in the last bits.""",
    "random_state": """\
random_state : int, RandomState instance or None, default={default}
    Seeds the initial weights, the minibatch order, the validation split and
    any sampling during training; an int makes fits reproducible (bit for
    bit at a fixed ``n_threads``). The caller's global torch random state is
    left untouched.""",
    "verbose": """\
verbose : int, default={default}
    If non-zero, show a progress bar of the epochs on standard error, with
    the rate, the time left and the losses (:class:`alignkit.callbacks.ProgressBar`);
    ``alignkit.set_config(progress=True)`` shows it for every fit.""",
    "warm_start": """\
warm_start : bool, default={default}
    If the estimator is fitted, the next ``fit`` continues training its
    networks and optimizer and extends the training record.""",
    "callbacks": """\
callbacks : list of Callback, default={default}
    Called around each epoch; see :mod:`alignkit.callbacks`.""",
    "early_stopping": """\
early_stopping : bool, default={default}
    Hold out ``validation_fraction`` of the training samples and stop when
    their loss has not improved by more than ``tol`` for
    ``n_iter_no_change`` epochs; the networks of the best epoch are restored.""",
    "validation_fraction": """\
validation_fraction : float, default={default}
    Share of the training samples held out (rounded up) with
    ``early_stopping``, in (0, 1).""",
    "n_iter_no_change": """\
n_iter_no_change : int, default={default}
    Epochs without improvement before ``early_stopping`` stops.""",
    "tol": """\
tol : float, default={default}
    Smallest decrease of the validation loss that counts as an improvement.""",
}

_ATTRIBUTES_DOC = """\
loss_curve_ : list of float
    Mean training loss per epoch.
validation_scores_ : list of float
    Validation loss per epoch (empty without ``early_stopping``).
history_ : list of dict
    Per epoch: ``epoch``, ``loss``, ``val_loss`` (with ``early_stopping``)
    and ``time`` (see :mod:`alignkit.callbacks`).
n_iter_ : int
    Epochs run, counted across ``warm_start`` fits.
device_ : torch.device
    Device the networks live on."""

_PLACEHOLDER = re.compile(r"^( *)%\((training_parameters|training_attributes)\)s$", re.MULTILINE)


def _format_default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _training_docs(cls):
    """The two docstring fragments of ``cls``, with the defaults of its ``__init__``."""
    signature = inspect.signature(cls.__init__)
    parameters = "\n".join(
        _PARAMETER_DOCS[name].format(default=_format_default(parameter.default))
        for name, parameter in signature.parameters.items()
        if name in _PARAMETER_DOCS
    )
    return {"training_parameters": parameters, "training_attributes": _ATTRIBUTES_DOC}


def _fill_docstring(cls):
    if not cls.__doc__ or "%(training_" not in cls.__doc__:
        return
    fragments = _training_docs(cls)

    def indent(match):
        return "\n".join(
            match.group(1) + line if line else line
            for line in fragments[match.group(2)].splitlines()
        )

    cls.__doc__ = _PLACEHOLDER.sub(indent, cls.__doc__)


def _torch_objects(state):
    """The values of ``state`` that go to the torch payload (none unless torch is loaded)."""
    if "torch" not in sys.modules:
        return {}
    training = load("_training")
    return {name: value for name, value in state.items() if training.is_torch_object(value)}


def _devices(state):
    """The ``torch.device`` values of ``state`` (none unless torch is loaded)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    return {name: value for name, value in state.items() if isinstance(value, torch.device)}


def _environment_limit():
    """``OMP_NUM_THREADS`` as a positive int, or None when unset or unreadable."""
    # OpenMP allows a list for nested levels ("4,1"): the first entry is this level's.
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        limit = int(value)
    except ValueError:
        return None
    return limit if limit >= 1 else None


def _task_running(task):
    try:
        with open(f"/proc/self/task/{task}/stat") as stat:
            # The state follows the command name, in parentheses that may hold spaces.
            return stat.read().rsplit(")", 1)[1].split()[0] == "R"
    except OSError:  # the thread ended since the directory was listed
        return False


def _running_elsewhere(n_samples=3):
    """Tasks of other processes running or waiting for a CPU now (0 off Linux).

    The kernel's count of runnable tasks (``/proc/loadavg``) less this
    process's running threads, at its lowest over a few samples, so that one
    short-lived task does not count as a competitor.
    """
    counts = []
    try:
        for _ in range(n_samples):
            with open("/proc/loadavg") as loadavg:
                runnable = int(loadavg.read().split()[3].split("/")[0])
            own = sum(_task_running(task) for task in os.listdir("/proc/self/task"))
            counts.append(max(runnable - own, 0))
    except (OSError, ValueError, IndexError):
        return 0
    return min(counts)


def _free_cpus():
    """The CPUs of this process's affinity that other processes leave free, rounded down.

    The kernel counts running tasks over the whole machine, not per CPU: they
    are taken to be spread evenly over its CPUs, so a process allowed 2 of 16
    CPUs with 2 competitors gets ``floor(2 * 14 / 16) = 1``.
    """
    n_cpus = os.cpu_count() or 1
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else n_cpus
    return int(affinity * max(n_cpus - _running_elsewhere(), 0) / n_cpus)


@functools.cache
def _physical_cores():
    """:func:`joblib.cpu_count` of physical cores, counted once per process (about 1 ms)."""
    return cpu_count(only_physical_cores=True)


def resolve_n_threads(n_threads):
    """The torch intra-op threads that ``n_threads`` asks for now.

    Parameters
    ----------
    n_threads : int or None
        An int is returned as it is. ``None`` is the physical cores of
        :func:`joblib.cpu_count`, at most ``OMP_NUM_THREADS`` when set (joblib
        sets it in its worker processes), at most the CPUs of this process's
        affinity that other processes leave free (Linux), and at least 1.

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> from alignkit.estimators._torch_base import resolve_n_threads
    >>> resolve_n_threads(3)
    3
    >>> 1 <= resolve_n_threads(None) <= (os.cpu_count() or 1)
    True
    """
    if n_threads is not None:
        return int(n_threads)
    allowed = _physical_cores()
    limit = _environment_limit()
    if limit is not None:
        allowed = min(allowed, limit)
    return max(1, min(allowed, _free_cpus()))


def with_torch_threads(method):
    """Run ``method`` with the torch threads of its estimator's ``n_threads``.

    Decorates the public methods of a torch aligner that run torch; torch's
    thread count is restored when the method returns or raises. Calls nest
    (``fit_transform`` calls ``fit``): each restores what it found.

    Parameters
    ----------
    method : callable
        A method of a :class:`TorchTrainingMixin` subclass.

    Returns
    -------
    wrapped : callable

    Examples
    --------
    >>> from alignkit.estimators._torch_base import TorchTrainingMixin, with_torch_threads
    >>> class Toy(TorchTrainingMixin):
    ...     n_threads = 1
    ...     @with_torch_threads
    ...     def threads(self):
    ...         import torch
    ...         return torch.get_num_threads()
    >>> Toy().threads()
    1
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._torch_threads(method.__name__):
            return method(self, *args, **kwargs)

    return run


class TorchTrainingMixin:
    """Training machinery shared by torch aligners (see the module docstring)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _fill_docstring(cls)

    def _store_training_params(self, arguments):
        """Store the shared training parameters of an ``__init__``, unmodified.

        scikit-learn needs every parameter named in ``__init__``'s signature
        and stored as given; the shared ones (the keys of
        :data:`TRAINING_PARAMETER_CONSTRAINTS`) are assigned here, once for
        every torch aligner.

        Parameters
        ----------
        arguments : dict
            The ``locals()`` of the subclass's ``__init__``; the shared
            parameters it takes are stored under their own names.
        """
        for name in TRAINING_PARAMETER_CONSTRAINTS:
            if name in arguments:
                setattr(self, name, arguments[name])

    # -- torch, device, seeds ---------------------------------------------------------

    def _import_torch(self):
        return import_torch(f"{type(self).__name__}.fit")

    def _kernels(self, name):
        """The torch kernel module ``name`` (see :func:`alignkit.kernels._torch.load`)."""
        return load(name, f"{type(self).__name__}.fit")

    def _resolve_device(self):
        """Set and return ``device_`` from the ``device`` parameter."""
        self._import_torch()
        self.device_ = resolve_device(self.device, what=f"{type(self).__name__} device")
        return self.device_

    def _torch_threads(self, method="fit"):
        """A block with the torch threads of ``n_threads`` (checked first; see its docstring)."""
        name = type(self).__name__
        n_threads = getattr(self, "n_threads", None)
        check_params(
            {"n_threads": TRAINING_PARAMETER_CONSTRAINTS["n_threads"]},
            {"n_threads": n_threads},
            name,
        )
        training = load("_training", f"{name}.{method}")
        return training.torch_threads(resolve_n_threads(n_threads))

    def _refresh_threads(self):
        """With ``n_threads=None``, follow the competition for CPUs (inside a threads block)."""
        if getattr(self, "n_threads", None) is None:
            load("_training").set_num_threads(resolve_n_threads(None))

    def _seed(self):
        """An int seed drawn from ``random_state`` (fresh entropy when None)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _torch_context(self, seed=None):
        """Fork the torch RNG of the CPU (and of ``device_`` if CUDA) and seed it.

        The caller's global torch random state is the same after the block.
        """
        training = self._kernels("_training")
        seed = self._seed() if seed is None else seed
        return training.forked_rng(getattr(self, "device_", None), seed)

    def _is_warm(self):
        """Whether this fit continues an earlier one (``warm_start`` and fitted)."""
        return bool(getattr(self, "warm_start", False)) and hasattr(self, "n_iter_")

    def _split_validation(self, n_samples, rng):
        """Indices ``(train, validation)``; validation is empty without early stopping."""
        indices = np.arange(n_samples)
        if not getattr(self, "early_stopping", False):
            return indices, indices[:0]
        n_validation = int(np.ceil(self.validation_fraction * n_samples))
        if n_validation < 1 or n_samples - n_validation < 1:
            raise InvalidInputError(
                f"{type(self).__name__}: early_stopping needs at least one training and one "
                f"validation sample; {n_samples} sample(s) with validation_fraction="
                f"{self.validation_fraction} leave none for one of them"
            )
        order = rng.permutation(n_samples)
        return np.sort(order[n_validation:]), np.sort(order[:n_validation])

    # -- the epoch loop ---------------------------------------------------------------

    def _callbacks(self):
        callbacks = list(getattr(self, "callbacks", None) or [])
        hooks = ("on_train_begin", "on_epoch_end", "on_train_end")
        for k, callback in enumerate(callbacks):
            if not any(callable(getattr(callback, hook, None)) for hook in hooks):
                raise InvalidParameterError(
                    f"{type(self).__name__} callbacks[{k}] is a {type(callback).__name__}, "
                    f"which has none of the callback methods {hooks}"
                )
        if getattr(self, "early_stopping", False):
            callbacks.append(
                EarlyStopping(
                    monitor="val_loss",
                    patience=self.n_iter_no_change,
                    min_delta=getattr(self, "tol", 0.0),
                )
            )
        if progress_requested(getattr(self, "verbose", 0)):
            callbacks.append(ProgressBar())
        return callbacks

    def _run_epochs(self, train_epoch, validate=None, max_epochs=None):
        """Run the training epochs with callbacks and record the history.

        Parameters
        ----------
        train_epoch : callable
            ``train_epoch(epoch) -> float``: one epoch; returns its training loss.
        validate : callable, optional
            ``validate() -> float``: the validation loss (lower is better).
        max_epochs : int, optional
            Defaults to the ``max_epochs`` parameter.
        """
        callbacks = self._callbacks()
        if not self._is_warm():
            self.loss_curve_, self.validation_scores_, self.history_ = [], [], []
            self.n_iter_ = 0
        max_epochs = self.max_epochs if max_epochs is None else max_epochs
        for callback in callbacks:
            if hasattr(callback, "on_train_begin"):
                callback.on_train_begin(self, {"max_epochs": max_epochs, "n_iter": self.n_iter_})
        logs = {}
        with self._torch_threads():
            for epoch in range(max_epochs):
                if epoch:
                    self._refresh_threads()
                logs = self._run_epoch(epoch, train_epoch, validate)
                stop = False
                for callback in callbacks:
                    if hasattr(callback, "on_epoch_end"):
                        stop = bool(callback.on_epoch_end(self, logs)) or stop
                if stop:
                    break
        for callback in callbacks:
            if hasattr(callback, "on_train_end"):
                callback.on_train_end(self, logs)
        return self

    def _run_epoch(self, epoch, train_epoch, validate):
        """One epoch of :meth:`_run_epochs`: train, validate, record; returns its logs."""
        start = time.perf_counter()
        loss = float(train_epoch(epoch))
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"{type(self).__name__}: the training loss became {loss} at epoch "
                f"{self.n_iter_ + 1}; lower learning_rate or raise the regularisation"
            )
        self.n_iter_ += 1
        logs = {"epoch": self.n_iter_, "loss": loss}
        self.loss_curve_.append(loss)
        if validate is not None:
            logs["val_loss"] = float(validate())
            self.validation_scores_.append(logs["val_loss"])
        logs["time"] = time.perf_counter() - start
        self.history_.append(dict(logs))
        return logs

    # -- snapshots for early stopping -------------------------------------------------

    def _training_state_names(self):
        """Names of the fitted attributes that hold torch objects (not constructor parameters)."""
        params = set(self.get_params(deep=False))
        state = {name: value for name, value in vars(self).items() if name not in params}
        return list(_torch_objects(state))

    def _get_training_state(self):
        """A deep copy of the attributes named by :meth:`_training_state_names`.

        One ``deepcopy`` of them all, so that shared references survive: the
        copied optimizer drives the copied model's parameters.
        """
        names = self._training_state_names()
        return copy.deepcopy({name: getattr(self, name) for name in names})

    def _set_training_state(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    # -- pickling ---------------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else dict(vars(self))
        state = dict(state)
        torch_objects = _torch_objects(state)
        if torch_objects:
            state[_PAYLOAD] = load("_training").dump_payload(torch_objects)
        # A torch.device would make unpickling import torch before __setstate__ can
        # say which extra is missing: it travels as its string.
        devices = {name: str(value) for name, value in _devices(state).items()}
        if devices:
            state[_DEVICES] = devices
        for name in [*torch_objects, *devices]:
            del state[name]
        return state

    def __setstate__(self, state):
        state = dict(state)
        payload = state.pop(_PAYLOAD, None)
        devices = state.pop(_DEVICES, {})
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)
        if payload is None and not devices:
            return
        what = f"Unpickling a fitted {type(self).__name__}"
        training = load("_training", what)
        for name, value in devices.items():
            setattr(self, name, training.as_device(value))
        if payload is None:
            return
        device = getattr(self, "device_", None)
        target = training.as_device("cpu")
        if device is not None and device.type != "cpu":
            if training.device_available(device):
                target = device
            else:
                warnings.warn(
                    f"{type(self).__name__} was trained on {device}, which this machine does not "
                    "have; it is loaded on the CPU (device_='cpu')",
                    UserWarning,
                    stacklevel=2,
                )
                self.device_ = target
        for name, value in training.load_payload(payload, target).items():
            setattr(self, name, value)


class TorchClassifierMixin(ClassifierMixin):
    """Label handling of a torch aligner whose task predicts classes.

    ``fit`` calls :meth:`_encode_labels`, which sets ``classes_`` (kept on a
    warm start) and returns the class indices of ``y``.
    """

    def _encode_labels(self, y, n_samples, *, warm):
        """Class indices of ``y``: 1-D, one label per sample, no missing label.

        Raises
        ------
        InvalidInputError
            If ``y`` is not 1-D with ``n_samples`` labels, holds a NaN or None
            (named by index), is not a classification target, has fewer than
            two classes, or (``warm``) holds a label unseen in the first fit.
        """
        name = type(self).__name__
        if y is None:
            raise InvalidInputError(f"{name} needs class labels y, one per sample")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != n_samples:
            raise InvalidInputError(
                f"y must be 1-D with one label per image ({n_samples}), got shape {labels.shape}"
            )
        missing = _missing_labels(labels)
        if missing.any():
            index = int(np.flatnonzero(missing)[0])
            shown = "None" if labels[index] is None else "NaN"
            raise InvalidInputError(
                f"y[{index}] is {shown}: a missing label; every sample needs a class "
                f"({int(missing.sum())} of {n_samples} labels are missing)"
            )
        try:
            check_classification_targets(labels)
        except ValueError as error:
            raise InvalidInputError(f"y must hold class labels: {error}") from None
        if warm:
            unknown = np.setdiff1d(labels, self.classes_)
            if len(unknown):
                raise InvalidInputError(
                    f"y holds label {unknown[0]!r}, unseen in the first fit (warm_start)"
                )
        else:
            classes = np.unique(labels)
            if len(classes) < 2:
                raise InvalidInputError(
                    f"{name} needs at least two classes in y to train a classifier, got "
                    f"{len(classes)}"
                )
            self.classes_ = classes
        return np.searchsorted(self.classes_, labels)


def _missing_labels(labels):
    """Boolean mask of NaN (float) or None / NaN (object) labels."""
    if labels.dtype.kind in "fc":
        return np.isnan(labels)
    if labels.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and v != v) for v in labels], bool)
    return np.zeros(len(labels), bool)
