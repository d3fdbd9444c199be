"""Sequences with known ground-truth alignments, for examples and tests."""

import numpy as np
from sklearn.utils import check_random_state

from .exceptions import InvalidInputError

__all__ = ["make_ecg_pair", "warp_to_path", "make_warped_collection"]


def warp_to_path(positions, n_timepoints):
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


def make_ecg_pair(n_timepoints_a=300, n_timepoints_b=240, n_beats=3, noise=0.02, random_state=0):
    """Two recordings of the same heartbeats at different, varying speeds.

    A synthetic electrocardiogram (P wave, QRS complex, T wave per beat, with
    beat-to-beat variability) is sampled uniformly as ``a`` and along a
    random smooth monotone time warp as ``b``; both get Gaussian noise and
    ``b`` a slow baseline wander. The warp is known, so the true alignment is
    known.

    Parameters
    ----------
    n_timepoints_a : int, default=300
        Length of ``a``.
    n_timepoints_b : int, default=240
        Length of ``b``.
    n_beats : int, default=3
        Number of heartbeats.
    noise : float, default=0.02
        Standard deviation of the added noise.
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
    for name, value in (
        ("n_timepoints_a", n_timepoints_a),
        ("n_timepoints_b", n_timepoints_b),
        ("n_beats", n_beats),
    ):
        if int(value) != value or value < 2:
            raise InvalidInputError(f"{name} must be an int >= 2, got {value!r}")
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


def make_warped_collection(
    n_sequences=20, n_timepoints=(40, 80), n_classes=2, noise=0.05, random_state=None
):
    """Labelled sequences that differ by random time warps of per-class templates.

    Each class has a smooth template; each sequence is its class template
    resampled along a random monotone warp to a random length, plus noise. A
    classifier that is fooled by timing needs alignment to do well.

    Parameters
    ----------
    n_sequences : int, default=20
        Number of sequences.
    n_timepoints : tuple of int, default=(40, 80)
        Inclusive range of lengths.
    n_classes : int, default=2
        Number of classes (templates).
    noise : float, default=0.05
        Standard deviation of the added noise.
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
    rng = check_random_state(random_state)
    grid = np.linspace(0.0, 1.0, 200)
    templates = [
        np.sin(2 * np.pi * (k + 1) * grid) * np.exp(-((grid - 0.5) ** 2) / 0.08)
        for k in range(n_classes)
    ]
    y = rng.randint(n_classes, size=n_sequences)
    X = []
    for label in y:
        length = rng.randint(n_timepoints[0], n_timepoints[1] + 1)
        rate = np.interp(
            np.linspace(0, 1, length), np.linspace(0, 1, 5), np.exp(rng.normal(0.0, 0.3, 5))
        )
        warp = np.concatenate([[0.0], np.cumsum(rate[1:])])
        sequence = np.interp(warp / warp[-1], grid, templates[label])
        X.append((sequence + noise * rng.standard_normal(length))[:, None])
    return X, y
