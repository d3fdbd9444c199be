"""DeepCTWAligner: deep canonical time warping (Trigeorgis et al., CVPR 2016)."""

import copy
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils import check_random_state

from ..base import PAIRED_OUTPUTS, PairedAligner, PairsLike, check_pairs
from ..core.params import (
    HasMethods,
    Integral,
    Interval,
    Real,
    StrOptions,
    check_estimator_params,
)
from ..exceptions import InvalidInputError, InvalidParameterError
from ..multiview._cca import linear_cca
from ..validation import WindowLike
from ._torch_base import TRAINING_PARAMETER_CONSTRAINTS, TorchTrainingMixin, with_torch_threads
from ._uniform import uniform_path

if TYPE_CHECKING:
    import torch

    from ..callbacks import Callback

__all__ = ["DeepCTWAligner"]

_ACTIVATIONS = ("relu", "tanh", "gelu")  # kernels._torch._cca.ACTIVATIONS builds them
_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")


def _centre_paths(paths, lengths, n_grid=201):
    """Remove the deviation from the diagonal that the paths share, on average.

    Each path is read as ``v_i(u)``: the normalised position in ``b`` matched
    with the normalised position ``u`` in ``a`` (the mean over the frames of
    ``b`` matched with one frame of ``a``). With ``d(u)`` the mean over paths
    of ``v_i(u) - u``, every matched frame ``(t, s)`` moves to
    ``(t, s - d(t / (n - 1)) (m - 1))``, rounded and clipped to ``b``, so the
    mean of the returned ``v_i`` is the diagonal (up to rounding) and each
    path keeps its own deviation from the mean. The pairs of frames returned
    are for the correlation loss; they need not form a warping path.
    """
    grid = np.linspace(0.0, 1.0, n_grid)
    curves = []
    for path, (n, m) in zip(paths, lengths):
        u = path[:, 0] / max(n - 1, 1)
        unique, inverse = np.unique(u, return_inverse=True)
        v = np.bincount(inverse, path[:, 1] / max(m - 1, 1)) / np.bincount(inverse)
        curves.append(np.interp(grid, unique, v))
    shared = np.mean(curves, axis=0) - grid
    centred = []
    for path, (n, m) in zip(paths, lengths):
        shift = np.interp(path[:, 0] / max(n - 1, 1), grid, shared) * (m - 1)
        frames_b = np.clip(np.rint(path[:, 1] - shift), 0, m - 1).astype(path.dtype)
        centred.append(np.column_stack([path[:, 0], frames_b]))
    return centred


