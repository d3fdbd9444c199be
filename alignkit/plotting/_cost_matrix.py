"""CostMatrixDisplay: the cost or attention matrix (or the bare grid) with the path on top."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import HasMethods, StrOptions, validate_params
from ..exceptions import InvalidInputError
from ..validation import WindowLike, check_window, window_bounds
from ._common import (
    LABELS,
    Channels,
    check_alignment,
    check_channel_pair,
    check_pair,
    check_true_path,
    default_title,
    forward_plot_parameters,
    grid_cell,
    import_pyplot,
    new_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from ..core.results import Alignment

__all__ = ["CostMatrixDisplay", "plot_cost_matrix"]

_MATRIX = {"matrix": [StrOptions({"auto", "cost", "attention"}), None], "title": [str, None]}


def _window_mask(window, shape):
    """The cells of an ``(n, m)`` grid that ``window`` lets a path visit, as a bool array."""
    parsed = check_window(window, shape=shape)
    if parsed.mask is not None:
        return parsed.mask.copy()
    lo, hi, _ = window_bounds(parsed, *shape)
    columns = np.arange(shape[1])
    return (columns >= lo[:, None]) & (columns < hi[:, None])


def _resolve_matrix(alignment, matrix):
    """``(values, kind)`` of the matrix to draw, kind "cost" or "attention"; ``(None, None)``."""
    soft = getattr(alignment, "soft_matrix", None)
    cost = alignment.cost_matrix
    if matrix == "auto":
        matrix = "attention" if soft is not None else ("cost" if cost is not None else None)
    if matrix is None:
        return None, None
    values = soft if matrix == "attention" else cost
    if values is None:
        fix = (
            "compute it with alignkit.dtw(a, b, return_cost_matrix=True)"
            if matrix == "cost"
            else "align with SoftAttentionAligner, whose alignments hold soft_matrix"
        )
        raise InvalidInputError(
            f"matrix={matrix!r}: this {type(alignment).__name__} has no {matrix} matrix; "
            f"{fix}, or pass matrix=None (or 'auto') to draw the path alone"
        )
    values = np.asarray(values, dtype=float)
    if values.shape != alignment.shape:
        raise InvalidInputError(
            f"the {matrix} matrix has shape {values.shape} but the alignment's shape is "
            f"{alignment.shape}"
        )
    return values, matrix


def _layout(plt, ax, with_margins):
    """The matrix axes and, with margins, the axes of ``a`` (left) and ``b`` (below)."""
    if not with_margins:
        return new_axes(plt, ax, (6, 5))[1], None, None
    figure, spec = grid_cell(
        plt,
        ax,
        (7, 6.5),
        "to draw the sequences along the margins, ax must be a grid cell "
        "(from plt.subplots or figure.add_subplot), which is split into three axes",
    )
    grid = spec.subgridspec(
        2, 2, width_ratios=(1, 4), height_ratios=(4, 1), wspace=0.05, hspace=0.05
    )
    matrix_ax = figure.add_subplot(grid[0, 1])
    ax_a = figure.add_subplot(grid[0, 0], sharey=matrix_ax)
    ax_b = figure.add_subplot(grid[1, 1], sharex=matrix_ax)
    return matrix_ax, ax_a, ax_b


def _draw_margins(matrix_ax, ax_a, ax_b, a, b, selected_a, selected_b, labels):
    lines_a = [
        ax_a.plot(a[:, channel], np.arange(len(a)), color="tab:blue", lw=1)[0]
        for channel in selected_a
    ]
    lines_b = [
        ax_b.plot(np.arange(len(b)), b[:, channel], color="tab:orange", lw=1)[0]
        for channel in selected_b
    ]
    matrix_ax.tick_params(labelleft=False, labelbottom=False)
    ax_a.set_xticks([])
    ax_a.invert_xaxis()  # the trace faces the matrix it indexes
    ax_b.set_yticks([])
    ax_a.set_ylabel(f"{labels[0]} (timepoint)")
    ax_b.set_xlabel(f"{labels[1]} (timepoint)")
    return lines_a, lines_b


def _title(alignment, kind):
    if kind == "attention":
        return (
            f"attention: hard path of {len(alignment.path)} pairs, "
            f"-log weight {alignment.distance:.4g}"
        )
    prefix = "accumulated cost" if kind == "cost" else "warping path"
    return f"{prefix}: {default_title(alignment)}"


@forward_plot_parameters
class CostMatrixDisplay:
    """The cost or attention matrix of an alignment, with its path, window and true path.

    Row ``i`` of the picture is timepoint ``i`` of ``a`` (the vertical axis,
    upwards) and column ``j`` timepoint ``j`` of ``b``, so the path runs from
    the lower left to the upper right corner.

    Parameters
    ----------
    alignment : Alignment or AttentionAlignment
        The alignment, e.g. from ``alignkit.dtw(a, b, return_cost_matrix=True)``
        or :meth:`~alignkit.SoftAttentionAligner.align` (whose ``soft_matrix`` is
        drawn).
    a : array-like of shape (n,) or (n, n_channels_a), default=None
        First sequence. If given with ``b``, it is drawn along the left margin.
    b : array-like of shape (m,) or (m, n_channels_b), default=None
        Second sequence, drawn along the bottom margin.
    window : None, int, float, tuple or ndarray of bool, default=None
        The window the alignment was computed in, as :func:`alignkit.dtw`
        takes it (an Itakura ``("itakura", slope)`` included); the cells
        outside it are shaded, with or without a cost matrix.
    true_path : array-like of shape (true_path_length, 2), default=None
        A ground-truth path, drawn dashed.
    labels : tuple of str, default=("a", "b")
        Names of the two sequences, for the axis labels.

    Attributes
    ----------
    window_mask : ndarray of bool of shape (n, m) or None
        The cells the window allows; None without a window.
    ax_ : matplotlib Axes
        The axes of the matrix.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    im_ : matplotlib AxesImage or None
        The matrix (cells outside the window masked); None for the path alone.
    colorbar_ : matplotlib Colorbar or None
        The colour bar of ``im_``, an inset at the right of ``ax_``.
    path_line_ : matplotlib Line2D
        The path, ``xdata`` the indices into ``b`` and ``ydata`` those into ``a``.
    true_path_line_ : matplotlib Line2D or None
        The ground truth, if given.
    window_ : matplotlib AxesImage or None
        The shade over the cells outside the window (the image's mask is
        ``window_mask``); None without a window.
    legend_ : matplotlib Legend or None
        Inside the matrix axes, where a true path or a window is drawn.
    ax_a_, ax_b_ : matplotlib Axes or None
        The margin axes of ``a`` (left) and ``b`` (below); None without
        the sequences.
    lines_a_, lines_b_ : list of matplotlib Line2D
        The traces in the margins, one per drawn channel (empty without them).

    See Also
    --------
    AlignmentDisplay : The matches drawn between the two sequences.
    plot_cost_matrix : The function form, returning the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import alignkit
    >>> from alignkit.datasets import make_ecg_pair
    >>> from alignkit.plotting import CostMatrixDisplay
    >>> a, b, true_path = make_ecg_pair()
    >>> alignment = alignkit.dtw(a, b, window=("itakura", 2.0))
    >>> display = CostMatrixDisplay.from_alignment(alignment, window=("itakura", 2.0))
    >>> display.im_ is None, bool(display.window_mask.all())
    (True, False)
    """

    @validate_params({"labels": LABELS["labels"]})
    def __init__(
        self,
        alignment: "Alignment",
        a: ArrayLike | None = None,
        b: ArrayLike | None = None,
        *,
        window: WindowLike = None,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
    ):
        check_alignment(alignment, "CostMatrixDisplay")
        if (a is None) != (b is None):
            raise InvalidInputError("pass both a and b to draw them along the margins, or neither")
        self.alignment = alignment
        self.a, self.b = (None, None) if a is None else check_pair(alignment, a, b)
        self.window_mask = None if window is None else _window_mask(window, alignment.shape)
        self.true_path = None if true_path is None else check_true_path(true_path, alignment.shape)
        self.labels = tuple(labels)

    @classmethod
    def from_alignment(
        cls,
        alignment: "Alignment",
        a: ArrayLike | None = None,
        b: ArrayLike | None = None,
        *,
        window: WindowLike = None,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
        ax: "Axes | None" = None,
        matrix: str | None = "auto",
        channels: Channels = 0,
        channels_b: Channels | None = None,
        cmap: "str | Colormap" = "viridis",
        title: str | None = None,
    ) -> "CostMatrixDisplay":
        """Draw the matrix and path of an alignment.

        Parameters
        ----------
        alignment : Alignment or AttentionAlignment
            The alignment.
        a : array-like of shape (n,) or (n, n_channels_a), default=None
            First sequence, for the left margin.
        b : array-like of shape (m,) or (m, n_channels_b), default=None
            Second sequence, for the bottom margin.
        window : None, int, float, tuple or ndarray of bool, default=None
            The window of the alignment, shaded outside.
        true_path : array-like of shape (true_path_length, 2), default=None
            A ground-truth path, drawn dashed.
        labels : tuple of str, default=("a", "b")
            Names of the two sequences.
        {plot_parameters}

        Returns
        -------
        display : CostMatrixDisplay
            The display, drawn.
        """
        display = cls(alignment, a, b, window=window, true_path=true_path, labels=labels)
        return display.plot(
            ax=ax, matrix=matrix, channels=channels, channels_b=channels_b, cmap=cmap, title=title
        )

    @classmethod
    @validate_params({"estimator": [HasMethods("align")]})
    def from_estimator(
        cls,
        estimator: object,
        a: ArrayLike,
        b: ArrayLike,
        *,
        margins: bool = True,
        true_path: ArrayLike | None = None,
        labels: tuple[str, str] = ("a", "b"),
        ax: "Axes | None" = None,
        matrix: str | None = "auto",
        channels: Channels = 0,
        channels_b: Channels | None = None,
        cmap: "str | Colormap" = "viridis",
        title: str | None = None,
    ) -> "CostMatrixDisplay":
        """Align ``a`` and ``b`` with an aligner and draw the path in the aligner's window.

        Parameters
        ----------
        estimator : aligner
            Any alignkit aligner (fitted where it needs fitting); its
            ``align(a, b)`` gives the alignment and its ``window`` parameter,
            if it has one, the window drawn. A :class:`~alignkit.SoftAttentionAligner`
            shows its attention.
        a : array-like of shape (n,) or (n, n_channels_a)
            First sequence.
        b : array-like of shape (m,) or (m, n_channels_b)
            Second sequence.
        margins : bool, default=True
            Draw ``a`` and ``b`` along the margins.
        true_path : array-like of shape (true_path_length, 2), default=None
            A ground-truth path, drawn dashed.
        labels : tuple of str, default=("a", "b")
            Names of the two sequences.
        {plot_parameters}

        Returns
        -------
        display : CostMatrixDisplay
            The display, drawn.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from alignkit import DTWAligner
        >>> from alignkit.plotting import CostMatrixDisplay
        >>> a, b = np.sin(np.linspace(0, 6, 40)), np.sin(np.linspace(0, 6, 50) ** 1.1)
        >>> display = CostMatrixDisplay.from_estimator(DTWAligner(window=5), a, b)
        >>> int((~display.window_mask).sum()) > 0
        True
        """
        return cls.from_alignment(
            estimator.align(a, b),
            a if margins else None,
            b if margins else None,
            window=getattr(estimator, "window", None),
            true_path=true_path,
            labels=labels,
            ax=ax,
            matrix=matrix,
            channels=channels,
            channels_b=channels_b,
            cmap=cmap,
            title=title,
        )

    @validate_params(_MATRIX)
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        matrix: str | None = "auto",
        channels: Channels = 0,
        channels_b: Channels | None = None,
        cmap: "str | Colormap" = "viridis",
        title: str | None = None,
    ) -> "CostMatrixDisplay":
        """Draw the matrix, the window, the path and the true path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a figure in constrained layout. With
            margins, ``ax`` must be a grid cell (from ``plt.subplots``): it is
            replaced by the three axes.
        matrix : {"auto", "cost", "attention"} or None, default="auto"
            ``"cost"`` draws ``alignment.cost_matrix`` (cells outside the
            window left blank), ``"attention"`` the ``soft_matrix`` of an
            :class:`~alignkit.AttentionAlignment`, None the path alone on
            the ``(n, m)`` grid; ``"auto"`` draws the attention where there
            is one, else the cost matrix where there is one, else the path
            alone. Asking for a matrix the alignment lacks raises.
        channels : int, list of int or "all", default=0
            Channels drawn in the margins, overlaid.
        channels_b : int, list of int or "all", default=None
            Channels of ``b`` in its margin where they are not those of
            ``a``; None uses ``channels`` for both.
        cmap : str or Colormap, default="viridis"
            Colour map of the matrix.
        title : str, default=None
            Title; None states what is drawn, the distance and the path
            length, ``""`` draws none.

        Returns
        -------
        self : CostMatrixDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        values, kind = _resolve_matrix(self.alignment, matrix)
        margins = self.a is not None
        if margins:
            selected_a, selected_b = check_channel_pair(channels, channels_b, self.a, self.b)
        matrix_ax, self.ax_a_, self.ax_b_ = _layout(plt, ax, with_margins=margins)
        self.ax_, self.figure_ = matrix_ax, matrix_ax.figure
        n, m = self.alignment.shape
        self.im_ = self.colorbar_ = None
        if values is not None:
            self.im_ = matrix_ax.imshow(
                np.ma.masked_invalid(values),
                origin="lower",
                aspect="auto",
                cmap=cmap,
                interpolation="nearest",
            )
            label = "attention weight" if kind == "attention" else "accumulated cost"
            colorbar_ax = matrix_ax.inset_axes([1.02, 0.0, 0.03, 1.0])
            self.colorbar_ = self.figure_.colorbar(self.im_, cax=colorbar_ax, label=label)
        matrix_ax.set_xlim(-0.5, m - 0.5)
        matrix_ax.set_ylim(-0.5, n - 0.5)
        handles = self._draw_window(on_matrix=values is not None)
        self._draw_paths(on_matrix=values is not None)
        handles = [self.path_line_] + handles
        if self.true_path_line_ is not None:
            handles.append(self.true_path_line_)
        self.legend_ = None
        if len(handles) > 1:
            on_matrix = values is not None
            self.legend_ = matrix_ax.legend(
                handles=handles,
                loc="lower right",
                fontsize="small",
                framealpha=1.0,
                facecolor="0.55" if on_matrix else "white",
                labelcolor="white" if on_matrix else "black",
            )
        self.lines_a_, self.lines_b_ = [], []
        if margins:
            self.lines_a_, self.lines_b_ = _draw_margins(
                matrix_ax,
                self.ax_a_,
                self.ax_b_,
                self.a,
                self.b,
                selected_a,
                selected_b,
                self.labels,
            )
        else:
            matrix_ax.set_xlabel(f"{self.labels[1]} (timepoint)")
            matrix_ax.set_ylabel(f"{self.labels[0]} (timepoint)")
        matrix_ax.set_title(_title(self.alignment, kind) if title is None else title)
        return self

    def _draw_window(self, on_matrix):
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        self.window_ = None
        if self.window_mask is None:
            return []
        shade = "0.35" if on_matrix else "0.8"
        self.window_ = self.ax_.imshow(
            np.ma.masked_array(np.ones(self.window_mask.shape), mask=self.window_mask),
            origin="lower",
            aspect="auto",
            cmap=ListedColormap([shade]),
            alpha=0.6,
            interpolation="nearest",
            zorder=1.5,
        )
        return [Patch(facecolor=shade, alpha=0.6, label="outside window")]

    def _draw_paths(self, on_matrix):
        path = self.alignment.path
        (self.path_line_,) = self.ax_.plot(
            path[:, 1], path[:, 0], color="tab:red", lw=1.5, label="path", zorder=3
        )
        self.true_path_line_ = None
        if self.true_path is not None:
            # White shows on every viridis colour; the grey legend box keeps it visible there too.
            (self.true_path_line_,) = self.ax_.plot(
                self.true_path[:, 1],
                self.true_path[:, 0],
                ls="--",
                lw=1.2,
                color="white" if on_matrix else "black",
                label="true path",
                zorder=3,
            )


