"""STNAligner: spatial transformer networks (Jaderberg et al., NIPS 2015)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidInputError
from ..validation import check_images
from ._torch_base import TorchTrainingMixin

__all__ = ["STNAligner"]

_TRANSFORMS = ("attention", "similarity", "affine", "projective", "tps")
_MODES = ("task", "registration")
_PADDING = ("zeros", "border", "reflection")


def _is_int(value, minimum):
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


class STNAligner(TorchTrainingMixin, BaseEstimator):
    """Spatial transformer network: learn where to look and how to warp images.

    A localisation network regresses the parameters of a spatial transform
    from each image; a grid generator turns them into a sampling grid and a
    differentiable bilinear sampler warps the image (Jaderberg et al. 2015).
    The localiser starts at the identity transform.

    Two modes:

    - ``mode="task"`` (the paper): a small CNN classifier reads the warped
      image and everything is trained on labels; the alignment is implicit.
      :meth:`predict` and :meth:`predict_proba` classify.
    - ``mode="registration"``: the warped image is fitted to a target with a
      mean squared image loss; the alignment is explicit. Targets are paired
      images (``fit(X, y)`` with ``y`` images of ``X``'s shape; the localiser
      sees image and target side by side) or one ``template`` for all.

    Parameters
    ----------
    transformation : {"attention", "similarity", "affine", "projective", "tps"} or None, \
