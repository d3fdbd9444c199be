"""AlignmentDisplay: two sequences one above the other, their matched points joined."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import HasMethods, Integral, Interval, Real, StrOptions, validate_params
from ._common import (
    LABELS,
    Channels,
    check_alignment,
    check_channel_pair,
    check_pair,
    check_true_path,
    default_title,
    forward_plot_parameters,
    import_pyplot,
    new_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..core.results import Alignment

__all__ = ["AlignmentDisplay", "plot_alignment"]

# Above this many matched pairs, matches="auto" shades their density: one line per pair is a blob.
DENSITY_THRESHOLD = 300
# Rows of the density image between the two sequences, and its most columns.
_DENSITY_LEVELS = 48
_DENSITY_MAX_BINS = 2000
# Ground-truth lines drawn over a density.
_TRUE_LINES_OVER_DENSITY = 60

_FINITE = Interval(Real, -np.inf, np.inf, closed="neither")
_PLOT_CONSTRAINTS = {
    "channels_b": ["array-like", Integral, StrOptions({"all"}), None],
    "offset": [_FINITE, None],
    "matches": [StrOptions({"auto", "lines", "density"})],
    "max_lines": [Interval(Integral, 1, None, closed="left"), None],
    "title": [str, None],
}


def _subsample(path, max_lines):
    """At most ``max_lines`` rows of ``path``, evenly spread and keeping both ends."""
    if max_lines is None or len(path) <= max_lines:
        return path
    return path[np.linspace(0, len(path) - 1, max_lines).round().astype(np.int64)]


def _stack_traces(a, b, offset, joint):
    """Vertical layout: centred traces of ``a`` above those of ``b``, one baseline per channel.

    ``a`` and ``b`` hold only the channels to draw. With ``joint`` (the same
    channels of both), each channel is shifted by the same amount in ``a``
    and ``b`` (the centre of their joint range), so that the picture keeps
    their relative level; otherwise each trace is centred on its own.
    """
    if joint:
        both = np.concatenate([a, b])
        centre_a = centre_b = (both.max(axis=0) + both.min(axis=0)) / 2
        spread = float(np.ptp(both, axis=0).max())
    else:
        centre_a = (a.max(axis=0) + a.min(axis=0)) / 2
        centre_b = (b.max(axis=0) + b.min(axis=0)) / 2
        spread = float(max(np.ptp(a, axis=0).max(), np.ptp(b, axis=0).max()))
    spread = spread or 1.0
    spacing = 1.2 * spread
    offset = 1.5 * spread if offset is None else float(offset)
    base_b = -spacing * np.arange(b.shape[1])
    base_a = offset + spacing * np.arange(a.shape[1])[::-1]
    return a - centre_a + base_a, b - centre_b + base_b, base_a, base_b


def _connections(path, trace_a, trace_b):
    """Segments from ``(i, trace_a[i])`` to ``(j, trace_b[j])`` for each matched pair."""
    i, j = path[:, 0], path[:, 1]
    return np.stack([np.column_stack([i, trace_a[i]]), np.column_stack([j, trace_b[j]])], axis=1)


def _match_density(path, n_timepoints, n_levels=_DENSITY_LEVELS, max_bins=_DENSITY_MAX_BINS):
    """How many match lines cross each cell of a grid between the two sequences.

    Line ``k`` runs from ``x = path[k, 1]`` (on ``b``, level 0) to
    ``x = path[k, 0]`` (on ``a``, the top level); level ``r`` is crossed at
    ``x = j + t_r (i - j)`` with ``t_r = (r + 1/2) / n_levels``. The columns
    are ``min(n_timepoints, max_bins)`` equal bins over
    ``[-1/2, n_timepoints - 1/2)``, one per timepoint when they fit.

    Returns the counts, of shape ``(n_levels, n_bins)``, and the bin edges.
    """
    n_bins = min(n_timepoints, max_bins)
    edges = np.linspace(-0.5, n_timepoints - 0.5, n_bins + 1)
    t = (np.arange(n_levels) + 0.5) / n_levels
    i, j = path[:, 0], path[:, 1]
    x = j[None, :] + t[:, None] * (i - j)[None, :]
    columns = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    cells = np.arange(n_levels)[:, None] * n_bins + columns
    counts = np.bincount(cells.ravel(), minlength=n_levels * n_bins)
    return counts.reshape(n_levels, n_bins), edges


@forward_plot_parameters
class AlignmentDisplay:
    """Two sequences one above the other, with their matched points joined.

    Build it with :meth:`from_alignment` or :meth:`from_estimator`, which
    draw it at once, or construct it and call :meth:`plot`.

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``a`` and ``b``, e.g. from :func:`alignkit.dtw`.
    a : array-like of shape (n,) or (n, n_channels_a)
        The first sequence, drawn on top.
    b : array-like of shape (m,) or (m, n_channels_b)
        The second sequence, drawn below; its channels may differ from those
        of ``a`` (CTW aligns two modalities).
    true_path : array-like of shape (true_path_length, 2), default=None
        A ground-truth path, drawn dashed.
    labels : tuple of str, default=("a", "b")
        Names of the two sequences, for the legend and the y axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    lines_a_, lines_b_ : list of matplotlib Line2D
        One trace per drawn channel of ``a`` (top to bottom) and of ``b``.
    matches_ : matplotlib LineCollection or None
        One segment per drawn match, from ``(i, a[i])`` to ``(j, b[j])``;
        None where the matches are shaded.
    density_ : matplotlib AxesImage or None
        The density of the match lines between the sequences (see Notes);
        None where they are drawn as lines.
    true_path_ : matplotlib LineCollection or None
        The ground-truth matches, if a true path was given.
    legend_ : matplotlib Legend
        One row inside the top of the axes, above the traces, so that it
        never covers a neighbouring subplot.

    See Also
    --------
    CostMatrixDisplay : The same alignment as a path over its cost matrix.
    plot_alignment : The function form, returning the axes.

    Notes
    -----
    With ``matches="density"`` (the default above 300 matched pairs) the
    lines are not drawn: the band between the sequences (from the baseline
    of ``b``'s top trace to that of ``a``'s bottom trace, under the traces)
    is an image whose cell ``(r, c)`` counts the straight lines from
    ``(j, bottom)`` to ``(i, top)`` of the matched pairs ``(i, j)`` that cross
    it, so that every row of ``density_`` sums to the number of matched
    pairs.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import alignkit
    >>> from alignkit.datasets import make_ecg_pair
    >>> from alignkit.plotting import AlignmentDisplay
    >>> a, b, true_path = make_ecg_pair()
    >>> alignment = alignkit.dtw(a, b, window=0.1)
    >>> display = AlignmentDisplay.from_alignment(alignment, a, b, max_lines=80)
    >>> len(display.matches_.get_segments())
    80
    >>> display = AlignmentDisplay.from_alignment(alignment, a, b, matches="density")
    >>> int(display.density_.get_array().sum(axis=1)[0]) == len(alignment.path)
    True
    """

    @validate_params({"labels": LABELS["labels"]})
    def __init__(
        self,
        alignment: "Alignment",
        a: ArrayLike,
        b: ArrayLike,
        *,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
    ):
        check_alignment(alignment, "AlignmentDisplay")
        self.alignment = alignment
        self.a, self.b = check_pair(alignment, a, b)
        self.true_path = None if true_path is None else check_true_path(true_path, alignment.shape)
        self.labels = tuple(labels)

    @classmethod
    def from_alignment(
        cls,
        alignment: "Alignment",
        a: ArrayLike,
        b: ArrayLike,
        *,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
        ax: "Axes | None" = None,
        channels: Channels = 0,
        channels_b: Channels | None = None,
        offset: float | None = None,
        matches: str = "auto",
        max_lines: int | None = None,
        title: str | None = None,
    ) -> "AlignmentDisplay":
        """Draw an alignment of two sequences.

        Parameters
        ----------
        alignment : Alignment
            The alignment of ``a`` and ``b``.
        a : array-like of shape (n,) or (n, n_channels_a)
            The first sequence, drawn on top.
        b : array-like of shape (m,) or (m, n_channels_b)
            The second sequence, drawn below.
        true_path : array-like of shape (true_path_length, 2), default=None
            A ground-truth path, drawn dashed.
        labels : tuple of str, default=("a", "b")
            Names of the two sequences.
        {plot_parameters}

        Returns
        -------
        display : AlignmentDisplay
            The display, drawn.
        """
        display = cls(alignment, a, b, true_path=true_path, labels=labels)
        return display.plot(
            ax=ax,
            channels=channels,
            channels_b=channels_b,
            offset=offset,
            matches=matches,
            max_lines=max_lines,
            title=title,
        )

    @classmethod
    @validate_params({"estimator": [HasMethods("align")]})
    def from_estimator(
        cls,
        estimator: object,
        a: ArrayLike,
        b: ArrayLike,
        *,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
        ax: "Axes | None" = None,
        channels: Channels = 0,
        channels_b: Channels | None = None,
        offset: float | None = None,
        matches: str = "auto",
        max_lines: int | None = None,
        title: str | None = None,
    ) -> "AlignmentDisplay":
        """Align ``a`` and ``b`` with an aligner and draw the result.

        Parameters
        ----------
        estimator : aligner
            Any alignkit aligner (fitted where it needs fitting): its
            ``align(a, b)`` gives the alignment.
        a : array-like of shape (n,) or (n, n_channels_a)
            The first sequence, drawn on top.
        b : array-like of shape (m,) or (m, n_channels_b)
            The second sequence, drawn below.
        true_path : array-like of shape (true_path_length, 2), default=None
            A ground-truth path, drawn dashed.
        labels : tuple of str, default=("a", "b")
            Names of the two sequences.
        {plot_parameters}

        Returns
        -------
        display : AlignmentDisplay
            The display, drawn.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from alignkit import DTWAligner
        >>> from alignkit.plotting import AlignmentDisplay
        >>> a, b = np.sin(np.linspace(0, 6, 40)), np.sin(np.linspace(0, 6, 50) ** 1.1)
        >>> display = AlignmentDisplay.from_estimator(DTWAligner(window=5), a, b)
        >>> len(display.lines_a_), len(display.lines_b_)
        (1, 1)
        """
        return cls.from_alignment(
            estimator.align(a, b),
            a,
            b,
            true_path=true_path,
            labels=labels,
            ax=ax,
            channels=channels,
            channels_b=channels_b,
            offset=offset,
            matches=matches,
            max_lines=max_lines,
            title=title,
        )

    @validate_params(_PLOT_CONSTRAINTS)
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        channels: Channels = 0,
        channels_b: Channels | None = None,
        offset: float | None = None,
        matches: str = "auto",
        max_lines: int | None = None,
        title: str | None = None,
    ) -> "AlignmentDisplay":
        """Draw the two sequences and their matches.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a figure in constrained layout.
        channels : int, list of int or "all", default=0
            Channels to draw, stacked on their own baselines, those of ``a``
            above those of ``b``; the matches join the lowest trace of ``a``
            to the highest of ``b``. ``"all"`` draws every channel of each
            sequence, also where their channel counts differ.
        channels_b : int, list of int or "all", default=None
            Channels of ``b``, where they are not those of ``a``; None uses
            ``channels`` for both.
        offset : float, default=None
            Vertical distance between the baselines of ``a`` and ``b`` (in
            data units). None uses 1.5 times the largest range of a trace.
        matches : {"auto", "lines", "density"}, default="auto"
            ``"lines"`` draws a line per matched pair, ``"density"`` shades
            how many match lines cross each part of the band between the
            sequences, and ``"auto"`` shades above 300 matched pairs unless
            ``max_lines`` is given.
        max_lines : int, default=None
            Draw at most this many lines, evenly spread along the path (the
            first and last pair included). None draws one per matched pair.
        title : str, default=None
            Axes title; None states the distance and path length, ``""``
            draws none.

        Returns
        -------
        self : AlignmentDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        selected_a, selected_b = check_channel_pair(channels, channels_b, self.a, self.b)
        n_traces = len(selected_a) + len(selected_b)
        self.figure_, self.ax_ = new_axes(plt, ax, (9, 2.2 + 0.6 * n_traces))
        ax = self.ax_
        joint = selected_a == selected_b and self.a.shape[1] == self.b.shape[1]
        traces_a, traces_b, base_a, base_b = _stack_traces(
            self.a[:, selected_a], self.b[:, selected_b], offset, joint
        )
        path = self.alignment.path
        density = matches == "density" or (
            matches == "auto" and max_lines is None and len(path) > DENSITY_THRESHOLD
        )
        handles = self._draw_traces(traces_a, traces_b)
        handles.append(
            self._draw_matches(path, (traces_a, traces_b), (base_a, base_b), density, max_lines)
        )
        truth = self._draw_true_path(traces_a, traces_b, density, max_lines)
        if truth is not None:
            handles.append(truth)

        names_a = [self.labels[0]] if len(selected_a) == 1 else []
        names_b = [self.labels[1]] if len(selected_b) == 1 else []
        if not (names_a and names_b):
            names_a = [f"{self.labels[0]}[{c}]" for c in selected_a]
            names_b = [f"{self.labels[1]}[{c}]" for c in selected_b]
        ax.set_yticks(np.concatenate([base_a, base_b]), names_a + names_b)
        ax.set_xlabel("timepoint")
        ax.set_xlim(-0.5, max(self.alignment.shape) - 0.5)
        ax.set_title(f"alignment: {default_title(self.alignment)}" if title is None else title)
        self.legend_ = ax.legend(
            handles=handles,
            loc="upper center",
            ncols=len(handles),
            fontsize="small",
            frameon=False,
        )
        self._make_room_for_legend(np.concatenate([traces_a.ravel(), traces_b.ravel()]))
        return self

    def _draw_traces(self, traces_a, traces_b):
        ax = self.ax_
        self.lines_a_ = [
            ax.plot(trace, color="tab:blue", lw=1.3, zorder=2, label=self.labels[0])[0]
            for trace in traces_a.T
        ]
        self.lines_b_ = [
            ax.plot(trace, color="tab:orange", lw=1.3, zorder=2, label=self.labels[1])[0]
            for trace in traces_b.T
        ]
        return [self.lines_a_[0], self.lines_b_[0]]

    def _draw_matches(self, path, traces, bases, density, max_lines):
        from matplotlib.collections import LineCollection
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.patches import Patch

        (traces_a, traces_b), (base_a, base_b) = traces, bases
        low_a, high_b = traces_a[:, -1], traces_b[:, 0]
        if not density:
            self.density_ = None
            self.matches_ = LineCollection(
                _connections(_subsample(path, max_lines), low_a, high_b),
                colors="0.55",
                linewidths=0.8,
                zorder=1,
                label="matches",
            )
            self.ax_.add_collection(self.matches_)
            return self.matches_
        self.matches_ = None
        counts, edges = _match_density(path, max(self.alignment.shape))
        # From the centre line of b's top trace to that of a's bottom trace, under the traces.
        bottom, top = float(base_b[0]), float(base_a[-1])
        self.density_ = self.ax_.imshow(
            np.ma.masked_equal(counts, 0),
            origin="lower",
            extent=(edges[0], edges[-1], bottom, top),
            aspect="auto",
            # From light grey, so that a cell one line crosses still shows.
            cmap=LinearSegmentedColormap.from_list("matches", ["0.85", "0.0"]),
            vmin=0,
            interpolation="nearest",
            zorder=1,
        )
        return Patch(facecolor="0.55", label="matches (density)")

    def _draw_true_path(self, traces_a, traces_b, density, max_lines):
        from matplotlib.collections import LineCollection

        if self.true_path is None:
            self.true_path_ = None
            return None
        shown = _TRUE_LINES_OVER_DENSITY if density and max_lines is None else max_lines
        self.true_path_ = LineCollection(
            _connections(_subsample(self.true_path, shown), traces_a[:, -1], traces_b[:, 0]),
            colors="tab:green",
            linewidths=0.8,
            linestyles="--",
            alpha=0.7,
            zorder=1,
            label="true path",
        )
        self.ax_.add_collection(self.true_path_)
        return self.true_path_

    def _make_room_for_legend(self, values):
        """Raise the top of the y axis so that the legend row sits above the traces."""
        low, high = float(values.min()), float(values.max())
        span = (high - low) or 1.0
        low, high = low - 0.05 * span, high + 0.05 * span
        self.ax_.set_ylim(low, high)
        self.figure_.draw_without_rendering()
        legend_height = self.legend_.get_window_extent().height
        axes_height = self.ax_.get_window_extent().height
        share = min(legend_height / max(axes_height, 1.0) + 0.02, 0.6)
        self.ax_.set_ylim(low, low + (high - low) / (1.0 - share))


