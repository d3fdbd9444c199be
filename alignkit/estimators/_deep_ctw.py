"""DeepCTWAligner: deep canonical time warping (Trigeorgis et al., CVPR 2016)."""

import copy
import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..base import BaseAligner
from ..exceptions import InvalidInputError
from ._ctw import _OUTPUTS, _check_pairs
from ._torch_base import TorchTrainingMixin
from ._uniform import _resample, uniform_path

__all__ = ["DeepCTWAligner"]

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "gelu": "GELU"}


def _canonical_correlations(torch, h_a, h_b, reg_a, reg_b):
    """Canonical correlations of two views, differentiable (all of them, descending).

    ``S_aa = H_a^T H_a / (L - 1) + reg_a I`` (and so for ``b``) with centred
    ``H``; the correlations are the singular values of
    ``T = S_aa^{-1/2} S_ab S_bb^{-1/2}``, computed as those of
    ``L_a^{-1} S_ab L_b^{-T}`` (Cholesky factors ``S = L L^T``), which differs
    from ``T`` by orthogonal factors on each side only.
    """
    n_frames = h_a.shape[0]
    h_a = h_a - h_a.mean(dim=0)
    h_b = h_b - h_b.mean(dim=0)
    s_ab = h_a.T @ h_b / (n_frames - 1)
    eye_a = torch.eye(h_a.shape[1], dtype=h_a.dtype, device=h_a.device)
    eye_b = torch.eye(h_b.shape[1], dtype=h_b.dtype, device=h_b.device)
    s_aa = h_a.T @ h_a / (n_frames - 1) + reg_a * eye_a
    s_bb = h_b.T @ h_b / (n_frames - 1) + reg_b * eye_b
    l_a = torch.linalg.cholesky(s_aa)
    l_b = torch.linalg.cholesky(s_bb)
    left = torch.linalg.solve_triangular(l_a, s_ab, upper=False)
    whitened = torch.linalg.solve_triangular(l_b, left.T, upper=False).T
    return torch.linalg.svdvals(whitened)


def _linear_cca(h_a, h_b, reg_a, reg_b, n_components):
    """Projections, means and correlations of the CCA that the loss maximises (NumPy)."""
    n_frames = len(h_a)
    means = (h_a.mean(axis=0), h_b.mean(axis=0))
    h_a, h_b = h_a - means[0], h_b - means[1]
    s_aa = h_a.T @ h_a / (n_frames - 1) + reg_a * np.eye(h_a.shape[1])
    s_bb = h_b.T @ h_b / (n_frames - 1) + reg_b * np.eye(h_b.shape[1])
    l_a, l_b = np.linalg.cholesky(s_aa), np.linalg.cholesky(s_bb)
    whitened = np.linalg.solve(l_a, h_a.T @ h_b / (n_frames - 1))
    whitened = np.linalg.solve(l_b, whitened.T).T
    left, correlations, right_t = np.linalg.svd(whitened)
    # W_a = L_a^{-T} U, W_b = L_b^{-T} V: unit-variance canonical variates, correlation D.
    w_a = np.linalg.solve(l_a.T, left[:, :n_components])
    w_b = np.linalg.solve(l_b.T, right_t[:n_components].T)
    return (w_a, w_b), means, correlations


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


