"""Differentiable alignment losses for a user's own torch training loop.

This module imports torch; ``alignkit`` exposes :class:`SoftDTWLoss` lazily, so
``import alignkit`` does not.
"""

import numpy as np
from numpy.typing import ArrayLike

from .core.params import Interval, Real, StrOptions, check_params
from .exceptions import InvalidInputError
from .kernels._torch import import_torch, load
from .validation import WindowLike, check_window

# Without torch this raises an ImportError that names the alignkit[torch] extra.
torch = import_torch("alignkit.SoftDTWLoss")
_soft_dtw = load("_soft_dtw", "alignkit.SoftDTWLoss")

__all__ = ["SoftDTWLoss"]


class SoftDTWLoss(torch.nn.Module):
    """Soft-DTW between batches of sequences, as a ``torch.nn.Module`` loss.

    Batched over pairs of any lengths (padded, with optional true lengths), on
    any device, in float32 or float64. The backward pass is the analytic
    expected-alignment recursion of Cuturi & Blondel (2017), computed one
    anti-diagonal at a time like the forward pass, not autograd through the
    dynamic programme; there is no length limit.

    Parameters
    ----------
    gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0``; smaller is closer to DTW.
    normalize : bool, default=False
        Return the soft-DTW divergence ``D(x, y) - (D(x, x) + D(y, y)) / 2``
        (Blondel, Mensch & Vert, 2021) instead of ``D(x, y)``: non-negative,
        and 0 when ``x`` equals ``y``. Costs three soft-DTW computations.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-pair values are combined.
    window : None, int, float or tuple, default=None
        Constraint on the paths of every pair, as in :func:`alignkit.dtw`
        (computed from each pair's own lengths).

    See Also
    --------
    alignkit.soft_dtw : The value of one pair, NumPy in and out.
    alignkit.soft_dtw_divergence : The divergence of one pair.

    Notes
    -----
    The local cost is the squared Euclidean distance over channels, so
    ``D(x, y)`` equals :func:`alignkit.soft_dtw` of each pair. Values
    past a pair's lengths are ignored (their gradient is 0).

    References
    ----------
    .. [1] M. Cuturi and M. Blondel, "Soft-DTW: a differentiable loss function
       for time-series", ICML 2017.
    .. [2] M. Blondel, A. Mensch and J.-P. Vert, "Differentiable divergences
       between time series", AISTATS 2021.

    Examples
    --------
    >>> import torch
    >>> from alignkit.losses import SoftDTWLoss
    >>> x = torch.zeros(2, 5, 3, requires_grad=True)
    >>> y = torch.ones(2, 4, 3)
    >>> loss = SoftDTWLoss(gamma=0.1, normalize=True)(x, y, x_lengths=[5, 3])
    >>> loss.backward()
    >>> x.grad.shape
    torch.Size([2, 5, 3])
    >>> float(x.grad[1, 3:].abs().sum())
    0.0
    >>> float(SoftDTWLoss(normalize=True)(y, y))
    0.0
    """

    _parameter_constraints = {
        "gamma": [Interval(Real, 0, np.inf, closed="neither")],
        "normalize": ["boolean"],
        "reduction": [StrOptions({"mean", "sum", "none"})],
    }

    def __init__(
        self,
        gamma: float = 1.0,
        normalize: bool = False,
        reduction: str = "mean",
        window: WindowLike = None,
    ):
        super().__init__()
        check_params(
            self._parameter_constraints,
            {"gamma": gamma, "normalize": normalize, "reduction": reduction},
            type(self).__name__,
        )
        self.gamma = float(gamma)
        self.normalize = bool(normalize)
        self.reduction = reduction
        self.window = window
        # Parsed once here: every forward pass hands the kernel the parsed window.
        self._window = check_window(window)

    def extra_repr(self) -> str:
        """The parameters shown in the module's ``repr``.

        Returns
        -------
        extra_repr : str
            ``gamma``, ``normalize``, ``reduction`` and ``window`` as
            ``name=value`` pairs, separated by commas.
        """
        return (
            f"gamma={self.gamma}, normalize={self.normalize}, reduction={self.reduction!r}, "
            f"window={self.window!r}"
        )

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        x_lengths: ArrayLike | torch.Tensor | None = None,
        y_lengths: ArrayLike | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Soft-DTW (or divergence) of every pair ``(x[b], y[b])``, reduced.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n, n_channels) or (batch, n)
            First sequences, padded at the end.
        y : torch.Tensor of shape (batch, m, n_channels) or (batch, m)
            Second sequences, on the same device and dtype.
        x_lengths, y_lengths : array-like or torch.Tensor of int of shape (batch,), default=None
            True lengths; ``None`` means the padded length.

        Returns
        -------
        loss : torch.Tensor
            A scalar, or shape ``(batch,)`` with ``reduction="none"``.
        """
        _check_batch(x, "x", x_lengths)
        _check_batch(y, "y", y_lengths)
        if x.shape[0] != y.shape[0] or _channels(x) != _channels(y):
            raise InvalidInputError(
                f"y has shape {tuple(y.shape)} but x has {tuple(x.shape)}: they must have the "
                "same batch size and number of channels"
            )
        options = {"gamma": self.gamma, "window": self._window}
        values = _soft_dtw.soft_dtw_batch(x, y, x_lengths, y_lengths, **options)
        overflowed = torch.nonzero(~torch.isfinite(values))
        if len(overflowed):
            # A band always holds a path: an infinite value is a sum of squares beyond the dtype.
            pair = int(overflowed[0, 0])
            raise InvalidInputError(
                f"the soft-DTW cost between x[{pair}] and y[{pair}] overflows {x.dtype} "
                "(squared differences beyond its range); rescale x and y"
            )
        if self.normalize:
            self_x = _soft_dtw.soft_dtw_batch(x, x, x_lengths, x_lengths, **options)
            self_y = _soft_dtw.soft_dtw_batch(y, y, y_lengths, y_lengths, **options)
            values = values - 0.5 * (self_x + self_y)
        if self.reduction == "mean":
            return values.mean()
        if self.reduction == "sum":
            return values.sum()
        return values


def _channels(batch):
    return batch.shape[2] if batch.ndim == 3 else 1


def _check_batch(value, name, lengths):
    """A float tensor of shape (batch, n_timepoints[, n_channels]), finite where it counts."""
    if not isinstance(value, torch.Tensor):
        raise InvalidInputError(
            f"{name} must be a torch.Tensor of shape (batch, n_timepoints[, n_channels]), "
            f"got {type(value).__name__}"
        )
    if value.dtype not in (torch.float32, torch.float64):
        raise InvalidInputError(f"{name} must be float32 or float64, got {value.dtype}")
    if value.ndim not in (2, 3) or 0 in value.shape:
        raise InvalidInputError(
            f"{name} must have shape (batch, n_timepoints[, n_channels]) with no empty axis, "
            f"got {tuple(value.shape)}"
        )
    finite = torch.isfinite(value)
    if lengths is not None and value.ndim >= 2:
        # Padding after each true length is never read: it may hold anything.
        steps = torch.arange(value.shape[1], device=value.device)
        lengths = torch.as_tensor(lengths, device=value.device).reshape(-1, 1)
        padding = steps[None, :] >= lengths
        finite = finite | (padding[..., None] if value.ndim == 3 else padding)
    if not bool(finite.all()):
        index = tuple(int(k) for k in torch.nonzero(~finite)[0])
        raise InvalidInputError(
            f"{name} holds {value[index].item()} at index {index}; sequences must be finite"
        )
