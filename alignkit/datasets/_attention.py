"""Synthetic tasks with known alignments for attention models: warped copies, digit captions."""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from ..core.params import validate_params
from ._constraints import N_TIMEPOINTS, NON_NEGATIVE, POSITIVE_INT, RandomStateLike, length_range
from ._images import CANVAS_CONSTRAINTS, DigitCanvas, _digit_canvas

__all__ = ["make_digit_captions", "make_warped_copy"]

# Standard-normal quantile of 2/3: thresholds that cut N(0, 1) into three equal parts.
_TERCILE = 0.4307272992954576
_CAPTION_PARAMETERS = (
    "n_images",
    "kind",
    "canvas_size",
    "digit_size",
    "n_clutter",
    "noise",
    "source_indices",
    "random_state",
)


def _repeat_counts(source, content_repeats, rng):
    """How many times each source frame appears in the copy (0, 1 or 2)."""
    if content_repeats:
        # The first channel decides: below the lower tercile 0, above the upper 2, else 1.
        first = source[:, 0]
        return np.where(first < -_TERCILE, 0, np.where(first > _TERCILE, 2, 1))
    return rng.integers(0, 3, len(source))


def _copy_path(sources, n_timepoints):
    """The monotone path through ``(sources[j], j)``; skipped source frames stay with ``j - 1``.

    Source frames before ``sources[0]`` go with target frame 0 and those after
    ``sources[-1]`` with the last target frame, so the path runs from ``(0, 0)``
    to ``(n - 1, m - 1)``.
    """
    path = [(i, 0) for i in range(sources[0])]
    previous = sources[0]
    path.append((previous, 0))
    for j in range(1, len(sources)):
        path.extend((i, j - 1) for i in range(previous + 1, sources[j]))
        path.append((sources[j], j))
        previous = sources[j]
    path.extend((i, len(sources) - 1) for i in range(previous + 1, n_timepoints))
    return np.asarray(path, dtype=np.int64)


@validate_params(
    {
        "n_pairs": [POSITIVE_INT],
        "n_timepoints": N_TIMEPOINTS,
        "n_channels": [POSITIVE_INT],
        "noise": [NON_NEGATIVE],
        "reverse": ["boolean"],
        "content_repeats": ["boolean"],
        "return_sources": ["boolean"],
        "random_state": ["random_state"],
    }
)
def make_warped_copy(
    n_pairs: int = 100,
    n_timepoints: int | tuple[int, int] = (15, 20),
    n_channels: int = 4,
    noise: float = 0.1,
    reverse: bool = False,
    content_repeats: bool = False,
    return_sources: bool = False,
    random_state: RandomStateLike = None,
) -> tuple[list, ...]:
    """Sources and their copies under a random monotone time warp, with the true alignment.

    Each source ``a`` holds standard-normal frames. Its copy ``b`` plays the
    source frames in order (or in reverse order), each repeated 0, 1 or 2
    times, and adds Gaussian noise. Target frame ``b[j]`` therefore shows
    source frame ``sources[j]`` exactly, which is the ground truth for soft
    attention (see :class:`~alignkit.estimators._soft_attention.SoftAttentionAligner`).

    Parameters
    ----------
    n_pairs : int, default=100
        Number of pairs.
    n_timepoints : int or tuple of int, default=(15, 20)
        Source length, or a range ``(low, high)`` (inclusive) to draw each
        source length from uniformly; at least 2.
    n_channels : int, default=4
        Channels of every frame.
    noise : float, default=0.1
        Standard deviation of the noise added to the copies.
    reverse : bool, default=False
        Copy the source frames in reverse order (anti-diagonal truth), so an
        attention model cannot find them from their position alone.
    content_repeats : bool, default=False
        Draw each frame's repeat count from its content instead of at random:
        0 when its first channel is below the lower tercile of N(0, 1), 2 above
        the upper tercile, 1 between. A model that reads the source can then
        predict the copy exactly.
    return_sources : bool, default=False
        Also return the source frame shown by each target frame.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    pairs : list of tuple of ndarray
        ``(a, b)``: ``a`` of shape ``(n_k, n_channels)`` and ``b`` of shape
        ``(m_k, n_channels)`` with ``m_k >= 1``.
    true_paths : list of ndarray of shape (path_length_k, 2), dtype int64
        Pairs ``(i, j)`` (source frame, target frame): the points
        ``(sources[j], j)``, and the skipped source frames matched to the
        previous target frame (the convention of
        :func:`alignkit.datasets.warp_to_path`). Forward copies give a monotone,
        continuous path from ``(0, 0)`` to ``(n_k - 1, m_k - 1)``; reversed
        copies give its mirror image ``i -> n_k - 1 - i``, from
        ``(n_k - 1, 0)`` to ``(0, m_k - 1)``.
    sources : list of ndarray of shape (m_k,), dtype int64
        Only with ``return_sources``: the source frame of each target frame.

    Examples
    --------
    >>> from alignkit.datasets import make_warped_copy
    >>> pairs, paths, sources = make_warped_copy(
    ...     n_pairs=2, n_timepoints=5, noise=0.0, return_sources=True, random_state=0
    ... )
    >>> a, b = pairs[0]
    >>> bool((b == a[sources[0]]).all())
    True
    >>> paths[0][0].tolist(), paths[0][-1].tolist() == [len(a) - 1, len(b) - 1]
    ([0, 0], True)
    """
    low, high = length_range(n_timepoints)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    pairs, paths, all_sources = [], [], []
    for _ in range(n_pairs):
        length = int(rng.integers(low, high + 1))
        source = rng.standard_normal((length, n_channels))
        counts = _repeat_counts(source, content_repeats, rng)
        if counts.sum() == 0:  # an empty copy has no alignment: keep one frame
            counts[rng.integers(length)] = 1
        order = np.arange(length)[::-1] if reverse else np.arange(length)
        sources = np.repeat(order, counts[order])
        target = source[sources] + noise * rng.standard_normal((len(sources), n_channels))
        if reverse:
            path = _copy_path(length - 1 - sources, length)
            path[:, 0] = length - 1 - path[:, 0]
        else:
            path = _copy_path(sources, length)
        pairs.append((source, target))
        paths.append(path)
        all_sources.append(sources.astype(np.int64))
    if return_sources:
        return pairs, paths, all_sources
    return pairs, paths


