"""Base classes of every aligner: the estimator contract, one base per family.

An aligner is a scikit-learn transformer that also aligns one pair with
``align(a, b)``. ``__init__`` only stores parameters; ``fit`` validates and
sets attributes ending in ``_``. There are three families, each on its base:

- sequence aligners (:class:`SequenceAligner`: DTW, uniform warping, plugins
  such as shapeDTW): a collection of sequences in, warped sequences out;
- paired aligners (:class:`PairedAligner`: CTW, deep CTW): a list of
  ``(a, b)`` pairs whose two sides may differ in length and in channels;
  ``align``, ``align_pairs``, ``transform`` and ``score`` are written once
  here and each aligner supplies its model through two hooks;
- image and learned aligners: :class:`BaseAligner` (or scikit-learn's
  mixins) plus the torch training base of ``alignkit.estimators._torch_base``.

``n_channels_`` has one meaning in every family: the channel count that each
item given to ``transform`` must have, in the item's own shape. A sequence
aligner's item is one sequence, so ``n_channels_`` is an int; a paired
aligner's item is a pair, so it is the tuple ``(n_channels_a, n_channels_b)``.

Registry tags are declared on the class, never restated at registration: a
class attribute ``_alignkit_tags`` (a frozenset of str) on any class of the
MRO; :func:`alignkit.core.registry.class_tags` takes their union. The
vocabulary: ``"explicit"`` / ``"implicit"`` (the alignment is the objective /
is learned inside a task), ``"temporal"`` / ``"spatial"``, ``"multimodal"``
(paired input), ``"image"``, ``"baseline"``, and the backends the class runs
on, ``"numba"`` and ``"torch"``.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .core.params import check_estimator_params
from .exceptions import InvalidInputError
from .validation import CollectionLike, check_collection, check_pair, check_sequence, check_window

if TYPE_CHECKING:
    from .core.results import Alignment

__all__ = ["BaseAligner", "SequenceAligner", "PairedAligner", "PAIRED_OUTPUTS", "check_pairs"]

#: What a paired aligner's ``transform`` returns on ``a``'s timeline.
PAIRED_OUTPUTS = ("concat", "a", "b")

# What a paired aligner takes: a list of ``(a, b)`` pairs of sequences.
PairsLike = Sequence[tuple[ArrayLike, ArrayLike]]


class BaseAligner(TransformerMixin, BaseEstimator):
    """Base class of every aligner.

    Subclasses implement :meth:`align` (one pair) and ``fit`` / ``transform``
    over collections. ``transform`` returns an array of shape
    ``(n_sequences, n_timepoints, n_channels)`` on a common timeline (or a
    list when lengths differ), so an aligner can stand first in a
    :class:`~sklearn.pipeline.Pipeline`. Image and learned aligners subclass
    it (or scikit-learn's mixins) together with the torch training base.
    """

    _alignkit_tags = frozenset()

    def align(self, a: ArrayLike, b: ArrayLike) -> "Alignment":
        """Align one pair of sequences.

        Parameters
        ----------
        a : array-like of shape (n,) or (n, n_channels)
            First sequence.
        b : array-like of shape (m,) or (m, n_channels)
            Second sequence.

        Returns
        -------
        alignment : Alignment
            The warping path and its distance.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement align (abstract)")

    def _check_fitted_collection(self, X):
        """Check that the aligner is fitted and validate a collection against ``n_channels_``."""
        check_is_fitted(self)
        return check_collection(X, name="X", n_channels=self.n_channels_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags


class SequenceAligner(BaseAligner):
    """Base of sequence aligners: a collection of sequences in, warped sequences out.

    ``fit(X)`` takes a collection (a list of ``(n_timepoints, n_channels)``
    arrays, a 3-D array or a 2-D array of univariate rows), sets
    ``n_channels_`` (an int) and learns what the aligner needs (a reference
    timeline, for example); ``transform(X)`` puts every sequence on that
    timeline; ``align(a, b)`` aligns one pair.

    ``fit``, ``transform`` and ``align`` are written once here; subclasses
    supply three hooks:

    - ``_fit_timeline(X)``: check the parameters and the collection and set
      the fitted attributes (``n_channels_`` included); an aligner with a
      ``reference`` parameter calls ``_fit_window()`` and
      ``_fit_reference(X, learn)``, which set ``window_``, ``reference_`` and
      ``reference_index_``;
    - ``_to_timeline(sequences)``: the checked sequences, each put on the
      fitted timeline;
    - ``_align_checked(a, b)``: the alignment of one checked pair, for
      :meth:`align`.

    Attributes
    ----------
    n_channels_ : int
        The channel count of the sequences seen in ``fit``, which every
        sequence given to ``transform`` must have.
    """

    _alignkit_tags = frozenset({"temporal"})

    def _fit_window(self):
        """Set ``window_``, the parsed ``window``; a mask is refused in ``fit``."""
        self.window_ = check_window(self.window)
        if self.window_.mask is not None:
            raise InvalidInputError(
                f"{type(self).__name__} window cannot be a mask (sequence lengths vary); "
                "use a radius, a fraction or ('itakura', max_slope)"
            )

    def _fit_reference(self, X, learn, prepare=None):
        """Check the training collection and set the reference timeline.

        Sets ``reference_``, ``reference_index_`` and ``n_channels_`` from the
        ``reference`` parameter: an array is checked and used as given (the
        collection must have its channels); a string is learned from the
        collection by ``learn``.

        Parameters
        ----------
        X : list of array-like, or ndarray
            The training collection.
        learn : callable
            ``learn(sequences) -> (reference, index)``: the reference learned
            from the checked collection, and the index of the training
            sequence it is (or None).
        prepare : callable, default=None
            ``prepare(sequences)``, called on the checked collection first.
        """
        given = None
        if not isinstance(self.reference, str):
            given = check_sequence(self.reference, name="reference")
        channels = None if given is None else given.shape[1]
        sequences = check_collection(X, name="X", n_channels=channels)
        if prepare is not None:
            prepare(sequences)
        if given is None:
            self.reference_, self.reference_index_ = learn(sequences)
        else:
            self.reference_, self.reference_index_ = given, None
        self.n_channels_ = self.reference_.shape[1]

    def fit(self, X: CollectionLike, y: None = None) -> "SequenceAligner":
        """Learn the timeline that :meth:`transform` puts sequences on.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Collection of sequences (see :func:`alignkit.validation.check_collection`).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : SequenceAligner
            The fitted aligner.
        """
        self._fit_timeline(X)
        return self

    def _fit_timeline(self, X):
        """Check the parameters and ``X``, and learn the timeline and ``n_channels_``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _fit_timeline (abstract)")

    def align(self, a: ArrayLike, b: ArrayLike) -> "Alignment":
        """Align one pair with the aligner's parameters (fitting is not needed).

        Parameters
        ----------
        a : array-like of shape (n,) or (n, n_channels)
            First sequence.
        b : array-like of shape (m,) or (m, n_channels)
            Second sequence, with the same channels as ``a``.

        Returns
        -------
        alignment : Alignment
            The aligner's warping path and, as ``distance``, the square root of
            the summed squared Euclidean cost along it, as for :func:`alignkit.dtw`.
        """
        a, b = check_pair(a, b)
        return self._align_checked(a, b)

    def _align_checked(self, a, b):
        """The :class:`~alignkit.Alignment` of a checked pair."""
        raise NotImplementedError(f"{type(self).__name__} must implement _align_checked (abstract)")

    def transform(self, X: CollectionLike) -> np.ndarray:
        """Put every sequence on the fitted timeline.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Collection of sequences with ``n_channels_`` channels.

        Returns
        -------
        X_aligned : ndarray of shape (n_sequences, n_timepoints, n_channels)
            ``n_timepoints`` is the length of the fitted timeline (the
            reference's, ``len(reference_)``, or ``n_timepoints_``) and
            ``n_channels`` is ``n_channels_``.
        """
        return np.stack(self._to_timeline(self._check_fitted_collection(X)))

    def _to_timeline(self, sequences):
        """The checked sequences, each put on the fitted timeline (a list of arrays)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _to_timeline (abstract)")


def _check_side(sequence, name, n_channels):
    sequence = check_sequence(sequence, name=name, n_channels=n_channels)
    if len(sequence) < 2:
        raise InvalidInputError(
            f"{name} has {len(sequence)} timepoint; paired aligners need at least 2 per "
            "sequence (the canonical correlations are estimated from the aligned frames)"
        )
    # Covariances sum squared values: refuse what would overflow them (to inf, then
    # to a LinAlgError or a loss of zeros) with the name of the sequence.
    with np.errstate(over="ignore"):
        energy = np.einsum("ij,ij->", sequence, sequence)
    if not np.isfinite(energy):
        raise InvalidInputError(
            f"{name} is too large: the sum of its squared values overflows float64 "
            f"(largest magnitude {np.max(np.abs(sequence)):.3g}); rescale it, for example "
            "by standardising each channel"
        )
    return sequence


def check_pairs(
    X: PairsLike, n_channels: tuple[int | None, int | None] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validate a paired collection once; offenders are named ``X[k][0]`` / ``X[k][1]``.

    Parameters
    ----------
    X : list of (array-like, array-like)
        Pairs ``(a, b)`` of sequences; every ``a`` must have the channels of
        the first ``a``, every ``b`` those of the first ``b``.
    n_channels : tuple of (int or None), default=None
        Channel counts ``(n_channels_a, n_channels_b)`` to require (those
        seen in ``fit``); ``None`` takes them from the first pair.

    Returns
    -------
    pairs : list of tuple of ndarray
        ``(a, b)`` per pair, float64 of shape ``(n_timepoints, n_channels)``
        with at least 2 timepoints.

    Raises
    ------
    InvalidInputError
        If ``X`` is empty or not a list of pairs, or a sequence is invalid,
        has a single timepoint, has the wrong number of channels, or is so
        large that the sum of its squared values overflows float64.

    Examples
    --------
    >>> from alignkit.base import check_pairs
    >>> [(a.shape, b.shape) for a, b in check_pairs([([0, 1, 2], [[0, 1], [1, 2]])])]
    [((3, 1), (2, 2))]
    """
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or len(X) == 0:
        raise InvalidInputError("X must be a non-empty list of (a, b) pairs of sequences")
    n_channels = list(n_channels) if n_channels is not None else [None, None]
    pairs = []
    for k, pair in enumerate(X):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidInputError(
                f"X[{k}] must be a pair (a, b) of sequences, got {type(pair).__name__}"
                + (f" of length {len(pair)}" if hasattr(pair, "__len__") else "")
            )
        checked = []
        for side in (0, 1):
            sequence = _check_side(pair[side], f"X[{k}][{side}]", n_channels[side])
            n_channels[side] = sequence.shape[1]
            checked.append(sequence)
        pairs.append(tuple(checked))
    return pairs


def _resample(sequence, length):
    """Resample a ``(n_timepoints, n_channels)`` array linearly to ``length`` timepoints."""
    if len(sequence) == 1:
        return np.repeat(sequence, length, axis=0)
    old = np.linspace(0.0, 1.0, len(sequence))
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, channel) for channel in sequence.T], axis=1)


def _correlation(x, z):
    """Pearson correlation of two 1-D arrays (0 when one of them is constant)."""
    x, z = x - x.mean(), z - z.mean()
    spread = np.sqrt(np.sum(x**2) * np.sum(z**2))
    return float(np.sum(x * z) / spread) if spread > 0 else 0.0


class PairedAligner(BaseAligner):
    """Base of paired aligners: a list of ``(a, b)`` pairs of two modalities.

    ``a`` and ``b`` may differ in length and in channels. ``fit(X)`` learns a
    model of the two modalities (projections into a shared space) from
    training pairs and sets ``n_channels_ = (n_channels_a, n_channels_b)``;
    :meth:`align_pairs`, :meth:`transform` and :meth:`score` align held-out
    pairs with that model, and so does :meth:`align` once fitted.

    Subclasses have the parameters ``output`` (one of ``PAIRED_OUTPUTS``)
    and ``n_timepoints`` (None or an int), declare ``_parameter_constraints``,
    and supply two hooks:

    - ``_align_fitted(pairs)``: for validated pairs, a list of
      ``(alignment, variates_a, variates_b)`` with the fitted model, where the
      variates are each side's canonical variates on its own timeline;
    - ``_align_unfitted(a, b)`` (optional): what :meth:`align` does before
      ``fit``; by default it raises :class:`~sklearn.exceptions.NotFittedError`.

    ``_fitted_attribute`` names the attribute whose presence means fitted.

    Attributes
    ----------
    n_channels_ : tuple of int
        ``(n_channels_a, n_channels_b)``: the channel counts of the two sides
        seen in ``fit``, which every pair given to ``transform`` must have.
    """

    _alignkit_tags = frozenset({"temporal", "multimodal"})
    _fitted_attribute = "n_channels_"

    def _is_fitted(self):
        return hasattr(self, self._fitted_attribute)

    def _check_fitted_pairs(self, X):
        check_is_fitted(self, self._fitted_attribute)
        check_estimator_params(self)
        return check_pairs(X, self.n_channels_)

    def _align_fitted(self, pairs):
        raise NotImplementedError(f"{type(self).__name__} must implement _align_fitted (abstract)")

    def _align_unfitted(self, a, b):
        raise NotFittedError(
            f"This {type(self).__name__} instance is not fitted yet: align(a, b) uses the "
            "model learned by fit. Call 'fit' with a list of (a, b) pairs first."
        )

    def align(self, a: ArrayLike, b: ArrayLike) -> "Alignment":
        """Align one pair; once fitted, with the fitted model.

        Parameters
        ----------
        a : array-like of shape (n, n_channels_a)
            Sequence of the first modality.
        b : array-like of shape (m, n_channels_b)
            Sequence of the second modality; it may differ from ``a`` in
            length and in channel count.

        Returns
        -------
        alignment : Alignment
            After ``fit``, the alignment :meth:`align_pairs` gives this pair.
            Before, what the aligner defines (CTW learns a model of this
            pair alone; aligners that need training raise
            :class:`~sklearn.exceptions.NotFittedError`).
        """
        if not self._is_fitted():
            return self._align_unfitted(_check_side(a, "a", None), _check_side(b, "b", None))
        check_estimator_params(self)
        pair = (_check_side(a, "a", self.n_channels_[0]), _check_side(b, "b", self.n_channels_[1]))
        return self._align_fitted([pair])[0][0]

    def align_pairs(self, X: PairsLike) -> list["Alignment"]:
        """Align every pair with the fitted model, without refitting it.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in ``fit``.

        Returns
        -------
        alignments : list of Alignment
            One per pair, in order.
        """
        return [alignment for alignment, _, _ in self._align_fitted(self._check_fitted_pairs(X))]

    def transform(self, X: PairsLike) -> np.ndarray | list[np.ndarray]:
        """Canonical variates of every pair on ``a``'s timeline.

        Each pair is aligned as by :meth:`align_pairs`; ``b``'s variates are
        put on ``a``'s timeline (:meth:`~alignkit.Alignment.warp_to_a`, averaging the
        frames matched to one frame).

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in ``fit``.

        Returns
        -------
        X_aligned : ndarray of shape (n_pairs, n_timepoints, n_features) or list
            Per pair ``len(a)`` (or ``n_timepoints``) frames of ``a``'s
            variates then ``b``'s (``output="concat"``, ``2 * n_components``
            features), or one of them (``"a"``, ``"b"``). An array when every
            pair gives the same length, else a list of arrays.
        """
        outputs = []
        for alignment, variates_a, variates_b in self._align_fitted(self._check_fitted_pairs(X)):
            chosen = {"a": [variates_a], "b": [alignment.warp_to_a(variates_b)]}
            chosen["concat"] = chosen["a"] + chosen["b"]
            output = np.hstack(chosen[self.output])
            if self.n_timepoints is not None:
                output = _resample(output, self.n_timepoints)
            outputs.append(output)
        if len({len(output) for output in outputs}) == 1:
            return np.stack(outputs)
        return outputs

    def score(self, X: PairsLike, y: None = None) -> float:
        """Mean canonical correlation of held-out pairs aligned by the fitted model.

        An unsupervised criterion for model selection (``GridSearchCV``
        without ground-truth paths): each pair is aligned as by
        :meth:`align_pairs`, and the Pearson correlation between ``a``'s and
        ``b``'s canonical variates along the path is averaged over components
        and pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs with the channel counts seen in ``fit``.
        y : None
            Ignored.

        Returns
        -------
        score : float
            In ``[-1, 1]``; higher is better.
        """
        correlations = []
        for alignment, variates_a, variates_b in self._align_fitted(self._check_fitted_pairs(X)):
            warped_a, warped_b = alignment.warp(variates_a, variates_b)
            correlations.extend(
                _correlation(warped_a[:, k], warped_b[:, k]) for k in range(warped_a.shape[1])
            )
        return float(np.mean(correlations))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input is a list of (a, b) pairs, which scikit-learn's array checks cannot build.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        return tags