class DeepCTWAligner(TorchTrainingMixin, PairedAligner):
    """Deep canonical time warping: align two modalities through learned nonlinear encoders.

    CTW (:class:`~alignkit.CTWAligner`) aligns two modalities by projecting
    them linearly into a shared space. DeepCTW replaces the projections by
    two neural networks, one per modality, applied frame by frame and trained
    to maximise the total canonical correlation of the frames matched by the
    current alignment; after each training round the paths are recomputed by
    DTW of the canonical variates of the encoder outputs (a linear CCA on top
    of the encoders). Training starts from the uniform paths.

    Same data contract as :class:`~alignkit.CTWAligner`: ``fit(X)`` takes a
    list of ``(a, b)`` pairs of the same two modalities; held-out pairs are
    aligned with :meth:`~alignkit.base.PairedAligner.align_pairs` (or
    :meth:`~alignkit.base.PairedAligner.align` for one pair) and mapped with
    :meth:`~alignkit.base.PairedAligner.transform`;
    :meth:`~alignkit.base.PairedAligner.score` is the held-out canonical
    correlation, so ``GridSearchCV`` can compare the two aligners.

    Parameters
    ----------
    encoder_a, encoder_b : "mlp" or torch.nn.Module, default="mlp"
        Encoder of each modality. ``"mlp"`` builds a multilayer perceptron
        ``n_channels -> hidden_layer_sizes -> n_outputs``. A module is copied
        at every (cold) fit; it receives one standardised sequence as a
        float32 tensor of shape ``(n_timepoints, n_channels)`` and must return
        ``(n_timepoints, n_features)``; it may mix frames over time.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden widths of the ``"mlp"`` encoders.
    activation : {"relu", "tanh", "gelu"}, default="tanh"
        Activation of the ``"mlp"`` encoders.
    n_outputs : int, default=16
        Output dimension of the ``"mlp"`` encoders.
    n_components : int, default=8
        Canonical components of the final linear CCA: the dimension of the
        shared space in which DTW aligns, and of
        :meth:`~alignkit.base.PairedAligner.transform`'s output.
        At most the encoders' output dimension.
    reg : float or tuple of float, default=1e-3
        Ridge ``r`` added to each view's covariance of encoder outputs,
        ``S_aa + r_a I`` and ``S_bb + r_b I``; a pair gives each view its own.
    learning_rate : float, default=1e-2
        Adam's learning rate; ``0`` keeps the encoders at their initial weights.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    steps_per_realign : int, default=1
        Full-batch gradient steps between two re-alignments; one epoch is
        these steps followed by one re-alignment of every pair.
    window : None, int, float, tuple or ndarray, default=None
        DTW window, as for :func:`alignkit.dtw`.
    path_prior : {None, "diagonal"}, default=None
        What pins the deviation from the diagonal that all training paths
        share (see Notes). ``None``: nothing but the encoders' initial
        weights, as in the paper. ``"diagonal"``: assume that, averaged over
        the training pairs, neither modality leads the other; at each epoch
        the mean deviation of the paths from the diagonal is removed from the
        frame pairs that the encoders are trained on (and the final CCA is
        fitted on). Right when the pairs' time warps are unbiased; wrong by
        the true average lead when they are not.
    output : {"concat", "a", "b"}, default="concat"
        What :meth:`~alignkit.base.PairedAligner.transform` returns on ``a``'s timeline.
    n_timepoints : int, default=None
        If given, :meth:`~alignkit.base.PairedAligner.transform` resamples every output to
        this length.
    %(training_parameters)s

    Attributes
    ----------
    encoder_a_, encoder_b_ : torch.nn.Module
        The trained encoders, in eval mode.
    projections_ : tuple of ndarray
        ``(W_a, W_b)`` of shapes ``(n_features_a, n_components)`` and
        ``(n_features_b, n_components)``: the final linear CCA of the encoder
        outputs along the training paths (unit-variance canonical variates).
    output_means_ : tuple of ndarray
        Means of the warped encoder outputs, subtracted before projecting.
    input_means_, input_scales_ : tuple of ndarray
        Per-channel standardisation of each modality, from the training pairs.
    correlations_ : ndarray of shape (n_features,)
        Canonical correlations of the encoder outputs on the training paths.
    paths_ : list of ndarray
        The final paths of the training pairs, along which ``projections_`` was
        fitted (DTW with the previous round's projections). With
        ``path_prior="diagonal"`` the projections are fitted on these paths
        centred, and ``paths_`` keeps the DTW paths themselves.
    loss_curve_ : list of float
        Minus the total canonical correlation, per epoch (mean over its steps).
    validation_scores_ : list of float
        The validation loss per epoch (``early_stopping`` only).
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``val_loss`` (with ``early_stopping``)
        and ``time`` (see :mod:`alignkit.callbacks`).
    n_iter_ : int
        Epochs run (cumulative with ``warm_start``).
    n_channels_ : tuple of int
        Channel counts ``(n_channels_a, n_channels_b)`` that every pair given
        to :meth:`~alignkit.base.PairedAligner.transform` must have (see
        :mod:`alignkit.base`).
    device_ : torch.device
        Device the encoders live on.

    See Also
    --------
    CTWAligner : The linear method.

    Notes
    -----
    With the encoder outputs ``H_a = f_a(a)`` and ``H_b = f_b(b)`` of the
    frames matched by the paths, stacked over the training pairs (``L``
    rows) and centred, the loss is minus the total canonical correlation

    .. math::

        -\\lVert S_{aa}^{-1/2} S_{ab} S_{bb}^{-1/2} \\rVert_*, \\quad
        S_{aa} = \\tfrac{1}{L-1} H_a^T H_a + r_a I, \\;
        S_{ab} = \\tfrac{1}{L-1} H_a^T H_b,

    (Andrew et al., ICML 2013, on warped frames). The whitening uses the
    Cholesky factors ``L_a^{-1} S_ab L_b^{-T}``, which has the same singular
    values; the ridge is ``r I`` per view, each with its own ``r``. Gradients of
    a frame repeated by the path add up. Each epoch runs
    ``steps_per_realign`` Adam steps on the whole training set, then the
    linear CCA of the outputs and DTW of the canonical variates of every pair.
    With ``warm_start``, training continues from the paths that the fitted
    encoders give.

    The objective does not identify the alignment uniquely: encoders flexible
    enough to undo each view's map can also compose it with a monotone
    reparametrisation of the shared latent, which shifts every path the same
    way without lowering the correlation. The result therefore depends on the
    initial weights (``random_state``); on the synthetic benchmark of the user
    guide the error varies by up to a factor of 1.8 between seeds, and the
    training correlation does not tell the better seeds apart.
    ``path_prior="diagonal"`` pins the shared reparametrisation with an
    assumption about the data instead (no average lead); where it holds,
    the error there drops to about a third of CTW's for every seed.

    References
    ----------
    .. [1] G. Trigeorgis, M. A. Nicolaou, S. Zafeiriou and B. W. Schuller,
       "Deep canonical time warping", CVPR 2016.
    .. [2] G. Andrew, R. Arora, J. Bilmes and K. Livescu, "Deep canonical
       correlation analysis", ICML 2013.

    Examples
    --------
    >>> import torch
    >>> torch.set_num_threads(1)
    >>> from alignkit import DeepCTWAligner
    >>> from alignkit.datasets import make_nonlinear_views
    >>> pairs, _ = make_nonlinear_views(n_pairs=6, random_state=0)
    >>> aligner = DeepCTWAligner(max_epochs=3, random_state=0).fit(pairs[:4])
    >>> len(aligner.loss_curve_), aligner.n_iter_
    (3, 3)
    >>> alignment = aligner.align(*pairs[4])
    >>> alignment.shape == (len(pairs[4][0]), len(pairs[4][1]))
    True
    """

    _alignkit_tags = frozenset({"explicit", "numba", "torch"})
    _fitted_attribute = "projections_"
    _parameter_constraints = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        "encoder_a": [StrOptions({"mlp"}), HasMethods(["forward", "parameters"])],
        "encoder_b": [StrOptions({"mlp"}), HasMethods(["forward", "parameters"])],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "n_outputs": [_POSITIVE_INT],
        "n_components": [_POSITIVE_INT],
        "reg": [_NON_NEGATIVE, tuple, list],
        # 0 is allowed here: it freezes the encoders at their initial weights (a baseline).
        "learning_rate": [_NON_NEGATIVE],
        "weight_decay": [_NON_NEGATIVE],
        "steps_per_realign": [_POSITIVE_INT],
        "window": "no_validation",  # parsed by the DTW window check
        "path_prior": [None, StrOptions({"diagonal"})],
        "output": [StrOptions(set(PAIRED_OUTPUTS))],
        "n_timepoints": [None, _POSITIVE_INT],
    }

    def __init__(
        self,
        encoder_a: "str | torch.nn.Module" = "mlp",
        encoder_b: "str | torch.nn.Module" = "mlp",
        hidden_layer_sizes: tuple[int, ...] = (64, 64),
        activation: str = "tanh",
        n_outputs: int = 16,
        n_components: int = 8,
        reg: float | tuple[float, float] = 1e-3,
        learning_rate: float = 1e-2,
        weight_decay: float = 0.0,
        steps_per_realign: int = 1,
        window: WindowLike = None,
        path_prior: str | None = None,
        output: str = "concat",
        n_timepoints: int | None = None,
        max_epochs: int = 100,
        device: "str | torch.device | None" = "cpu",
        n_threads: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        callbacks: "list[Callback] | None" = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
    ):
        self.encoder_a = encoder_a
        self.encoder_b = encoder_b
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_outputs = n_outputs
        self.n_components = n_components
        self.reg = reg
        self.weight_decay = weight_decay
        self.steps_per_realign = steps_per_realign
        self.window = window
        self.path_prior = path_prior
        self.output = output
        self.n_timepoints = n_timepoints
        self._store_training_params(locals())

    # -- parameters -------------------------------------------------------------------

    def _fail(self, message):
        raise InvalidInputError(f"DeepCTWAligner {message}")

    def _validated_regs(self):
        """Check the declared constraints, then the items of the two sequence parameters.

        Returns the ridge of each view, ``(r_a, r_b)``.
        """
        check_estimator_params(self)
        if not all(_POSITIVE_INT.is_satisfied_by(size) for size in self.hidden_layer_sizes):
            raise InvalidParameterError(
                "The 'hidden_layer_sizes' parameter of DeepCTWAligner must be a tuple of ints "
                f">= 1. Got {self.hidden_layer_sizes!r} instead."
            )
        regs = self.reg if isinstance(self.reg, (tuple, list)) else (self.reg, self.reg)
        if len(regs) != 2 or not all(_NON_NEGATIVE.is_satisfied_by(r) for r in regs):
            raise InvalidParameterError(
                "The 'reg' parameter of DeepCTWAligner must be a float >= 0 or a pair of them. "
                f"Got {self.reg!r} instead."
            )
        return float(regs[0]), float(regs[1])

    def _build_encoder(self, spec, n_channels, name):
        kernels = self._kernels("_cca")
        if isinstance(spec, str) and spec == "mlp":
            return kernels.mlp_encoder(
                n_channels, self.hidden_layer_sizes, self.activation, self.n_outputs
            )
        if kernels.is_module(spec):
            return copy.deepcopy(spec)
        self._fail(f"{name} must be 'mlp' or a torch.nn.Module, got {type(spec).__name__}")

    # -- encoding and alignment -------------------------------------------------------

    def _encode(self, pairs, train=False):
        """Encoder outputs of every sequence: two lists of float64 tensors."""
        outputs = self._kernels("_cca").encode(
            (self.encoder_a_, self.encoder_b_),
            pairs,
            self.input_means_,
            self.input_scales_,
            self.device_,
            train=train,
        )
        for side in (0, 1):
            for pair, output in zip(pairs, outputs[side]):
                if output.ndim != 2 or output.shape[0] != len(pair[side]):
                    self._fail(
                        f"encoder_{'ab'[side]} must map (n_timepoints, n_channels) to "
                        f"(n_timepoints, n_features), got output shape {tuple(output.shape)}"
                    )
        return outputs

    def _correlations(self, outputs, paths, regs):
        return self._kernels("_cca").warped_correlations(outputs, paths, *regs)

    def _fit_projections(self, outputs, paths, regs):
        """Final linear CCA of the encoder outputs along ``paths`` (NumPy)."""
        warped = [
            np.vstack([h.cpu().numpy()[p[:, side]] for h, p in zip(outputs[side], paths)])
            for side in (0, 1)
        ]
        n_features = min(w.shape[1] for w in warped)
        if self.n_components > n_features:
            self._fail(
                f"n_components={self.n_components} exceeds the encoders' output dimension "
                f"({n_features})"
            )
        self.projections_, self.output_means_, self.correlations_ = linear_cca(
            *warped, *regs, self.n_components
        )

    def _variates(self, outputs):
        return [
            (h.detach().cpu().numpy() - self.output_means_[side]) @ self.projections_[side]
            for side, h in enumerate(outputs)
        ]

    def _dtw(self, outputs_a, outputs_b):
        from ..distances._dtw import dtw_alignment, pair_window
        from ..validation import check_window

        parsed = check_window(self.window)
        alignments = []
        for h_a, h_b in zip(outputs_a, outputs_b):
            variates_a, variates_b = (
                np.ascontiguousarray(v, dtype=np.float64) for v in self._variates((h_a, h_b))
            )
            window = pair_window(parsed, len(variates_a), len(variates_b))
            alignments.append(dtw_alignment(variates_a, variates_b, window))
        return alignments

    # -- fit --------------------------------------------------------------------------

    @with_torch_threads
    def fit(self, X: PairsLike, y: None = None) -> "DeepCTWAligner":
        """Train the encoders on a collection of pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs ``(a, b)``: every ``a`` has ``n_channels_a`` channels and every
            ``b`` ``n_channels_b``; lengths may differ.
        y : None
            Ignored.

        Returns
        -------
        self : DeepCTWAligner
        """
        regs = self._validated_regs()
        warm = self._is_warm()
        pairs = check_pairs(X, self.n_channels_ if warm else None)
        self._resolve_device()
        rng = check_random_state(self.random_state)
        train_idx, val_idx = self._split_validation(len(pairs), rng)
        train = [pairs[k] for k in train_idx]
        validation = [pairs[k] for k in val_idx]
        with self._torch_context():
            if not warm:
                self._initialise(train)
            self._train(train, validation, regs, warm)
        return self

    def _initialise(self, train):
        self.n_channels_ = (train[0][0].shape[1], train[0][1].shape[1])
        stacked = [np.vstack([pair[side] for pair in train]) for side in (0, 1)]
        self.input_means_ = tuple(s.mean(axis=0) for s in stacked)
        # Constant channels keep scale 1 rather than dividing by zero.
        self.input_scales_ = tuple(np.where(s.std(axis=0) > 0, s.std(axis=0), 1.0) for s in stacked)
        self.encoder_a_ = self._build_encoder(self.encoder_a, self.n_channels_[0], "encoder_a")
        self.encoder_b_ = self._build_encoder(self.encoder_b, self.n_channels_[1], "encoder_b")
        self.encoder_a_.to(self.device_)
        self.encoder_b_.to(self.device_)
        self._optimizer = self._kernels("_cca").adam(
            (self.encoder_a_, self.encoder_b_), self.learning_rate, self.weight_decay
        )

    def _train(self, train, validation, regs, warm):
        lengths = [(len(a), len(b)) for a, b in train]

        def trained_on(paths):
            """The frame pairs the encoders learn from: the paths, or centred ones."""
            return paths if self.path_prior is None else _centre_paths(paths, lengths)

        if warm:
            paths = trained_on([a.path for a in self._dtw(*self._encode(train))])
        else:
            paths = [uniform_path(n, m) for n, m in lengths]
        state = {"paths": paths}

        def train_epoch(epoch):
            losses = []
            for _ in range(self.steps_per_realign):
                self._optimizer.zero_grad()
                outputs = self._encode(train, train=True)
                loss = -self._correlations(outputs, state["paths"], regs).sum()
                loss.backward()
                self._optimizer.step()
                losses.append(float(loss.detach()))
            outputs = self._encode(train)
            self._fit_projections(outputs, state["paths"], regs)
            state["paths"] = trained_on([a.path for a in self._dtw(*outputs)])
            return float(np.mean(losses))

        def validate():
            outputs = self._encode(validation)
            paths = [a.path for a in self._dtw(*outputs)]
            return float(-self._correlations(outputs, paths, regs).sum())

        self._run_epochs(train_epoch, validate=validate if validation else None)
        # The final linear CCA and paths belong to the final (or restored best) encoders:
        # early stopping may restore encoders older than the last epoch's paths, so one
        # more round re-aligns with them before the CCA that is kept.
        outputs = self._encode(train)
        self._fit_projections(outputs, state["paths"], regs)
        paths = [a.path for a in self._dtw(*outputs)]
        self._fit_projections(outputs, trained_on(paths), regs)
        self.paths_ = paths
        self.encoder_a_.eval()
        self.encoder_b_.eval()

    # -- inference --------------------------------------------------------------------

    @with_torch_threads
    def _align_fitted(self, pairs):
        """Per pair: its alignment by the trained model, and both sides' canonical variates."""
        outputs = self._encode(pairs)
        return [
            (alignment, *self._variates((h_a, h_b)))
            for h_a, h_b, alignment in zip(*outputs, self._dtw(*outputs))
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
