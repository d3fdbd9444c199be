"""Sequences and images with known ground-truth alignments, for examples and tests."""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from ..core.params import Pair, validate_params
from ..exceptions import InvalidInputError
from ._constraints import (
    N_TIMEPOINTS,
    NON_NEGATIVE,
    POSITIVE_INT,
    SPEED,
    RandomStateLike,
    at_least,
    length_range,
)

__all__ = [
    "make_ecg_pair",
    "warp_to_path",
    "make_warped_collection",
    "make_warped_spirals",
    "make_nonlinear_views",
    "warp_views",
]

_SPEED = {"speed": [SPEED]}


@validate_params({"positions": ["array-like"], "n_timepoints": [POSITIVE_INT]})
def warp_to_path(positions: ArrayLike, n_timepoints: int) -> np.ndarray:
    """Turn a known time warp into a ground-truth warping path.

    Parameters
    ----------
    positions : array-like of shape (m,)
        Non-decreasing positions, in frames of ``a``, of each frame of ``b``:
        ``b[j]`` shows what ``a`` shows at (fractional) frame ``positions[j]``.
    n_timepoints : int
        Length ``n`` of ``a``.

    Returns
    -------
    path : ndarray of shape (path_length, 2), dtype int64
        The monotone, continuous path from ``(0, 0)`` to ``(n-1, m-1)``
        through the rounded positions; where ``b`` skips frames of ``a`` the
        skipped frames are matched to the earlier frame of ``b``.

    Examples
    --------
    >>> from alignkit.datasets import warp_to_path
    >>> warp_to_path([0.0, 2.0, 3.0], 4).tolist()
    [[0, 0], [1, 0], [2, 1], [3, 2]]
    """
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 1 or len(positions) == 0 or not np.isfinite(positions).all():
        raise InvalidInputError("positions must be a non-empty 1-D array of finite numbers")
    if np.any(np.diff(positions) < 0):
        raise InvalidInputError("positions must be non-decreasing (a warp is monotone)")
    if len(positions) == 1:
        return np.column_stack([np.arange(n_timepoints), np.zeros(n_timepoints)]).astype(np.int64)
    rows = np.clip(np.floor(positions + 0.5).astype(np.int64), 0, n_timepoints - 1)
    rows[0], rows[-1] = 0, n_timepoints - 1
    path = [(0, 0)]
    for j in range(1, len(rows)):
        i_prev = path[-1][0]
        # Skipped frames of a stay with the previous frame of b.
        path.extend((i, j - 1) for i in range(i_prev + 1, rows[j]))
        path.append((max(rows[j], i_prev), j))
    return np.asarray(path, dtype=np.int64)


def _heartbeat(phase):
    """One synthetic ECG beat (P wave, QRS complex, T wave) at phases in [0, 1)."""
    waves = (
        (0.2, 0.15, 0.025),
        (0.36, -0.12, 0.01),
        (0.4, 1.0, 0.012),
        (0.44, -0.25, 0.012),
        (0.65, 0.3, 0.05),
    )
    return sum(amp * np.exp(-0.5 * ((phase - centre) / width) ** 2) for centre, amp, width in waves)


def _ecg(time, beat_times):
    """ECG value at ``time`` given increasing beat start times."""
    index = np.clip(np.searchsorted(beat_times, time, side="right") - 1, 0, len(beat_times) - 2)
    phase = (time - beat_times[index]) / (beat_times[index + 1] - beat_times[index])
    return _heartbeat(phase)


