"""plot_cost_matrix: the accumulated cost matrix (or the bare grid) with the path on top."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import StrOptions, validate_params
from ..exceptions import InvalidInputError
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
    from matplotlib.colors import Colormap

    from ..core.results import Alignment

__all__ = ["plot_cost_matrix"]


def _check_cost(alignment, show_cost):
    cost = alignment.cost_matrix
    if show_cost is True and cost is None:
        raise InvalidInputError(
            "this alignment has no cost matrix; compute it with "
            "alignkit.dtw(a, b, return_cost_matrix=True), or pass show_cost=False "
            "(or 'auto') to draw the path alone"
        )
    if show_cost is False or cost is None:
        return None
    cost = np.asarray(cost, dtype=float)
    if cost.shape != alignment.shape:
        raise InvalidInputError(
            f"the cost matrix has shape {cost.shape} but the alignment's shape is {alignment.shape}"
        )
    return cost


def _layout(plt, ax, with_margins):
    """The matrix axes and, with margins, the axes of ``a`` (left) and ``b`` (below)."""
    if not with_margins:
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        return ax, None, None
    if ax is None:
        figure = plt.figure(figsize=(7, 6.5))
        spec = figure.add_gridspec(1, 1)[0]
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise InvalidInputError(
                "to draw the sequences along the margins, ax must be a grid cell "
                "(from plt.subplots or figure.add_subplot), which is split into three axes"
            )
        figure = ax.figure
        ax.remove()
    grid = spec.subgridspec(
        2, 2, width_ratios=(1, 4), height_ratios=(4, 1), wspace=0.05, hspace=0.05
    )
    matrix_ax = figure.add_subplot(grid[0, 1])
    ax_a = figure.add_subplot(grid[0, 0], sharey=matrix_ax)
    ax_b = figure.add_subplot(grid[1, 1], sharex=matrix_ax)
    return matrix_ax, ax_a, ax_b


def _draw_margins(matrix_ax, ax_a, ax_b, a, b, selected, labels):
    for channel in selected:
        ax_a.plot(a[:, channel], np.arange(len(a)), color="tab:blue", lw=1)
        ax_b.plot(np.arange(len(b)), b[:, channel], color="tab:orange", lw=1)
    matrix_ax.tick_params(labelleft=False, labelbottom=False)
    ax_a.set_xticks([])
    ax_a.invert_xaxis()  # the trace faces the matrix it indexes
    ax_b.set_yticks([])
    ax_a.set_ylabel(f"{labels[0]} (timepoint)")
    ax_b.set_xlabel(f"{labels[1]} (timepoint)")


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
    labels: tuple[str, str] = ("a", "b"),
    cmap: "str | Colormap" = "viridis",
    title: str | None = None,
) -> "Axes":
    """Draw the accumulated cost matrix with the warping path on top.

    Row ``i`` of the picture is timepoint ``i`` of ``a`` (the vertical axis,
    upwards) and column ``j`` timepoint ``j`` of ``b``, so the path runs from
    the lower left to the upper right corner.

    Parameters
    ----------
    alignment : Alignment
        The alignment, e.g. from ``alignkit.dtw(a, b, return_cost_matrix=True)``.
    a : array-like of shape (n,) or (n, n_channels), default=None
        First sequence. If given with ``b``, it is drawn along the left margin.
    b : array-like of shape (m,) or (m, n_channels), default=None
        Second sequence, drawn along the bottom margin.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure is made if None. With margins, ``ax``
        must be a grid cell (from ``plt.subplots``): it is replaced by the
        three axes.
    show_cost : bool or "auto", default="auto"
        Draw ``alignment.cost_matrix`` (cells outside the window are left
        blank). ``True`` raises if the alignment has none, ``"auto"`` draws
        the path alone on the ``(n, m)`` grid in that case, and ``False``
        always draws the path alone.
    channels : int, list of int or "all", default=0
        Channels drawn in the margins, overlaid.
    true_path : array-like of shape (true_path_length, 2), default=None
        A ground-truth path, drawn dashed.
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
    plt = import_pyplot()
    check_alignment(alignment, "plot_cost_matrix")
    cost = _check_cost(alignment, show_cost)
    if (a is None) != (b is None):
        raise InvalidInputError("pass both a and b to draw them along the margins, or neither")
    if a is not None:
        a, b = check_pair(alignment, a, b)
        selected = check_channels(channels, a.shape[1])
    if true_path is not None:
        true_path = check_true_path(true_path, alignment.shape)

    matrix_ax, ax_a, ax_b = _layout(plt, ax, with_margins=a is not None)
    n, m = alignment.shape
    if cost is not None:
        image = matrix_ax.imshow(
            np.ma.masked_invalid(cost),
            origin="lower",
            aspect="auto",
            cmap=cmap,
            interpolation="nearest",
        )
        colorbar_ax = matrix_ax.inset_axes([1.02, 0.0, 0.03, 1.0])
        matrix_ax.figure.colorbar(image, cax=colorbar_ax, label="accumulated cost")
    matrix_ax.set_xlim(-0.5, m - 0.5)
    matrix_ax.set_ylim(-0.5, n - 0.5)
    path = alignment.path
    matrix_ax.plot(path[:, 1], path[:, 0], color="tab:red", lw=1.5, label="path")
    if true_path is not None:
        # White shows on every viridis colour; the grey legend box keeps it visible there too.
        on_cost = cost is not None
        matrix_ax.plot(
            true_path[:, 1],
            true_path[:, 0],
            ls="--",
            lw=1.2,
            color="white" if on_cost else "black",
            label="true path",
        )
        matrix_ax.legend(
            loc="lower right",
            fontsize="small",
            framealpha=1.0,
            facecolor="0.55" if on_cost else "white",
            labelcolor="white" if on_cost else "black",
        )
    if a is not None:
        _draw_margins(matrix_ax, ax_a, ax_b, a, b, selected, labels)
    else:
        matrix_ax.set_xlabel(f"{labels[1]} (timepoint)")
        matrix_ax.set_ylabel(f"{labels[0]} (timepoint)")
    kind = "accumulated cost" if cost is not None else "warping path"
    matrix_ax.set_title(f"{kind}: {default_title(alignment)}" if title is None else title)
    return matrix_ax
