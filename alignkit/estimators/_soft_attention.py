"""SoftAttentionAligner: soft attention as a learned, inspectable alignment.

Sequence pairs (RNNsearch) and image grids (Show, Attend and Tell).

This module never imports torch: the layers and forward passes are plain
functions of a ``torch.nn.ModuleDict`` of standard layers in
:mod:`alignkit.kernels._torch._attention`, loaded through the guarded
:func:`alignkit.kernels._torch.load` (so a fitted model pickles without torch
classes defined by alignkit). The hard path and the image maps read from the
weights live in ``_attention_alignment``.
"""

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..base import BaseAligner, PairsLike
from ..core.params import Interval, StrOptions, check_estimator_params
from ..exceptions import InvalidInputError
from ..validation import CollectionLike, check_sequence
from ._attention_alignment import AttentionAlignment, attention_path, upsample_attention
from ._torch_base import TRAINING_PARAMETER_CONSTRAINTS, TorchTrainingMixin, with_torch_threads

if TYPE_CHECKING:
    import torch

    from ..callbacks import Callback

__all__ = ["AttentionAlignment", "SoftAttentionAligner", "attention_path", "upsample_attention"]

_LEARNING_RATES = {"sequence": 0.003, "grid": 0.001}  # learning_rate="auto"


def _check_image(image, name, shape=None):
    """One image as a float32 ``(channels, height, width)`` array."""
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        raise InvalidInputError(f"{name} must be a numeric image, got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or min(array.shape) < 1:
        raise InvalidInputError(
            f"{name} must be an image of shape (height, width) or (channels, height, width), "
            f"got shape {np.shape(image)}"
        )
    if shape is not None and array.shape != tuple(shape):
        raise InvalidInputError(
            f"{name} has shape (channels, height, width) = {array.shape}, but "
            f"{tuple(shape)} was seen in fit"
        )
    if not np.isfinite(array).all():
        raise InvalidInputError(f"{name} holds NaN or inf; images must be finite")
    return np.ascontiguousarray(array, dtype=np.float32)


def _is_token_array(b):
    array = np.asarray(b)
    return array.ndim == 1 and array.dtype.kind in "iuUS"


def _check_tokens(b, name, classes=None):
    """A non-empty 1-D array of integer or string tokens (known ones, given ``classes``)."""
    tokens = np.asarray(b)
    if not _is_token_array(tokens) or len(tokens) == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty 1-D array of integer or string tokens, got shape "
            f"{tokens.shape} and dtype {tokens.dtype}"
        )
    if classes is not None:
        same_kind = (tokens.dtype.kind in "US") == (classes.dtype.kind in "US")
        unknown = ~np.isin(tokens, classes) if same_kind else np.ones(len(tokens), bool)
        if unknown.any():
            raise InvalidInputError(
                f"{name} holds the token {tokens[unknown][0].item()!r}, which was not seen in fit "
                f"(known tokens: {classes.tolist()})"
            )
    return tokens


def _check_pairs(X, spec, name="X"):
    """Validate ``(source, target)`` pairs; offenders are named ``X[k][0]`` / ``X[k][1]``.

    ``spec`` holds ``input`` and ``target_type`` (``"auto"`` resolves from the
    first pair) and, once known, ``source_shape`` (channels of a sequence, or
    an image's shape), ``n_channels_b`` and ``classes``; it is updated in place.
    """
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or len(X) == 0:
        raise InvalidInputError(f"{name} must be a non-empty list of (source, target) pairs")
    pairs = []
    for k, pair in enumerate(X):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidInputError(
                f"{name}[{k}] must be a pair (source, target), got {type(pair).__name__}"
                + (f" of length {len(pair)}" if hasattr(pair, "__len__") else "")
            )
        pairs.append((_check_source(pair[0], spec, f"{name}[{k}][0]"), pair[1]))
    if spec["target_type"] == "auto":
        spec["target_type"] = "tokens" if _is_token_array(pairs[0][1]) else "frames"
    checked = []
    for k, (source, target) in enumerate(pairs):
        where = f"{name}[{k}][1]"
        if spec["target_type"] == "tokens":
            target = _check_tokens(target, where, spec.get("classes"))
        else:
            target = check_sequence(target, name=where, n_channels=spec.get("n_channels_b"))
            spec["n_channels_b"] = target.shape[1]
        checked.append((source, target))
    return checked


