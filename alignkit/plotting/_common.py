"""Shared checks and helpers of the plotting functions."""

import numbers
import re
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


def check_channels(channels, n_channels, owner="the sequences", argument="channels", hint=""):
    """Resolve ``channels`` (int, sequence of int or ``"all"``) to a list of indices.

    ``owner`` names the sequence the indices are checked against, ``argument``
    the parameter, both for the error messages; ``hint`` ends the message of
    a channel that does not exist.
    """
    if isinstance(channels, str):
        if channels != "all":
            raise InvalidInputError(
                f"{argument} must be an int, a list of ints or 'all', got {channels!r}"
            )
        return list(range(n_channels))
    selected = [channels] if isinstance(channels, numbers.Integral) else list(channels)
    if not selected:
        raise InvalidInputError(f"{argument} is empty; pick at least one channel")
    for channel in selected:
        if isinstance(channel, bool) or not isinstance(channel, numbers.Integral):
            raise InvalidInputError(f"{argument} must hold ints, got {channel!r}")
        if not 0 <= channel < n_channels:
            raise InvalidInputError(
                f"{argument}: channel {channel} does not exist; {owner} has {n_channels} "
                f"channel(s){hint}"
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


def check_channel_pair(channels, channels_b, a, b):
    """The channels of ``a`` and of ``b`` to draw.

    ``channels`` applies to both sequences unless ``channels_b`` names those
    of ``b``; ``"all"`` is each sequence's own channels, so that sequences
    with different channel counts are drawn whole.
    """
    hint = ""
    if channels_b is None and a.shape[1] != b.shape[1]:
        hint = (
            f" (a has {a.shape[1]}, b has {b.shape[1]}; pass b's channels as channels_b, "
            "or channels='all' to draw each sequence's own)"
        )
    argument_b = "channels" if channels_b is None else "channels_b"
    channels_b = channels if channels_b is None else channels_b
    selected_a = check_channels(channels, a.shape[1], "a", "channels", hint)
    selected_b = check_channels(channels_b, b.shape[1], "b", argument_b, hint)
    return selected_a, selected_b


def new_axes(plt, ax, figsize):
    """The figure and axes to draw on: ``ax``'s, or a new figure in constrained layout.

    Constrained layout makes room for the legends, colour bars and their
    labels, so that ``savefig`` never clips them.
    """
    if ax is None:
        figure, ax = plt.subplots(figsize=figsize, layout="constrained")
        return figure, ax
    return ax.figure, ax


def grid_cell(plt, ax, figsize, message):
    """The figure and grid cell to split into panels: a new figure's, or ``ax``'s (removed).

    ``message`` is the error raised where ``ax`` is not a grid cell (from
    ``plt.subplots`` or ``figure.add_subplot``).
    """
    if ax is None:
        figure = plt.figure(figsize=figsize, layout="constrained")
        return figure, figure.add_gridspec(1, 1)[0]
    spec = ax.get_subplotspec()
    if spec is None:
        raise InvalidInputError(message)
    figure = ax.figure
    ax.remove()
    return figure, spec


def check_box(box):
    """A ground-truth box ``(row_min, col_min, row_max, col_max)`` as floats, or None."""
    if box is None:
        return None
    box = np.asarray(box, dtype=float)
    if box.shape != (4,):
        raise InvalidInputError(
            f"box must be (row_min, col_min, row_max, col_max), got shape {box.shape}"
        )
    return box


def box_rectangle(box, **style):
    """The unfilled matplotlib Rectangle of a box given in pixel edges."""
    from matplotlib.patches import Rectangle

    row_min, col_min, row_max, col_max = box
    return Rectangle(
        (col_min - 0.5, row_min - 0.5), col_max - col_min, row_max - row_min, fill=False, **style
    )


def default_title(alignment):
    return f"distance {alignment.distance:.4g}, {len(alignment.path)} pairs"


_PLOT_PARAMETERS = re.compile(r"^( *)\{plot_parameters\}$", re.MULTILINE)
# A parameter line of a method's numpydoc Parameters section: "name : type".
_PARAMETER = re.compile(r"^ {8}(\w+ : .+)$")


def _plot_parameter_lines(plot):
    """The ``name : type`` lines of ``plot``'s Parameters section, in order."""
    section = plot.__doc__.split("Parameters\n", 1)[1].split("Returns\n", 1)[0]
    return [match[1] for match in map(_PARAMETER.match, section.splitlines()) if match]


def forward_plot_parameters(cls):
    """Document the parameters that the ``from_*`` constructors of ``cls`` pass to ``plot``.

    A ``{plot_parameters}`` line in a classmethod's docstring becomes one
    entry per parameter of ``cls.plot``, typed as there and described as
    "See :meth:`plot`.", so that each is documented once, in ``plot``.
    """
    lines = _plot_parameter_lines(cls.plot)

    def entries(match):
        indent = match.group(1)
        return "\n".join(f"{indent}{line}\n{indent}    See :meth:`plot`." for line in lines)

    for attribute in vars(cls).values():
        function = getattr(attribute, "__func__", None)
        if function is not None and "{plot_parameters}" in (function.__doc__ or ""):
            function.__doc__ = _PLOT_PARAMETERS.sub(entries, function.__doc__)
    return cls