@validate_params(
    {
        "n_timepoints_a": [at_least(2)],
        "n_timepoints_b": [at_least(2)],
        "n_beats": [at_least(2)],
        "noise": [NON_NEGATIVE],
        "random_state": ["random_state"],
    }
)
def make_ecg_pair(
    n_timepoints_a: int = 300,
    n_timepoints_b: int = 240,
    n_beats: int = 3,
    noise: float = 0.02,
    random_state: RandomStateLike = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two recordings of the same heartbeats at different, varying speeds.

    A synthetic electrocardiogram (P wave, QRS complex, T wave per beat, with
    beat-to-beat variability) is sampled uniformly as ``a`` and along a
    random smooth monotone time warp as ``b``; both get Gaussian noise and
    ``b`` a slow baseline wander. The warp is known, so the true alignment is
    known.

    Parameters
    ----------
    n_timepoints_a : int, default=300
        Length of ``a``, at least 2.
    n_timepoints_b : int, default=240
        Length of ``b``, at least 2.
    n_beats : int, default=3
        Number of heartbeats, at least 2.
    noise : float, default=0.02
        Standard deviation of the added noise, at least 0.
    random_state : int, RandomState instance or None, default=0
        Seed of the beat variability, the warp and the noise.

    Returns
    -------
    a : ndarray of shape (n_timepoints_a, 1)
    b : ndarray of shape (n_timepoints_b, 1)
    true_path : ndarray of shape (path_length, 2)
        The ground-truth alignment (see :func:`warp_to_path`).

    Examples
    --------
    >>> from alignkit.datasets import make_ecg_pair
    >>> a, b, true_path = make_ecg_pair()
    >>> a.shape, b.shape, true_path[-1].tolist()
    ((300, 1), (240, 1), [299, 239])
    """
    rng = check_random_state(random_state)
    beat_times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.8, 1.2, n_beats))])
    duration = beat_times[-1]
    time_a = np.linspace(0.0, duration, n_timepoints_a)
    # Smooth monotone warp of [0, 1]: normalised cumulative sum of positive rates.
    knots = np.exp(rng.normal(0.0, 0.35, 6))
    rate = np.interp(np.linspace(0, 1, n_timepoints_b), np.linspace(0, 1, 6), knots)
    warp = np.concatenate([[0.0], np.cumsum(rate[1:])])
    time_b = duration * warp / warp[-1]
    a = _ecg(time_a, beat_times) + noise * rng.standard_normal(n_timepoints_a)
    wander = 0.05 * np.sin(2 * np.pi * time_b / duration + rng.uniform(0, 2 * np.pi))
    b = _ecg(time_b, beat_times) + wander + noise * rng.standard_normal(n_timepoints_b)
    positions = time_b / duration * (n_timepoints_a - 1)
    return a[:, None], b[:, None], warp_to_path(positions, n_timepoints_a)


@validate_params(
    {
        "n_sequences": [POSITIVE_INT],
        "n_timepoints": N_TIMEPOINTS,
        "n_classes": [POSITIVE_INT],
        "noise": [NON_NEGATIVE],
        "random_state": ["random_state"],
    }
)
def make_warped_collection(
    n_sequences: int = 20,
    n_timepoints: int | tuple[int, int] = (40, 80),
    n_classes: int = 2,
    noise: float = 0.05,
    random_state: RandomStateLike = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Labelled sequences that differ by random time warps of per-class templates.

    Each class has a smooth template; each sequence is its class template
    resampled along a random monotone warp to a random length, plus noise. A
    classifier that is fooled by timing needs alignment to do well.

    Parameters
    ----------
    n_sequences : int, default=20
        Number of sequences.
    n_timepoints : int or tuple of int, default=(40, 80)
        Length of every sequence, or an inclusive range ``(low, high)`` of
        lengths; at least 2.
    n_classes : int, default=2
        Number of classes (templates).
    noise : float, default=0.05
        Standard deviation of the added noise, at least 0.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : list of ndarray of shape (n_timepoints_i, 1)
    y : ndarray of shape (n_sequences,)
        Class labels.

    Examples
    --------
    >>> from alignkit.datasets import make_warped_collection
    >>> X, y = make_warped_collection(n_sequences=4, random_state=0)
    >>> len(X), y.shape
    (4, (4,))
    """
    low, high = length_range(n_timepoints)
    rng = check_random_state(random_state)
    grid = np.linspace(0.0, 1.0, 200)
    templates = [
        np.sin(2 * np.pi * (k + 1) * grid) * np.exp(-((grid - 0.5) ** 2) / 0.08)
        for k in range(n_classes)
    ]
    y = rng.randint(n_classes, size=n_sequences)
    X = []
    for label in y:
        length = rng.randint(low, high + 1)
        rate = np.interp(
            np.linspace(0, 1, length), np.linspace(0, 1, 5), np.exp(rng.normal(0.0, 0.3, 5))
        )
        warp = np.concatenate([[0.0], np.cumsum(rate[1:])])
        sequence = np.interp(warp / warp[-1], grid, templates[label])
        X.append((sequence + noise * rng.standard_normal(length))[:, None])
    return X, y


def _piecewise_linear_warp(n_latent, n_segments, speed, rng):
    """Latent positions of the frames of one randomly warped copy (ZCTW ``tranTemLn``).

    The latent timeline ``[0, n_latent - 1]`` is cut into ``n_segments`` equal
    segments; each is played at a rate drawn from ``U[speed]``, i.e. covered
    by ``round(rate * segment_length)`` frames (at least one).
    """
    segment = (n_latent - 1) / n_segments
    rates = rng.uniform(speed[0], speed[1], n_segments)
    frames = np.maximum(1, np.floor(rates * segment + 0.5)).astype(np.int64)
    frame_knots = np.concatenate([[0], np.cumsum(frames)])
    latent_knots = np.linspace(0.0, n_latent - 1.0, n_segments + 1)
    return np.interp(np.arange(frame_knots[-1] + 1), frame_knots, latent_knots)


def _paths_to_first(positions):
    """Ground-truth paths between the first warped copy and each copy, from latent positions."""
    first = positions[0]
    frames = np.arange(len(first), dtype=float)
    return [warp_to_path(np.interp(p, first, frames), len(first)) for p in positions]


def _spiral(positions, n_latent):
    """The latent 2-D spiral of ZCTW ``toyLatSeq`` at fractional (0-based) latent frames."""
    fraction = positions / (n_latent - 1)
    tau = 4 * np.pi * (np.sqrt(fraction) * (n_latent - 1) + 1) / n_latent
    return np.column_stack([tau * np.cos(tau), tau * np.sin(tau)])


@validate_params(
    {
        "n_sequences": [at_least(2)],
        "n_timepoints": [at_least(2)],
        "n_segments": [POSITIVE_INT],
        **_SPEED,
        "noise": [NON_NEGATIVE],
        "return_positions": ["boolean"],
        "random_state": ["random_state"],
    }
)
def make_warped_spirals(
    n_sequences: int = 2,
    n_timepoints: int = 300,
    n_segments: int = 5,
    speed: tuple[float, float] = (0.3, 0.9),
    noise: float = 2.0,
    return_positions: bool = False,
    random_state: RandomStateLike = None,
) -> tuple[list[np.ndarray], ...]:
    """Randomly warped, transformed copies of a 2-D spiral: the CTW/GTW synthetic protocol.

    Each sequence plays a latent spiral of ``n_timepoints`` frames along its
    own piecewise-linear time warp, is mapped by its own random affine map
    (rotation, axis scaling, translation) and gets one extra channel of pure
    Gaussian noise, as in Zhou and De la Torre's experiments (reference
    MATLAB code ``toyAliSrc.m``). Sequences therefore differ in timing and in
    their spatial coordinates, which defeats plain DTW.

    Parameters
    ----------
    n_sequences : int, default=2
        Number of sequences, at least 2.
    n_timepoints : int, default=300
        Length of the latent spiral; sequences have about
        ``mean(speed) * n_timepoints`` frames.
    n_segments : int, default=5
        Number of equal latent segments, each played at its own speed.
    speed : tuple of float, default=(0.3, 0.9)
        Range ``(low, high)``, ``0 < low <= high``, of the uniform segment
        speeds (frames per latent frame).
    noise : float, default=2.0
        Standard deviation of the added noise channel, at least 0.
    return_positions : bool, default=False
        Also return the latent position of every frame.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    sequences : list of ndarray of shape (n_timepoints_k, 3)
        Two spatial channels ``R S (z + t)`` (rotation angle in
        ``U[0, 180]`` degrees, axis scales in ``U[0, 2]``, translation ``t``
        in ``U[0, 2]`` times the spiral's range per axis) and the noise channel.
    true_paths : list of ndarray of shape (path_length_k, 2)
        ``true_paths[k]`` aligns ``sequences[0]`` (first column) with
        ``sequences[k]`` (second column), see :func:`warp_to_path`;
        ``true_paths[0]`` is the diagonal.
    positions : list of ndarray of shape (n_timepoints_k,)
        Only with ``return_positions``: the (fractional, 0-based) latent frame
        shown by each frame of each sequence, the common latent timeline.

    References
    ----------
    .. [1] F. Zhou and F. De la Torre, "Canonical time warping for alignment
       of human behavior", NIPS 2009.

    Examples
    --------
    >>> from alignkit.datasets import make_warped_spirals
    >>> (a, b), (_, true_path) = make_warped_spirals(random_state=0)
    >>> a.shape[1], b.shape[1]
    (3, 3)
    >>> true_path[0].tolist(), true_path[-1].tolist() == [len(a) - 1, len(b) - 1]
    ([0, 0], True)
    """
    rng = check_random_state(random_state)
    positions, sequences = [], []
    for _ in range(n_sequences):
        position = _piecewise_linear_warp(n_timepoints, n_segments, speed, rng)
        latent = _spiral(position, n_timepoints)
        extent = np.ptp(_spiral(np.arange(n_timepoints, dtype=float), n_timepoints), axis=0)
        angle = rng.uniform(0.0, np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        scales = rng.uniform(0.0, 2.0, 2)
        shift = rng.uniform(0.0, 2.0, 2) * extent
        spatial = ((latent + shift) * scales) @ rotation.T
        channel = noise * rng.standard_normal(len(position))
        sequences.append(np.column_stack([spatial, channel]))
        positions.append(position)
    true_paths = _paths_to_first(positions)
    if return_positions:
        return sequences, true_paths, positions
    return sequences, true_paths


@validate_params(
    {
        "recording": ["array-like"],
        "views": [list, tuple],
        "n_segments": [POSITIVE_INT],
        **_SPEED,
        "random_state": ["random_state"],
    }
)
def warp_views(
    recording: ArrayLike,
    views: list[list[int]],
    n_segments: int = 5,
    speed: tuple[float, float] = (0.3, 0.9),
    random_state: RandomStateLike = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a synchronised recording into views and warp each with a known random warp.

    Real multimodal data rarely come with ground-truth alignments; this turns
    one synchronised multichannel recording (accelerometer and gyroscope, say)
    into views with known alignments. Each view is resampled linearly along
    its own piecewise-linear time warp (the generator of
    :func:`make_warped_spirals`).

    Parameters
    ----------
    recording : array-like of shape (n_timepoints, n_channels)
        One synchronised recording.
    views : list of list of int
        Channel indices of each view, at least two views.
    n_segments : int, default=5
        Number of equal segments of each warp.
    speed : tuple of float, default=(0.3, 0.9)
        Range ``(low, high)``, ``0 < low <= high``, of the uniform segment speeds.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    warped_views : list of ndarray of shape (n_timepoints_k, len(views[k]))
    true_paths : list of ndarray of shape (path_length_k, 2)
        ``true_paths[k]`` aligns ``warped_views[0]`` with ``warped_views[k]``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.datasets import warp_views
    >>> recording = np.random.default_rng(0).normal(size=(100, 6))
    >>> (acc, gyro), (_, true_path) = warp_views(recording, [[0, 1, 2], [3, 4, 5]], random_state=0)
    >>> acc.shape[1], gyro.shape[1], true_path[-1].tolist() == [len(acc) - 1, len(gyro) - 1]
    (3, 3, True)
    """
    from ..validation import check_sequence

    recording = check_sequence(recording, name="recording")
    n_timepoints, n_channels = recording.shape
    if n_timepoints < 2:
        raise InvalidInputError("recording must have at least 2 timepoints")
    if len(views) < 2:
        raise InvalidInputError("views must be a list of at least 2 lists of channel indices")
    channels = []
    for k, view in enumerate(views):
        index = np.asarray(view)
        if (
            index.ndim != 1
            or len(index) == 0
            or not np.issubdtype(index.dtype, np.integer)
            or index.min() < -n_channels
            or index.max() >= n_channels
        ):
            raise InvalidInputError(
                f"views[{k}] must be a non-empty list of channel indices below {n_channels}, "
                f"got {view!r}"
            )
        channels.append(index)
    rng = check_random_state(random_state)
    frames = np.arange(n_timepoints, dtype=float)
    positions, warped = [], []
    for index in channels:
        position = _piecewise_linear_warp(n_timepoints, n_segments, speed, rng)
        warped.append(
            np.column_stack([np.interp(position, frames, c) for c in recording[:, index].T])
        )
        positions.append(position)
    return warped, _paths_to_first(positions)


def _random_nonlinear_map(n_outputs, nonlinearity, rng):
    """A random map ``z -> W2 tanh(s W1 z + c)`` of the standardised 2-D latent."""
    inner = rng.standard_normal((n_outputs, 2))
    bias = rng.standard_normal(n_outputs)
    outer = rng.standard_normal((n_outputs, n_outputs)) / np.sqrt(n_outputs)

    def apply(latent):
        return np.tanh(nonlinearity * latent @ inner.T + bias) @ outer.T

    return apply


@validate_params(
    {
        "n_pairs": [POSITIVE_INT],
        "n_timepoints": [at_least(2)],
        "nonlinearity": [NON_NEGATIVE],
        "n_channels": [Pair(POSITIVE_INT)],
        "n_noise": [at_least(0)],
        "noise": [NON_NEGATIVE],
        "n_segments": [POSITIVE_INT],
        **_SPEED,
        "return_positions": ["boolean"],
        "random_state": ["random_state"],
    }
)
def make_nonlinear_views(
    n_pairs: int = 20,
    n_timepoints: int = 300,
    nonlinearity: float = 1.5,
    n_channels: tuple[int, int] = (10, 15),
    n_noise: int = 2,
    noise: float = 1.0,
    n_segments: int = 5,
    speed: tuple[float, float] = (0.3, 0.9),
    return_positions: bool = False,
    random_state: RandomStateLike = None,
) -> tuple[list, ...]:
    """Pairs of nonlinear views of a warped spiral: the DCTW synthetic protocol.

    The spiral protocol of :func:`make_warped_spirals`, with each modality
    seen through its own random NONLINEAR map instead of an affine one, so
    that linear CTW cannot recover the shared latent. The latent 2-D spiral
    ``z`` (standardised per axis over the latent timeline) is mapped to view
    ``a`` by ``W2 tanh(s W1 z + c)`` in ``n_channels[0]`` dimensions and to
    view ``b`` by an independent map of the same form in ``n_channels[1]``
    dimensions (``s`` is ``nonlinearity``); each view gets ``n_noise`` extra
    channels of pure Gaussian noise. The two maps are drawn once and shared
    by all pairs, so a model fitted on some pairs applies to new ones; each
    sequence of each pair plays the latent along its own random
    piecewise-linear time warp.

    Parameters
    ----------
    n_pairs : int, default=20
        Number of ``(a, b)`` pairs.
    n_timepoints : int, default=300
        Length of the latent spiral; sequences have about
        ``mean(speed) * n_timepoints`` frames.
    nonlinearity : float, default=1.5
        Scale ``s`` inside the ``tanh``: 0 gives constant views, small values
        nearly linear ones, large values saturated, strongly nonlinear ones.
    n_channels : tuple of int, default=(10, 15)
        Dimensions of the nonlinear maps of view ``a`` and view ``b``.
    n_noise : int, default=2
        Number of pure-noise channels appended to each view.
    noise : float, default=1.0
        Standard deviation of the noise channels (a mapped channel has a
        standard deviation of about 0.5 to 1).
    n_segments : int, default=5
        Number of equal latent segments of each time warp.
    speed : tuple of float, default=(0.3, 0.9)
        Range of the uniform segment speeds (frames per latent frame).
    return_positions : bool, default=False
        Also return the latent position of every frame.
    random_state : int, RandomState instance or None, default=None
        Seed of the maps, the warps and the noise.

    Returns
    -------
    pairs : list of tuple of ndarray
        ``n_pairs`` pairs ``(a, b)``, ``a`` of shape
        ``(n_timepoints_a, n_channels[0] + n_noise)`` and ``b`` of shape
        ``(n_timepoints_b, n_channels[1] + n_noise)``; the noise channels
        come last.
    true_paths : list of ndarray of shape (path_length, 2)
        ``true_paths[k]`` aligns ``pairs[k][0]`` (first column) with
        ``pairs[k][1]`` (second column), see :func:`warp_to_path`.
    positions : list of tuple of ndarray
        Only with ``return_positions``: per pair, the (fractional, 0-based)
        latent frame shown by each frame of ``a`` and of ``b``.

    See Also
    --------
    make_warped_spirals : The same protocol with affine views.

    References
    ----------
    .. [1] G. Trigeorgis, M. A. Nicolaou, S. Zafeiriou and B. W. Schuller,
       "Deep canonical time warping", CVPR 2016.

    Examples
    --------
    >>> from alignkit.datasets import make_nonlinear_views
    >>> pairs, true_paths = make_nonlinear_views(n_pairs=3, random_state=0)
    >>> a, b = pairs[0]
    >>> len(pairs), a.shape[1], b.shape[1]
    (3, 12, 17)
    >>> true_paths[0][-1].tolist() == [len(a) - 1, len(b) - 1]
    True
    """
    rng = check_random_state(random_state)
    spiral = _spiral(np.arange(n_timepoints, dtype=float), n_timepoints)
    centre, spread = spiral.mean(axis=0), spiral.std(axis=0)
    maps = [_random_nonlinear_map(d, nonlinearity, rng) for d in n_channels]
    pairs, positions = [], []
    for _ in range(n_pairs):
        pair, pair_positions = [], []
        for view_map in maps:
            position = _piecewise_linear_warp(n_timepoints, n_segments, speed, rng)
            latent = (_spiral(position, n_timepoints) - centre) / spread
            channels = noise * rng.standard_normal((len(position), n_noise))
            pair.append(np.hstack([view_map(latent), channels]))
            pair_positions.append(position)
        pairs.append(tuple(pair))
        positions.append(tuple(pair_positions))
    true_paths = [_paths_to_first(list(position))[1] for position in positions]
    if return_positions:
        return pairs, true_paths, positions
    return pairs, true_paths