@validate_params({name: CANVAS_CONSTRAINTS[name] for name in _CAPTION_PARAMETERS})
def make_digit_captions(
    n_images: int | None = None,
    kind: str = "T",
    *,
    canvas_size: int | None = None,
    digit_size: int = 16,
    n_clutter: int = 4,
    noise: float = 0.0,
    source_indices: ArrayLike | None = None,
    random_state: RandomStateLike = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], DigitCanvas]:
    """Digit canvases paired with two-token captions: the class, then its parity.

    The images are :func:`alignkit.datasets.make_digit_canvas`'s; the caption
    of a digit ``d`` is ``np.array([str(d), "even" or "odd"])``. The first
    token names the digit, so a captioning model should look inside the
    digit's box (returned with the canvas) when it emits it: the ground truth
    for grid attention (see
    :class:`~alignkit.estimators._soft_attention.SoftAttentionAligner`).

    Parameters
    ----------
    n_images : int, default=None
        Number of images; ``None`` uses each bundled digit once.
    kind : {"clean", "A", "R", "RTS", "P", "T", "TC"}, default="T"
        Distortion (see :func:`alignkit.datasets.make_digit_canvas`); the
        default translates the digit on a canvas 2.5 times its size, so its
        box moves from image to image.
    canvas_size : int, default=None
        Side of the canvas, in pixels (see
        :func:`alignkit.datasets.make_digit_canvas` for the default).
    digit_size : int, default=16
        Side of the upsampled digit before distortion, at least 2.
    n_clutter : int, default=4
        Clutter patches for ``kind="TC"``.
    noise : float, default=0.0
        Standard deviation of Gaussian pixel noise, at least 0.
    source_indices : array-like of int, default=None
        Which of the 1797 bundled digits to use; default all.
    random_state : int, RandomState instance or None, default=None
        Seed of the transforms, the order of the sources and the clutter.

    Returns
    -------
    pairs : list of tuple
        ``(image, caption)``: an image of shape ``(canvas_size, canvas_size)``
        and a string array of shape ``(2,)``.
    canvas : DigitCanvas
        The images with their labels, transforms and boxes
        ``(row_min, col_min, row_max, col_max)`` in pixels.

    Examples
    --------
    >>> from alignkit.datasets._attention import make_digit_captions
    >>> pairs, canvas = make_digit_captions(3, random_state=0)
    >>> image, caption = pairs[0]
    >>> label = canvas.labels[0]
    >>> image.shape, caption.tolist() == [str(label), ["even", "odd"][label % 2]]
    ((40, 40), True)
    """
    canvas = _digit_canvas(
        n_images,
        kind,
        canvas_size,
        digit_size,
        n_clutter,
        None,
        noise,
        source_indices,
        random_state,
    )
    captions = [np.array([str(label), ("even", "odd")[label % 2]]) for label in canvas.labels]
    return list(zip(canvas.images, captions)), canvas
