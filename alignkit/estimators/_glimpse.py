"""GlimpseAligner: recurrent hard attention with glimpses (Mnih et al., NIPS 2014)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidInputError
from ..validation import check_images
from ._torch_base import TorchTrainingMixin

__all__ = ["GlimpseAligner"]

_CORES = ("rnn", "lstm")
_FIRST = ("center", "random")


def _is_int(value, minimum):
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def _is_positive(value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        return False
    return value >= 0 if allow_zero else value > 0


class GlimpseAligner(TorchTrainingMixin, BaseEstimator):
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
    where the model looked.

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
    max_epochs : int, default=30
        Passes over the training images in one call to :meth:`fit` (fewer if
        ``early_stopping`` stops it; with ``warm_start``, this many more).
    device : str, torch.device or None, default="cpu"
        ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``; ``None`` reads the ``device`` key of
        :func:`alignkit.get_config`.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order, the first and sampled locations
        and the validation split, and the sampled or random glimpses of
        prediction; an int makes fits and predictions reproducible. The
        caller's global torch random state is left untouched.
    verbose : int, default=0
        If non-zero, print one line per epoch (:class:`alignkit.callbacks.ProgressBar`).
    warm_start : bool, default=False
        If the estimator is fitted, the next :meth:`fit` continues training
        its networks and optimizer (same image shape; labels among
        ``classes_``) and extends the training record.
    callbacks : list of Callback, default=None
        Called after each epoch; see :mod:`alignkit.callbacks`.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the images and stop when their
        loss (the negative log-likelihood of :meth:`predict_proba`) has not
        improved by more than ``tol`` for ``n_iter_no_change`` epochs; the
        networks of the best epoch are restored.
    validation_fraction : float, default=0.1
        Share of the images held out (rounded up) with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default=10
        Epochs without improvement before ``early_stopping`` stops.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement.

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
    device_ : torch.device
        Device the networks live on.
    reward_curve_ : list of float
        Training accuracy per epoch of the trajectories trained on (sampled,
        random or fixed locations): the mean reward for ``reward="correct"``.
    loss_curve_ : list of float
        Mean training loss per epoch: cross-entropy, plus the baseline's
        squared error and the weighted REINFORCE term when the policy is
        learned.
    validation_scores_ : list of float
        Validation loss per epoch (empty without ``early_stopping``).
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``val_loss`` (with ``early_stopping``)
        and ``time`` (see :mod:`alignkit.callbacks`).
    n_iter_ : int
        Epochs run, counted across ``warm_start`` fits.

    Notes
    -----
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
        n_glimpses=6,
        patch_size=8,
        n_scales=3,
        scale_factor=2,
        glimpse_hidden=128,
        loc_hidden=128,
        core_hidden=256,
        core="rnn",
        policy_std=0.15,
        first_location="random",
        policy="learned",
        reinforce_weight=1.0,
        reward="correct",
        n_mc_samples=1,
        learning_rate=1e-3,
        batch_size=64,
        max_epochs=30,
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
        self.learning_rate = learning_rate
        self.batch_size = batch_size
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

    def _check_params(self):
        name = "GlimpseAligner"
        for param, minimum in (
            ("n_glimpses", 1),
            ("patch_size", 1),
            ("n_scales", 1),
            ("scale_factor", 1),
            ("glimpse_hidden", 1),
            ("loc_hidden", 1),
            ("core_hidden", 1),
            ("n_mc_samples", 1),
            ("batch_size", 1),
        ):
            if not _is_int(getattr(self, param), minimum):
                raise InvalidInputError(
                    f"{name} {param} must be an int >= {minimum}, got {getattr(self, param)!r}"
                )
        if self.core not in _CORES:
            raise InvalidInputError(f"{name} core must be one of {_CORES}, got {self.core!r}")
        if self.policy not in ("learned", "random"):
            raise InvalidInputError(
                f"{name} policy must be 'learned' or 'random', got {self.policy!r}"
            )
        if self.reward not in ("correct", "probability"):
            raise InvalidInputError(
                f"{name} reward must be 'correct' or 'probability', got {self.reward!r}"
            )
        if self.first_location not in _FIRST:
            raise InvalidInputError(
                f"{name} first_location must be one of {_FIRST}, got {self.first_location!r}"
            )
        for param in ("policy_std", "learning_rate"):
            if not _is_positive(getattr(self, param)):
                raise InvalidInputError(
                    f"{name} {param} must be a float > 0, got {getattr(self, param)!r}"
                )
        if not _is_positive(self.reinforce_weight, allow_zero=True):
            raise InvalidInputError(
                f"{name} reinforce_weight must be a float >= 0, got {self.reinforce_weight!r}"
            )
        self._check_training_params()

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

    def fit(self, X, y, locations=None):
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
            label per image or fewer than two classes; if ``locations`` has
            another shape or holds NaN or inf.
        ImportError
            If torch is not installed (the ``alignkit[torch]`` extra).
        """
        self._check_params()
        images = check_images(X, name="X")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(images):
            raise InvalidInputError(
                f"y must be 1-D with one label per image ({len(images)}), got shape {labels.shape}"
            )
        if locations is not None:
            locations = self._check_locations(locations, len(images))
        torch = self._import_torch()
        device = self._resolve_device()
        from ..kernels._torch import _glimpse

        if self._is_warm():
            if tuple(images.shape[1:]) != self.image_shape_:
                raise InvalidInputError(
                    f"X holds images of shape {images.shape[1:]}, but the warm-started model "
                    f"was fitted on {self.image_shape_}"
                )
            unknown = np.setdiff1d(labels, self.classes_)
            if len(unknown):
                raise InvalidInputError(f"y holds label {unknown[0]!r}, unseen in the first fit")
        else:
            self.classes_ = np.unique(labels)
            if len(self.classes_) < 2:
                raise InvalidInputError(
                    f"GlimpseAligner needs at least two classes in y, got {len(self.classes_)}"
                )
        codes = np.searchsorted(self.classes_, labels)
        rng = np.random.default_rng(self._seed())
        train, validation = self._split_validation(len(images), rng)
        data = torch.as_tensor(images, dtype=torch.float32, device=device)
        targets = torch.as_tensor(codes, dtype=torch.long, device=device)
        fixed = (
            None
            if locations is None
            else torch.as_tensor(locations, dtype=torch.float32, device=device)
        )
        with self._torch_context():
            if not self._is_warm():
                self.image_shape_ = tuple(int(s) for s in images.shape[1:])
                self.model_ = _glimpse.RecurrentAttention(
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
                self.optimizer_ = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
                self.reward_curve_ = []

            def train_epoch(_):
                self.model_.train()
                order = train[torch.randperm(len(train)).numpy()]
                total, reward_sum = 0.0, 0.0
                for start in range(0, len(order), self.batch_size):
                    rows = torch.as_tensor(order[start : start + self.batch_size], device=device)
                    loss, reward = self._loss(
                        _glimpse, data[rows], targets[rows], None if fixed is None else fixed[rows]
                    )
                    self.optimizer_.zero_grad()
                    loss.backward()
                    self.optimizer_.step()
                    total += float(loss.detach()) * len(rows)
                    reward_sum += float(reward) * len(rows)
                self.reward_curve_.append(reward_sum / len(order))
                return total / len(order)

            def validate():
                rows = torch.as_tensor(validation, device=device)
                fixed_rows = None if fixed is None else fixed[rows]
                proba = self._proba(data[rows], fixed_rows)
                return float(torch.nn.functional.nll_loss(torch.log(proba + 1e-12), targets[rows]))

            self._run_epochs(train_epoch, validate if len(validation) else None)
        self.model_.eval()
        return self

    def _first(self, batch, like, training):
        if training and self.first_location == "random":
            return _uniform_locations(like, batch)
        return like.new_zeros(batch, 2)

    def _loss(self, glimpse, images, targets, fixed):
        from torch.nn import functional as F

        first = self._first(len(images), images, training=True)
        mode = (
            "fixed" if fixed is not None else ("sample" if self.policy == "learned" else "random")
        )
        logits, log_probs, baselines, _, _ = self.model_(
            images, self.n_glimpses, float(self.policy_std), first, mode=mode, locations=fixed
        )
        classification = F.cross_entropy(logits, targets)
        correct = (logits.argmax(1) == targets).to(images.dtype)
        if self.reward == "correct":
            reward = correct
        else:
            reward = _softmax(logits).detach().gather(1, targets[:, None])[:, 0]
        if mode != "sample" or log_probs.shape[1] == 0:
            return classification, correct.mean()
        rewards = reward.unsqueeze(1).expand_as(baselines)
        baseline_loss = F.mse_loss(baselines, rewards)
        policy_loss = glimpse.reinforce_loss(log_probs, reward, baselines)
        loss = classification + baseline_loss + float(self.reinforce_weight) * policy_loss
        return loss, correct.mean()

    def _proba(self, images, fixed=None, return_path=False, n_samples=None):
        """Class probabilities (and mean-policy glimpse path) without gradients."""
        import torch

        n_samples = self.n_mc_samples if n_samples is None else n_samples
        self.model_.eval()
        probabilities, paths, states = [], [], []
        # Sampled and random glimpses draw from torch's RNG: seeded from random_state
        # (reproducible predictions) inside a fork, so the caller's RNG is untouched.
        with self._torch_context(), torch.no_grad():
            for start in range(0, len(images), 256):
                chunk = images[start : start + 256]
                first = chunk.new_zeros(len(chunk), 2)
                fixed_chunk = None if fixed is None else fixed[start : start + 256]
                if fixed_chunk is not None:
                    runs = [("fixed", fixed_chunk)]
                elif self.policy == "random":
                    runs = [("random", None)] * n_samples
                elif n_samples == 1:
                    runs = [("mean", None)]
                else:
                    runs = [("sample", None)] * n_samples
                proba = 0
                for mode, locations in runs:
                    logits, _, _, path, h = self.model_(
                        chunk,
                        self.n_glimpses,
                        float(self.policy_std),
                        first,
                        mode=mode,
                        locations=locations,
                    )
                    proba = proba + torch.softmax(logits, dim=1) / len(runs)
                probabilities.append(proba)
                paths.append(path)
                states.append(h)
        if return_path:
            return torch.cat(probabilities), torch.cat(paths), torch.cat(states)
        return torch.cat(probabilities)

    def _images(self, X):
        check_is_fitted(self, "model_")
        images = check_images(X, name="X", shape=self.image_shape_)
        torch = self._import_torch()
        return torch.as_tensor(images, dtype=torch.float32, device=self.device_)

    def predict_proba(self, X, locations=None):
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
        torch = self._import_torch()
        array = self._check_locations(locations, n_images)
        return torch.as_tensor(array, dtype=torch.float32, device=self.device_)

    def predict(self, X, locations=None):
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
        return self.classes_[np.argmax(self.predict_proba(X, locations), axis=1)]

    def predict_locations(self, X):
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

    def transform(self, X):
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

    def score(self, X, y):
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


def _softmax(logits):
    import torch

    return torch.softmax(logits, dim=1)


def _uniform_locations(like, batch):
    """Uniform locations in ``[-1, 1]^2`` on ``like``'s device (from torch's seeded RNG)."""
    import torch

    return torch.rand(batch, 2, dtype=like.dtype, device=like.device) * 2 - 1
