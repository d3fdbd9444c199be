"""Validation at the public boundary: one call per argument, clear messages.

Errors name the argument, the sequence index (for collections), the position
and the problem. Kernels never validate; they receive what these functions
return: float64, C-contiguous arrays of shape ``(n_timepoints, n_channels)``.

The layout of the input is read from the configuration (``sequence_layout``
and ``image_layout``, see :func:`alignkit.get_config`); under the default
``"auto"`` a shape that looks like the other layout (aeon's channels-first
sequences, channels-last images) is refused with a hint instead of being read
the wrong way round.
"""

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._config import get_config
from .core.window import Window
from .exceptions import AlignkitMemoryError, InvalidInputError, NonNumericInputError, WindowError

__all__ = [
    "check_sequence",
    "check_pair",
    "check_collection",
    "check_images",
    "check_window",
    "check_memory",
    "window_bounds",
    "from_aeon",
]

# What a ``window`` argument may be (see :func:`check_window`).
WindowLike = int | float | tuple | ArrayLike | Window | None
# What a collection argument may be (see :func:`check_collection`).
CollectionLike = Sequence[ArrayLike] | np.ndarray
# Channel counts of the usual images (grey, RGB, RGBA): a last axis of one of these sizes
# while axis 1 is another size is what a channels-last stack looks like.
_IMAGE_CHANNELS = (1, 3, 4)


def _where(name, index):
    return f"{name}[{index}]" if index is not None else name


