"""AttentionMapDisplay: grid attention upsampled over the image, one panel per decoded token."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import HasMethods, Interval, Real, validate_params
from ..exceptions import InvalidInputError
from ._common import box_rectangle, check_box, forward_plot_parameters, grid_cell, import_pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["AttentionMapDisplay"]


def _check_image(image):
    array = np.asarray(image, dtype=float)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]  # one channel, as SoftAttentionAligner stores image_shape_
    if array.ndim != 2 or 0 in array.shape or not np.isfinite(array).all():
        raise InvalidInputError(
            f"image must be a finite (height, width) or (1, height, width) array, got shape "
            f"{np.shape(image)}"
        )
    return array


@forward_plot_parameters
class AttentionMapDisplay:
    """Where a grid attention model looks in an image, token by token.

    Each panel shows the image with the attention of one decoding step laid
    over it, at image resolution (each grid cell's weight spread over the
    pixels it covers, :func:`alignkit.upsample_attention`).

    Parameters
    ----------
    image : array-like of shape (height, width) or (1, height, width)
        The image attended to.
    maps : array-like of shape (n_steps, height, width)
        Attention of each step over the pixels (each map sums to 1).
    tokens : sequence of str, default=None
        The token of each step, for the panel titles.
    box : array-like of shape (4,), default=None
        A ground-truth box ``(row_min, col_min, row_max, col_max)`` in pixel
        edges, drawn on every panel.

    Attributes
    ----------
    axes_ : list of matplotlib Axes
        One panel per drawn step.
    figure_ : matplotlib Figure
        The figure of the panels.
    images_ : list of matplotlib AxesImage
        The image in each panel.
    maps_ : list of matplotlib AxesImage
        The attention map over it, in each panel.
    boxes_ : list of matplotlib Rectangle
        The ground-truth box in each panel (empty without one).

    See Also
    --------
    alignkit.SoftAttentionAligner : With ``input="grid"``, the model it shows.
    CostMatrixDisplay : The attention over a sequence.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from alignkit.plotting import AttentionMapDisplay
    >>> weights = np.eye(4)[[1, 2]]  # two steps over a 2 x 2 grid of cells
    >>> image = np.zeros((8, 8))
    >>> display = AttentionMapDisplay.from_grid(image, weights, (2, 2), tokens=["a", "b"])
    >>> float(display.maps_[0].get_array()[:4, 4:].sum())  # cell 1: the top-right quarter
    1.0
    """

    @validate_params({"tokens": ["array-like", None], "box": ["array-like", None]})
    def __init__(
        self,
        image: ArrayLike,
        maps: ArrayLike,
        *,
        tokens: Sequence[str] | None = None,
        box: ArrayLike | None = None,
    ):
        self.image = _check_image(image)
        maps = np.asarray(maps, dtype=float)
        if maps.ndim != 3 or maps.shape[1:] != self.image.shape or len(maps) == 0:
            raise InvalidInputError(
                f"maps must have shape (n_steps, {self.image.shape[0]}, {self.image.shape[1]}) "
                f"like the image, got {maps.shape}"
            )
        self.maps = maps
        self.tokens = None if tokens is None else [str(token) for token in tokens]
        if self.tokens is not None and len(self.tokens) != len(maps):
            raise InvalidInputError(f"tokens has {len(self.tokens)} entries for {len(maps)} maps")
        self.box = check_box(box)

    @classmethod
    def from_grid(
        cls,
        image: ArrayLike,
        weights: ArrayLike,
        grid_shape: tuple[int, int],
        *,
        tokens: Sequence[str] | None = None,
        box: ArrayLike | None = None,
        ax: "Axes | None" = None,
        alpha: float = 0.6,
        cmap: str = "inferno",
    ) -> "AttentionMapDisplay":
        """Upsample attention over grid cells to the image and draw it.

        Parameters
        ----------
        image : array-like of shape (height, width) or (1, height, width)
            The image attended to.
        weights : array-like of shape (n_steps, grid_height * grid_width)
            Attention over the cells, row-major (a row of
            :meth:`~alignkit.SoftAttentionAligner.attention`).
        grid_shape : tuple of int
            ``(grid_height, grid_width)``.
        tokens : sequence of str, default=None
            The token of each step.
        box : array-like of shape (4,), default=None
            A ground-truth box, in pixel edges.
        {plot_parameters}

        Returns
        -------
        display : AttentionMapDisplay
            The display, drawn.
        """
        # Imported here: the attention module loads Numba; importing alignkit.plotting stays light.
        from ..estimators._attention_alignment import upsample_attention

        image = _check_image(image)
        maps = upsample_attention(weights, grid_shape, image.shape)
        display = cls(image, maps, tokens=tokens, box=box)
        return display.plot(ax=ax, alpha=alpha, cmap=cmap)

    @classmethod
    @validate_params({"estimator": [HasMethods(["attention", "predict"])]})
    def from_estimator(
        cls,
        estimator: object,
        image: ArrayLike,
        tokens: Sequence[str] | None = None,
        *,
        box: ArrayLike | None = None,
        ax: "Axes | None" = None,
        alpha: float = 0.6,
        cmap: str = "inferno",
    ) -> "AttentionMapDisplay":
        """Draw a fitted grid attention model's attention over one image.

        Parameters
        ----------
        estimator : fitted SoftAttentionAligner
            Fitted with ``input="grid"``.
        image : array-like of shape (height, width)
            The image.
        tokens : sequence of str, default=None
            The tokens fed to the decoder (teacher forcing); None decodes
            them with ``estimator.predict``, to show the attention behind
            its prediction.
        box : array-like of shape (4,), default=None
            A ground-truth box, in pixel edges.
        {plot_parameters}

        Returns
        -------
        display : AttentionMapDisplay
            The display, drawn.
        """
        if tokens is None:
            tokens = estimator.predict([image])[0]
        maps = estimator.attention([(image, tokens)], upsample=True)[0]
        display = cls(image, maps, tokens=tokens, box=box)
        return display.plot(ax=ax, alpha=alpha, cmap=cmap)

    @validate_params({"alpha": [Interval(Real, 0, 1, closed="both")]})
    def plot(
        self,
        *,
        ax: "Axes | None" = None,
        alpha: float = 0.6,
        cmap: str = "inferno",
    ) -> "AttentionMapDisplay":
        """Draw one panel per step.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A grid cell (from ``plt.subplots``) split into one panel per
            step; None makes a figure in constrained layout.
        alpha : float, default=0.6
            Opacity of the attention over the image where it is highest, in
            ``[0, 1]``; each pixel's opacity is proportional to its weight.
        cmap : str, default="inferno"
            Colour map of the attention.

        Returns
        -------
        self : AttentionMapDisplay
            The display, with the artists as attributes.
        """
        plt = import_pyplot()
        n_steps = len(self.maps)
        self.figure_, spec = grid_cell(
            plt,
            ax,
            (2.4 * n_steps, 2.8),
            "ax must be a grid cell (from plt.subplots), split into one panel per step",
        )
        grid = spec.subgridspec(1, n_steps)
        self.axes_ = [self.figure_.add_subplot(grid[step]) for step in range(n_steps)]
        self.images_, self.maps_, self.boxes_ = [], [], []
        for step, panel in enumerate(self.axes_):
            self.images_.append(panel.imshow(self.image, cmap="gray"))
            # Opacity grows with the weight, so that the image shows where the model does not look.
            peak = self.maps[step].max()
            opacity = alpha * (self.maps[step] / peak if peak > 0 else self.maps[step])
            self.maps_.append(
                panel.imshow(self.maps[step], cmap=cmap, alpha=opacity, interpolation="nearest")
            )
            if self.box is not None:
                self.boxes_.append(
                    panel.add_patch(box_rectangle(self.box, edgecolor="tab:red", lw=1))
                )
            token = f": '{self.tokens[step]}'" if self.tokens is not None else ""
            panel.set_title(f"step {step}{token}", fontsize="small")
            panel.set_axis_off()
        return self
