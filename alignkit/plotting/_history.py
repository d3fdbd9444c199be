"""TrainingHistoryDisplay: the training loss and validation loss of a learned aligner, per epoch."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import validate_params
from ..exceptions import InvalidInputError
from ._common import forward_plot_parameters, import_pyplot, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["TrainingHistoryDisplay"]


def _check_curve(values, name):
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1:
        raise InvalidInputError(f"{name} must be a 1-D sequence of losses, got shape {curve.shape}")
    bad = np.flatnonzero(~np.isfinite(curve))
    if bad.size:
        raise InvalidInputError(f"{name}[{bad[0]}] is {curve[bad[0]]}; losses must be finite")
    return curve


@forward_plot_parameters
class TrainingHistoryDisplay:
    """The training loss of a learned aligner per epoch, with its validation loss.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Mean training loss of each epoch (an aligner's ``loss_curve_``).
    validation_scores : array-like of shape (n_epochs,), default=None
        Validation loss of each epoch (``validation_scores_``, recorded with
        ``early_stopping``); None or empty where there is none.
    estimator_name : str, default=None
        Named in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    loss_line_ : matplotlib Line2D
        Training loss against the epoch (1, 2, ...).
    validation_line_ : matplotlib Line2D or None
        Validation loss against the epoch; None without validation.
    best_marker_ : matplotlib Line2D or None
        A point at the epoch of the lowest validation loss, the one whose
        networks ``early_stopping`` restores; None without validation.
    legend_ : matplotlib Legend
        The legend, inside the axes.

    See Also
    --------
    alignkit.callbacks : Where the history is recorded.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit.plotting import TrainingHistoryDisplay
    >>> display = TrainingHistoryDisplay([1.0, 0.6, 0.4], [1.1, 0.7, 0.8]).plot()
    >>> display.best_marker_.get_xdata().tolist()
    [2]
    """

    @validate_params({"estimator_name": [str, None]})
    def __init__(
        self,
        loss_curve: ArrayLike,
        validation_scores: ArrayLike | None = None,
        *,
        estimator_name: str | None = None,
    ):
        self.loss_curve = _check_curve(loss_curve, "loss_curve")
        if len(self.loss_curve) == 0:
            raise InvalidInputError("loss_curve is empty; there is no epoch to draw")
        scores = [] if validation_scores is None else validation_scores
        self.validation_scores = _check_curve(scores, "validation_scores")
        if len(self.validation_scores) not in (0, len(self.loss_curve)):
            raise InvalidInputError(
                f"validation_scores has {len(self.validation_scores)} epochs but loss_curve "
                f"has {len(self.loss_curve)}"
            )
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls,
        estimator: object,
        *,
        ax: "Axes | None" = None,
        log_scale: bool = False,
        title: str | None = None,
    ) -> "TrainingHistoryDisplay":
        """Draw the training history of a fitted learned aligner.

        Parameters
        ----------
        estimator : fitted aligner
            An aligner trained by alignkit's torch base (deep CTW, soft
            attention, STN, glimpses): its ``loss_curve_`` and
            ``validation_scores_`` are drawn.
        {plot_parameters}

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, drawn.

        Raises
        ------
        NotFittedError
            If the estimator has no ``loss_curve_`` (not fitted, or not a
            trained aligner).
        """
        from sklearn.exceptions import NotFittedError

        if not hasattr(estimator, "loss_curve_"):
            raise NotFittedError(
                f"{type(estimator).__name__} has no loss_curve_: fit it first "
                "(only aligners trained by epochs record one)"
            )
        display = cls(
            estimator.loss_curve_,
            getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, log_scale=log_scale, title=title)

    @validate_params({"log_scale": ["boolean"], "title": [str, None]})
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        log_scale: bool = False,
        title: str | None = None,
    ) -> "TrainingHistoryDisplay":
        """Draw the loss curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a figure in constrained layout.
        log_scale : bool, default=False
            A logarithmic loss axis (the losses must then be positive).
        title : str, default=None
            Title; None names the estimator and the epochs run, ``""`` draws none.

        Returns
        -------
        self : TrainingHistoryDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        if log_scale and (self.loss_curve <= 0).any() | (self.validation_scores <= 0).any():
            raise InvalidInputError("log_scale=True needs positive losses; some are <= 0")
        self.figure_, self.ax_ = new_axes(plt, ax, (6, 4))
        epochs = np.arange(1, len(self.loss_curve) + 1)
        (self.loss_line_,) = self.ax_.plot(
            epochs, self.loss_curve, color="tab:blue", marker=".", label="training loss"
        )
        self.validation_line_ = self.best_marker_ = None
        if len(self.validation_scores):
            (self.validation_line_,) = self.ax_.plot(
                epochs,
                self.validation_scores,
                color="tab:orange",
                marker=".",
                label="validation loss",
            )
            best = int(np.argmin(self.validation_scores))
            (self.best_marker_,) = self.ax_.plot(
                [epochs[best]],
                [self.validation_scores[best]],
                ls="none",
                marker="o",
                markersize=9,
                markerfacecolor="none",
                color="black",
                label=f"best (epoch {epochs[best]})",
            )
        if log_scale:
            self.ax_.set_yscale("log")
        self.ax_.set_xlabel("epoch")
        self.ax_.set_ylabel("loss")
        self.ax_.xaxis.get_major_locator().set_params(integer=True)
        name = self.estimator_name or "training"
        default = f"{name}: {len(epochs)} epoch(s)"
        self.ax_.set_title(default if title is None else title)
        self.legend_ = self.ax_.legend(loc="best", fontsize="small")
        return self
