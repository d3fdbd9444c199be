"""Torch kernels: the one guarded entry point to torch, and device resolution.

The modules of this package that hold ``nn.Module`` classes and forward passes
(``_spatial``, ``_glimpse``, ``_attention``, ``_training``) import torch at
their top. Code outside this package never imports them directly: it calls
:func:`load`, which imports one of them (or :func:`import_torch` for torch
itself) and turns a missing torch into an :class:`ImportError` that names the
``alignkit[torch]`` extra. This ``__init__`` never imports torch at import
time, so ``import alignkit`` stays free of it.
"""

import importlib

__all__ = ["import_torch", "load", "resolve_device", "torch_available"]

_MESSAGE = (
    "{what} needs PyTorch, which is not installed. Install the torch extra: "
    "pip install 'alignkit[torch]'"
)


def _guarded_import(module, what):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and error.name.split(".")[0] != "torch":
            raise
        raise ImportError(_MESSAGE.format(what=what)) from error


def import_torch(what="This feature"):
    """Import and return the ``torch`` module.

    Parameters
    ----------
    what : str, default="This feature"
        Name of the caller, used in the error message.

    Returns
    -------
    torch : module

    Raises
    ------
    ImportError
        If torch is not installed; the message names the ``alignkit[torch]`` extra.
    """
    return _guarded_import("torch", what)


def load(name, what="This feature"):
    """Import and return the torch kernel module ``alignkit.kernels._torch.<name>``.

    Parameters
    ----------
    name : str
        Module name inside this package, for example ``"_spatial"``.
    what : str, default="This feature"
        Name of the caller, used in the error message.

    Returns
    -------
    module : module

    Raises
    ------
    ImportError
        If torch is not installed; the message names the ``alignkit[torch]`` extra.

    Examples
    --------
    >>> from alignkit.kernels._torch import load
    >>> load("_spatial").TRANSFORMS[:2]
    ('attention', 'similarity')
    """
    return _guarded_import(f"{__name__}.{name}", what)


def torch_available():
    """Return whether torch can be imported (imports it if so)."""
    try:
        importlib.import_module("torch")
    except ImportError:
        return False
    return True


def resolve_device(device, what="device"):
    """Turn a device specification into a ``torch.device``.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"``, ``"mps"`` or a ``torch.device``. ``None`` reads the
        ``device`` key of :func:`alignkit.get_config`.
    what : str, default="device"
        Name of the argument, used in error messages.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        If the specification is malformed, or names a device this machine
        does not have (for example ``"cuda"`` without a GPU).
    """
    from ...exceptions import InvalidInputError

    torch = import_torch(f"{what}={device!r}")
    if device is None:
        from ..._config import get_config

        device = get_config()["device"]
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as error:
        raise InvalidInputError(
            f"{what} must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r} "
            f"({error})"
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInputError(
                f"{what}={device!r} asks for a CUDA GPU, but torch sees none on this machine; "
                "use device='auto' or 'cpu'"
            )
        index = 0 if resolved.index is None else resolved.index
        if index >= torch.cuda.device_count():
            raise InvalidInputError(
                f"{what}={device!r}: this machine has {torch.cuda.device_count()} CUDA "
                f"device(s), so the index must be below that"
            )
    elif resolved.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is None or not backend.is_available():
            raise InvalidInputError(f"{what}={device!r}: the MPS backend is not available here")
    elif resolved.type != "cpu":
        raise InvalidInputError(
            f"{what}={device!r}: device type {resolved.type!r} is not supported "
            "(use 'cpu', 'cuda' or 'mps')"
        )
    return resolved
