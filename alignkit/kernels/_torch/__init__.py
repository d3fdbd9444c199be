"""Torch kernels: guarded import and device resolution.

Nothing here imports torch at module import time; :func:`import_torch` does,
and raises an :class:`ImportError` naming the ``alignkit[torch]`` extra when
torch is missing.
"""

import importlib

__all__ = ["import_torch", "resolve_device", "torch_available"]

_MESSAGE = (
    "{what} needs PyTorch, which is not installed. Install the torch extra: "
    "pip install 'alignkit[torch]'"
)


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
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise ImportError(_MESSAGE.format(what=what)) from error


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
