"""Global configuration: :func:`get_config`, :func:`set_config`, :func:`config_context`."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .exceptions import InvalidParameterError

__all__ = ["get_config", "set_config", "config_context"]

_DEFAULTS = {
    "backend": "numba",
    "device": "cpu",
    "progress": False,
    "strict_plugins": None,
    "plugin_autoload": None,
    "max_memory": 4 * 2**30,
    "sequence_layout": "auto",
    "image_layout": "auto",
}

# Keys whose value is one of a few strings; set_config refuses anything else.
_CHOICES = {
    "sequence_layout": ("auto", "ntc", "nct"),
    "image_layout": ("auto", "nchw", "nhwc"),
}

_local = threading.local()


def _env_flag(name):
    value = os.environ.get(name, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _state():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config() -> dict[str, Any]:
    """Return a copy of the current configuration.

    Returns
    -------
    config : dict
        Keys:

        - ``backend``: ``"numba"`` or ``"torch"``, the default compute backend.
        - ``device``: torch device used by torch kernels (``"cpu"``, ``"cuda"``...).
        - ``progress``: ``False`` (default: progress bars only where a call's
          ``verbose`` is set), ``True`` (a bar on every long call) or
          ``"tqdm"`` (the same, drawn by ``tqdm.auto`` when tqdm is installed:
          ``pip install alignkit[progress]``).
        - ``strict_plugins``: raise instead of warn when a plugin fails to load.
          ``None`` reads the ``ALIGNKIT_STRICT_PLUGINS`` environment variable.
        - ``plugin_autoload``: load third-party plugins from entry points.
          ``None`` means yes unless ``ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD`` is set.
        - ``max_memory``: bytes a single alignment may allocate before alignkit
          raises :class:`~alignkit.exceptions.AlignkitMemoryError` (default 4 GiB).
        - ``sequence_layout``: how a 2-D sequence and a 3-D collection are read.
          alignkit's own layout is ``(n_timepoints, n_channels)`` per sequence and
          ``(n_sequences, n_timepoints, n_channels)`` per collection.

          - ``"auto"`` (default): alignkit's layout, but a 3-D array with fewer
            timepoints than channels, and a DTW pair (:func:`alignkit.dtw` and
            its family) whose two sequences both have fewer timepoints than
            channels, are refused: they look like aeon/sktime's
            ``(n_sequences, n_channels, n_timepoints)``.
          - ``"ntc"``: alignkit's layout, shapes trusted (short sequences of many
            channels, such as 20 frames of 512-dimensional embeddings).
          - ``"nct"``: aeon/sktime's layout: a 3-D array ``(n, c, t)`` is read as
            ``(n, t, c)``, and a 2-D sequence (alone or in a list) ``(c, t)`` as
            ``(t, c)``. 1-D sequences and 2-D arrays of univariate rows are read
            as before.
        - ``image_layout``: how a 4-D stack of images is read. alignkit's own
          layout is ``(n_images, channels, height, width)``.

          - ``"auto"`` (default): alignkit's layout, but a stack whose last axis
            is 1, 3 or 4 while axis 1 is not is refused: it looks channels-last.
          - ``"nchw"``: alignkit's layout, shapes trusted.
          - ``"nhwc"``: channels-last ``(n_images, height, width, channels)``,
            moved to channels-first.

    Examples
    --------
    >>> import alignkit
    >>> alignkit.get_config()["backend"]
    'numba'
    """
    config = dict(_state())
    if config["strict_plugins"] is None:
        config["strict_plugins"] = _env_flag("ALIGNKIT_STRICT_PLUGINS")
    if config["plugin_autoload"] is None:
        config["plugin_autoload"] = not _env_flag("ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD")
    return config


def set_config(**params: Any) -> None:
    """Set global configuration values (see :func:`get_config` for the keys).

    Parameters
    ----------
    **params
        Configuration keys and their new values.

    Raises
    ------
    TypeError
        If a key is unknown.
    InvalidParameterError
        If ``sequence_layout`` or ``image_layout`` is not one of its allowed
        values, or ``progress`` is not ``True``, ``False`` or ``"tqdm"`` (a
        ``ValueError`` as well).

    Examples
    --------
    >>> import alignkit
    >>> alignkit.set_config(progress=True)
    >>> alignkit.get_config()["progress"]
    True
    >>> alignkit.set_config(progress=False)
    """
    state = _state()
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise TypeError(
            f"set_config got unknown key(s) {unknown}; known keys are {sorted(_DEFAULTS)}"
        )
    for key, allowed in _CHOICES.items():
        if key in params and not (isinstance(params[key], str) and params[key] in allowed):
            raise InvalidParameterError(
                f"set_config got {key}={params[key]!r}; {key} must be one of "
                f"{', '.join(repr(value) for value in allowed)}"
            )
    if "progress" in params:
        value = params["progress"]
        if not (isinstance(value, bool) or (isinstance(value, str) and value == "tqdm")):
            raise InvalidParameterError(
                f"set_config got progress={value!r}; progress must be True, False or 'tqdm'"
            )
    state.update(params)


@contextmanager
def config_context(**params: Any) -> Iterator[None]:
    """Context manager that sets configuration values and restores them on exit.

    Parameters
    ----------
    **params
        Configuration keys and their temporary values.

    Yields
    ------
    None
        The body of the ``with`` block runs with the new values; the old ones
        are restored on exit, also when the body raises.

    Examples
    --------
    >>> import alignkit
    >>> with alignkit.config_context(max_memory=2**20):
    ...     alignkit.get_config()["max_memory"]
    1048576
    """
    old = dict(_state())
    set_config(**params)
    try:
        yield
    finally:
        _state().clear()
        _state().update(old)
