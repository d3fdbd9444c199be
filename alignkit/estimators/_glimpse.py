"""GlimpseAligner: recurrent hard attention with glimpses (Mnih et al., NIPS 2014)."""

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..core.params import Interval, StrOptions, check_estimator_params
from ..exceptions import InvalidInputError
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

__all__ = ["GlimpseAligner"]

_POSITIVE_INT = [Interval(Integral, 1, None, closed="left")]


class GlimpseAligner(TorchTrainingMixin, TorchClassifierMixin, TransformerMixin, BaseEstimator):
    """Recurrent attention model: classify an image from a few glimpses it chooses.

    At each of ``n_glimpses`` steps a retina extracts ``n_scales`` square
    patches centred at the current location (each ``scale_factor`` times wider
    than the previous, all averaged down to ``patch_size`` pixels); a glimpse
    network combines what it sees with where; a recurrent core updates its
    state; a Gaussian location policy (mean ``tanh(f(h))``, standard deviation
    ``policy_std``) picks the next location. The last state is classified.
    Training is the hybrid loss of the paper: cross-entropy through the
    classifier, core and glimpse network; REINFORCE with a learned baseline
    (reward 1 for a correct class) for the location policy only.

    The glimpse locations are the alignment: :meth:`predict_locations` says
    where the model looked. The estimator is a classifier (``is_classifier``
    is true, so cross-validation stratifies) and a transformer
    (:meth:`transform` gives the final core states as features).

    Parameters
    ----------
    n_glimpses : int, default=6
        Glimpses per image: the time steps of the recurrent core. The first
        is placed by ``first_location``, each later one by the location policy
        from the core state after the previous glimpse; the class is read from
        the core state after the last.
    patch_size : int, default=8
        Side ``g`` of the finest patch of a glimpse, in pixels; every patch of
        a glimpse is averaged down to ``g x g``.
    n_scales : int, default=3
        Concentric patches per glimpse; patch ``k`` (from 0) is
        ``patch_size * scale_factor**k`` pixels wide. Pixels outside the image
        read as zero.
    scale_factor : int, default=2
        Width ratio of consecutive patches of a glimpse; patch ``k`` is
        average-pooled by ``scale_factor**k`` down to ``patch_size``. With 1,
        every patch is the same crop.
    glimpse_hidden : int, default=128
        Units of the "what" layer of the glimpse network, which reads the
        flattened patches.
    loc_hidden : int, default=128
        Units of the "where" layer of the glimpse network, which reads the
        glimpse location, and of the hidden layer of the location policy.
    core_hidden : int, default=256
        Size of the glimpse network's output and of the recurrent core state,
        which the location policy, the reward baseline and the classifier read
        (and :meth:`transform` returns).
    core : {"rnn", "lstm"}, default="rnn"
        Recurrent core: a ReLU RNN cell ``h_t = relu(W g_t + U h_{t-1})`` (the
        paper's model for static images) or an LSTM cell.
    policy_std : float, default=0.15
        Standard deviation of the Gaussian location policy, in the ``[-1, 1]``
        location units, wherever locations are sampled from it: in training
        (``policy="learned"``) and in prediction with ``n_mc_samples > 1``.
        Sampled locations are clipped to ``[-1, 1]``.
    first_location : {"center", "random"}, default="random"
        The first glimpse in training: the image centre, or uniform at random.
        Prediction always starts at the centre.
    policy : {"learned", "random"}, default="learned"
        ``"random"`` replaces the location policy by uniformly random
        glimpses (in training and prediction): the baseline the learned
        policy must beat.
    reinforce_weight : float, default=1.0
        Weight (>= 0) of the REINFORCE term in the hybrid loss. It is the
        policy's only training signal, so 0 leaves the policy as initialised.
    reward : {"correct", "probability"}, default="correct"
        Reward of a trajectory: 1 for a correct class, else 0 (the paper), or
        the probability the classifier gives the true class (a denser signal
        with a lower variance).
    n_mc_samples : int, default=1
        Trajectories per image in :meth:`predict`, :meth:`predict_proba` and
        :meth:`score`: 1 follows the policy means; more average the class
        probabilities over that many trajectories sampled with ``policy_std``
        (or that many random ones with ``policy="random"``). Not used in
        training, with ``locations=``, nor by :meth:`predict_locations` and
        :meth:`transform` (one run with the policy means).
    learning_rate : float, default=1e-3
        Step size of the Adam optimizer that trains all the networks.
    batch_size : int, default=64
        Training images per optimizer step (the last batch of an epoch may be
        smaller).
    %(training_parameters)s

    Attributes
    ----------
    model_ : torch.nn.Module
        The recurrent attention network: retina, glimpse network, core,
        location policy, reward baseline and classifier (in eval mode).
    optimizer_ : torch.optim.Adam
        Its optimizer, kept for ``warm_start``.
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels seen in fit.
    image_shape_ : tuple of int
        ``(channels, height, width)`` seen in fit.
    reward_curve_ : list of float
        Training accuracy per epoch of the trajectories trained on (sampled,
        random or fixed locations): the mean reward for ``reward="correct"``.
    %(training_attributes)s

    Notes
    -----
    The training loss of ``loss_curve_`` is the cross-entropy, plus the
    baseline's squared error and the weighted REINFORCE term when the policy
    is learned; the validation loss is the negative log-likelihood of
    :meth:`predict_proba`. Besides training, ``random_state`` seeds the
    sampled or random glimpses of prediction, so predictions are reproducible.

    Locations are ``(x, y)`` in ``[-1, 1]``, x the column and y the row,
    ``(0, 0)`` the image centre (the ``align_corners=False`` convention of
    :func:`torch.nn.functional.grid_sample`). Following the issues found in
    public ports, sampled locations are detached (no gradient leaks into
    earlier steps' policies) and the policy and baseline read a detached core
    state, so REINFORCE trains only them.

    References
    ----------
    .. [1] V. Mnih, N. Heess, A. Graves and K. Kavukcuoglu, "Recurrent models of
       visual attention", NIPS 2014.

    Examples
    --------
    >>> from alignkit import GlimpseAligner
    >>> from alignkit.datasets import make_digit_canvas
    >>> canvas = make_digit_canvas(64, kind="T", random_state=0)
    >>> model = GlimpseAligner(n_glimpses=3, max_epochs=1, random_state=0)
    >>> model.fit(canvas.images, canvas.labels).predict_locations(canvas.images[:2]).shape
    (2, 3, 2)
    """

    def __init__(
        self,
        n_glimpses: int = 6,
        patch_size: int = 8,
        n_scales: int = 3,
        scale_factor: int = 2,
        glimpse_hidden: int = 128,
        loc_hidden: int = 128,
        core_hidden: int = 256,
        core: str = "rnn",
        policy_std: float = 0.15,
        first_location: str = "random",
        policy: str = "learned",
        reinforce_weight: float = 1.0,
        reward: str = "correct",
        n_mc_samples: int = 1,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
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
        self.n_glimpses = n_glimpses
        self.patch_size = patch_size
        self.n_scales = n_scales
        self.scale_factor = scale_factor
        self.glimpse_hidden = glimpse_hidden
        self.loc_hidden = loc_hidden
        self.core_hidden = core_hidden
        self.core = core
        self.policy_std = policy_std
        self.first_location = first_location
        self.policy = policy
        self.reinforce_weight = reinforce_weight
        self.reward = reward
        self.n_mc_samples = n_mc_samples
        self._store_training_params(locals())

    _alignkit_tags = frozenset({"implicit", "spatial", "image", "torch"})

    _parameter_constraints = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        **dict.fromkeys(
            (
                "n_glimpses",
                "patch_size",
                "n_scales",
                "scale_factor",
                "glimpse_hidden",
                "loc_hidden",
                "core_hidden",
                "n_mc_samples",
            ),
            _POSITIVE_INT,
        ),
        "core": [StrOptions({"rnn", "lstm"})],
        "policy_std": [Interval(Real, 0, np.inf, closed="neither")],
        "first_location": [StrOptions({"center", "random"})],
        "policy": [StrOptions({"learned", "random"})],
        "reinforce_weight": [Interval(Real, 0, np.inf, closed="left")],
        "reward": [StrOptions({"correct", "probability"})],
    }

    def _check_locations(self, locations, n_images, name="locations"):
        """Fixed glimpse centres: ``(n_images, 2)`` (every glimpse) or ``(n_images, T, 2)``."""
        try:
            array = np.asarray(locations, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidInputError(
                f"{name} must be a numeric array of shape (n_images, 2) or "
                f"(n_images, n_glimpses, 2) = ({n_images}, {self.n_glimpses}, 2) ({error})"
            ) from None
        per_image = array.ndim == 2
        if per_image:
            array = np.repeat(array[:, None], self.n_glimpses, axis=1)
        if array.shape != (n_images, self.n_glimpses, 2):
            raise InvalidInputError(
                f"{name} must have shape (n_images, 2) or (n_images, n_glimpses, 2) = "
                f"({n_images}, {self.n_glimpses}, 2), got {np.shape(locations)}"
            )
        finite = np.isfinite(array)
        if not finite.all():
            image, glimpse, axis = np.argwhere(~finite)[0]
            value = array[image, glimpse, axis]
            where = "" if per_image else f"glimpse {glimpse}, "
            raise InvalidInputError(
                f"{name}[{image}] holds {'NaN' if np.isnan(value) else value} at {where}"
                f"coordinate {'xy'[axis]}; locations must be finite"
            )
        return array

    @with_torch_threads
    def fit(
        self, X: ArrayLike, y: ArrayLike, locations: ArrayLike | None = None
    ) -> "GlimpseAligner":
        """Train the recurrent attention model.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Training images (a 3-D array holds one-channel images); finite values.
        y : array-like of shape (n_images,)
            Class labels, at least two distinct.
        locations : array-like of shape (n_images, 2) or (n_images, n_glimpses, 2), default=None
            Fixed glimpse centres ``(x, y)`` in ``[-1, 1]`` (see Notes), one per
            image or one per image and glimpse, instead of the learned policy
            (for example the true object centres, to test the glimpse network
            alone); REINFORCE is then off.

        Returns
        -------
        self : GlimpseAligner

        Raises
        ------
        InvalidInputError
            If a parameter is invalid; if ``X`` is not 3-D or 4-D or holds NaN
            or inf (the message names the image); if ``y`` does not hold one
            label per image, a missing (NaN) label or fewer than two classes; if ``locations`` has
            another shape or holds NaN or inf.
        ImportError
            If torch is not installed (the ``alignkit[torch]`` extra).
        """
        check_estimator_params(self)
        images = check_images(X, name="X")
        warm = self._is_warm()
        if warm and tuple(images.shape[1:]) != self.image_shape_:
            raise InvalidInputError(
                f"X holds images of shape {images.shape[1:]}, but the warm-started model "
                f"was fitted on {self.image_shape_}"
            )
        codes = self._encode_labels(y, len(images), warm=warm)
        if locations is not None:
            locations = self._check_locations(locations, len(images))
        glimpse = self._kernels("_glimpse")
        training = self._kernels("_training")
        device = self._resolve_device()
        rng = np.random.default_rng(self._seed())
        train, validation = self._split_validation(len(images), rng)
        data = training.as_tensor(images, device)
        targets = training.as_index_tensor(codes, device)
        fixed = None if locations is None else training.as_tensor(locations, device)
        with self._torch_context():
            if not warm:
                self.image_shape_ = tuple(int(s) for s in images.shape[1:])
                self.model_ = glimpse.RecurrentAttention(
                    self.image_shape_[0],
                    len(self.classes_),
                    self.patch_size,
                    self.n_scales,
                    self.scale_factor,
                    self.glimpse_hidden,
                    self.loc_hidden,
                    self.core_hidden,
                    self.core,
                ).to(device)
                self.optimizer_ = glimpse.make_optimizer(self.model_, self.learning_rate)
                self.reward_curve_ = []

            rewards = []  # per batch of the epoch running, times the batch size

            def batch_loss(rows):
                loss, reward = self._loss(
                    glimpse, data[rows], targets[rows], None if fixed is None else fixed[rows]
                )
                rewards.append(float(reward) * len(rows))
                return loss

            def train_epoch(_):
                self.model_.train()
                rewards.clear()
                batches = training.minibatches(train, self.batch_size, device)
                loss = training.train_epoch(self.optimizer_, batches, batch_loss)
                self.reward_curve_.append(sum(rewards) / len(train))
                return loss

            def validate():
                rows = training.as_index_tensor(validation, device)
                fixed_rows = None if fixed is None else fixed[rows]
                return glimpse.nll(self._proba(data[rows], fixed_rows), targets[rows])

            self._run_epochs(train_epoch, validate if len(validation) else None)
        self.model_.eval()
        return self

    def _loss(self, glimpse, images, targets, fixed):
        uniform = self.first_location == "random"
        first = glimpse.first_locations(images, len(images), uniform)
        if fixed is not None:
            mode = "fixed"
        else:
            mode = "sample" if self.policy == "learned" else "random"
        return glimpse.hybrid_loss(
            self.model_,
            images,
            targets,
            first,
            mode,
            fixed,
            n_glimpses=self.n_glimpses,
            std=float(self.policy_std),
            reward=self.reward,
            weight=float(self.reinforce_weight),
        )

    def _proba(self, images, fixed=None, return_path=False, n_samples=None):
        """Class probabilities (and mean-policy glimpse path) without gradients."""
        glimpse = self._kernels("_glimpse")
        n_samples = self.n_mc_samples if n_samples is None else n_samples
        if fixed is not None:
            runs = ["fixed"]
        elif self.policy == "random":
            runs = ["random"] * n_samples
        else:
            runs = ["mean"] if n_samples == 1 else ["sample"] * n_samples
        self.model_.eval()
        # Sampled and random glimpses draw from torch's RNG: seeded from random_state
        # (reproducible predictions) inside a fork, so the caller's RNG is untouched.
        with self._torch_context():
            proba, path, states = glimpse.probabilities(
                self.model_,
                images,
                runs,
                n_glimpses=self.n_glimpses,
                std=float(self.policy_std),
                fixed=fixed,
            )
        return (proba, path, states) if return_path else proba

    def _images(self, X):
        check_is_fitted(self, "model_")
        images = check_images(X, name="X", shape=self.image_shape_)
        return self._kernels("_training").as_tensor(images, self.device_)

    @with_torch_threads
    def predict_proba(self, X: ArrayLike, locations: ArrayLike | None = None) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images of the shape seen in fit.
        locations : array-like of shape (n_images, 2) or (n_images, n_glimpses, 2), default=None
            Fixed glimpse centres, as in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_images, n_classes)
        """
        images = self._images(X)
        fixed = self._fixed(locations, len(images))
        return self._proba(images, fixed).cpu().double().numpy()

    def _fixed(self, locations, n_images):
        if locations is None:
            return None
        array = self._check_locations(locations, n_images)
        return self._kernels("_training").as_tensor(array, self.device_)

    def predict(self, X: ArrayLike, locations: ArrayLike | None = None) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images of the shape seen in fit.
        locations : array-like of shape (n_images, 2) or (n_images, n_glimpses, 2), default=None
            Fixed glimpse centres, as in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_images,)
        """
        proba = self.predict_proba(X, locations)  # checks that fit ran before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    @with_torch_threads
    def predict_locations(self, X: ArrayLike) -> np.ndarray:
        """Glimpse centres chosen by the policy means (the first is the image centre).

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images of the shape seen in fit.

        Returns
        -------
        locations : ndarray of shape (n_images, n_glimpses, 2)
            ``(x, y)`` in ``[-1, 1]``.
        """
        return self._mean_run(X)[0]

    @with_torch_threads
    def transform(self, X: ArrayLike) -> np.ndarray:
        """The final core state of each image (mean policy), as features.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images of the shape seen in fit.

        Returns
        -------
        features : ndarray of shape (n_images, core_hidden)
        """
        return self._mean_run(X)[1]

    def _mean_run(self, X):
        """Glimpse path and final core state with the policy means (one run)."""
        _, path, states = self._proba(self._images(X), return_path=True, n_samples=1)
        return path.cpu().double().numpy(), states.cpu().double().numpy()

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy of :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
            Images of the shape seen in fit.
        y : array-like of shape (n_images,)
            True labels.

        Returns
        -------
        score : float
            Share of the images whose predicted label is ``y``'s.
        """
        predicted = self.predict(X)
        labels = np.asarray(y)
        if labels.shape != predicted.shape:
            raise InvalidInputError(
                f"y must be 1-D with one label per image ({len(predicted)}), got shape "
                f"{labels.shape}"
            )
        return float(np.mean(predicted == labels))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
