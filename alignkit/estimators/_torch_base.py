"""Shared training base of every torch aligner.

:class:`TorchTrainingMixin` gives a torch aligner:

- torch imported only in ``fit`` (an ImportError naming ``alignkit[torch]``
  when it is missing; construction, ``get_params`` and ``clone`` never need it);
- device resolution (``device_`` from the ``device`` parameter);
- seeding from ``random_state`` inside a forked torch RNG, so results are
  reproducible on the CPU and the user's global torch RNG is left untouched;
- one epoch loop with callbacks (:mod:`alignkit.callbacks`): ``history_``,
  ``loss_curve_``, ``validation_scores_``, ``n_iter_``, ``verbose`` progress,
  early stopping on a validation split, ``warm_start``;
- pickling that stores every torch object (modules, tensors, optimizers) on
  the CPU, so a model trained on a GPU loads on a CPU-only machine (with a
  warning) and on its own device otherwise.

Subclasses declare the parameters they use (``device``, ``random_state``,
``max_epochs``, ``verbose``, ``warm_start``, ``callbacks``, ``early_stopping``,
``validation_fraction``, ``n_iter_no_change``, ``tol``) in their ``__init__``.
"""

import contextlib
import copy
import io
import numbers
import sys
import time
import warnings

import numpy as np
from sklearn.utils import check_random_state

from ..callbacks import EarlyStopping, ProgressBar
from ..exceptions import InvalidInputError
from ..kernels._torch import import_torch, resolve_device

__all__ = ["TorchTrainingMixin"]

_PAYLOAD = "_torch_payload"


def _is_torch_object(value):
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    return isinstance(value, (torch.nn.Module, torch.Tensor, torch.optim.Optimizer))


class TorchTrainingMixin:
    """Training machinery shared by torch aligners (see the module docstring)."""

    # -- torch, device, seeds ---------------------------------------------------------

    def _import_torch(self):
        return import_torch(f"{type(self).__name__}.fit")

    def _resolve_device(self):
        """Set and return ``device_`` from the ``device`` parameter."""
        self._import_torch()
        self.device_ = resolve_device(self.device, what=f"{type(self).__name__} device")
        return self.device_

    def _check_training_params(self):
        name = type(self).__name__
        for param, minimum in (("max_epochs", 1), ("n_iter_no_change", 1)):
            value = getattr(self, param, minimum)
            if _not_int(value) or value < minimum:
                raise InvalidInputError(
                    f"{name} {param} must be an int >= {minimum}, got {value!r}"
                )
        fraction = getattr(self, "validation_fraction", 0.1)
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
            raise InvalidInputError(
                f"{name} validation_fraction must be a float in (0, 1), got {fraction!r}"
            )
        if not 0 < fraction < 1:
            raise InvalidInputError(
                f"{name} validation_fraction must be in (0, 1), got {fraction!r}"
            )
        tol = getattr(self, "tol", 0.0)
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or tol < 0:
            raise InvalidInputError(f"{name} tol must be a float >= 0, got {tol!r}")
        callbacks = getattr(self, "callbacks", None)
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise InvalidInputError(
                f"{name} callbacks must be None or a list of callbacks, got "
                f"{type(callbacks).__name__}"
            )

    def _seed(self):
        """An int seed drawn from ``random_state`` (fresh entropy when None)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    @contextlib.contextmanager
    def _torch_context(self, seed=None):
        """Fork the torch RNG of the CPU (and of ``device_`` if CUDA) and seed it.

        The caller's global torch random state is the same after the block.
        """
        torch = self._import_torch()
        devices = []
        device = getattr(self, "device_", None)
        if device is not None and device.type == "cuda":
            devices = [0 if device.index is None else device.index]
        with torch.random.fork_rng(devices=devices):
            # Seed only the generators forked here: torch.manual_seed would also reseed
            # every other GPU's generator, which the fork does not restore.
            seed = self._seed() if seed is None else seed
            torch.default_generator.manual_seed(seed)
            if devices:
                with torch.cuda.device(devices[0]):
                    torch.cuda.manual_seed(seed)
            yield torch

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
        if getattr(self, "early_stopping", False):
            callbacks.append(
                EarlyStopping(
                    monitor="val_loss",
                    patience=self.n_iter_no_change,
                    min_delta=getattr(self, "tol", 0.0),
                )
            )
        if getattr(self, "verbose", 0):
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
        if not self._is_warm():
            self.loss_curve_, self.validation_scores_, self.history_ = [], [], []
            self.n_iter_ = 0
        max_epochs = self.max_epochs if max_epochs is None else max_epochs
        callbacks = self._callbacks()
        for callback in callbacks:
            if hasattr(callback, "on_train_begin"):
                callback.on_train_begin(self, {"max_epochs": max_epochs, "n_iter": self.n_iter_})
        logs = {}
        for epoch in range(max_epochs):
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

    # -- snapshots for early stopping -------------------------------------------------

    def _training_state_names(self):
        """Names of the fitted attributes that hold torch objects (not constructor parameters)."""
        params = set(self.get_params(deep=False))
        return [
            name
            for name, value in vars(self).items()
            if name not in params and _is_torch_object(value)
        ]

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
        torch_objects = {name: value for name, value in state.items() if _is_torch_object(value)}
        if torch_objects:
            torch = sys.modules["torch"]
            buffer = io.BytesIO()
            # One save keeps shared references (an optimizer's parameters are the module's).
            # CUDA tensors are stored with their device and mapped to the CPU on load.
            torch.save(torch_objects, buffer)
            for name in torch_objects:
                del state[name]
            state[_PAYLOAD] = buffer.getvalue()
        return state

    def __setstate__(self, state):
        state = dict(state)
        payload = state.pop(_PAYLOAD, None)
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)
        if payload is None:
            return
        torch = import_torch(f"Unpickling a fitted {type(self).__name__}")
        device = getattr(self, "device_", None)
        target = torch.device("cpu")
        if device is not None and device.type != "cpu":
            if _device_available(torch, device):
                target = device
            else:
                warnings.warn(
                    f"{type(self).__name__} was trained on {device}, which this machine does not "
                    "have; it is loaded on the CPU (device_='cpu')",
                    UserWarning,
                    stacklevel=2,
                )
                self.device_ = target
        objects = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
        for name, value in objects.items():
            setattr(self, name, _to_device(value, target))


def _not_int(value):
    return isinstance(value, bool) or not isinstance(value, numbers.Integral)


def _to_device(value, device):
    torch = sys.modules["torch"]
    if device.type == "cpu":
        return value
    if isinstance(value, torch.nn.Module):
        return value.to(device)
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, torch.optim.Optimizer):
        for slot in value.state.values():
            for key, item in slot.items():
                if isinstance(item, torch.Tensor):
                    slot[key] = item.to(device)
    return value


def _device_available(torch, device):
    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        return backend is not None and backend.is_available()
    return True
