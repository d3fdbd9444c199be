"""Displays of spatial aligners: STN sampling grids and glimpse trajectories."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import HasMethods, Integral, Interval, validate_params
from ..exceptions import InvalidInputError
from ._common import box_rectangle, check_box, grid_cell, import_pyplot, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["GlimpseDisplay", "SamplingGridDisplay"]

# The output frame's outline, in normalised homogeneous coordinates, closed.
_OUTLINE = np.array([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1], [-1, -1, 1]], float).T


def _gray_images(images, name):
    """Images as ``(n_images, height, width)``: one channel, squeezed."""
    array = np.asarray(images, dtype=float)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or 0 in array.shape or not np.isfinite(array).all():
        raise InvalidInputError(
            f"{name} must be finite images of shape (n_images, height, width) or "
            f"(n_images, 1, height, width), got shape {np.shape(images)}"
        )
    return array


def _to_pixels(normalised, n_pixels, align_corners=False):
    """Normalised coordinates in ``[-1, 1]`` to pixel positions (0: the first pixel's centre)."""
    if align_corners:
        return (normalised + 1) * (n_pixels - 1) / 2
    return (normalised + 1) * n_pixels / 2 - 0.5


def _grid_row(plt, ax, n_images, n_rows, figsize):
    """A figure's (or ``ax``'s grid cell's) ``n_rows`` x ``n_images`` panels."""
    message = "ax must be a grid cell (from plt.subplots), split into one panel per image"
    figure, spec = grid_cell(plt, ax, figsize, message)
    grid = spec.subgridspec(n_rows, n_images)
    panels = [[figure.add_subplot(grid[r, k]) for k in range(n_images)] for r in range(n_rows)]
    for panel in (p for row in panels for p in row):
        panel.set_xticks([])
        panel.set_yticks([])
    return figure, panels


class SamplingGridDisplay:
    """Where a spatial transformer samples each input, and what it outputs.

    The top row shows each input with the output frame's grid lines mapped
    into it (the sampling grid) and its outline in red; the bottom row the
    warped output.

    Parameters
    ----------
    images : array-like of shape (n_images, height, width)
        The inputs (one channel; ``(n_images, 1, height, width)`` too).
    warped : array-like of shape (n_images, out_height, out_width)
        The outputs (:meth:`~alignkit.STNAligner.transform`).
    matrices : array-like of shape (n_images, 3, 3)
        Homogeneous matrices mapping output normalised coordinates to input
        normalised coordinates (:meth:`~alignkit.STNAligner.predict_transform`).
    align_corners : bool, default=False
        The convention of the normalised coordinates (the aligner's
        ``align_corners``): -1 and 1 are the outer pixel edges, or with True
        the outer pixel centres.
    n_lines : int, default=7
        Grid lines drawn in each direction.

    Attributes
    ----------
    axes_input_, axes_output_ : list of matplotlib Axes
        The panels of the inputs and of the outputs.
    figure_ : matplotlib Figure
        The figure of the panels.
    grid_lines_ : list of list of matplotlib Line2D
        Per image, the mapped grid lines (``2 * n_lines``), in input pixels.
    outlines_ : list of matplotlib Line2D
        Per image, the mapped outline of the output frame, closed (5 points).

    See Also
    --------
    alignkit.STNAligner : The aligner it shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from alignkit.plotting import SamplingGridDisplay
    >>> images = np.zeros((1, 8, 8))
    >>> half = np.diag([0.5, 0.5, 1.0])[None]  # samples the centre half of the input
    >>> display = SamplingGridDisplay(images, images, half).plot()
    >>> display.outlines_[0].get_xdata()[:2].tolist()
    [1.5, 5.5]
    """

    @validate_params(
        {"align_corners": ["boolean"], "n_lines": [Interval(Integral, 2, None, closed="left")]}
    )
    def __init__(
        self,
        images: ArrayLike,
        warped: ArrayLike,
        matrices: ArrayLike,
        *,
        align_corners: bool = False,
        n_lines: int = 7,
    ):
        self.images = _gray_images(images, "images")
        self.warped = _gray_images(warped, "warped")
        self.matrices = np.asarray(matrices, dtype=float)
        n_images = len(self.images)
        if len(self.warped) != n_images or self.matrices.shape != (n_images, 3, 3):
            raise InvalidInputError(
                f"images ({n_images}), warped ({len(self.warped)}) and matrices (shape "
                f"{self.matrices.shape}) must describe the same images, matrices of shape "
                f"({n_images}, 3, 3)"
            )
        self.align_corners = bool(align_corners)
        self.n_lines = n_lines

    @classmethod
    @validate_params({"estimator": [HasMethods(["predict_transform", "transform"])]})
    def from_estimator(
        cls,
        estimator: object,
        images: ArrayLike,
        *,
        n_lines: int = 7,
        ax: "Axes | None" = None,
    ) -> "SamplingGridDisplay":
        """Draw the sampling grids of a fitted affine or projective STNAligner.

        Parameters
        ----------
        estimator : fitted STNAligner
            With an affine or projective ``transformation``.
        images : array-like of shape (n_images, height, width)
            A few images of the shape seen in fit.
        n_lines : int, default=7
            Grid lines drawn in each direction.
        ax : matplotlib Axes, default=None
            See :meth:`plot`.

        Returns
        -------
        display : SamplingGridDisplay
            The display, drawn.
        """
        if getattr(estimator, "transformation", None) == "tps":
            raise InvalidInputError(
                "SamplingGridDisplay draws matrix transforms; transformation='tps' predicts "
                "control points, not a matrix"
            )
        display = cls(
            images,
            estimator.transform(images),
            estimator.predict_transform(images),
            align_corners=getattr(estimator, "align_corners", False),
            n_lines=n_lines,
        )
        return display.plot(ax=ax)

    def _mapped(self, matrix, points, shape):
        mapped = matrix @ points
        xy = mapped[:2] / mapped[2]
        height, width = shape
        return (
            _to_pixels(xy[0], width, self.align_corners),
            _to_pixels(xy[1], height, self.align_corners),
        )

    def plot(self, *, ax: "Axes | None" = None) -> "SamplingGridDisplay":
        """Draw the inputs with their sampling grids above the outputs.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A grid cell (from ``plt.subplots``) split into the panels; None
            makes a figure in constrained layout.

        Returns
        -------
        self : SamplingGridDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        n_images = len(self.images)
        self.figure_, (self.axes_input_, self.axes_output_) = _grid_row(
            plt, ax, n_images, 2, (1.6 * n_images + 0.6, 3.6)
        )
        ticks = np.linspace(-1, 1, self.n_lines)
        # Homogeneous end points of the output frame's vertical, then horizontal, grid lines.
        lines = [np.array([[t, t], [-1.0, 1.0], [1, 1]]) for t in ticks]
        lines += [np.array([[-1.0, 1.0], [t, t], [1, 1]]) for t in ticks]
        self.grid_lines_, self.outlines_ = [], []
        for k in range(n_images):
            top, bottom = self.axes_input_[k], self.axes_output_[k]
            shape = self.images[k].shape
            top.imshow(self.images[k], cmap="gray_r")
            mapped = [self._mapped(self.matrices[k], line, shape) for line in lines]
            self.grid_lines_.append([top.plot(*xy, color="tab:orange", lw=0.6)[0] for xy in mapped])
            (outline,) = top.plot(
                *self._mapped(self.matrices[k], _OUTLINE, shape), color="tab:red", lw=1.5
            )
            self.outlines_.append(outline)
            bottom.imshow(self.warped[k], cmap="gray_r")
        self.axes_input_[0].set_ylabel("input")
        self.axes_output_[0].set_ylabel("output")
        return self


class GlimpseDisplay:
    """The glimpse trajectory of a recurrent attention model, with the retina's scales.

    Parameters
    ----------
    image : array-like of shape (height, width)
        The image (one channel; ``(1, height, width)`` too).
    locations : array-like of shape (n_glimpses, 2)
        Glimpse centres ``(x, y)`` in ``[-1, 1]``, ``(0, 0)`` the image
        centre (:meth:`~alignkit.GlimpseAligner.predict_locations`).
    patch_size : int, default=8
        Width in pixels of the narrowest patch.
    n_scales : int, default=3
        Patches per glimpse.
    scale_factor : int, default=2
        Each patch is this many times wider than the previous.
    box : array-like of shape (4,), default=None
        A ground-truth box ``(row_min, col_min, row_max, col_max)`` in pixel
        edges.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    trajectory_ : matplotlib Line2D
        The glimpse centres in pixel coordinates, in order.
    patches_ : list of list of matplotlib Rectangle
        Per glimpse, one square per scale, ``patch_size * scale_factor**k``
        pixels wide.
    box_ : matplotlib Rectangle or None
        The ground-truth box.

    See Also
    --------
    alignkit.GlimpseAligner : The aligner it shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from alignkit.plotting import GlimpseDisplay
    >>> display = GlimpseDisplay(np.zeros((16, 16)), [[0.0, 0.0], [0.5, -0.5]]).plot()
    >>> display.trajectory_.get_xdata().tolist(), display.trajectory_.get_ydata().tolist()
    ([7.5, 11.5], [7.5, 3.5])
    """

    @validate_params(
        {
            "patch_size": [Interval(Integral, 1, None, closed="left")],
            "n_scales": [Interval(Integral, 1, None, closed="left")],
            "scale_factor": [Interval(Integral, 1, None, closed="left")],
            "box": ["array-like", None],
        }
    )
    def __init__(
        self,
        image: ArrayLike,
        locations: ArrayLike,
        *,
        patch_size: int = 8,
        n_scales: int = 3,
        scale_factor: int = 2,
        box: ArrayLike | None = None,
    ):
        self.image = _gray_images(np.asarray(image, dtype=float)[None], "image")[0]
        self.locations = np.asarray(locations, dtype=float)
        if self.locations.ndim != 2 or self.locations.shape[1] != 2 or not len(self.locations):
            raise InvalidInputError(
                f"locations must have shape (n_glimpses, 2), got {self.locations.shape}"
            )
        if not np.isfinite(self.locations).all():
            raise InvalidInputError("locations must be finite")
        self.patch_size, self.n_scales, self.scale_factor = patch_size, n_scales, scale_factor
        self.box = check_box(box)

    @classmethod
    @validate_params({"estimator": [HasMethods("predict_locations")]})
    def from_estimator(
        cls,
        estimator: object,
        image: ArrayLike,
        *,
        box: ArrayLike | None = None,
        ax: "Axes | None" = None,
    ) -> "GlimpseDisplay":
        """Draw the glimpses a fitted GlimpseAligner takes on one image.

        Parameters
        ----------
        estimator : fitted GlimpseAligner
            Its policy means give the locations; its retina parameters the
            squares.
        image : array-like of shape (height, width)
            An image of the shape seen in fit.
        box : array-like of shape (4,), default=None
            A ground-truth box, in pixel edges.
        ax : matplotlib Axes, default=None
            See :meth:`plot`.

        Returns
        -------
        display : GlimpseDisplay
            The display, drawn.
        """
        image = np.asarray(image, dtype=float)
        display = cls(
            image,
            estimator.predict_locations(image[None])[0],
            patch_size=estimator.patch_size,
            n_scales=estimator.n_scales,
            scale_factor=estimator.scale_factor,
            box=box,
        )
        return display.plot(ax=ax)

    def plot(self, *, ax: "Axes | None" = None) -> "GlimpseDisplay":
        """Draw the image, the trajectory and each glimpse's patches.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a figure in constrained layout.

        Returns
        -------
        self : GlimpseDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        from matplotlib.patches import Rectangle

        self.figure_, self.ax_ = new_axes(plt, ax, (3.5, 3.5))
        ax = self.ax_
        height, width = self.image.shape
        ax.imshow(self.image, cmap="gray_r")
        cols = _to_pixels(self.locations[:, 0], width)
        rows = _to_pixels(self.locations[:, 1], height)
        (self.trajectory_,) = ax.plot(cols, rows, "-o", color="tab:red", ms=3, lw=1)
        self.patches_ = []
        for step, (col, row) in enumerate(zip(cols, rows)):
            squares = []
            for scale in range(self.n_scales):
                side = self.patch_size * self.scale_factor**scale
                squares.append(
                    ax.add_patch(
                        Rectangle(
                            (col - side / 2, row - side / 2),
                            side,
                            side,
                            fill=False,
                            edgecolor="tab:red",
                            lw=0.8,
                            alpha=1.0 / (scale + 1),
                        )
                    )
                )
            self.patches_.append(squares)
            ax.annotate(str(step + 1), (col, row), color="tab:blue", fontsize=8)
        self.box_ = None
        if self.box is not None:
            self.box_ = ax.add_patch(box_rectangle(self.box, edgecolor="tab:green"))
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{len(self.locations)} glimpses", fontsize="small")
        return self
