"""Shared checks and helpers of the plotting functions."""

import numbers
from collections.abc import Sequence
from typing import Literal

import numpy as np

from ..exceptions import InvalidInputError
from ..validation import check_sequence

# What ``channels`` may be: one index, several, or "all".
Channels = int | Sequence[int] | Literal["all"]
# The parameters every plotting function declares alike.
LABELS = {"labels": [tuple, list], "title": [str, None]}


def import_pyplot():
    """Import :mod:`matplotlib.pyplot`, or say which extra installs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "alignkit.plotting needs matplotlib, which is not installed; "
            "install it with `pip install alignkit[plot]`"
        ) from exc
    return plt


def check_alignment(alignment, owner):
    """Check that ``alignment`` looks like an :class:`~alignkit.Alignment`."""
    if not (hasattr(alignment, "path") and hasattr(alignment, "shape")):
        raise InvalidInputError(
            f"{owner} expects an Alignment (e.g. from alignkit.dtw), got {type(alignment).__name__}"
        )
    return alignment


def check_pair(alignment, a, b):
    """Validate ``a`` and ``b`` as sequences of the lengths the alignment was computed for."""
    sequences = []
    for name, sequence, length in (("a", a, alignment.shape[0]), ("b", b, alignment.shape[1])):
        sequence = check_sequence(sequence, name=name)
        if len(sequence) != length:
            raise InvalidInputError(
                f"{name} has {len(sequence)} timepoints but the alignment was computed for "
                f"{length}; pass the sequences that were aligned"
            )
        sequences.append(sequence)
    return sequences


def check_channels(channels, n_channels):
    """Resolve ``channels`` (int, sequence of int or ``"all"``) to a list of indices."""
    if isinstance(channels, str):
        if channels != "all":
            raise InvalidInputError(
                f"channels must be an int, a list of ints or 'all', got {channels!r}"
            )
        return list(range(n_channels))
    selected = [channels] if isinstance(channels, numbers.Integral) else list(channels)
    if not selected:
        raise InvalidInputError("channels is empty; pick at least one channel")
    for channel in selected:
        if isinstance(channel, bool) or not isinstance(channel, numbers.Integral):
            raise InvalidInputError(f"channels must hold ints, got {channel!r}")
        if not 0 <= channel < n_channels:
            raise InvalidInputError(
                f"channel {channel} does not exist; the sequences have {n_channels} channel(s)"
            )
    return [int(channel) for channel in selected]


def check_true_path(true_path, shape):
    """Validate a ground-truth path over an ``(n, m)`` grid."""
    path = np.asarray(true_path)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise InvalidInputError(
            f"true_path must be an array of shape (path_length, 2), got shape {path.shape}"
        )
    if not np.issubdtype(path.dtype, np.integer):
        raise InvalidInputError(f"true_path must hold integer indices, got dtype {path.dtype}")
    outside = (path < 0).any(axis=1) | (path[:, 0] >= shape[0]) | (path[:, 1] >= shape[1])
    if outside.any():
        row = int(np.argmax(outside))
        raise InvalidInputError(
            f"true_path[{row}] = {path[row].tolist()} lies outside the alignment's "
            f"{shape[0]} x {shape[1]} grid"
        )
    return path.astype(np.int64)


def default_title(alignment):
    return f"distance {alignment.distance:.4g}, {len(alignment.path)} matched pairs"