def _as_numeric_array(value, name, index):
    if hasattr(value, "toarray") and hasattr(value, "nnz"):  # scipy.sparse, without importing it
        raise InvalidInputError(
            f"{_where(name, index)} is a sparse matrix; sparse input is not supported, "
            "pass a dense array (X.toarray())"
        )
    if isinstance(value, np.ma.MaskedArray):
        _check_unmasked(value, name, index)
        value = value.data
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise InvalidInputError(
            f"{_where(name, index)} is ragged or not array-like: {exc}"
        ) from None
    if array.dtype == object:
        # Numbers held as objects (e.g. from pandas) are numbers; anything else is refused.
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            error = NonNumericInputError if isinstance(exc, TypeError) else InvalidInputError
            raise error(
                f"{_where(name, index)} is ragged or holds non-numeric values (dtype object): "
                f"{exc}; pass a numeric array of shape (n_timepoints, n_channels)"
            ) from None
    if np.iscomplexobj(array):
        raise InvalidInputError(
            f"{_where(name, index)} is complex; alignkit aligns real values "
            "(Complex data not supported)"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InvalidInputError(
            f"{_where(name, index)} has non-numeric dtype {array.dtype}; pass numbers"
        )
    return array


def _check_unmasked(value, name, index):
    """A masked array is read only when nothing is masked: its mask would be lost silently."""
    masked = np.ma.getmaskarray(value)
    if masked.any():
        position = ", ".join(str(int(k)) for k in np.argwhere(masked)[0])
        raise InvalidInputError(
            f"{_where(name, index)} is a masked array with a masked value at index ({position}); "
            "alignkit does not read masks: fill them (X.filled(value)) or drop those "
            "timepoints first"
        )


def _check_finite(array, name, index):
    finite = np.isfinite(array)
    if not finite.all():
        timepoint, channel = np.argwhere(~finite)[0]
        value = "NaN" if np.isnan(array[timepoint, channel]) else str(array[timepoint, channel])
        raise InvalidInputError(
            f"{_where(name, index)} holds {value} at timepoint {timepoint}, channel {channel}; "
            "sequences must be finite (remove or interpolate missing values first)"
        )


def _sequence_array(sequence, name, index, transpose):
    """A 2-D numeric array ``(n_timepoints, n_channels)``, not yet converted or checked for NaN."""
    array = _as_numeric_array(sequence, name, index)
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim != 2:
        axes = "(n_timepoints, n_channels)"
        if transpose:
            axes = "(n_channels, n_timepoints) under sequence_layout='nct'"
        raise InvalidInputError(
            f"{_where(name, index)} has {array.ndim} dimensions (shape {array.shape}); "
            f"a sequence is 1-D (n_timepoints,) or 2-D {axes}"
        )
    elif transpose:
        array = array.T
    if array.shape[0] == 0:
        raise InvalidInputError(f"{_where(name, index)} is empty (0 timepoints)")
    if array.shape[1] == 0:
        raise InvalidInputError(f"{_where(name, index)} has 0 channels")
    return array


def _finish_sequence(array, name, index, n_channels, finite=True):
    """Check the channels, convert to C-contiguous float64, refuse NaN and inf (unless
    ``finite`` is False: the caller refuses them itself, see :func:`_check_finite`)."""
    if n_channels is not None and array.shape[1] != n_channels:
        raise InvalidInputError(
            f"{_where(name, index)} has {array.shape[1]} channels but {n_channels} were "
            "expected (all sequences must have the same channels)"
        )
    array = np.ascontiguousarray(array, dtype=np.float64)
    if finite:
        _check_finite(array, name, index)
    return array


def _sequence(sequence, name, index, n_channels, transpose, finite=True):
    array = _sequence_array(sequence, name, index, transpose)
    return _finish_sequence(array, name, index, n_channels, finite)


def check_sequence(
    sequence: ArrayLike,
    name: str = "sequence",
    index: int | None = None,
    n_channels: int | None = None,
) -> np.ndarray:
    """Validate one sequence and return it as a 2-D float64 array.

    Parameters
    ----------
    sequence : array-like of shape (n_timepoints,) or (n_timepoints, n_channels)
        The sequence. A 1-D array is one channel. Under
        ``sequence_layout="nct"`` (see :func:`alignkit.get_config`) a 2-D
        array is read as ``(n_channels, n_timepoints)``, aeon's layout.
    name : str, default="sequence"
        Argument name used in error messages.
    index : int, default=None
        Position of the sequence in a collection, for error messages.
    n_channels : int, default=None
        If given, the number of channels the sequence must have.

    Returns
    -------
    sequence : ndarray of shape (n_timepoints, n_channels), dtype float64
        C-contiguous copy or view of the input.

    Raises
    ------
    InvalidInputError
        If the sequence is empty, has no channels, is not 1-D or 2-D, is not
        numeric, holds NaN or inf, or has the wrong number of channels.

    See Also
    --------
    check_pair : Two sequences, refused when both look channels-first.

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.validation import check_sequence
    >>> check_sequence([1, 2, 3]).shape
    (3, 1)
    >>> with alignkit.config_context(sequence_layout="nct"):
    ...     check_sequence([[1, 2, 3, 4], [5, 6, 7, 8]]).shape
    (4, 2)
    """
    transpose = get_config()["sequence_layout"] == "nct"
    return _sequence(sequence, name, index, n_channels, transpose)


def _layout_hint(looks_like, fix):
    """The end of a layout refusal: what the shape looks like, and the ways out."""
    return (
        f"{looks_like}: {fix}, or say so with alignkit.config_context(sequence_layout='nct'). "
        "If these really are short sequences of many channels, say so with "
        "alignkit.config_context(sequence_layout='ntc')"
    )


def check_pair(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate two sequences that must share their channels.

    Under ``sequence_layout="nct"`` (see :func:`alignkit.get_config`) both
    sequences are read as aeon/sktime's ``(n_channels, n_timepoints)``. Under
    the default ``"auto"`` a pair is read as it is: short sequences of many
    channels (a few frames of embeddings, shape descriptors) are legitimate
    pairs, so only 3-D collections are checked for the other layout (see
    :func:`check_collection`).

    Parameters
    ----------
    a, b : array-like of shape (n_timepoints, n_channels) or (n_timepoints,)
        The sequences, named ``a`` and ``b`` in error messages.

    Returns
    -------
    a, b : ndarray of shape (n_timepoints, n_channels), dtype float64
        See :func:`check_sequence`.

    Raises
    ------
    InvalidInputError
        If a sequence is invalid (see :func:`check_sequence`) or the channels
        differ.

    See Also
    --------
    alignkit.from_aeon : Convert aeon's collections to alignkit's layout.

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.validation import check_pair
    >>> [x.shape for x in check_pair([1, 2, 3], [1, 2])]
    [(3, 1), (2, 1)]
    >>> with alignkit.config_context(sequence_layout="nct"):
    ...     [x.shape for x in check_pair([[1, 2, 3]], [[1, 2, 3, 4]])]
    [(3, 1), (4, 1)]
    """
    transpose = get_config()["sequence_layout"] == "nct"
    a = _sequence(a, "a", None, None, transpose)
    b_array = _sequence_array(b, "b", None, transpose)
    return a, _finish_sequence(b_array, "b", None, a.shape[1])


def _strip_trailing_nan(row, name, index):
    """Drop trailing all-NaN timepoints (the padding of a 3-D variable-length array)."""
    valid = ~np.isnan(row).all(axis=1)
    if not valid.any():
        raise InvalidInputError(f"{name}[{index}] is empty (every timepoint is NaN padding)")
    length = len(valid) - np.argmax(valid[::-1])
    return row[:length]


def _collection(X, name, n_channels, layout):
    """``check_collection`` for an explicit ``sequence_layout``."""
    if isinstance(X, (str, bytes)) or X is None:
        raise InvalidInputError(f"{name} must be a collection of sequences, got {type(X).__name__}")
    transpose_items = False
    if isinstance(X, np.ndarray) or not isinstance(X, (list, tuple)):
        array = _as_numeric_array(X, name, None)
        if array.ndim == 2:
            items = [row for row in array]
        elif array.ndim == 3:
            array = _three_d(array, name, layout)
            items = [_strip_trailing_nan(row, name, k) for k, row in enumerate(array)]
        else:
            raise InvalidInputError(
                f"{name} has {array.ndim} dimensions (shape {array.shape}); a collection is a "
                "list of sequences, a 3-D array (n_sequences, n_timepoints, n_channels) or a "
                "2-D array (n_sequences, n_timepoints). Reshape your data: [X] is a collection "
                "holding the one sequence X"
            )
    else:
        items = list(X)
        transpose_items = layout == "nct"
    if len(items) == 0:
        raise InvalidInputError(f"{name} is empty (0 sequences)")
    sequences = []
    for k, item in enumerate(items):
        sequence = _sequence(item, name, k, n_channels, transpose_items)
        if n_channels is None:
            n_channels = sequence.shape[1]
        sequences.append(sequence)
    return sequences


def _three_d(array, name, layout):
    """A 3-D collection as float64 ``(n_sequences, n_timepoints, n_channels)``."""
    n_sequences, n_timepoints, n_channels = array.shape
    if layout == "auto" and 0 < n_timepoints < n_channels:
        raise InvalidInputError(
            f"{name} has shape {array.shape}: read as (n_sequences, n_timepoints, n_channels) "
            f"that is {n_sequences} sequences of {n_timepoints} timepoints with {n_channels} "
            "channels, fewer timepoints than channels. "
            + _layout_hint(
                "It looks like aeon/sktime's layout (n_sequences, n_channels, n_timepoints)",
                f"convert it with alignkit.from_aeon({name})",
            )
        )
    array = np.asarray(array, dtype=np.float64)
    return array.transpose(0, 2, 1) if layout == "nct" else array


def check_collection(
    X: CollectionLike, name: str = "X", n_channels: int | None = None
) -> list[np.ndarray]:
    """Validate a collection of sequences and return a list of 2-D float64 arrays.

    Parameters
    ----------
    X : list of array-like, or ndarray
        One of:

        - a list of sequences of shape ``(n_timepoints_i, n_channels)``
          (lengths may differ; 1-D items are one channel);
        - a 3-D array ``(n_sequences, n_timepoints, n_channels)``, where
          trailing timepoints that are NaN in every channel are padding and are
          dropped, so one array can hold sequences of different lengths;
        - a 2-D array ``(n_sequences, n_timepoints)`` of univariate rows.

        The configuration key ``sequence_layout`` (see
        :func:`alignkit.get_config`) says how shapes are read: under
        ``"auto"`` (default) a 3-D array with fewer timepoints than channels is
        refused, because it looks like aeon/sktime's ``(n_sequences,
        n_channels, n_timepoints)``; ``"ntc"`` accepts it as it is; ``"nct"``
        reads 3-D arrays as ``(n_sequences, n_channels, n_timepoints)`` and
        2-D list items as ``(n_channels, n_timepoints)``.
    name : str, default="X"
        Argument name used in error messages.
    n_channels : int, default=None
        If given, the number of channels every sequence must have.

    Returns
    -------
    sequences : list of ndarray of shape (n_timepoints_i, n_channels)

    Raises
    ------
    InvalidInputError
        If the collection is empty, a sequence is invalid (see
        :func:`check_sequence`), channel counts differ, or, under ``"auto"``,
        a 3-D array has fewer timepoints than channels.

    See Also
    --------
    alignkit.from_aeon : Convert aeon's collections to alignkit's layout.

    Examples
    --------
    >>> import numpy as np
    >>> import alignkit
    >>> from alignkit.validation import check_collection
    >>> [s.shape for s in check_collection(np.zeros((2, 5)))]
    [(5, 1), (5, 1)]
    >>> with alignkit.config_context(sequence_layout="nct"):
    ...     [s.shape for s in check_collection(np.zeros((2, 3, 50)))]
    [(50, 3), (50, 3)]
    """
    return _collection(X, name, n_channels, get_config()["sequence_layout"])


def from_aeon(X: CollectionLike) -> list[np.ndarray]:
    """Convert an aeon/sktime collection to alignkit's list of ``(n_timepoints, n_channels)``.

    aeon and sktime store a collection channels first, as ``(n_cases,
    n_channels, n_timepoints)``; alignkit stores each sequence timepoints
    first. This function reads the input as aeon does, whatever the
    ``sequence_layout`` configuration says, and validates it as
    :func:`~alignkit.validation.check_collection` does (the same messages,
    naming ``X[index]``).

    Parameters
    ----------
    X : ndarray or list of array-like
        One of aeon's collection types:

        - ``"numpy3D"``: an array of shape ``(n_cases, n_channels,
          n_timepoints)``; trailing timepoints that are NaN in every channel
          are padding and are dropped, as in
          :func:`~alignkit.validation.check_collection`;
        - ``"np-list"``: a list of arrays of shape ``(n_channels,
          n_timepoints_i)`` (lengths may differ; a 1-D item is one channel);
        - ``"numpy2D"``: an array of shape ``(n_cases, n_timepoints)`` of
          univariate series.

    Returns
    -------
    sequences : list of ndarray of shape (n_timepoints_i, n_channels), dtype float64
        C-contiguous arrays, ready for every alignkit function and aligner.

    Raises
    ------
    InvalidInputError
        If ``X`` is empty, not one of the types above, or a sequence is empty,
        not numeric, holds NaN or inf, or has other channels than the first.

    See Also
    --------
    alignkit.validation.check_collection : The collections alignkit reads as they are.
    alignkit.config_context : ``sequence_layout="nct"`` reads aeon's layout
        everywhere, without converting first.

    Examples
    --------
    >>> import numpy as np
    >>> import alignkit
    >>> X = np.random.default_rng(0).normal(size=(6, 1, 50))  # aeon: 6 cases, 1 channel
    >>> sequences = alignkit.from_aeon(X)
    >>> len(sequences), sequences[0].shape
    (6, (50, 1))
    >>> alignkit.pairwise_distances(sequences).shape
    (6, 6)
    >>> [s.shape for s in alignkit.from_aeon([np.zeros((2, 7)), np.zeros((2, 4))])]
    [(7, 2), (4, 2)]
    """
    return _collection(X, "X", None, "nct")


def _check_radius(value, name):
    """A Sakoe-Chiba window as ``Window`` fields: an int radius, or a real fraction in [0, 1]."""
    if isinstance(value, (bool, np.bool_)):
        raise WindowError(f"{name} must be an int radius or a float fraction, got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise WindowError(f"{name} radius must be >= 0, got {value}")
        return Window(radius=int(value))
    if isinstance(value, numbers.Real):
        fraction = float(value)
        if not (0.0 <= fraction <= 1.0):
            raise WindowError(
                f"{name} as a float is a fraction of the longer length and must lie in "
                f"[0, 1], got {value}; pass an int for a radius in timepoints"
            )
        return Window(fraction=fraction)
    raise WindowError(f"{name} must be an int radius or a float fraction, got {value!r}")


def check_images(
    X: ArrayLike, name: str = "X", shape: tuple[int, int, int] | None = None
) -> np.ndarray:
    """Validate a stack of images and return it as ``(n_images, channels, height, width)``.

    Parameters
    ----------
    X : array-like of shape (n_images, height, width) or (n_images, channels, height, width)
        Images; a 3-D array holds one-channel images. The configuration key
        ``image_layout`` (see :func:`alignkit.get_config`) says how a 4-D
        array is read: under ``"auto"`` (default) a stack whose last axis is
        1, 3 or 4 while axis 1 is not is refused, because it looks
        channels-last; ``"nchw"`` accepts it as it is; ``"nhwc"`` reads
        ``(n_images, height, width, channels)`` and moves the channels first.
    name : str, default="X"
        Argument name used in error messages.
    shape : tuple of int, default=None
        If given, the ``(channels, height, width)`` every image must have.

    Returns
    -------
    images : ndarray of shape (n_images, channels, height, width), dtype float64

    Raises
    ------
    InvalidInputError
        If ``X`` is empty, not 3-D or 4-D, not numeric, holds NaN or inf, has
        another image shape than ``shape``, or, under ``"auto"``, looks
        channels-last.

    Examples
    --------
    >>> import numpy as np
    >>> import alignkit
    >>> from alignkit.validation import check_images
    >>> check_images(np.zeros((5, 8, 8))).shape
    (5, 1, 8, 8)
    >>> with alignkit.config_context(image_layout="nhwc"):
    ...     check_images(np.zeros((5, 32, 32, 3))).shape
    (5, 3, 32, 32)
    """
    layout = get_config()["image_layout"]
    array = _as_numeric_array(X, name, None)
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim != 4:
        raise InvalidInputError(
            f"{name} has {array.ndim} dimensions (shape {array.shape}); images are "
            "(n_images, height, width) or (n_images, channels, height, width)"
        )
    elif layout == "nhwc":
        array = np.moveaxis(array, -1, 1)
    if 0 in array.shape:
        raise InvalidInputError(
            f"{name} is empty: shape {array.shape} as (n_images, channels, height, width)"
        )
    if layout == "auto":  # a 3-D stack is one channel: never ambiguous
        _check_channels_first(array, name)
    if shape is not None and tuple(array.shape[1:]) != tuple(shape):
        raise InvalidInputError(
            f"{name} holds images of shape (channels, height, width) = {array.shape[1:]}, "
            f"but {tuple(shape)} was expected (the shape seen in fit)"
        )
    array = np.ascontiguousarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        image, channel, row, col = np.argwhere(~finite)[0]
        value = array[image, channel, row, col]
        raise InvalidInputError(
            f"{name}[{image}] holds {'NaN' if np.isnan(value) else value} at channel {channel}, "
            f"row {row}, column {col}; images must be finite"
        )
    return array


def _check_channels_first(array, name):
    """Refuse a 4-D stack that looks channels-last: it would be read as many channels."""
    n_images, channels, height, width = array.shape
    if width in _IMAGE_CHANNELS and channels not in _IMAGE_CHANNELS:
        raise InvalidInputError(
            f"{name} has shape {array.shape}: read as (n_images, channels, height, width) that "
            f"is {n_images} images of {channels} channels and {height} x {width} pixels, but "
            f"its last axis ({width}) looks like the channels of a channels-last stack "
            "(n_images, height, width, channels). Say so with "
            f"alignkit.config_context(image_layout='nhwc'), or pass np.moveaxis({name}, -1, 1); "
            "if the shape is right, say so with alignkit.config_context(image_layout='nchw')"
        )


def check_window(
    window: WindowLike, shape: tuple[int, int] | None = None, name: str = "window"
) -> Window:
    """Parse a window argument into a :class:`~alignkit.core.window.Window`.

    Parameters
    ----------
    window : None, int, float, tuple, ndarray of bool or Window
        - ``None``: no constraint (full window).
        - ``int r >= 0``: Sakoe-Chiba band of radius ``r`` timepoints; a
          radius of at least the longer length is no constraint.
        - real ``w`` in ``[0, 1]`` (a float, ``fractions.Fraction``, ...):
          Sakoe-Chiba band of radius ``round(w * max(n, m))`` (the UCR
          archive's convention).
        - ``("sakoe_chiba", r_or_w)``: the same, spelled out.
        - ``("itakura", max_slope)``: Itakura parallelogram, ``max_slope >= 1``.
        - boolean array of shape ``(n, m)``: cells a path may visit.
        - a :class:`~alignkit.core.window.Window`: returned as it is (a mask
          is checked against ``shape``).
    shape : tuple of int, default=None
        ``(n, m)`` of the pair, required to check a mask.
    name : str, default="window"
        Argument name used in error messages.

    Returns
    -------
    window : Window

    Raises
    ------
    WindowError
        If the window is malformed, or a mask has the wrong shape or admits
        no path from ``(0, 0)`` to ``(n-1, m-1)``.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from alignkit.validation import check_window
    >>> check_window(3)
    Window(radius=3)
    >>> check_window(Fraction(1, 10))
    Window(fraction=0.1)
    >>> check_window(("itakura", 2))
    Window(slope=2.0)
    """
    if window is None:
        return Window()
    if isinstance(window, Window):
        if window.mask is not None and shape is not None:
            return _check_mask(window.mask, shape, name)
        return window
    if isinstance(window, np.ndarray) and window.ndim == 2:
        return _check_mask(window, shape, name)
    if isinstance(window, tuple) and len(window) == 2 and isinstance(window[0], str):
        kind, value = window
        if kind == "sakoe_chiba":
            return _check_radius(value, name)
        if kind == "itakura":
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, numbers.Real)
                or not (1 <= float(value) < np.inf)
            ):
                raise WindowError(
                    f"{name} Itakura max_slope must be a finite number >= 1, got {value!r}"
                )
            return Window(slope=float(value))
        raise WindowError(f"{name} kind {kind!r} is unknown; use 'sakoe_chiba' or 'itakura'")
    if isinstance(window, (numbers.Real, np.bool_)):
        return _check_radius(window, name)
    raise WindowError(
        f"{name} must be None, an int radius, a float fraction in [0, 1], "
        f"('sakoe_chiba', r), ('itakura', max_slope) or a boolean mask, got {window!r}"
    )


def window_bounds(window: WindowLike, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row column bounds of a window for an ``n`` by ``m`` problem.

    Parameters
    ----------
    window : None, int, float, tuple, ndarray of bool or Window
        The window, as :func:`check_window` takes it.
    n, m : int
        The lengths of the two sequences.

    Returns
    -------
    lo, hi : ndarray of int64 of shape (n,)
        Row ``i`` may visit the columns ``[lo[i], hi[i])``.
    cell_ok : ndarray of bool
        Empty unless the window is a mask: then the allowed flags of the
        cells ``[lo[i], hi[i])``, row after row.

    Examples
    --------
    >>> import sys
    >>> from alignkit.validation import window_bounds
    >>> lo, hi, _ = window_bounds(1, 4, 4)
    >>> lo.tolist(), hi.tolist()
    ([0, 0, 1, 2], [2, 3, 4, 4])
    >>> window_bounds(sys.maxsize, 2, 3)[1].tolist()
    [3, 3]
    """
    from .kernels._numba._bounds import band_bounds

    return band_bounds(check_window(window, shape=(n, m)), n, m)


def _check_mask(mask, shape, name):
    if mask.dtype != bool:
        raise WindowError(f"{name} mask must have dtype bool, got {mask.dtype}")
    if shape is not None and mask.shape != tuple(shape):
        raise WindowError(
            f"{name} mask has shape {mask.shape} but the sequences need {tuple(shape)}"
        )
    empty_rows = np.flatnonzero(~mask.any(axis=1))
    if empty_rows.size:
        raise WindowError(f"{name} mask row {empty_rows[0]} has no allowed cell; no path exists")
    if not (mask[0, 0] and mask[-1, -1]):
        raise WindowError(
            f"{name} mask must allow cells (0, 0) and (n-1, m-1), where every path starts and ends"
        )
    return Window(mask=np.ascontiguousarray(mask))


def check_memory(n_bytes: int, what: str) -> None:
    """Raise :class:`~alignkit.exceptions.AlignkitMemoryError` above ``max_memory`` bytes.

    Parameters
    ----------
    n_bytes : int
        Estimated allocation.
    what : str
        Description of the allocation, for the message.
    """
    limit = get_config()["max_memory"]
    if n_bytes > limit:
        raise AlignkitMemoryError(
            f"{what} needs about {_size(n_bytes)}, above max_memory={_size(limit)}; "
            "pass a narrower window, ask for the distance only, or raise the limit "
            "with alignkit.set_config(max_memory=...)"
        )


def _size(n_bytes):
    if n_bytes < 2**20:
        return f"{n_bytes:,} bytes"
    return f"{n_bytes / 2**20:,.0f} MiB"