@validate_params(
    {
        "offset": [_FINITE, None],
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

    The function form of :class:`AlignmentDisplay` (with ``matches="auto"``
    and ``channels`` for both sequences).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``a`` and ``b``, e.g. from :func:`alignkit.dtw`.
    a : array-like of shape (n,) or (n, n_channels)
        The first sequence, drawn on top.
    b : array-like of shape (m,) or (m, n_channels)
        The second sequence, drawn below.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure (constrained layout) is made if None.
    channels : int, list of int or "all", default=0
        Channels to draw. Several channels are stacked, each on its own
        baseline, the channels of ``a`` above those of ``b``; the lines join
        the lowest trace of ``a`` to the highest trace of ``b``. ``"all"``
        draws each sequence's own channels.
    offset : float, default=None
        Vertical distance between the baselines of ``a`` and ``b`` (in data
        units). None uses 1.5 times the largest range of a drawn channel.
    max_lines : int, default=None
        Draw at most this many connection lines, evenly spread along the
        path (first and last pair included). None draws one per matched
        pair up to 300 pairs and shades their density above.
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

    See Also
    --------
    AlignmentDisplay : The display object, with every artist as an attribute.

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
    display = AlignmentDisplay(alignment, a, b, true_path=true_path, labels=labels)
    display.plot(ax=ax, channels=channels, offset=offset, max_lines=max_lines, title=title)
    return display.ax_