class DeepCTWAligner(TorchTrainingMixin, BaseAligner):
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
    aligned with :meth:`align_pairs` (or :meth:`align` for one pair) and
    mapped with :meth:`transform`; :meth:`score` is the held-out canonical
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
        shared space in which DTW aligns, and of :meth:`transform`'s output.
        At most the encoders' output dimension.
    reg : float or tuple of float, default=1e-3
        Ridge ``r`` added to each view's covariance of encoder outputs,
        ``S_aa + r_a I`` and ``S_bb + r_b I``; a pair gives each view its own.
    learning_rate : float, default=1e-2
        Adam's learning rate.
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
        What :meth:`transform` returns on ``a``'s timeline.
    n_timepoints : int, default=None
        If given, :meth:`transform` resamples every output to this length.
    max_epochs : int, default=100
        Number of epochs.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights and of the validation split.
    verbose : int, default=0
        Print one line per epoch when positive.
    warm_start : bool, default=False
        Continue training the fitted encoders (and their optimizer), from the
        paths they give, instead of starting afresh.
    callbacks : list of Callback, default=None
        See :mod:`alignkit.callbacks`.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the pairs and stop when their
        correlation loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs; the best encoders are restored.
    validation_fraction : float, default=0.1
        Fraction of pairs held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Patience of ``early_stopping``.
    tol : float, default=1e-4
        Minimum improvement of the validation loss for ``early_stopping``.

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
    n_iter_ : int
        Epochs run (cumulative with ``warm_start``).
    n_channels_ : tuple of int
        Channel counts ``(n_channels_a, n_channels_b)``.
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

    def __init__(
        self,
        encoder_a="mlp",
        encoder_b="mlp",
        hidden_layer_sizes=(64, 64),
        activation="tanh",
        n_outputs=16,
        n_components=8,
        reg=1e-3,
        learning_rate=1e-2,
        weight_decay=0.0,
        steps_per_realign=1,
        window=None,
        path_prior=None,
        output="concat",
        n_timepoints=None,
        max_epochs=100,
        device="cpu",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
    ):
        self.encoder_a = encoder_a
        self.encoder_b = encoder_b
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_outputs = n_outputs
        self.n_components = n_components
        self.reg = reg
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.steps_per_realign = steps_per_realign
        self.window = window
        self.path_prior = path_prior
        self.output = output
        self.n_timepoints = n_timepoints
        self.max_epochs = max_epochs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    # -- parameters -------------------------------------------------------------------

    def _fail(self, message):
        raise InvalidInputError(f"DeepCTWAligner {message}")

    def _check_params(self):
        for name, minimum in (("n_outputs", 1), ("n_components", 1), ("steps_per_realign", 1)):
            value = getattr(self, name)
            if _not_int(value) or value < minimum:
                self._fail(f"{name} must be an int >= {minimum}, got {value!r}")
        sizes = self.hidden_layer_sizes
        if not isinstance(sizes, (tuple, list)) or any(_not_int(s) or s < 1 for s in sizes):
            self._fail(f"hidden_layer_sizes must be a tuple of ints >= 1, got {sizes!r}")
        if self.activation not in _ACTIVATIONS:
            self._fail(f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        for name in ("learning_rate", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                self._fail(f"{name} must be a float >= 0, got {value!r}")
        if self.path_prior not in (None, "diagonal"):
            self._fail(f'path_prior must be None or "diagonal", got {self.path_prior!r}')
        if self.output not in _OUTPUTS:
            self._fail(f"output must be one of {_OUTPUTS}, got {self.output!r}")
        if self.n_timepoints is not None and (_not_int(self.n_timepoints) or self.n_timepoints < 1):
            self._fail(f"n_timepoints must be None or an int >= 1, got {self.n_timepoints!r}")
        return self._regs()

    def _regs(self):
        regs = self.reg if isinstance(self.reg, (tuple, list)) else (self.reg, self.reg)
        if len(regs) != 2 or any(
            isinstance(r, bool) or not isinstance(r, numbers.Real) or not r >= 0 for r in regs
        ):
            self._fail(f"reg must be a float >= 0 or a pair of them, got {self.reg!r}")
        return float(regs[0]), float(regs[1])

    def _build_encoder(self, torch, spec, n_channels, name):
        if spec == "mlp":
            layers, width = [], n_channels
            for size in self.hidden_layer_sizes:
                layers += [
                    torch.nn.Linear(width, size),
                    getattr(torch.nn, _ACTIVATIONS[self.activation])(),
                ]
                width = size
            layers.append(torch.nn.Linear(width, self.n_outputs))
            return torch.nn.Sequential(*layers)
        if isinstance(spec, torch.nn.Module):
            return copy.deepcopy(spec)
        self._fail(f"{name} must be 'mlp' or a torch.nn.Module, got {type(spec).__name__}")

    # -- encoding and alignment -------------------------------------------------------

    def _encode(self, torch, pairs, train=False):
        """Encoder outputs of every sequence: two lists of float64 tensors."""
        encoders = (self.encoder_a_, self.encoder_b_)
        outputs = ([], [])
        for encoder in encoders:
            encoder.train(train)
        with torch.set_grad_enabled(train):
            for pair in pairs:
                for side in (0, 1):
                    scaled = (pair[side] - self.input_means_[side]) / self.input_scales_[side]
                    tensor = torch.as_tensor(scaled, dtype=torch.float32, device=self.device_)
                    output = encoders[side](tensor)
                    if output.ndim != 2 or output.shape[0] != len(scaled):
                        self._fail(
                            f"encoder_{'ab'[side]} must map (n_timepoints, n_channels) to "
                            f"(n_timepoints, n_features), got output shape {tuple(output.shape)}"
                        )
                    outputs[side].append(output.to(torch.float64))
        return outputs

    def _correlations(self, torch, outputs, paths, regs):
        index_a, index_b, offset_a, offset_b = [], [], 0, 0
        for h_a, h_b, path in zip(outputs[0], outputs[1], paths):
            index_a.append(path[:, 0] + offset_a)
            index_b.append(path[:, 1] + offset_b)
            offset_a, offset_b = offset_a + len(h_a), offset_b + len(h_b)
        device = self.device_
        h_a = torch.cat(outputs[0])[torch.as_tensor(np.concatenate(index_a), device=device)]
        h_b = torch.cat(outputs[1])[torch.as_tensor(np.concatenate(index_b), device=device)]
        return _canonical_correlations(torch, h_a, h_b, *regs)

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
        self.projections_, self.output_means_, self.correlations_ = _linear_cca(
            *warped, *regs, self.n_components
        )

    def _variates(self, outputs):
        return [
            (h.detach().cpu().numpy() - self.output_means_[side]) @ self.projections_[side]
            for side, h in enumerate(outputs)
        ]

    def _dtw(self, outputs_a, outputs_b):
        from ..distances._dtw import dtw

        alignments = []
        for h_a, h_b in zip(outputs_a, outputs_b):
            variates_a, variates_b = self._variates((h_a, h_b))
            alignments.append(dtw(variates_a, variates_b, window=self.window))
        return alignments

    # -- fit --------------------------------------------------------------------------

    def fit(self, X, y=None):
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
        self._check_training_params()
        regs = self._check_params()
        warm = self._is_warm()
        pairs = _check_pairs(X, self.n_channels_ if warm else None)
        torch = self._import_torch()
        self._resolve_device()
        rng = check_random_state(self.random_state)
        train_idx, val_idx = self._split_validation(len(pairs), rng)
        train = [pairs[k] for k in train_idx]
        validation = [pairs[k] for k in val_idx]
        with self._torch_context():
            if not warm:
                self._initialise(torch, train)
            self._train(torch, train, validation, regs, warm)
        return self

    def _initialise(self, torch, train):
        self.n_channels_ = (train[0][0].shape[1], train[0][1].shape[1])
        stacked = [np.vstack([pair[side] for pair in train]) for side in (0, 1)]
        self.input_means_ = tuple(s.mean(axis=0) for s in stacked)
        # Constant channels keep scale 1 rather than dividing by zero.
        self.input_scales_ = tuple(np.where(s.std(axis=0) > 0, s.std(axis=0), 1.0) for s in stacked)
        self.encoder_a_ = self._build_encoder(
            torch, self.encoder_a, self.n_channels_[0], "encoder_a"
        )
        self.encoder_b_ = self._build_encoder(
            torch, self.encoder_b, self.n_channels_[1], "encoder_b"
        )
        self.encoder_a_.to(self.device_)
        self.encoder_b_.to(self.device_)
        parameters = [*self.encoder_a_.parameters(), *self.encoder_b_.parameters()]
        self._optimizer = torch.optim.Adam(
            parameters, lr=self.learning_rate, weight_decay=self.weight_decay
        )

    def _train(self, torch, train, validation, regs, warm):
        lengths = [(len(a), len(b)) for a, b in train]

        def trained_on(paths):
            """The frame pairs the encoders learn from: the paths, or centred ones."""
            return paths if self.path_prior is None else _centre_paths(paths, lengths)

        if warm:
            paths = trained_on([a.path for a in self._dtw(*self._encode(torch, train))])
        else:
            paths = [uniform_path(n, m) for n, m in lengths]
        state = {"paths": paths}

        def train_epoch(epoch):
            losses = []
            for _ in range(self.steps_per_realign):
                self._optimizer.zero_grad()
                outputs = self._encode(torch, train, train=True)
                loss = -self._correlations(torch, outputs, state["paths"], regs).sum()
                loss.backward()
                self._optimizer.step()
                losses.append(float(loss.detach()))
            outputs = self._encode(torch, train)
            self._fit_projections(outputs, state["paths"], regs)
            state["paths"] = trained_on([a.path for a in self._dtw(*outputs)])
            return float(np.mean(losses))

        def validate():
            outputs = self._encode(torch, validation)
            paths = [a.path for a in self._dtw(*outputs)]
            return float(-self._correlations(torch, outputs, paths, regs).sum())

        self._run_epochs(train_epoch, validate=validate if validation else None)
        # The final linear CCA and paths belong to the final (or restored best) encoders:
        # early stopping may restore encoders older than the last epoch's paths, so one
        # more round re-aligns with them before the CCA that is kept.
        outputs = self._encode(torch, train)
        self._fit_projections(outputs, state["paths"], regs)
        paths = [a.path for a in self._dtw(*outputs)]
        self._fit_projections(outputs, trained_on(paths), regs)
        self.paths_ = paths
        self.encoder_a_.eval()
        self.encoder_b_.eval()

    # -- inference --------------------------------------------------------------------

    def _check_fitted_pairs(self, X):
        check_is_fitted(self, "projections_")
        self._check_params()
        return _check_pairs(X, self.n_channels_)

    def align_pairs(self, X):
        """Align every pair with the trained encoders and projections.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in :meth:`fit`.

        Returns
        -------
        alignments : list of Alignment
            Per pair, the DTW path and distance of the canonical variates.
        """
        pairs = self._check_fitted_pairs(X)
        torch = self._import_torch()
        return self._dtw(*self._encode(torch, pairs))

    def align(self, a, b):
        """Align one pair with the trained encoders and projections.

        Unlike :meth:`CTWAligner.align`, which runs CTW on the pair itself, this
        needs a fitted aligner: a deep model is learned on a collection of pairs.

        Parameters
        ----------
        a : array-like of shape (n, n_channels_a)
        b : array-like of shape (m, n_channels_b)

        Returns
        -------
        alignment : Alignment
        """
        check_is_fitted(self, "projections_")
        return self.align_pairs([(a, b)])[0]

    def transform(self, X):
        """Canonical variates of every pair on ``a``'s timeline.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in :meth:`fit`.

        Returns
        -------
        X_aligned : ndarray of shape (n_pairs, n_timepoints, n_features) or list
            Per pair ``len(a)`` (or ``n_timepoints``) frames of ``a``'s variates
            then ``b``'s (``output="concat"``, ``2 * n_components`` features),
            or one of them; an array when all pairs give the same length.
        """
        pairs = self._check_fitted_pairs(X)
        torch = self._import_torch()
        outputs = self._encode(torch, pairs)
        results = []
        for h_a, h_b, alignment in zip(*outputs, self._dtw(*outputs)):
            variates_a, variates_b = self._variates((h_a, h_b))
            chosen = {"a": [variates_a], "b": [alignment.warp_to_a(variates_b)]}
            chosen["concat"] = chosen["a"] + chosen["b"]
            result = np.hstack(chosen[self.output])
            if self.n_timepoints is not None:
                result = _resample(result, self.n_timepoints)
            results.append(result)
        if len({len(result) for result in results}) == 1:
            return np.stack(results)
        return results

    def score(self, X, y=None):
        """Mean canonical correlation of held-out pairs aligned by the model.

        As :meth:`CTWAligner.score`: the Pearson correlation of each
        canonical variate of ``a`` and ``b`` along the path, averaged over
        components and pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
            In ``[-1, 1]``; higher is better.
        """
        pairs = self._check_fitted_pairs(X)
        torch = self._import_torch()
        outputs = self._encode(torch, pairs)
        correlations = []
        for h_a, h_b, alignment in zip(*outputs, self._dtw(*outputs)):
            variates_a, variates_b = alignment.warp(*self._variates((h_a, h_b)))
            for k in range(self.n_components):
                x, z = (
                    variates_a[:, k] - variates_a[:, k].mean(),
                    variates_b[:, k] - variates_b[:, k].mean(),
                )
                spread = np.sqrt(np.sum(x**2) * np.sum(z**2))
                correlations.append(float(np.sum(x * z) / spread) if spread > 0 else 0.0)
        return float(np.mean(correlations))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input is a list of (a, b) pairs, which scikit-learn's array checks cannot build.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        tags.non_deterministic = self.random_state is None
        return tags


def _not_int(value):
    return isinstance(value, bool) or not isinstance(value, numbers.Integral)
