"""Digit canvases with known spatial transforms (the STN and RAM protocols, offline).

scikit-learn's bundled 8x8 digits are upsampled, distorted by a known
transform and placed on a larger canvas. The transform and the digit's box are
returned, so a spatial aligner can be scored against the truth.

Coordinates are normalised as in ``torch.nn.functional.grid_sample`` with
``align_corners=False``: ``-1`` and ``1`` are the outer edges of the first
and last pixels, and pixel ``k`` of ``n`` has its centre at ``(2k + 1) / n - 1``.
"""

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from ..core.params import StrOptions, validate_params
from ..exceptions import InvalidInputError
from ._constraints import NON_NEGATIVE, POSITIVE_INT, RandomStateLike, at_least

__all__ = ["DigitCanvas", "make_digit_canvas", "digit_images"]

_KINDS = ("clean", "A", "R", "RTS", "P", "T", "TC")
_DEFAULT_CANVAS = {"clean": 1.0, "A": 1.5, "R": 1.5, "RTS": 2.0, "P": 1.5, "T": 2.5, "TC": 2.5}

# The parameters of the canvas, declared once for make_digit_canvas and make_digit_captions.
CANVAS_CONSTRAINTS = {
    "n_images": [POSITIVE_INT, None],
    "kind": [StrOptions(set(_KINDS))],
    "canvas_size": [at_least(2), None],
    "digit_size": [at_least(2)],
    "n_clutter": [at_least(0)],
    "clutter_size": [POSITIVE_INT, None],
    "noise": [NON_NEGATIVE],
    "source_indices": ["array-like", None],
    "random_state": ["random_state"],
}


class DigitCanvas(NamedTuple):
    """Images made by :func:`make_digit_canvas`, with their ground truth.

    A named tuple: each parameter is also a field (``canvas.images``, ...), in
    this order.

    Parameters
    ----------
    images : ndarray of shape (n_images, canvas_size, canvas_size)
        Grey levels in ``[0, 1]``.
    labels : ndarray of shape (n_images,)
        Digit classes 0-9.
    transforms : ndarray of shape (n_images, 3, 3)
        Homogeneous map from the digit's own normalised frame (``[-1, 1]^2``
        over the ``digit_size`` square, ``(x, y)`` = (column, row)) to the
        canvas's normalised frame. Its inverse maps the canvas back onto the
        upright, centred digit.
    boxes : ndarray of shape (n_images, 4)
        ``(row_min, col_min, row_max, col_max)`` of the distorted digit square
        on the canvas, in pixels (edges, clipped to the canvas).
    source : ndarray of shape (n_images,)
        Index of each digit in :func:`sklearn.datasets.load_digits`.
    """

    images: np.ndarray
    labels: np.ndarray
    transforms: np.ndarray
    boxes: np.ndarray
    source: np.ndarray