@validate_params({"show_cost": ["boolean", StrOptions({"auto"})], **LABELS})
def plot_cost_matrix(
    alignment: "Alignment",
    a: ArrayLike | None = None,
    b: ArrayLike | None = None,
    *,
    ax: "Axes | None" = None,
    show_cost: bool | str = "auto",
    channels: Channels = 0,
    true_path: ArrayLike | None = None,
    window: WindowLike = None,
    labels: tuple[str, str] = ("a", "b"),
    cmap: "str | Colormap" = "viridis",
    title: str | None = None,
) -> "Axes":
    """Draw the accumulated cost matrix with the warping path on top.

    The function form of :class:`CostMatrixDisplay`. Row ``i`` of the
    picture is timepoint ``i`` of ``a`` (the vertical axis, upwards) and
    column ``j`` timepoint ``j`` of ``b``, so the path runs from the lower
    left to the upper right corner.

    Parameters
    ----------
    alignment : Alignment or AttentionAlignment
        The alignment, e.g. from ``alignkit.dtw(a, b, return_cost_matrix=True)``.
    a : array-like of shape (n,) or (n, n_channels), default=None
        First sequence. If given with ``b``, it is drawn along the left margin.
    b : array-like of shape (m,) or (m, n_channels), default=None
        Second sequence, drawn along the bottom margin.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure (constrained layout) is made if None.
        With margins, ``ax`` must be a grid cell (from ``plt.subplots``): it
        is replaced by the three axes.
    show_cost : bool or "auto", default="auto"
        Draw ``alignment.cost_matrix`` (cells outside the window are left
        blank). ``True`` raises if the alignment has none, ``"auto"`` draws
        the attention of an :class:`~alignkit.AttentionAlignment`, the cost
        matrix where there is one and the path alone on the ``(n, m)`` grid
        otherwise, and ``False`` always draws the path alone.
    channels : int, list of int or "all", default=0
        Channels drawn in the margins, overlaid.
    true_path : array-like of shape (true_path_length, 2), default=None
        A ground-truth path, drawn dashed.
    window : None, int, float, tuple or ndarray of bool, default=None
        The window of the alignment, as :func:`alignkit.dtw` takes it; the
        cells outside it are shaded.
    labels : tuple of str, default=("a", "b")
        Names of the two sequences, for the axis labels.
    cmap : str or Colormap, default="viridis"
        Colour map of the cost.
    title : str, default=None
        Title; None states the distance and path length, ``""`` draws none.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the matrix (always the matrix, with or without margins).
        The path is the line labelled ``"path"`` in ``ax.lines``, with
        ``xdata`` the indices into ``b`` and ``ydata`` those into ``a``. The
        margin axes join ``ax`` in ``ax.figure.axes``; the colour bar is an
        inset, in ``ax.child_axes``.

    Raises
    ------
    InvalidInputError
        If ``show_cost=True`` and the alignment has no cost matrix, if only
        one of ``a`` and ``b`` is given, or if their lengths do not match
        the alignment.

    See Also
    --------
    CostMatrixDisplay : The display object, with every artist as an attribute.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import alignkit
    >>> from alignkit.datasets import make_ecg_pair
    >>> from alignkit.plotting import plot_cost_matrix
    >>> a, b, true_path = make_ecg_pair()
    >>> alignment = alignkit.dtw(a, b, window=0.1, return_cost_matrix=True)
    >>> ax = plot_cost_matrix(alignment, a, b, true_path=true_path)
    >>> len(ax.figure.axes)  # the matrix and the two margins
    3
    """
    matrix = {True: "cost", False: None}.get(show_cost, "auto")
    display = CostMatrixDisplay(alignment, a, b, window=window, true_path=true_path, labels=labels)
    display.plot(ax=ax, matrix=matrix, channels=channels, cmap=cmap, title=title)
    return display.ax_
