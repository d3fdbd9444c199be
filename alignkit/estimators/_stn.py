"""STNAligner: spatial transformer networks (Jaderberg et al., NIPS 2015)."""

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from ..core.params import Interval, Pair, StrOptions, check_estimator_params
from ..exceptions import InvalidInputError, InvalidParameterError
from ..validation import check_images
from ._torch_base import (
    TRAINING_PARAMETER_CONSTRAINTS,
    TorchClassifierMixin,
    TorchTrainingMixin,
    with_torch_threads,
)

if TYPE_CHECKING:
    import torch

    from ..callbacks import Callback

__all__ = ["STNAligner"]

_TRANSFORMS = ("attention", "similarity", "affine", "projective", "tps")


def _has_labels(estimator):
    """``available_if`` check of the task-mode methods: registration has no labels."""
    if estimator.mode != "task":
        raise AttributeError(
            f"STNAligner(mode={estimator.mode!r}) registers images and predicts no labels; "
            "use transform (the warped images) or predict_transform (the transforms)"
        )
    return True


class STNAligner(TorchTrainingMixin, TorchClassifierMixin, TransformerMixin, BaseEstimator):
    """Spatial transformer network: learn where to look and how to warp images.

    A localisation network regresses the parameters of a spatial transform
    from each image; a grid generator turns them into a sampling grid and a
    differentiable bilinear sampler warps the image (Jaderberg et al. 2015).
    The localiser starts at the identity transform.

    Two modes:

    - ``mode="task"`` (the paper): a small CNN classifier reads the warped
      image and everything is trained on labels; the alignment is implicit.
      The estimator is a classifier (``is_classifier`` is true, so
      cross-validation stratifies): :meth:`predict` and :meth:`predict_proba`
      classify, :meth:`score` is the accuracy.
    - ``mode="registration"``: the warped image is fitted to a target with a
      mean squared image loss; the alignment is explicit. Targets are paired
      images (``fit(X, y)`` with ``y`` images of ``X``'s shape; the localiser
      sees image and target side by side) or one ``template`` for all. The
      estimator is a transformer: there are no labels, so it has no
      ``predict`` or ``predict_proba`` (``hasattr`` is false).

    Parameters
    ----------
    transformation : {"attention", "similarity", "affine", "projective", "tps"} or None, \
default="affine"
        Transform family: scale + translation (3 parameters), similarity (4),
        affine (6), projective (8) or thin-plate spline on a
        ``tps_grid`` of control points. ``None`` (task mode only) removes the
        spatial transformer: the plain CNN baseline of the same classifier.
    mode : {"task", "registration"}, default="task"
        Classify through the warp (a classifier) or warp onto targets (a
        transformer); see above.
    output_size : tuple of int, default=None
        ``(height, width)`` of the warped images; default the input size.
    tps_grid : tuple of int, default=(4, 4)
        Control-point grid of ``transformation="tps"``.
    align_corners : bool, default=False
        Pixel-grid convention of the grid generator and the sampler (the same
        value for both, so the identity transform reproduces the input).
    padding_mode : {"zeros", "border", "reflection"}, default="zeros"
        Value sampled outside the input.
    template : array-like of shape (height, width) or (channels, height, width), default=None
        Registration target shared by all images (registration mode without ``y``).
    loc_lr_mult : float, default=0.1
        Learning-rate multiplier of the localiser (a lower rate keeps it stable).
    learning_rate : float, default=1e-3
        Adam learning rate (> 0).
    batch_size : int, default=64
        Training images per optimizer step.
    weight_decay : float, default=0.0
        Adam weight decay (>= 0); the localiser's pulls toward the identity.
    refine_steps : int, default=0
        Registration mode: gradient steps on each image's own transform
        parameters at test time (in :meth:`transform` and
        :meth:`predict_transform`), starting from the network's prediction.
    refine_lr : float, default=0.01
        Adam step size of the refinement.
    %(training_parameters)s

    Attributes
    ----------
    transformer_ : torch.nn.Module or None
        Localiser, grid generator and sampler.
    classifier_ : torch.nn.Module or None
        The CNN head (task mode).
    classes_ : ndarray
        Class labels (task mode).
    image_shape_ : tuple of int
        ``(channels, height, width)`` seen in fit.
    output_size_ : tuple of int
        ``(height, width)`` of the warped images.
    paired_ : bool
        Whether registration was fitted on paired targets (not a template).
    optimizer_ : torch.optim.Adam
        The optimizer of the networks, kept for ``warm_start``.
    %(training_attributes)s

    See Also
    --------
    alignkit.datasets.make_digit_canvas : digits under known transforms.

    Notes
    -----
    A transform maps output normalised coordinates ``(x, y)`` in ``[-1, 1]``
    (x the column, y the row) to input coordinates: the sampling map of
    :func:`torch.nn.functional.grid_sample`. The PyTorch tutorial's
    ``affine_grid``/``grid_sample`` pair without an explicit ``align_corners``
    shifts the grid; here one value serves both.

    References
    ----------
    .. [1] M. Jaderberg, K. Simonyan, A. Zisserman and K. Kavukcuoglu,
       "Spatial transformer networks", NIPS 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import STNAligner
    >>> from alignkit.datasets import make_digit_canvas
    >>> canvas = make_digit_canvas(64, kind="RTS", random_state=0)
    >>> stn = STNAligner(max_epochs=1, random_state=0).fit(canvas.images, canvas.labels)
    >>> stn.transform(canvas.images[:2]).shape
    (2, 1, 32, 32)
    >>> stn.predict_transform(canvas.images[:2]).shape
    (2, 3, 3)
    """

    def __init__(
        self,
        transformation: str | None = "affine",
        mode: str = "task",
        output_size: tuple[int, int] | None = None,
        tps_grid: tuple[int, int] = (4, 4),
        align_corners: bool = False,
        padding_mode: str = "zeros",
        template: ArrayLike | None = None,
        loc_lr_mult: float = 0.1,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        weight_decay: float = 0.0,
        refine_steps: int = 0,
        refine_lr: float = 0.01,
        max_epochs: int = 30,
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
        self.transformation = transformation
        self.mode = mode
        self.output_size = output_size
        self.tps_grid = tps_grid
        self.align_corners = align_corners
        self.padding_mode = padding_mode
        self.template = template
        self.loc_lr_mult = loc_lr_mult
        self.weight_decay = weight_decay
        self.refine_steps = refine_steps
        self.refine_lr = refine_lr
        self._store_training_params(locals())

    _alignkit_tags = frozenset({"implicit", "spatial", "image", "torch"})

    _parameter_constraints = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        "transformation": [StrOptions(set(_TRANSFORMS)), None],
        "mode": [StrOptions({"task", "registration"})],
        "output_size": [Pair(Interval(Integral, 1, None, closed="left")), None],
        "tps_grid": [Pair(Interval(Integral, 2, None, closed="left"))],
        "align_corners": ["boolean"],
        "padding_mode": [StrOptions({"zeros", "border", "reflection"})],
        "template": ["array-like", None],
        "loc_lr_mult": [Interval(Real, 0, np.inf, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "refine_steps": [Interval(Integral, 0, None, closed="left")],
        "refine_lr": [Interval(Real, 0, np.inf, closed="neither")],
    }

    # -- parameters -------------------------------------------------------------------

    def _resolve_output_size(self, height, width):
        if self.output_size is None:
            return (height, width)
        return tuple(int(size) for size in self.output_size)

    # -- fit --------------------------------------------------------------------------

    @with_torch_threads
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> "STNAligner":
        """Train the spatial transformer (and the classifier in task mode).

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images.
        y : array-like
            Task mode: class labels of shape ``(n_images,)``, none missing.
            Registration mode: target images of ``X``'s shape, or None with
            ``template``.

        Returns
        -------
        self : STNAligner

        Raises
        ------
        InvalidInputError
            If a parameter is invalid; if ``X`` or ``y`` is malformed (a NaN
            label is named by its index); if task mode gets fewer than two
            classes.
        ImportError
            If torch is not installed (the ``alignkit[torch]`` extra).
        """
        check_estimator_params(self)
        if self.transformation is None and self.mode != "task":
            raise InvalidParameterError(
                "STNAligner transformation=None (no spatial transformer) only makes sense in "
                "mode='task'; registration needs a transform"
            )
        images = check_images(X, name="X")
        warm = self._is_warm()
        targets, labels = self._check_targets(images, y, warm)
        spatial = self._kernels("_spatial")
        training = self._kernels("_training")
        device = self._resolve_device()
        rng = np.random.default_rng(self._seed())
        train, validation = self._split_validation(len(images), rng)
        if self.mode == "task" and len(np.unique(labels[train])) < 2 and not warm:
            raise InvalidInputError(
                "STNAligner needs at least two classes in y to train a classifier, got "
                f"{len(np.unique(labels[train]))} in the training split"
            )
        data = training.as_tensor(images, device)
        if self.mode == "task":
            target_tensor = training.as_index_tensor(labels, device)
        else:
            target_tensor = training.as_tensor(targets, device)

        with self._torch_context():
            if not warm:
                self._build(images.shape[1:], spatial, device)
            elif self.mode == "registration" and self._paired != self.paired_:
                raise InvalidInputError(
                    "warm_start: this STNAligner was fitted "
                    + ("on paired targets y" if self.paired_ else "to a template")
                    + "; a warm-started fit must use the same kind of target"
                )
            elif tuple(images.shape[1:]) != self.image_shape_:
                raise InvalidInputError(
                    f"X holds images of shape {images.shape[1:]}, but the warm-started model "
                    f"was fitted on {self.image_shape_}"
                )

            def batch_loss(rows):
                return self._loss(spatial, data[rows], target_tensor[rows])

            def train_epoch(_):
                self._set_train(True)
                batches = training.minibatches(train, self.batch_size, device)
                return training.train_epoch(self.optimizer_, batches, batch_loss)

            def validate():
                self._set_train(False)
                rows = training.as_index_tensor(validation, device)
                return spatial.evaluate(self._loss, spatial, data[rows], target_tensor[rows])

            self._run_epochs(train_epoch, validate if len(validation) else None)
        self._set_train(False)
        return self

    def _check_targets(self, images, y, warm):
        if self.mode == "task":
            return None, self._encode_labels(y, len(images), warm=warm)
        if y is not None and self.template is not None:
            raise InvalidInputError(
                "STNAligner registration takes paired targets y OR a template, not both"
            )
        if y is not None:
            targets = check_images(y, name="y", shape=images.shape[1:])
            if len(targets) != len(images):
                raise InvalidInputError(
                    f"y must hold one target image per image of X ({len(images)}), "
                    f"got {len(targets)}"
                )
            self._paired = True
            return targets, None
        if self.template is None:
            raise InvalidInputError(
                "STNAligner mode='registration' needs target images y or a template"
            )
        self._paired = False
        return self._template(images.shape[1:], len(images)), None

    def _template(self, image_shape, n_images):
        template = np.asarray(self.template, dtype=np.float64)
        if template.ndim == 2:
            template = template[None]
        output = self._resolve_output_size(*image_shape[1:])
        expected = (image_shape[0], *output)
        if template.shape != expected:
            raise InvalidInputError(
                f"template has shape {template.shape}, expected (channels, height, width) = "
                f"{expected} (the warped images' shape)"
            )
        checked = check_images(template[None], name="template")
        return np.repeat(checked, n_images, axis=0)

    def _build(self, image_shape, spatial, device):
        channels, height, width = (int(s) for s in image_shape)
        self.image_shape_ = (channels, height, width)
        self.output_size_ = self._resolve_output_size(height, width)
        if self.mode == "registration" and self._paired and self.output_size_ != (height, width):
            raise InvalidInputError(
                "STNAligner registration with paired targets needs output_size equal to the "
                f"image size {(height, width)}"
            )
        self.paired_ = self.mode == "registration" and self._paired
        if self.transformation is None:
            self.transformer_ = None
        else:
            self.transformer_ = spatial.SpatialTransformer(
                channels,
                self.transformation,
                self.output_size_,
                bool(self.align_corners),
                self.padding_mode,
                tuple(int(g) for g in self.tps_grid),
                localizer_channels=2 * channels if self.paired_ else channels,
            ).to(device)
        groups = []
        if self.transformer_ is not None:
            groups.append(
                {
                    "params": self.transformer_.parameters(),
                    "lr": self.learning_rate * self.loc_lr_mult,
                }
            )
        if self.mode == "task":
            self.classifier_ = spatial.SmallCNN(channels, len(self.classes_)).to(device)
            groups.append({"params": self.classifier_.parameters(), "lr": self.learning_rate})
        else:
            self.classifier_ = None
        self.optimizer_ = spatial.make_optimizer(groups, self.weight_decay)

    def _set_train(self, training):
        for module in (self.transformer_, self.classifier_):
            if module is not None:
                module.train(training)

    def _loss(self, spatial, images, targets):
        if self.mode == "task":
            return spatial.task_loss(self.transformer_, self.classifier_, images, targets)
        return spatial.registration_loss(self.transformer_, images, targets, self.paired_)

    # -- inference --------------------------------------------------------------------

    def _inputs(self, X, targets):
        check_is_fitted(self, "n_iter_")
        images = check_images(X, name="X", shape=self.image_shape_)
        training = self._kernels("_training")
        if self.paired_:
            if targets is None:
                raise InvalidInputError(
                    "this STNAligner was fitted on paired targets: pass targets= (images of "
                    "X's shape) to transform / predict_transform"
                )
            targets = check_images(targets, name="targets", shape=self.image_shape_)
            if len(targets) != len(images):
                raise InvalidInputError(
                    f"targets must hold one image per image of X ({len(images)}), "
                    f"got {len(targets)}"
                )
        elif self.mode == "registration":
            targets = self._template(self.image_shape_, len(images))
        else:
            targets = None

        def to_tensor(array):
            return training.as_tensor(np.ascontiguousarray(array), self.device_)

        return to_tensor(images), None if targets is None else to_tensor(targets)

    def _theta(self, spatial, images, targets):
        """Predicted (and, with refine_steps, refined) parameters, in chunks."""
        steps = self.refine_steps if self.mode == "registration" else 0
        return spatial.predict_theta(
            self.transformer_, images, targets, self.paired_, steps, self.refine_lr
        )

    @with_torch_threads
    def predict_transform(self, X: ArrayLike, targets: ArrayLike | None = None) -> np.ndarray:
        """Transform parameters predicted for each image.

        Parameters
        ----------
        X : array-like of images
            Images of the shape seen in fit.
        targets : array-like of images, default=None
            Paired registration only: the targets.

        Returns
        -------
        transforms : ndarray
            ``(n_images, 3, 3)`` homogeneous matrices mapping output normalised
            coordinates to input normalised coordinates, or, for
            ``transformation="tps"``, ``(n_images, n_control_points, 2)``: where
            each control point of the output grid samples the input.
        """
        check_is_fitted(self, "n_iter_")
        if self.transformer_ is None:
            raise InvalidInputError("STNAligner transformation=None has no spatial transform")
        spatial = self._kernels("_spatial")
        images, targets = self._inputs(X, targets)
        self._set_train(False)
        theta = self._theta(spatial, images, targets)
        if self.transformation == "tps":
            return spatial.to_numpy(theta.reshape(len(theta), -1, 2))
        return spatial.to_numpy(self.transformer_.generator.matrix(theta))

    @with_torch_threads
    def transform(self, X: ArrayLike, targets: ArrayLike | None = None) -> np.ndarray:
        """Rectified (warped) images.

        Parameters
        ----------
        X : array-like of images
            Images of the shape seen in fit.
        targets : array-like of images, default=None
            Paired registration only: the targets.

        Returns
        -------
        warped : ndarray of shape (n_images, channels, out_height, out_width)
        """
        spatial = self._kernels("_spatial")
        images, targets = self._inputs(X, targets)
        self._set_train(False)
        if self.transformer_ is None:
            return spatial.to_numpy(images)
        theta = self._theta(spatial, images, targets)
        return spatial.to_numpy(spatial.warp_with(self.transformer_, images, theta))

    def fit_transform(self, X: ArrayLike, y: ArrayLike | None = None) -> np.ndarray:
        """Fit, then return the warped training images.

        Parameters
        ----------
        X : array-like of images
            Training images.
        y : array-like, default=None
            As in :meth:`fit`; paired registration targets are also passed to
            :meth:`transform`.

        Returns
        -------
        warped : ndarray of shape (n_images, channels, out_height, out_width)
        """
        self.fit(X, y)
        return self.transform(X, targets=y if self.paired_ else None)

    @available_if(_has_labels)
    @with_torch_threads
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (task mode only).

        Parameters
        ----------
        X : array-like of images
            Images of the shape seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_images, n_classes)
        """
        spatial = self._kernels("_spatial")
        images, _ = self._inputs(X, None)
        self._set_train(False)
        proba = spatial.class_probabilities(self.transformer_, self.classifier_, images)
        return spatial.to_numpy(proba)

    @available_if(_has_labels)
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels (task mode only).

        Parameters
        ----------
        X : array-like of images
            Images of the shape seen in fit.

        Returns
        -------
        labels : ndarray of shape (n_images,)
        """
        proba = self.predict_proba(X)  # checks that fit ran before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike | None = None) -> float:
        """Accuracy (task mode) or negative mean squared image error (registration).

        Parameters
        ----------
        X : array-like of images
            Images of the shape seen in fit.
        y : array-like
            Labels (task mode) or paired target images (registration; None
            with a template).

        Returns
        -------
        score : float
            Higher is better.
        """
        check_is_fitted(self, "n_iter_")
        if self.mode == "task":
            return float(np.mean(self.predict(X) == np.asarray(y)))
        warped = self.transform(X, targets=y if self.paired_ else None)
        targets = (
            check_images(y, name="y", shape=self.image_shape_)
            if self.paired_
            else self._template(self.image_shape_, len(warped))
        )
        return -float(np.mean((warped - targets) ** 2))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        if self.mode != "task":
            # Registration is a transformer: no labels, and a template needs no y.
            tags.estimator_type = None
            tags.classifier_tags = None
            tags.target_tags.required = False
        return tags