default="affine"
        Transform family: scale + translation (3 parameters), similarity (4),
        affine (6), projective (8) or thin-plate spline on a
        ``tps_grid`` of control points. ``None`` (task mode only) removes the
        spatial transformer: the plain CNN baseline of the same classifier.
    mode : {"task", "registration"}, default="task"
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
        Adam learning rate.
    batch_size : int, default=64
    max_epochs : int, default=30
    weight_decay : float, default=0.0
    refine_steps : int, default=0
        Registration mode: gradient steps on each image's own transform
        parameters at test time (in :meth:`transform` and
        :meth:`predict_transform`), starting from the network's prediction.
    refine_lr : float, default=0.01
        Adam step size of the refinement.
    device : str, default="cpu"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Print one line per epoch.
    warm_start : bool, default=False
        Continue training the fitted networks in the next ``fit``.
    callbacks : list of Callback, default=None
        See :mod:`alignkit.callbacks`.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the images and stop when their
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4

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
    loss_curve_, validation_scores_, history_, n_iter_, device_
        Training record (see :mod:`alignkit.callbacks`).

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
        transformation="affine",
        mode="task",
        output_size=None,
        tps_grid=(4, 4),
        align_corners=False,
        padding_mode="zeros",
        template=None,
        loc_lr_mult=0.1,
        learning_rate=1e-3,
        batch_size=64,
        max_epochs=30,
        weight_decay=0.0,
        refine_steps=0,
        refine_lr=0.01,
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
        self.transformation = transformation
        self.mode = mode
        self.output_size = output_size
        self.tps_grid = tps_grid
        self.align_corners = align_corners
        self.padding_mode = padding_mode
        self.template = template
        self.loc_lr_mult = loc_lr_mult
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.weight_decay = weight_decay
        self.refine_steps = refine_steps
        self.refine_lr = refine_lr
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

    def _check_params(self):
        name = "STNAligner"
        if self.mode not in _MODES:
            raise InvalidInputError(f"{name} mode must be one of {_MODES}, got {self.mode!r}")
        if self.transformation is None:
            if self.mode != "task":
                raise InvalidInputError(
                    f"{name} transformation=None (no spatial transformer) only makes sense in "
                    "mode='task'; registration needs a transform"
                )
        elif self.transformation not in _TRANSFORMS:
            raise InvalidInputError(
                f"{name} transformation must be one of {_TRANSFORMS} or None, "
                f"got {self.transformation!r}"
            )
        if self.padding_mode not in _PADDING:
            raise InvalidInputError(
                f"{name} padding_mode must be one of {_PADDING}, got {self.padding_mode!r}"
            )
        if not isinstance(self.align_corners, (bool, np.bool_)):
            raise InvalidInputError(
                f"{name} align_corners must be True or False, got {self.align_corners!r}"
            )
        for param in ("learning_rate", "loc_lr_mult", "refine_lr"):
            value = getattr(self, param)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not np.isfinite(value)
                or value <= 0
            ):
                raise InvalidInputError(f"{name} {param} must be a float > 0, got {value!r}")
        if (
            isinstance(self.weight_decay, bool)
            or not isinstance(self.weight_decay, numbers.Real)
            or not self.weight_decay >= 0
        ):
            raise InvalidInputError(
                f"{name} weight_decay must be a float >= 0, got {self.weight_decay!r}"
            )
        for param, minimum in (("batch_size", 1), ("refine_steps", 0)):
            value = getattr(self, param)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < minimum
            ):
                raise InvalidInputError(
                    f"{name} {param} must be an int >= {minimum}, got {value!r}"
                )
        grid = self.tps_grid
        if (
            not isinstance(grid, (tuple, list))
            or len(grid) != 2
            or any(
                isinstance(g, bool) or not isinstance(g, numbers.Integral) or g < 2 for g in grid
            )
        ):
            raise InvalidInputError(
                f"{name} tps_grid must be a pair of ints >= 2 (rows, columns), got {grid!r}"
            )
        self._check_training_params()

    def _resolve_output_size(self, height, width):
        if self.output_size is None:
            return (height, width)
        size = self.output_size
        if (
            not isinstance(size, (tuple, list))
            or len(size) != 2
            or any(
                isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in size
            )
        ):
            raise InvalidInputError(
                f"STNAligner output_size must be None or a pair of ints >= 1 (height, width), "
                f"got {size!r}"
            )
        return tuple(int(s) for s in size)

    # -- fit --------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Train the spatial transformer (and the classifier in task mode).

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images.
        y : array-like
            Task mode: class labels of shape ``(n_images,)``. Registration
            mode: target images of ``X``'s shape, or None with ``template``.

        Returns
        -------
        self : STNAligner
        """
        self._check_params()
        images = check_images(X, name="X")
        n_images = len(images)
        targets, labels = self._check_targets(images, y)
        torch = self._import_torch()
        device = self._resolve_device()
        from ..kernels._torch import _spatial

        rng = np.random.default_rng(self._seed())
        train, validation = self._split_validation(n_images, rng)
        if self.mode == "task" and len(np.unique(labels[train])) < 2 and not self._is_warm():
            raise InvalidInputError(
                "STNAligner needs at least two classes in y to train a classifier, got "
                f"{len(np.unique(labels[train]))}"
            )
        data = torch.as_tensor(images, dtype=torch.float32, device=device)
        if self.mode == "task":
            target_tensor = torch.as_tensor(labels, dtype=torch.long, device=device)
        else:
            target_tensor = torch.as_tensor(targets, dtype=torch.float32, device=device)

        with self._torch_context():
            if not self._is_warm():
                self._build(images.shape[1:], _spatial, torch, device)
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

            def batches(indices):
                order = indices[torch.randperm(len(indices)).numpy()]
                for start in range(0, len(order), self.batch_size):
                    yield torch.as_tensor(order[start : start + self.batch_size], device=device)

            def train_epoch(_):
                self._set_train(True)
                total = 0.0
                for rows in batches(train):
                    self.optimizer_.zero_grad()
                    loss = self._loss(data[rows], target_tensor[rows])
                    loss.backward()
                    self.optimizer_.step()
                    total += float(loss.detach()) * len(rows)
                return total / len(train)

            def validate():
                self._set_train(False)
                rows = torch.as_tensor(validation, device=device)
                with torch.no_grad():
                    return float(self._loss(data[rows], target_tensor[rows]))

            self._run_epochs(train_epoch, validate if len(validation) else None)
        self._set_train(False)
        return self

    def _check_targets(self, images, y):
        if self.mode == "task":
            if y is None:
                raise InvalidInputError("STNAligner mode='task' needs class labels y")
            labels = np.asarray(y)
            if labels.ndim != 1 or len(labels) != len(images):
                raise InvalidInputError(
                    f"y must be 1-D with one label per image ({len(images)}), got shape "
                    f"{labels.shape}"
                )
            if self._is_warm():
                unknown = np.setdiff1d(labels, self.classes_)
                if len(unknown):
                    raise InvalidInputError(
                        f"y holds label {unknown[0]!r}, unseen in the first fit (warm_start)"
                    )
            else:
                self.classes_ = np.unique(labels)
            return None, np.searchsorted(self.classes_, labels)
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

    def _build(self, image_shape, spatial, torch, device):
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
        self.optimizer_ = torch.optim.Adam(groups, weight_decay=self.weight_decay)

    def _set_train(self, training):
        for module in (self.transformer_, self.classifier_):
            if module is not None:
                module.train(training)

    def _warp(self, images, reference=None):
        if self.transformer_ is None:
            return images, None
        return self.transformer_(images, reference if self.paired_ else None)

    def _loss(self, images, targets):
        from torch.nn import functional as F

        if self.mode == "task":
            warped, _ = self._warp(images)
            return F.cross_entropy(self.classifier_(warped), targets)
        warped, _ = self._warp(images, targets)
        return F.mse_loss(warped, targets)

    # -- inference --------------------------------------------------------------------

    def _inputs(self, X, targets):
        check_is_fitted(self, "n_iter_")
        images = check_images(X, name="X", shape=self.image_shape_)
        torch = self._import_torch()
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
        to_tensor = lambda a: torch.as_tensor(  # noqa: E731
            np.ascontiguousarray(a), dtype=torch.float32, device=self.device_
        )
        return to_tensor(images), None if targets is None else to_tensor(targets)

    def _theta(self, images, targets):
        """Predicted (and, with refine_steps, refined) parameters, in chunks."""
        torch = self._import_torch()
        from torch.nn import functional as F

        thetas = []
        for start in range(0, len(images), 256):
            chunk = images[start : start + 256]
            reference = None if targets is None else targets[start : start + 256]
            with torch.no_grad():
                source = chunk if not self.paired_ else torch.cat([chunk, reference], dim=1)
                theta = self.transformer_.localizer(source)
            if self.mode == "registration" and self.refine_steps:
                theta = theta.clone().requires_grad_(True)
                optimizer = torch.optim.Adam([theta], lr=self.refine_lr)
                generator = self.transformer_.generator
                for _ in range(self.refine_steps):
                    optimizer.zero_grad()
                    warped = F.grid_sample(
                        chunk,
                        generator(theta),
                        mode="bilinear",
                        padding_mode=self.padding_mode,
                        align_corners=bool(self.align_corners),
                    )
                    # Summed over pixels and images: each image's parameters get only its gradient.
                    loss = ((warped - reference) ** 2).flatten(1).sum(1).sum()
                    loss.backward()
                    optimizer.step()
                theta = theta.detach()
            thetas.append(theta)
        return torch.cat(thetas)

    def predict_transform(self, X, targets=None):
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
        images, targets = self._inputs(X, targets)
        self._set_train(False)
        theta = self._theta(images, targets)
        if self.transformation == "tps":
            return theta.reshape(len(theta), -1, 2).cpu().double().numpy()
        return self.transformer_.generator.matrix(theta).cpu().double().numpy()

    def transform(self, X, targets=None):
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
        torch = self._import_torch()
        images, targets = self._inputs(X, targets)
        self._set_train(False)
        if self.transformer_ is None:
            return images.cpu().double().numpy()
        theta = self._theta(images, targets)
        with torch.no_grad():
            from ..kernels._torch._spatial import sample

            warped = sample(
                images,
                self.transformer_.generator(theta),
                bool(self.align_corners),
                self.padding_mode,
            )
        return warped.cpu().double().numpy()

    def predict_proba(self, X):
        """Class probabilities (task mode).

        Parameters
        ----------
        X : array-like of images

        Returns
        -------
        proba : ndarray of shape (n_images, n_classes)
        """
        torch = self._import_torch()
        if self.mode != "task":
            raise InvalidInputError("predict_proba needs mode='task' (a classifier)")
        images, _ = self._inputs(X, None)
        self._set_train(False)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), 256):
                warped, _ = self._warp(images[start : start + 256])
                out.append(torch.softmax(self.classifier_(warped), dim=1))
        return torch.cat(out).cpu().double().numpy()

    def predict(self, X):
        """Predicted class labels (task mode).

        Parameters
        ----------
        X : array-like of images

        Returns
        -------
        labels : ndarray of shape (n_images,)
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y=None):
        """Accuracy (task mode) or negative mean squared image error (registration).

        Parameters
        ----------
        X : array-like of images
        y : array-like
            Labels (task mode) or paired target images (registration; None
            with a template).

        Returns
        -------
        score : float
            Higher is better.
        """
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
        return tags