@validate_params({"digit_size": [at_least(2)]})
def digit_images(digit_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 bundled 8x8 digits, bilinearly upsampled to ``digit_size`` and scaled to [0, 1].

    Parameters
    ----------
    digit_size : int, default=16
        Side of the upsampled digits, in pixels, at least 2.

    Returns
    -------
    images : ndarray of shape (1797, digit_size, digit_size)
    labels : ndarray of shape (1797,)

    Examples
    --------
    >>> from alignkit.datasets import digit_images
    >>> images, labels = digit_images(16)
    >>> images.shape, float(images.max()) <= 1.0
    ((1797, 16, 16), True)
    """
    return _digit_images(digit_size)


def _digit_images(digit_size):
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = digits.images / 16.0
    # Upsample with the same pixel-centre convention as the canvas sampler.
    centres = (np.arange(digit_size) + 0.5) * 8 / digit_size - 0.5
    return _bilinear(small, centres[None, :, None], centres[None, None, :]), digits.target


@validate_params(CANVAS_CONSTRAINTS)
def make_digit_canvas(
    n_images: int | None = None,
    kind: str = "RTS",
    *,
    canvas_size: int | None = None,
    digit_size: int = 16,
    n_clutter: int = 4,
    clutter_size: int | None = None,
    noise: float = 0.0,
    source_indices: ArrayLike | None = None,
    random_state: RandomStateLike = None,
) -> DigitCanvas:
    """Bundled digits placed on a canvas under known random transforms.

    Parameters
    ----------
    n_images : int, default=None
        Number of images; ``None`` uses each source digit once. Sources are
        drawn in a random order, cycling when more images than sources are asked.
    kind : {"clean", "A", "R", "RTS", "P", "T", "TC"}, default="RTS"
        Distortion, after the spatial transformer paper: ``"clean"`` the
        upright digit in the centre; ``"A"`` a mild random affine map (rotation
        in +-30 degrees, scale in [0.8, 1.2] per axis, shear in +-0.2, shift in
        +-0.1 of the canvas half-width), for registration; ``"R"`` rotation in +-90 degrees;
        ``"RTS"`` rotation in +-45 degrees, scale in [0.7, 1.2] and a random
        position; ``"P"`` projective (each corner of the digit moved by a normal
        jitter of 0.1 of the canvas half-width); ``"T"`` a random position only;
        ``"TC"`` a random position plus ``n_clutter`` patches cut from other
        digits.
    canvas_size : int, default=None
        Side of the canvas, in pixels. Defaults to ``digit_size`` times 1
        (clean), 1.5 (R, P), 2 (RTS) or 2.5 (T, TC).
    digit_size : int, default=16
        Side of the upsampled digit before distortion.
    n_clutter : int, default=4
        Clutter patches for ``kind="TC"``.
    clutter_size : int, default=None
        Side of a clutter patch; defaults to ``digit_size // 2``.
    noise : float, default=0.0
        Standard deviation of Gaussian pixel noise added at the end (then clipped to [0, 1]).
    source_indices : array-like of int, default=None
        Which of the 1797 bundled digits to use (e.g. a train or test split);
        default all.
    random_state : int, RandomState instance or None, default=None
        Seed of the transforms, the order of the sources and the clutter.

    Returns
    -------
    canvas : DigitCanvas
        ``(images, labels, transforms, boxes, source)``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.datasets import make_digit_canvas
    >>> canvas = make_digit_canvas(10, kind="RTS", random_state=0)
    >>> canvas.images.shape, canvas.transforms.shape
    ((10, 32, 32), (10, 3, 3))
    >>> upright = make_digit_canvas(2, kind="clean", source_indices=[0, 1])
    >>> sorted(upright.labels.tolist())
    [0, 1]
    """
    return _digit_canvas(
        n_images,
        kind,
        canvas_size,
        digit_size,
        n_clutter,
        clutter_size,
        noise,
        source_indices,
        random_state,
    )


def _digit_canvas(
    n_images,
    kind,
    canvas_size,
    digit_size,
    n_clutter,
    clutter_size,
    noise,
    source_indices,
    random_state,
):
    """:func:`make_digit_canvas` on validated parameters."""
    rng = check_random_state(random_state)
    if canvas_size is None:
        canvas_size = int(round(_DEFAULT_CANVAS[kind] * digit_size))
    if kind == "TC":
        clutter_size = digit_size // 2 if clutter_size is None else clutter_size
        if clutter_size > min(digit_size, canvas_size):
            raise InvalidInputError(
                f"clutter_size={clutter_size} must be at most digit_size and canvas_size"
            )
    digits, labels = _digit_images(digit_size)
    if source_indices is None:
        pool = np.arange(len(digits))
    else:
        pool = np.asarray(source_indices)
        if pool.ndim != 1 or len(pool) == 0 or pool.dtype.kind not in "iu":
            raise InvalidInputError("source_indices must be a non-empty 1-D array of ints")
        bad = np.flatnonzero((pool < 0) | (pool >= len(digits)))
        if len(bad):
            raise InvalidInputError(
                f"source_indices[{bad[0]}] = {pool[bad[0]]} is not an index of the "
                f"{len(digits)} bundled digits"
            )
    n_images = len(pool) if n_images is None else int(n_images)
    repeats = -(-n_images // len(pool))
    source = np.concatenate([rng.permutation(pool) for _ in range(repeats)])[:n_images]

    transforms = _random_transforms(kind, n_images, digit_size / canvas_size, rng)
    centres = (2 * np.arange(canvas_size) + 1) / canvas_size - 1
    grid_x, grid_y = np.meshgrid(centres, centres)
    canvas_points = np.stack([grid_x, grid_y, np.ones_like(grid_x)], axis=-1)  # (H, W, 3)
    inverse = np.linalg.inv(transforms)
    digit_points = np.einsum("nij,hwj->nhwi", inverse, canvas_points)
    u = digit_points[..., 0] / digit_points[..., 2]
    v = digit_points[..., 1] / digit_points[..., 2]
    # Normalised digit coordinates -> digit pixel coordinates (centres at integers).
    cols = (u + 1) * digit_size / 2 - 0.5
    rows = (v + 1) * digit_size / 2 - 0.5
    images = _bilinear(digits[source], rows, cols)

    if kind == "TC":
        for k in range(n_images):
            for _ in range(n_clutter):
                other = digits[rng.randint(len(digits))]
                r0, c0 = rng.randint(digit_size - clutter_size + 1, size=2)
                r1, c1 = rng.randint(canvas_size - clutter_size + 1, size=2)
                patch = other[r0 : r0 + clutter_size, c0 : c0 + clutter_size]
                region = images[k, r1 : r1 + clutter_size, c1 : c1 + clutter_size]
                np.maximum(region, patch, out=region)
    if noise > 0:
        images = np.clip(images + noise * rng.normal(size=images.shape), 0.0, 1.0)

    corners = np.array([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=float)
    mapped = np.einsum("nij,kj->nki", transforms, corners)
    mapped = mapped[..., :2] / mapped[..., 2:]
    pixels = np.clip((mapped + 1) * canvas_size / 2, 0, canvas_size)  # edges, in pixels
    boxes = np.column_stack(
        [
            pixels[..., 1].min(axis=1),
            pixels[..., 0].min(axis=1),
            pixels[..., 1].max(axis=1),
            pixels[..., 0].max(axis=1),
        ]
    )
    return DigitCanvas(images, labels[source], transforms, boxes, source)


def _random_transforms(kind, n, scale, rng):
    """Homogeneous digit -> canvas maps; ``scale`` is digit_size / canvas_size."""
    transforms = np.tile(np.eye(3), (n, 1, 1))
    if kind == "A":
        angle = rng.uniform(-np.pi / 6, np.pi / 6, n)
        zoom = rng.uniform(0.8, 1.2, (n, 2))
        shear = rng.uniform(-0.2, 0.2, n)
        for k in range(n):
            rotation = np.array(
                [[np.cos(angle[k]), -np.sin(angle[k])], [np.sin(angle[k]), np.cos(angle[k])]]
            )
            linear = rotation @ np.array([[1.0, shear[k]], [0.0, 1.0]]) @ np.diag(zoom[k])
            transforms[k, :2, :2] = scale * linear
            transforms[k, :2, 2] = rng.uniform(-0.1, 0.1, 2)
        return transforms
    if kind in ("clean", "T", "TC"):
        angle, zoom = np.zeros(n), np.ones(n)
    elif kind == "R":
        angle, zoom = rng.uniform(-np.pi / 2, np.pi / 2, n), np.ones(n)
    elif kind == "RTS":
        angle, zoom = rng.uniform(-np.pi / 4, np.pi / 4, n), rng.uniform(0.7, 1.2, n)
    else:  # "P": a projective map through jittered corners
        corners = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        for k in range(n):
            moved = corners * scale + 0.1 * rng.normal(size=(4, 2))
            transforms[k] = _homography(corners, moved)
        return transforms
    cos, sin = np.cos(angle) * zoom * scale, np.sin(angle) * zoom * scale
    transforms[:, 0, 0], transforms[:, 0, 1] = cos, -sin
    transforms[:, 1, 0], transforms[:, 1, 1] = sin, cos
    if kind in ("RTS", "T", "TC"):
        # Keep the whole digit square on the canvas.
        reach = np.abs(cos) + np.abs(sin)
        limit = np.clip(1 - reach, 0, None)
        transforms[:, 0, 2] = rng.uniform(-1, 1, n) * limit
        transforms[:, 1, 2] = rng.uniform(-1, 1, n) * limit
    return transforms


def _homography(source, target):
    """The 3x3 projective map sending four ``source`` points to ``target`` points."""
    rows = []
    for (x, y), (u, v) in zip(source, target):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    matrix = vt[-1].reshape(3, 3)
    return matrix / matrix[2, 2]


def _bilinear(images, rows, cols):
    """Sample ``images`` (n, h, w) at fractional pixel ``rows``/``cols``; zero outside."""
    n, h, w = images.shape
    rows = np.broadcast_to(rows, (n, *np.broadcast_shapes(rows.shape[1:], cols.shape[1:])))
    cols = np.broadcast_to(cols, rows.shape)
    r0, c0 = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
    fr, fc = rows - r0, cols - c0
    index = np.arange(n).reshape(n, *([1] * (rows.ndim - 1)))
    out = np.zeros(rows.shape)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            rr, cc = r0 + dr, c0 + dc
            inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            values = images[index, np.clip(rr, 0, h - 1), np.clip(cc, 0, w - 1)]
            out += np.where(inside, values, 0.0) * wr * wc
    return out
