"""plot_alignment: two sequences one above the other, matched points joined by lines."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Integral, Interval, Real, validate_params
from ._common import (
    LABELS,
    Channels,
    check_alignment,
    check_channels,
    check_pair,
    check_true_path,
    default_title,
    import_pyplot,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..core.results import Alignment

__all__ = ["plot_alignment"]


def _subsample(path, max_lines):
    """At most ``max_lines`` rows of ``path``, evenly spread and keeping both ends."""
    if max_lines is None or len(path) <= max_lines:
        return path
    return path[np.linspace(0, len(path) - 1, max_lines).round().astype(np.int64)]


def _stack_traces(a, b, selected, offset):
    """Vertical layout: centred traces of ``a`` above those of ``b``, one baseline per channel.

    Each channel is shifted by the same amount in ``a`` and ``b`` (the centre
    of their joint range), so that the picture keeps their relative level.
    """
    joint = np.concatenate([a[:, selected], b[:, selected]])
    centre = (joint.max(axis=0) + joint.min(axis=0)) / 2
    spread = float(np.ptp(joint, axis=0).max()) or 1.0
    spacing = 1.2 * spread
    offset = 1.5 * spread if offset is None else float(offset)
    n_selected = len(selected)
    base_b = -spacing * np.arange(n_selected)
    base_a = offset + spacing * np.arange(n_selected)[::-1]
    traces_a = a[:, selected] - centre + base_a
    traces_b = b[:, selected] - centre + base_b
    return traces_a, traces_b, base_a, base_b


def _connections(path, trace_a, trace_b):
    """Segments from ``(i, trace_a[i])`` to ``(j, trace_b[j])`` for each matched pair."""
    i, j = path[:, 0], path[:, 1]
    return np.stack([np.column_stack([i, trace_a[i]]), np.column_stack([j, trace_b[j]])], axis=1)


@validate_params(
    {
        "offset": [Interval(Real, None, None, closed="neither"), None],
        "max_lines": [Interval(Integral, 1, None, closed="left"), None],
        **LABELS,
    }
)
def plot_alignment(
    alignment: "Alignment",
    a: ArrayLike,
    b: ArrayLike,
    *,
    ax: "Axes | None" = None,
    channels: Channels = 0,
    offset: float | None = None,
    max_lines: int | None = None,
    true_path: ArrayLike | None = None,
    labels: tuple[str, str] = ("a", "b"),
    title: str | None = None,
) -> "Axes":
    """Draw two sequences one above the other with lines joining matched points.

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``a`` and ``b``, e.g. from :func:`alignkit.dtw`.
    a : array-like of shape (n,) or (n, n_channels)
        The first sequence, drawn on top.
    b : array-like of shape (m,) or (m, n_channels)
        The second sequence, drawn below.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is made if None.
    channels : int, list of int or "all", default=0
        Channels to draw. Several channels are stacked, each on its own
        baseline, the channels of ``a`` above those of ``b``; the lines join
        the lowest trace of ``a`` to the highest trace of ``b``.
    offset : float, default=None
        Vertical distance between the baselines of ``a`` and ``b`` (in data
        units). None uses 1.5 times the largest range of a drawn channel.
    max_lines : int, default=None
        Draw at most this many connection lines, evenly spread along the
        path (first and last pair included). None draws one per matched pair.
    true_path : array-like of shape (true_path_length, 2), default=None
        A ground-truth path, drawn as dashed lines (subsampled like the path).
    labels : tuple of str, default=("a", "b")
        Names of the two sequences, for the legend and the y axis.
    title : str, default=None
        Axes title; None states the distance and path length, ``""`` draws none.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on. ``ax.collections`` holds the connection lines
        (label ``"matches"``) and, if given, the ground truth (label
        ``"true path"``), each a :class:`~matplotlib.collections.LineCollection`.

    Notes
    -----
    Each channel is centred on its baseline (shifted by the centre of its
    range over both sequences, so ``a`` and ``b`` keep their relative
    level); the y axis names the traces instead of showing values.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import alignkit
    >>> from alignkit.datasets import make_ecg_pair
    >>> from alignkit.plotting import plot_alignment
    >>> a, b, true_path = make_ecg_pair()
    >>> alignment = alignkit.dtw(a, b, window=0.1)
    >>> ax = plot_alignment(alignment, a, b, max_lines=80, true_path=true_path)
    >>> len(ax.collections[0].get_segments())
    80
    """
    plt = import_pyplot()
    from matplotlib.collections import LineCollection

    check_alignment(alignment, "plot_alignment")
    a, b = check_pair(alignment, a, b)
    selected = check_channels(channels, a.shape[1])
    if true_path is not None:
        true_path = check_true_path(true_path, alignment.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.5 + 1.2 * len(selected)))

    traces_a, traces_b, base_a, base_b = _stack_traces(a, b, selected, offset)
    low_a, high_b = traces_a[:, -1], traces_b[:, 0]
    matches = LineCollection(
        _connections(_subsample(alignment.path, max_lines), low_a, high_b),
        colors="0.55",
        linewidths=0.8,
        zorder=1,
        label="matches",
    )
    ax.add_collection(matches)
    if true_path is not None:
        ax.add_collection(
            LineCollection(
                _connections(_subsample(true_path, max_lines), low_a, high_b),
                colors="tab:green",
                linewidths=0.8,
                linestyles="--",
                alpha=0.7,
                zorder=1,
                label="true path",
            )
        )
    for column in range(len(selected)):
        ax.plot(
            traces_a[:, column],
            color="tab:blue",
            lw=1.3,
            zorder=2,
            label=labels[0] if column == 0 else None,
        )
        ax.plot(
            traces_b[:, column],
            color="tab:orange",
            lw=1.3,
            zorder=2,
            label=labels[1] if column == 0 else None,
        )

    names = (
        [labels[0], labels[1]]
        if len(selected) == 1
        else ([f"{labels[0]}[{c}]" for c in selected] + [f"{labels[1]}[{c}]" for c in selected])
    )
    ax.set_yticks(np.concatenate([base_a, base_b]), names)
    ax.set_xlabel("timepoint")
    ax.set_xlim(-0.5, max(alignment.shape) - 0.5)
    # Outside the axes: inside, the legend would hide the traces or the lines.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(f"alignment: {default_title(alignment)}" if title is None else title)
    return ax