def _check_source(source, spec, name):
    if spec["input"] == "grid":
        image = _check_image(source, name, spec.get("source_shape"))
        spec["source_shape"] = image.shape
        return image
    sequence = check_sequence(source, name=name, n_channels=spec.get("source_shape"))
    spec["source_shape"] = sequence.shape[1]
    return sequence


class SoftAttentionAligner(TorchTrainingMixin, BaseAligner):
    """Soft attention as a learned alignment: of two sequences, or of tokens to image cells.

    A network learns a task on pairs ``(source, target)``, and the attention
    weights that each target step puts on the source frames (or on the cells
    of an image's feature grid) are read as a soft alignment. Two tasks:

    - ``mode="align"`` (sequences with frame targets): the attention query is
      built from the target frame ``b[j]`` alone, and ``b[j]`` must be
      reconstructed from the attended source context alone, so the attention
      has to find the source frames that explain ``b[j]``. The query knows
      nothing of positions, so copies in any order (reversed ones too) are
      found from content.
    - ``mode="predict"``: an encoder-decoder that predicts the target from the
      source, attending from the previous decoder state (RNNsearch, Bahdanau
      et al., 2015; Show, Attend and Tell, Xu et al., 2015 for grids);
      trained with teacher forcing, and :meth:`predict` decodes new targets:
      frames (regression) or tokens (classification).

    Two inputs:

    - ``input="sequence"``: the source is encoded by a bidirectional GRU
      (packed, so padding never reaches real frames) plus a per-frame linear
      skip.
    - ``input="grid"``: the source is an image, standardised per channel
      with the mean and standard deviation of the training images; a small
      CNN (three 3x3 convolutions with group normalisation, two 2x2
      max-poolings) gives a ``ceil(H / 4) x ceil(W / 4)`` grid of
      annotations, and the decoder attends over its cells, with the gate
      ``beta = sigmoid(f(s))`` on the context.

    Every ``fit``, :meth:`attention`, :meth:`score` and :meth:`transform`
    takes ``X`` as a list of ``(source, target)`` pairs, for sequences and
    images alike: targets differ in length, so they cannot form a ``y``
    array; a list of pairs keeps scikit-learn's splitters and ``GridSearchCV``
    working and leaves ``y`` free in a Pipeline. :meth:`predict` takes the
    sources alone. Build image pairs with ``list(zip(images, captions))``.

    Parameters
    ----------
    input : {"sequence", "grid"}, default="sequence"
        Sources are sequences of shape ``(n_timepoints, n_channels)``, or
        images of shape ``(height, width)`` or ``(channels, height, width)``
        (all of one shape, at least 1 pixel).
    mode : {"auto", "align", "predict"}, default="auto"
        The task, see above. ``"auto"`` is ``"align"`` for sequences with
        frame targets and ``"predict"`` otherwise (grids and tokens need it).
    attention_score : {"additive", "dot", "general", "location"}, default="additive"
        Attention score of query ``q`` and annotation ``h``: additive
        ``v^T tanh(W q + U h)`` (Bahdanau), dot ``q^T h``, general
        ``q^T W h`` (Luong), or location ``softmax(W q)`` over source
        positions or cells, which ignores the source content (a baseline;
        sources may not be longer than the longest training source).
    target_type : {"auto", "frames", "tokens"}, default="auto"
        Targets are sequences of frames (squared error) or 1-D arrays of
        integer or string tokens (cross-entropy). ``"auto"`` picks tokens
        when the first target is a 1-D array of integers or strings; pass
        ``"frames"`` for integer-valued one-channel signals. Grids need tokens.
    hidden_size : int, default=32
        Size of the annotations, queries, token embeddings and decoder state.
    attention_size : int, default=32
        Size of the additive score's hidden layer.
    doubly_stochastic : float, default=0.0
        Weight ``lambda`` of the doubly stochastic penalty of Xu et al.,
        ``lambda * mean_i (1 - sum_t alpha_ti)^2``, averaged over source
        frames or cells and pairs, with the sum over the real (unpadded)
        target steps only.
    learning_rate : float or "auto", default="auto"
        Adam learning rate; ``"auto"`` is 0.003 for sequences and 0.001 for
        grids (a higher rate keeps grid training on its initial plateau
        longer).
    batch_size : int, default=32
        Pairs per minibatch.
    n_init : int, default=1
        Independent trainings (initialisations and minibatch orders drawn
        from ``random_state``); the one with the lowest final training loss
        is kept, as :class:`sklearn.cluster.KMeans` keeps its best ``n_init``.
        Worth it for grid input, where a training can stay on the plateau
        described in the Notes (``warm_start`` continues the kept one). Each
        training gets its own copy of ``callbacks``.
    %(training_parameters)s

    Attributes
    ----------
    mode_ : str
        The task used, ``mode`` with ``"auto"`` resolved.
    target_type_ : str
        ``"frames"`` or ``"tokens"``.
    classes_ : ndarray or None
        The sorted tokens seen in fit (token targets).
    n_channels_ : tuple
        ``(n_channels_a, n_channels_b)`` for sequences; ``n_channels_b`` is
        None for tokens and ``n_channels_a`` the image channels for grids.
    image_shape_ : tuple of int or None
        ``(channels, height, width)`` of the images (grid input).
    grid_shape_ : tuple of int or None
        ``(grid_height, grid_width)`` of the attention grid (grid input).
    image_mean_, image_std_ : ndarray of shape (channels,) or None
        Per-channel mean and standard deviation (1 where it is 0) of the
        training images, used to standardise every image (grid input).
    learning_rate_ : float
        The learning rate used, ``learning_rate`` with ``"auto"`` resolved.
    init_losses_ : list of float
        Final training loss of each of the ``n_init`` trainings, in order.
    max_source_length_ : int
        Longest training source, or the number of cells (the range of
        ``attention_score="location"``).
    max_length_ratio_ : float or None
        Largest ``len(b) / len(a)`` seen in fit (sequences): :meth:`predict`
        decodes at most ``ceil(max_length_ratio_ * len(a)) + 1`` steps.
    max_target_length_ : int
        Longest training target: the most steps :meth:`predict` decodes for
        an image.
    model_ : torch.nn.ModuleDict
        The trained layers (see above).
    optimizer_ : torch.optim.Adam
        Their optimizer, kept for ``warm_start``.
    %(training_attributes)s

    See Also
    --------
    CTWAligner : An explicit alignment of two modalities.
    upsample_attention : Grid attention at image resolution.

    Notes
    -----
    With annotations ``h_i`` and a query ``q_j``, the weights are
    ``alpha_ji = softmax_i(e(q_j, h_i))`` over the real (unpadded) source
    frames or all cells, and the context is ``c_j = sum_i alpha_ji h_i``
    (times the gate ``beta_j = sigmoid(w^T s_{j-1} + b)`` for grids). In
    align mode ``q_j = f(b_j)`` and the loss is the mean squared error of
    ``g(c_j)`` against ``b_j``. In predict mode the state starts at
    ``s_0 = tanh(W mean_i h_i)``; ``c_j`` is attended from ``s_{j-1}``,
    ``s_j = GRU([x_{j-1}; c_j], s_{j-1})`` where ``x_{j-1}`` is the previous
    frame (or token embedding, or a start symbol), and ``g(s_j, c_j, x_{j-1})``
    gives the frame ``b_j`` (or token logits) and a stop logit, trained by
    binary cross-entropy to fire at the last target step. The stop logit
    replaces an end token, so :meth:`attention` has one row per target step.
    Show, Attend and Tell uses an LSTM and a deep output layer; here a GRU
    and a one-hidden-layer output serve both inputs.

    A CNN trained from scratch under attention has a plateau: the loss stays
    at chance until the attention finds the object. For grid input the
    images are standardised, the CNN is group-normalised, the additive
    score's ``v`` starts 10 times larger than PyTorch's default and the
    learning rate is 0.001; together they shorten the plateau on
    :func:`alignkit.datasets.make_digit_captions` from 10-25+ epochs to 3-7
    over ``random_state`` 0-4.

    Attention from the previous state cannot know what the next target frame
    copies when the repeats are random: on
    :func:`alignkit.datasets.make_warped_copy` with random repeats a
    Bayes-optimal predict-mode attention puts only about 0.45 of its mass on
    the true source frame. With ``content_repeats=True`` the next frame is
    determined by the source, and the attention can be sharp.

    The hard path of :meth:`align` is :func:`attention_path`: DTW on
    ``-log`` attention, so it is monotone even where the attention is not.

    References
    ----------
    .. [1] D. Bahdanau, K. Cho and Y. Bengio, "Neural machine translation by
       jointly learning to align and translate", ICLR 2015.
    .. [2] M.-T. Luong, H. Pham and C. D. Manning, "Effective approaches to
       attention-based neural machine translation", EMNLP 2015.
    .. [3] K. Xu et al., "Show, attend and tell: neural image caption
       generation with visual attention", ICML 2015.

    Examples
    --------
    >>> from alignkit.datasets._attention import make_digit_captions, make_warped_copy
    >>> from alignkit import SoftAttentionAligner
    >>> pairs, paths = make_warped_copy(n_pairs=40, n_timepoints=6, random_state=0)
    >>> model = SoftAttentionAligner(max_epochs=2, random_state=0).fit(pairs)
    >>> alignment = model.align(*pairs[0])
    >>> alignment.soft_matrix.shape == (len(pairs[0][0]), len(pairs[0][1]))
    True
    >>> captions, canvas = make_digit_captions(20, random_state=0)
    >>> captions[0][1].tolist()
    ['2', 'even']
    >>> model = SoftAttentionAligner(input="grid", max_epochs=1, random_state=0).fit(captions)
    >>> model.attention(captions[:1])[0].shape  # (tokens, cells of the 10 x 10 grid)
    (2, 100)
    >>> model.attention(captions[:1], upsample=True)[0].shape  # at image resolution
    (2, 40, 40)
    """

    def __init__(
        self,
        input: str = "sequence",
        mode: str = "auto",
        attention_score: str = "additive",
        target_type: str = "auto",
        hidden_size: int = 32,
        attention_size: int = 32,
        doubly_stochastic: float = 0.0,
        learning_rate: float | str = "auto",
        batch_size: int = 32,
        n_init: int = 1,
        max_epochs: int = 60,
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
        self.input = input
        self.mode = mode
        self.attention_score = attention_score
        self.target_type = target_type
        self.hidden_size = hidden_size
        self.attention_size = attention_size
        self.doubly_stochastic = doubly_stochastic
        self.n_init = n_init
        self._store_training_params(locals())

    _alignkit_tags = frozenset({"implicit", "temporal", "multimodal", "torch"})

    _parameter_constraints = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        "input": [StrOptions({"sequence", "grid"})],
        "mode": [StrOptions({"auto", "align", "predict"})],
        "attention_score": [StrOptions({"additive", "dot", "general", "location"})],
        "target_type": [StrOptions({"auto", "frames", "tokens"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "attention_size": [Interval(Integral, 1, None, closed="left")],
        "doubly_stochastic": [Interval(Real, 0, np.inf, closed="left")],
        "learning_rate": [Interval(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def _resolve_mode(self, target_type):
        """Resolve ``mode`` and check it against the input and the target type."""
        tokens = target_type == "tokens"
        if self.input == "grid" and not tokens:
            raise InvalidInputError(
                "SoftAttentionAligner input='grid' decodes token targets: each X[k][1] must be "
                "a 1-D array of integer or string tokens (target_type='tokens')"
            )
        mode = self.mode
        if mode == "auto":
            mode = "predict" if self.input == "grid" or tokens else "align"
        if mode == "align" and (self.input == "grid" or tokens):
            raise InvalidInputError(
                "SoftAttentionAligner mode='align' reconstructs target frames of sequence "
                "pairs; use mode='predict' for grid input or token targets"
            )
        return mode

    # -- training -------------------------------------------------------------------

    @with_torch_threads
    def fit(self, X: PairsLike, y: None = None) -> "SoftAttentionAligner":
        """Train the attention network on pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs ``(source, target)``. Sources are sequences
            ``(n_timepoints, n_channels_a)`` or, with ``input="grid"``,
            images of one shape; targets are frame sequences
            ``(m, n_channels_b)`` or 1-D token arrays. Lengths may differ.
        y : None
            Ignored.

        Returns
        -------
        self : SoftAttentionAligner
        """
        check_estimator_params(self)
        warm = self._is_warm()
        if self.n_init > 1 and not warm:
            return self._fit_best_of(X)
        spec = (
            self._fitted_spec() if warm else {"input": self.input, "target_type": self.target_type}
        )
        pairs = _check_pairs(X, spec)
        attention = self._kernels("_attention")
        device = self._resolve_device()
        rng = check_random_state(self.random_state)
        train_idx, val_idx = self._split_validation(len(pairs), rng)
        if not warm:
            self._set_data_attributes(pairs, spec)
        self._check_location_lengths(pairs, "X")
        with self._torch_context(self._seed_from(rng)):
            if not warm:
                self.model_ = self._build_model(attention).to(device)
                self.optimizer_ = attention.make_optimizer(self.model_, self.learning_rate_)
            train = [pairs[k] for k in train_idx]
            validation = [pairs[k] for k in val_idx]

            def batch_loss(rows):
                batch = self._batch(attention, [train[k] for k in rows])
                return self._loss(attention, self._forward(attention, batch), batch)

            def train_epoch(_):
                return attention.train_epoch(
                    self.model_, self.optimizer_, len(train), self.batch_size, batch_loss
                )

            def validate():
                return self._mean_loss(attention, validation)

            self._run_epochs(train_epoch, validate if validation else None)
        self.model_.eval()
        self.init_losses_ = [self.loss_curve_[-1]]
        return self

    def _fit_best_of(self, X):
        """``n_init`` independent fits; keep the one with the lowest final training loss."""
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_init)
        fits = [
            clone(self).set_params(n_init=1, warm_start=False, random_state=int(seed)).fit(X)
            for seed in seeds
        ]
        losses = [fitted.loss_curve_[-1] for fitted in fits]
        best = fits[int(np.argmin(losses))]
        params = self.get_params(deep=False)
        vars(self).update({k: v for k, v in vars(best).items() if k not in params})
        self.init_losses_ = losses
        return self

    def _set_data_attributes(self, pairs, spec):
        self.mode_ = self._resolve_mode(spec["target_type"])
        self.target_type_ = spec["target_type"]
        grid = self.input == "grid"
        self.classes_ = None
        if self.target_type_ == "tokens":
            self.classes_ = np.unique(np.concatenate([b for _, b in pairs]))
        self.n_channels_ = (pairs[0][0].shape[0 if grid else 1], spec.get("n_channels_b"))
        self.image_shape_ = tuple(pairs[0][0].shape) if grid else None
        self.learning_rate_ = (
            _LEARNING_RATES[self.input] if self.learning_rate == "auto" else self.learning_rate
        )
        self.image_mean_ = self.image_std_ = None
        if grid:
            # Per-channel standardisation: the bundled digits are mostly 0 on [0, 1].
            images = np.stack([a for a, _ in pairs]).astype(np.float64)
            self.image_mean_ = images.mean(axis=(0, 2, 3))
            std = images.std(axis=(0, 2, 3))
            self.image_std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        self.grid_shape_ = tuple(-(-side // 4) for side in pairs[0][0].shape[1:]) if grid else None
        self.max_source_length_ = (
            int(np.prod(self.grid_shape_)) if grid else max(len(a) for a, _ in pairs)
        )
        self.max_length_ratio_ = None if grid else max(len(b) / len(a) for a, b in pairs)
        self.max_target_length_ = max(len(b) for _, b in pairs)

    def _seed_from(self, rng):
        return int(rng.randint(np.iinfo(np.int32).max))

    def _build_model(self, attention):
        return attention._build_model(
            grid=self.input == "grid",
            score=self.attention_score,
            mode=self.mode_,
            hidden=self.hidden_size,
            attention_size=self.attention_size,
            n_channels_a=self.n_channels_[0],
            n_channels_b=self.n_channels_[1],
            n_classes=None if self.classes_ is None else len(self.classes_),
            max_source_length=self.max_source_length_,
        )

    def _loss(self, attention, outputs, batch):
        return attention._loss(outputs, batch, self.doubly_stochastic)

    def _sources(self, attention, sources):
        """Source batch: padded sequences, or stacked images with every cell real."""
        if self.input == "grid":
            images = (np.stack(sources) - self.image_mean_[:, None, None]) / self.image_std_[
                :, None, None
            ]
            return attention.image_batch(images, self.max_source_length_, self.device_)
        return attention._pad(sources, self.device_)

    def _batch(self, attention, pairs):
        targets = [b for _, b in pairs]
        if self.target_type_ == "tokens":
            indices = [np.searchsorted(self.classes_, b) for b in targets]
            target = attention._pad(indices, self.device_, dtype=np.int64)
        else:
            target = attention._pad(targets, self.device_)
        return (*self._sources(attention, [a for a, _ in pairs]), *target)

    def _forward(self, attention, batch):
        forward = attention._forward_align if self.mode_ == "align" else attention._forward_predict
        return forward(self.model_, self.attention_score, batch)

    def _check_location_lengths(self, pairs, name):
        if self.attention_score != "location" or self.input == "grid":
            return
        for k, (a, _) in enumerate(pairs):
            if len(a) > self.max_source_length_:
                raise InvalidInputError(
                    f"{name}[{k}][0] has {len(a)} timepoints, but attention_score='location' "
                    f"attends over at most {self.max_source_length_} source positions (the "
                    "longest training source); use another attention_score for longer sources"
                )

    # -- inference ------------------------------------------------------------------

    def _fitted_spec(self):
        check_is_fitted(self)
        return {
            "input": self.input,
            "target_type": self.target_type_,
            "source_shape": self.image_shape_ or self.n_channels_[0],
            "n_channels_b": self.n_channels_[1],
            "classes": self.classes_,
        }

    def _evaluate(self, X, name="X"):
        """Teacher-forced outputs of every pair, one pair at a time (no padding)."""
        pairs = _check_pairs(X, self._fitted_spec(), name=name)
        self._check_location_lengths(pairs, name)
        attention = self._kernels("_attention")
        self.model_.eval()
        results = []
        with attention.no_grad():
            for pair in pairs:
                batch = self._batch(attention, [pair])
                outputs = self._forward(attention, batch)
                results.append((pair, batch, outputs))
        return attention, results

    def _mean_loss(self, attention, pairs):
        self.model_.eval()
        with attention.no_grad():
            batch = self._batch(attention, pairs)
            loss = float(self._loss(attention, self._forward(attention, batch), batch))
        self.model_.train()
        return loss

    @with_torch_threads
    def attention(self, X: PairsLike, upsample: bool = False) -> list[np.ndarray]:
        """Soft alignment matrices of pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs as in :meth:`fit`. In predict mode the targets are fed with
            teacher forcing; pass the decoded targets,
            ``list(zip(sources, model.predict(sources)))``, to see the
            attention behind :meth:`predict`.
        upsample : bool, default=False
            Grid input only: return each step's map at image resolution
            (:func:`upsample_attention`) instead of over the grid cells.

        Returns
        -------
        attention : list of ndarray
            Per pair, shape ``(m_k, n_k)`` (target steps x source frames, or
            x grid cells in row-major order), or ``(m_k, height, width)``
            with ``upsample``. Every step's weights sum to 1.
        """
        _, results = self._evaluate(X)
        weights = [outputs[2][0].cpu().numpy().astype(np.float64) for _, _, outputs in results]
        if not upsample:
            return weights
        if self.input != "grid":
            raise InvalidInputError("upsample=True needs input='grid' (maps over image cells)")
        return [upsample_attention(w, self.grid_shape_, self.image_shape_[1:]) for w in weights]

    def align(self, a: ArrayLike, b: ArrayLike) -> AttentionAlignment:
        """Soft and hard alignment of one sequence pair by the trained attention.

        Parameters
        ----------
        a : array-like of shape (n, n_channels_a)
            Source sequence, with the channels of the training sources
            (``input="sequence"`` only: a grid source raises an error).
        b : array-like of shape (m, n_channels_b) or (m,)
            Target: frames with the channels of the training targets, or,
            for token targets, a 1-D array of tokens seen in fit.

        Returns
        -------
        alignment : AttentionAlignment
            The hard path from :func:`attention_path`, its cost, and the soft
            matrix (source frames x target steps).
        """
        return self.align_pairs([(a, b)])[0]

    def align_pairs(self, X: PairsLike) -> list[AttentionAlignment]:
        """Align every sequence pair with the trained attention.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Sequence pairs as in :meth:`fit`.

        Returns
        -------
        alignments : list of AttentionAlignment
        """
        if self.input == "grid":
            raise InvalidInputError(
                "align needs input='sequence': a monotone path over image cells means nothing; "
                "use attention(X) for grid input"
            )
        alignments = []
        for weights in self.attention(X):
            path, cost = attention_path(weights)
            alignments.append(AttentionAlignment(path, cost, weights.shape[::-1], weights.T))
        return alignments

    @with_torch_threads
    def transform(self, X: PairsLike) -> np.ndarray | list[np.ndarray]:
        """Context vectors: the attended source annotations of every target step.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs as in :meth:`fit`.

        Returns
        -------
        contexts : ndarray of shape (n_pairs, m, hidden_size) or list
            Per pair an array of ``m_k`` context vectors (after the gate, for
            grid input); an array when all targets have the same length, else
            a list.
        """
        _, results = self._evaluate(X)
        contexts = [outputs[3][0].cpu().numpy().astype(np.float64) for _, _, outputs in results]
        if len({len(c) for c in contexts}) == 1:
            return np.stack(contexts)
        return contexts

    @with_torch_threads
    def score(self, X: PairsLike, y: None = None) -> float:
        """Negative training loss on held-out pairs (higher is better).

        The per-step loss (mean squared error of frames or cross-entropy of
        tokens; plus, in predict mode, the stop's binary cross-entropy, and the
        doubly stochastic penalty), averaged over pairs, negated so that
        ``GridSearchCV`` maximises it.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        attention, results = self._evaluate(X)
        losses = [float(self._loss(attention, outputs, batch)) for _, batch, outputs in results]
        return -float(np.mean(losses))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input is a list of (a, b) pairs, which scikit-learn's array checks cannot build.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        return tags

    @with_torch_threads
    def predict(self, X: CollectionLike) -> list[np.ndarray]:
        """Decode targets for new sources (predict mode).

        Greedy decoding: each predicted frame, or the most likely token, is
        fed back as the next input, until the stop probability exceeds one
        half or the length limit (``ceil(max_length_ratio_ * len(a)) + 1``
        steps for sequences, ``max_target_length_`` for images).

        Parameters
        ----------
        X : list of array-like, or array of images
            Sources: sequences with ``n_channels_a`` channels (for pairs, pass
            ``[a for a, _ in pairs]``), or images of ``image_shape_``.

        Returns
        -------
        targets : list of ndarray
            Frames of shape ``(m_k, n_channels_b)``, or 1-D arrays of tokens
            from ``classes_``.
        """
        spec = self._fitted_spec()
        if self.mode_ != "predict":
            raise InvalidInputError(
                "SoftAttentionAligner.predict decodes targets, which needs mode='predict' "
                f"(this model was fitted with mode={self.mode_!r})"
            )
        if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or len(X) == 0:
            raise InvalidInputError("X must be a non-empty list of sources")
        sources = [_check_source(a, spec, f"X[{k}]") for k, a in enumerate(X)]
        self._check_location_lengths([(a, None) for a in sources], "X")
        attention = self._kernels("_attention")
        self.model_.eval()
        return [self._decode(attention, a) for a in sources]

    def _decode(self, attention, source):
        if self.input == "grid":
            n_steps = self.max_target_length_
        else:
            n_steps = int(np.ceil(self.max_length_ratio_ * len(source))) + 1
        tokens = self.target_type_ == "tokens"
        emitted = attention.decode(
            self.model_, self.attention_score, self._sources(attention, [source]), n_steps, tokens
        )
        if tokens:
            return self.classes_[emitted]
        return emitted.astype(np.float64)
