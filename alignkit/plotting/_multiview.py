"""Displays of multi-view alignments: canonical variates (CTW, deep CTW) and GCTW warps."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import HasMethods, validate_params
from ..exceptions import InvalidInputError
from ..validation import check_sequence
from ._common import (
    LABELS,
    Channels,
    check_alignment,
    check_channels,
    check_pair,
    default_title,
    forward_plot_parameters,
    grid_cell,
    import_pyplot,
    new_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..core.results import Alignment
    from ..multiview import MultiAlignment

__all__ = ["CanonicalVariatesDisplay", "MultiAlignmentDisplay"]


def _two_panels(plt, ax, figsize):
    """Two axes side by side: a new constrained figure's, or ``ax``'s grid cell split in two."""
    figure, spec = grid_cell(
        plt,
        ax,
        figsize,
        "ax must be a grid cell (from plt.subplots or figure.add_subplot), "
        "which is split into two axes",
    )
    grid = spec.subgridspec(1, 2, wspace=0.15)
    return figure, figure.add_subplot(grid[0]), figure.add_subplot(grid[1])


@forward_plot_parameters
class CanonicalVariatesDisplay:
    """Canonical variates of a pair before and after warping (CTW, deep CTW).

    The left panel shows each sequence's variates on its own timeline, the
    right panel both along the alignment path, where an aligner that did its
    job makes them agree.

    Parameters
    ----------
    variates_a : array-like of shape (n, n_components)
        Canonical variates of ``a`` (its frames projected by the model).
    variates_b : array-like of shape (m, n_components)
        Canonical variates of ``b``.
    alignment : Alignment
        The alignment of the pair, of shape ``(n, m)``.
    labels : tuple of str, default=("a", "b")
        Names of the two sequences.

    Attributes
    ----------
    ax_before_, ax_after_ : matplotlib Axes
        The panels before and after warping.
    figure_ : matplotlib Figure
        The figure of the panels.
    lines_before_a_, lines_before_b_ : list of matplotlib Line2D
        One line per drawn component, against each sequence's own timepoints.
    lines_after_a_, lines_after_b_ : list of matplotlib Line2D
        One line per drawn component along the path: point ``k`` is
        ``variates_a[path[k, 0]]`` (resp. ``variates_b[path[k, 1]]``).
    legend_ : matplotlib Legend
        The legend, inside the "after" panel.

    See Also
    --------
    alignkit.CTWAligner, alignkit.DeepCTWAligner : The aligners it shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit import CTWAligner
    >>> from alignkit.datasets import make_warped_spirals
    >>> from alignkit.plotting import CanonicalVariatesDisplay
    >>> a, b = make_warped_spirals(n_timepoints=100, random_state=0)[0]
    >>> aligner = CTWAligner(n_components=1).fit([(a, b)])
    >>> display = CanonicalVariatesDisplay.from_estimator(aligner, a, b)
    >>> len(display.lines_after_a_[0].get_ydata()) == len(aligner.align(a, b).path)
    True
    """

    @validate_params({"labels": LABELS["labels"]})
    def __init__(
        self,
        variates_a: ArrayLike,
        variates_b: ArrayLike,
        alignment: "Alignment",
        *,
        labels: tuple[str, str] = ("a", "b"),
    ):
        check_alignment(alignment, "CanonicalVariatesDisplay")
        variates_a, variates_b = check_pair(alignment, variates_a, variates_b)
        if variates_a.shape[1] != variates_b.shape[1]:
            raise InvalidInputError(
                f"variates_a has {variates_a.shape[1]} components but variates_b has "
                f"{variates_b.shape[1]}; both must come from one model"
            )
        self.variates_a, self.variates_b = variates_a, variates_b
        self.alignment = alignment
        self.labels = tuple(labels)

    @classmethod
    @validate_params({"estimator": [HasMethods(["align", "transform"])]})
    def from_estimator(
        cls,
        estimator: object,
        a: ArrayLike,
        b: ArrayLike,
        *,
        labels: tuple[str, str] = ("a", "b"),
        ax: "Axes | None" = None,
        components: Channels = 0,
        title: str | None = None,
    ) -> "CanonicalVariatesDisplay":
        """Align a pair with a fitted paired aligner and draw its canonical variates.

        Parameters
        ----------
        estimator : fitted CTWAligner or DeepCTWAligner
            A fitted paired aligner; the pair is aligned and projected as
            by its :meth:`~alignkit.base.PairedAligner.transform`.
        a : array-like of shape (n, n_channels_a)
            Sequence of the first modality.
        b : array-like of shape (m, n_channels_b)
            Sequence of the second modality.
        labels : tuple of str, default=("a", "b")
            Names of the two sequences.
        {plot_parameters}

        Returns
        -------
        display : CanonicalVariatesDisplay
            The display, drawn.
        """
        # The variates of each side on its own timeline are what transform computes
        # before it puts b's on a's timeline; the paired base keeps them in _align_fitted.
        ((alignment, variates_a, variates_b),) = estimator._align_fitted(
            estimator._check_fitted_pairs([(a, b)])
        )
        display = cls(variates_a, variates_b, alignment, labels=labels)
        return display.plot(ax=ax, components=components, title=title)

    @validate_params({"title": [str, None]})
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        components: Channels = 0,
        title: str | None = None,
    ) -> "CanonicalVariatesDisplay":
        """Draw the variates before and after warping.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A grid cell (from ``plt.subplots``) split into the two panels;
            None makes a figure in constrained layout.
        components : int, list of int or "all", default=0
            Canonical components to draw.
        title : str, default=None
            Title of the "after" panel; None states the distance and path
            length, ``""`` draws none.

        Returns
        -------
        self : CanonicalVariatesDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        selected = check_channels(components, self.variates_a.shape[1], "the model", "components")
        self.figure_, self.ax_before_, self.ax_after_ = _two_panels(plt, ax, (10, 3.5))
        warped_a, warped_b = self.alignment.warp(self.variates_a, self.variates_b)
        self.lines_before_a_, self.lines_before_b_ = [], []
        self.lines_after_a_, self.lines_after_b_ = [], []
        for number, component in enumerate(selected):
            style = {"lw": 1.2, "ls": ["-", "--", ":", "-."][number % 4]}
            name_a = f"{self.labels[0]}, component {component}"
            name_b = f"{self.labels[1]}, component {component}"
            for axes, series_a, series_b, lines_a, lines_b in (
                (
                    self.ax_before_,
                    self.variates_a,
                    self.variates_b,
                    self.lines_before_a_,
                    self.lines_before_b_,
                ),
                (self.ax_after_, warped_a, warped_b, self.lines_after_a_, self.lines_after_b_),
            ):
                lines_a.append(
                    axes.plot(series_a[:, component], color="tab:blue", label=name_a, **style)[0]
                )
                lines_b.append(
                    axes.plot(series_b[:, component], color="tab:orange", label=name_b, **style)[0]
                )
        self.ax_before_.set_xlabel("timepoint (each sequence's own)")
        self.ax_before_.set_ylabel("canonical variate")
        self.ax_before_.set_title("before warping")
        self.ax_after_.set_xlabel("step along the path")
        self.ax_after_.set_title(
            f"after warping: {default_title(self.alignment)}" if title is None else title
        )
        self.legend_ = self.ax_after_.legend(loc="best", fontsize="small")
        return self


