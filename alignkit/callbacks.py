"""Callbacks for the training loop of torch aligners.

Every torch aligner (:class:`~alignkit.DeepCTWAligner` and the implicit
aligners) trains through one loop. After each epoch it builds a ``logs`` dict
(``epoch``, ``loss`` and, with a validation split, ``val_loss``), appends it to
the estimator's ``history_``, and calls every callback. A callback is any
object with some of the methods of :class:`Callback`; ``on_epoch_end``
returning ``True`` stops the training.

This module does not import torch.
"""

from typing import Any, TextIO

from .core.progress import progress_bar

__all__ = ["Callback", "EarlyStopping", "ProgressBar"]


class Callback:
    """Base class of training callbacks; every method is optional and does nothing.

    Methods receive the estimator being fitted, so a callback can read its
    fitted attributes (``loss_curve_``, ``n_iter_``...) as they grow.

    Examples
    --------
    >>> from alignkit.callbacks import Callback
    >>> class StopBelow(Callback):
    ...     def __init__(self, threshold):
    ...         self.threshold = threshold
    ...
    ...     def on_epoch_end(self, estimator: Any, logs: dict[str, Any]) -> bool:
    ...         return logs["loss"] < self.threshold
    >>> StopBelow(0.1).on_epoch_end(None, {"epoch": 1, "loss": 0.05})
    True
    """

    def on_train_begin(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Called once before the first epoch of a ``fit`` call.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted.
        logs : dict
            ``{"max_epochs": int, "n_iter": int}``: the epochs this call may
            run and the epochs run before it (non-zero with ``warm_start``).
        """

    def on_epoch_end(self, estimator: Any, logs: dict[str, Any]) -> bool:
        """Called after each epoch.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted.
        logs : dict
            ``epoch`` (1-based, counted across ``warm_start`` calls), ``loss``
            (the training loss of the epoch), ``val_loss`` when a validation
            split is used, ``time`` (seconds the epoch took), and any entries
            the estimator adds.

        Returns
        -------
        stop : bool
            True to stop the training after this epoch.
        """
        return False

    def on_train_end(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Called once after the last epoch.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted.
        logs : dict
            The logs of the last epoch (empty if no epoch ran).
        """


class ProgressBar(Callback):
    """Show the epochs of a fit as a progress bar: count, rate, time left and the losses.

    Torch aligners add one when ``verbose`` is true (or with
    ``alignkit.set_config(progress=True)``). The bar is
    ``alignkit.core.progress.progress_bar``: redrawn in place on a
    terminal, a line every tenth of the epochs elsewhere (a log, a notebook,
    a joblib worker), and a closing line with the time the fit took, also
    when early stopping ends it before ``max_epochs``.

    Parameters
    ----------
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stderr`` at the time of writing.
    every : int, default=None
        Outside a terminal, print a line every ``every`` epochs (and the last
        one); ``None`` means every tenth of the epochs of the fit.

    Examples
    --------
    >>> import io
    >>> from alignkit.callbacks import ProgressBar
    >>> out = io.StringIO()
    >>> bar = ProgressBar(stream=out)
    >>> bar.on_train_begin(None, {"max_epochs": 2, "n_iter": 0})
    >>> bar.on_epoch_end(None, {"epoch": 1, "loss": 0.5, "time": 0.01})
    False
    >>> out.getvalue().split(" | ")[0]
    'training 1/2 epochs 50%'
    >>> out.getvalue().strip().split(" | ")[-1]
    'loss=0.5'
    """

    def __init__(self, stream: TextIO | None = None, every: int | None = None):
        self.stream = stream
        self.every = every

    def on_train_begin(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Open the bar of this fit: from epoch ``n_iter`` to ``n_iter + max_epochs``.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted; its class names the bar
            (``"training"`` when None).
        logs : dict
            ``{"max_epochs": int, "n_iter": int}``: the last epoch is their sum;
            a missing key counts as 0. The rate counts the epochs of this fit
            only (not those of an earlier ``warm_start`` fit).
        """
        done = logs.get("n_iter", 0)
        self._bar = progress_bar(
            done + logs.get("max_epochs", 0),
            "training" if estimator is None else type(estimator).__name__,
            unit="epochs",
            initial=done,
            every=self.every,
            stream=self.stream,
        )

    def on_epoch_end(self, estimator: Any, logs: dict[str, Any]) -> bool:
        """Count the epoch and show its losses; never stops the training.

        The bar shows every numeric entry of ``logs`` but ``epoch`` and
        ``time`` (``loss``, ``val_loss`` and any the estimator adds).

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted (not used).
        logs : dict
            The epoch's logs, as in :meth:`Callback.on_epoch_end`; ``epoch``
            is required. :meth:`on_train_begin` must have opened the bar.

        Returns
        -------
        stop : bool
            Always False.
        """
        values = {
            key: value
            for key, value in logs.items()
            if key not in ("epoch", "time") and isinstance(value, (int, float))
        }
        self._bar.update(logs["epoch"] - self._bar.n, **values)
        return False

    def on_train_end(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Print the closing line (the epochs run and the time taken) and drop the bar.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted (not used).
        logs : dict
            The logs of the last epoch (not used).
        """
        if getattr(self, "_bar", None) is not None:
            self._bar.close()
        self._bar = None  # a callback passed as a parameter keeps no state between fits


class EarlyStopping(Callback):
    """Stop when a monitored loss has not improved for ``patience`` epochs.

    Torch aligners add one when ``early_stopping=True`` (monitoring the
    validation loss on ``validation_fraction`` of the training data).

    Parameters
    ----------
    monitor : str, default="val_loss"
        Key of the epoch logs to watch; lower is better. Falls back to
        ``"loss"`` when the key is absent (no validation split).
    patience : int, default=10
        Epochs without improvement before stopping.
    min_delta : float, default=0.0
        An improvement must lower the best value by more than this.
    restore_best : bool, default=True
        At the end of training, restore the model of the best epoch (through
        the estimator's ``_get_training_state`` / ``_set_training_state``).

    Attributes
    ----------
    best_ : float
        Best value seen.
    best_epoch_ : int
        Epoch (1-based) of the best value.
    stopped_epoch_ : int or None
        Epoch at which training stopped, or None.

    Examples
    --------
    >>> from alignkit.callbacks import EarlyStopping
    >>> stop = EarlyStopping(monitor="loss", patience=2)
    >>> stop.on_train_begin(None, {})
    >>> [stop.on_epoch_end(None, {"epoch": k + 1, "loss": v}) for k, v in enumerate([3, 2, 2, 2])]
    [False, False, False, True]
    >>> stop.best_epoch_
    2
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best: bool = True,
    ):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best = restore_best

    def on_train_begin(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Reset the best value, the wait and the stopped epoch for a new fit.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted (not used).
        logs : dict
            The logs of :meth:`Callback.on_train_begin` (not used).
        """
        self.best_ = float("inf")
        self.best_epoch_ = 0
        self.stopped_epoch_ = None
        self._wait = 0
        self._best_state = None

    def on_epoch_end(self, estimator: Any, logs: dict[str, Any]) -> bool:
        """Track the monitored value; True after ``patience`` epochs without improvement.

        A value lower than ``best_ - min_delta`` becomes the best one (and,
        with ``restore_best``, the estimator's training state is copied);
        any other value adds one to the epochs without improvement.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted; its training state is copied at each
            improvement when ``restore_best`` is true and it has a
            ``_get_training_state`` method.
        logs : dict
            The epoch's logs, as in :meth:`Callback.on_epoch_end`: the value
            of ``monitor`` is read, or ``loss`` when that key is absent
            (nothing is tracked if both are), and ``epoch``.

        Returns
        -------
        stop : bool
            True when ``patience`` epochs in a row have not improved on the
            best value (``stopped_epoch_`` is then set), else False.
        """
        value = logs.get(self.monitor, logs.get("loss"))
        if value is None:
            return False
        if value < self.best_ - self.min_delta:
            self.best_, self.best_epoch_, self._wait = float(value), logs["epoch"], 0
            if self.restore_best and hasattr(estimator, "_get_training_state"):
                self._best_state = estimator._get_training_state()
            return False
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch_ = logs["epoch"]
            return True
        return False

    def on_train_end(self, estimator: Any, logs: dict[str, Any]) -> None:
        """Restore the best epoch's model if ``restore_best``; drop the copy.

        Parameters
        ----------
        estimator : estimator
            The estimator being fitted; with ``restore_best`` and a best state
            copied, its ``_set_training_state`` method is called with it.
        logs : dict
            The logs of the last epoch (not used).
        """
        if self.restore_best and self._best_state is not None:
            estimator._set_training_state(self._best_state)
        self._best_state = None  # a callback passed as a parameter must not keep a model copy
