"""DTWAligner: warp every sequence of a collection onto a reference timeline."""

import warnings
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from ..base import SequenceAligner
from ..core.parallel import map_sequences
from ..core.params import Integral, Interval, StrOptions, check_estimator_params
from ..core.progress import progress_requested
from ..core.results import Alignment
from ..distances._dtw import check_cost_finite, dtw_alignment
from ..distances._pairwise import medoid_of
from ..exceptions import InvalidInputError
from ..kernels.dispatch import resolve_backend
from ..validation import (
    WindowLike,
    check_window,
)

__all__ = ["DTWAligner"]


# Cells (pairs x padded rows x padded columns) of one torch batch.
_TORCH_BATCH_CELLS = 2**24


def _warp_onto(sequence, reference, window):
    return dtw_alignment(sequence, reference, window, squared=True).warp_to_b(sequence)


def _torch_batches(lengths, n_cols):
    """Consecutive ``[start, stop)`` chunks of at most ``_TORCH_BATCH_CELLS`` padded cells."""
    start, rows = 0, 0
    for stop, length in enumerate(lengths):
        rows_with = max(rows, length)
        if stop > start and (stop + 1 - start) * rows_with * n_cols > _TORCH_BATCH_CELLS:
            yield start, stop
            start, rows_with = stop, length
        rows = rows_with
    if start < len(lengths):
        yield start, len(lengths)


def _padded(sequences, device):
    """Sequences as one zero-padded float64 tensor ``(batch, n_max, n_channels)`` and lengths."""
    from ..kernels._torch import import_torch

    torch = import_torch("DTWAligner with backend='torch'")
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    padded = np.zeros((len(sequences), lengths.max(), sequences[0].shape[1]))
    for b, sequence in enumerate(sequences):
        padded[b, : len(sequence)] = sequence
    return torch.as_tensor(padded, device=device), lengths


def _torch_warp(sequences, reference, window, device):
    """Every sequence warped onto ``reference`` with batched torch DTW paths."""
    from ..kernels._torch._dtw import dtw_batch, paths_to_list

    out = []
    for start, stop in _torch_batches([len(s) for s in sequences], len(reference)):
        x, lengths = _padded(sequences[start:stop], device)
        y = x.new_tensor(reference)[None].expand(len(lengths), -1, -1)
        totals, paths, path_lengths = dtw_batch(
            x, y, lengths, window=window, squared=True, return_paths=True
        )
        for k, (sequence, path, total) in enumerate(
            zip(sequences[start:stop], paths_to_list(paths, path_lengths), totals.tolist())
        ):
            # A band always holds a path: an infinite total is an overflowing cost.
            check_cost_finite(total, f"X[{start + k}]", "reference_", sequence, reference)
            alignment = Alignment(path, total, (len(sequence), len(reference)))
            out.append(alignment.warp_to_b(sequence))
    return out


def _torch_medoid(sequences, window, device):
    """Index of the medoid from all pairwise summed costs, computed in torch batches."""
    from ..kernels._torch._dtw import dtw_batch

    n_sequences = len(sequences)
    first, second = np.triu_indices(n_sequences, k=1)
    costs = np.zeros((n_sequences, n_sequences))
    longest = max(len(sequence) for sequence in sequences)
    for start, stop in _torch_batches([longest] * len(first), longest):
        x, x_lengths = _padded([sequences[i] for i in first[start:stop]], device)
        y, y_lengths = _padded([sequences[j] for j in second[start:stop]], device)
        totals = dtw_batch(x, y, x_lengths, y_lengths, window=window, squared=True)
        costs[first[start:stop], second[start:stop]] = totals.cpu().numpy()
    costs += costs.T
    # A band always holds a path: an infinite total is a summed squared cost
    # beyond float64, and argmin over infinite sums would pick any sequence.
    if not np.isfinite(costs.max(initial=0.0)):
        i, j = np.argwhere(~np.isfinite(costs))[0]
        check_cost_finite(costs[i, j], f"X[{i}]", f"X[{j}]", sequences[i], sequences[j])
    return int(np.argmin(costs.sum(axis=1)))


def _usable_device(device):
    """The fitted device, or the CPU (with a warning) where this machine lacks it."""
    from ..kernels._torch import resolve_device

    try:
        return resolve_device(device, what="DTWAligner device_")
    except InvalidInputError:
        warnings.warn(
            f"DTWAligner was fitted on device {device!r}, which this machine does not have; "
            "using the CPU",
            RuntimeWarning,
            stacklevel=3,
        )
        return resolve_device("cpu")