class MultiAlignmentDisplay:
    """The warps of a multi-sequence alignment (GCTW) and its first canonical variates.

    The left panel draws, for each sequence, the frame shown at each latent
    frame (its warp); with the sequences, the right panel draws each one's
    canonical variate on the latent timeline, where the alignment makes
    them agree.

    Parameters
    ----------
    result : MultiAlignment
        The result of :func:`alignkit.multiview.gctw`.
    sequences : list of array-like of shape (lengths[k], n_channels_k), default=None
        The aligned sequences, in order, for the variates panel.
    labels : list of str, default=None
        Names of the sequences; None numbers them.

    Attributes
    ----------
    ax_warps_ : matplotlib Axes
        The warps panel.
    ax_variates_ : matplotlib Axes or None
        The variates panel; None without the sequences.
    figure_ : matplotlib Figure
        The figure of the panels.
    warp_lines_ : list of matplotlib Line2D
        Per sequence, ``result.paths[:, k]`` against the latent frame.
    variate_lines_ : list of matplotlib Line2D
        Per sequence, component ``component`` of the centred sequence,
        warped onto the latent timeline (:meth:`~alignkit.multiview.MultiAlignment.warp`) and
        projected by ``result.projections[k]``; empty without the sequences.
    legend_ : matplotlib Legend
        The legend of the warps panel.

    See Also
    --------
    alignkit.multiview.gctw : The alignment it shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit.datasets import make_warped_spirals
    >>> from alignkit.multiview import gctw
    >>> from alignkit.plotting import MultiAlignmentDisplay
    >>> sequences = make_warped_spirals(n_sequences=3, random_state=0)[0]
    >>> result = gctw(sequences, n_components=2)
    >>> display = MultiAlignmentDisplay(result, sequences).plot()
    >>> len(display.warp_lines_), len(display.variate_lines_)
    (3, 3)
    """

    @validate_params({"labels": [list, tuple, None]})
    def __init__(
        self,
        result: "MultiAlignment",
        sequences: Sequence[ArrayLike] | None = None,
        *,
        labels: Sequence[str] | None = None,
    ):
        if not (hasattr(result, "paths") and hasattr(result, "projections")):
            raise InvalidInputError(
                "MultiAlignmentDisplay expects a MultiAlignment (from alignkit.multiview.gctw), "
                f"got {type(result).__name__}"
            )
        n_sequences = len(result.lengths)
        self.result = result
        self.sequences = None
        if sequences is not None:
            if len(sequences) != n_sequences:
                raise InvalidInputError(
                    f"sequences holds {len(sequences)} sequences but the result aligns "
                    f"{n_sequences}"
                )
            self.sequences = [
                check_sequence(sequence, name=f"sequences[{k}]")
                for k, sequence in enumerate(sequences)
            ]
        labels = [f"sequence {k}" for k in range(n_sequences)] if labels is None else labels
        if len(labels) != n_sequences:
            raise InvalidInputError(f"labels has {len(labels)} names for {n_sequences} sequences")
        self.labels = list(labels)

    @validate_params({"title": [str, None]})
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        component: int = 0,
        title: str | None = None,
    ) -> "MultiAlignmentDisplay":
        """Draw the warps and, with the sequences, the canonical variates.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw: with the sequences, a grid cell (from
            ``plt.subplots``) split into the two panels; None makes a figure
            in constrained layout.
        component : int, default=0
            The canonical component of the variates panel.
        title : str, default=None
            Title of the warps panel; None states the rounds run.

        Returns
        -------
        self : MultiAlignmentDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        result = self.result
        n_components = min(projection.shape[1] for projection in result.projections)
        (component,) = check_channels(component, n_components, "the result", "component")
        if self.sequences is None:
            self.ax_variates_ = None
            self.figure_, self.ax_warps_ = new_axes(plt, ax, (5.5, 4))
        else:
            self.figure_, self.ax_warps_, self.ax_variates_ = _two_panels(plt, ax, (11, 4))
        latent = np.arange(len(result.paths))
        self.warp_lines_ = [
            self.ax_warps_.plot(latent, result.paths[:, k], lw=1.3, label=label)[0]
            for k, label in enumerate(self.labels)
        ]
        self.ax_warps_.set_xlabel("latent frame")
        self.ax_warps_.set_ylabel("frame of the sequence")
        self.ax_warps_.set_title(
            f"warps: {result.n_iter} round(s), {result.stop_reason}" if title is None else title
        )
        self.legend_ = self.ax_warps_.legend(loc="upper left", fontsize="small")
        self.variate_lines_ = []
        if self.sequences is not None:
            for k, warped in enumerate(result.warp(self.sequences)):
                variate = (warped - warped.mean(axis=0)) @ result.projections[k][:, component]
                self.variate_lines_.append(
                    self.ax_variates_.plot(latent, variate, lw=1.2, label=self.labels[k])[0]
                )
            self.ax_variates_.set_xlabel("latent frame")
            self.ax_variates_.set_ylabel(f"canonical variate {component}")
            self.ax_variates_.set_title("on the latent timeline")
        return self