class DTWAligner(SequenceAligner):
    """Align sequences to a reference with dynamic time warping.

    ``fit`` learns a reference sequence from a collection; ``transform``
    warps every sequence onto the reference's timeline, so that a collection
    of sequences of different lengths becomes one array that any
    scikit-learn estimator can use.

    Parameters
    ----------
    window : None, int, float or tuple, default=None
        Constraint on the warping path, as in :func:`alignkit.dtw`: ``None``
        (no constraint), an int Sakoe-Chiba radius, a float fraction of the
        longer length in ``[0, 1]``, or ``("itakura", max_slope)``.
    reference : {"medoid", "dba", "soft_dtw"} or array-like of shape (n_timepoints, n_channels), \
            default="medoid"
        The reference timeline. ``"medoid"`` picks the training sequence with
        the smallest sum of DTW costs to all the others; ``"dba"`` averages the
        collection with DTW barycenter averaging (:func:`alignkit.dba`, from
        the medoid); ``"soft_dtw"`` with the soft-DTW barycenter
        (:func:`alignkit.soft_dtw_barycenter`, gamma 1); an array is used as
        given.
    n_jobs : int, default=None
        Number of joblib workers for the medoid and for ``transform``.
        ``None`` means 1 unless inside :func:`joblib.parallel_config`;
        ``-1`` means all cores.
    verbose : int, default=0
        When positive, progress bars on standard error for the medoid's
        pairwise matrix and for ``transform`` (the items done, the rate and
        the time left); ``alignkit.set_config(progress=True)`` shows them for
        every call.
    backend : {"numba", "torch", "auto"}, default="numba"
        Compute backend of the medoid and of ``transform`` (see
        :func:`alignkit.kernels.dispatch.resolve_backend`): the Numba kernels,
        one pair at a time over ``n_jobs`` workers, or the batched torch
        kernels on ``device`` (paths identical on the CPU in float64).
        ``"auto"`` picks torch only for a big batch on a GPU. Constructing and
        cloning need no torch; ``fit`` with ``"torch"`` does.
    device : str or None, default=None
        Torch device for the torch backend (``"cpu"``, ``"cuda"``,
        ``"cuda:N"``, ``"auto"``); ``None`` reads :func:`alignkit.get_config`.

    Attributes
    ----------
    reference_ : ndarray of shape (n_timepoints, n_channels)
        The reference sequence.
    reference_index_ : int or None
        Index of the medoid in the training collection, or ``None`` when the
        reference is a barycenter or was given.
    window_ : Window
        The parsed window.
    n_channels_ : int
        Number of channels seen in ``fit``.
    backend_ : {"numba", "torch"}
        The backend that runs.
    device_ : str
        The device it runs on (``"cpu"`` for Numba).

    See Also
    --------
    alignkit.dtw : Align one pair.
    UniformAligner : Linear resampling to a common length (the baseline).

    Notes
    -----
    Row ``j`` of a transformed sequence is the mean of the frames matched to
    reference frame ``j`` by the optimal path, so every output has the
    reference's length. Finding the medoid computes all ``N (N - 1) / 2``
    pairwise distances of the training set.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import DTWAligner
    >>> X = [np.sin(np.linspace(0, 6, n)) for n in (40, 50, 60)]
    >>> aligner = DTWAligner().fit(X)
    >>> aligner.reference_index_
    1
    >>> aligner.transform(X).shape
    (3, 50, 1)
    """

    _alignkit_tags = frozenset({"explicit", "numba", "torch"})

    _parameter_constraints = {
        "window": "no_validation",  # parsed by check_window in fit
        "reference": [StrOptions({"medoid", "dba", "soft_dtw"}), "array-like"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
        "backend": "no_validation",  # resolved by resolve_backend in fit
        "device": "no_validation",
    }

    def __init__(
        self,
        window: WindowLike = None,
        reference: str | ArrayLike = "medoid",
        n_jobs: int | None = None,
        verbose: int = 0,
        backend: str = "numba",
        device: str | None = None,
    ):
        self.window = window
        self.reference = reference
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.backend = backend
        self.device = device

    def _fit_timeline(self, X):
        """Learn the reference sequence."""
        check_estimator_params(self)
        self._fit_window()
        self._fit_reference(X, self._learn_reference, prepare=self._resolve_backend)

    def _resolve_backend(self, sequences):
        backend, device = resolve_backend(
            self.backend,
            self.device,
            n_pairs=len(sequences),
            length=max(len(sequence) for sequence in sequences),
            what="DTWAligner",
        )
        self.backend_ = backend
        self.device_ = "cpu" if device is None else str(device)

    def _learn_reference(self, sequences):
        if self.reference == "medoid":
            if self.backend_ == "torch":
                index = _torch_medoid(sequences, self.window_, _usable_device(self.device_))
            else:
                index = medoid_of(
                    sequences,
                    self.window_,
                    n_jobs=self.n_jobs,
                    verbose=progress_requested(self.verbose),
                )
            return sequences[index], index
        if self.reference == "dba":
            from ..distances._barycenters import dba_average

            return dba_average(sequences, self.window_), None
        # "soft_dtw": the constraints refused every other string.
        from ..distances._barycenters import soft_dtw_average

        return soft_dtw_average(sequences), None

    def _to_timeline(self, sequences):
        """Every sequence warped onto the reference timeline."""
        if getattr(self, "backend_", "numba") == "torch":
            device = _usable_device(self.device_)
            return _torch_warp(sequences, self.reference_, self.window_, device)
        warp = partial(_warp_onto, reference=self.reference_, window=self.window_)
        return map_sequences(warp, sequences, self.n_jobs, progress_requested(self.verbose))

    def _align_checked(self, a, b):
        """:func:`alignkit.dtw` with this aligner's window (one pair: always the Numba backend)."""
        return dtw_alignment(a, b, check_window(self.window, shape=(len(a), len(b))))
