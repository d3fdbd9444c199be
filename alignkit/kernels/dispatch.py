"""Choose the compute backend of a DTW or soft-DTW computation: Numba or torch.

The rule for ``backend="auto"`` (see :func:`resolve_backend`):

- torch only where it pays: the device resolves to an accelerator (a CUDA or
  MPS GPU: asked for by name, or ``device="auto"`` on a machine that has one)
  *and* the batch is big enough, ``n_pairs * length >= AUTO_MIN_WORK``. A GPU
  does one anti-diagonal per step, so its time grows with ``length`` (the
  number of steps, each a few kernel launches) while the Numba time grows
  with ``n_pairs * length ** 2``; below the threshold the launches dominate.
- Numba otherwise. On the CPU the Numba kernels beat the torch kernels even
  on a big batch (64 pairs of length 512, one thread each: torch takes about
  2.7 times Numba's time on soft-DTW value + gradient and 8-12 times on DTW
  distances; ``benchmarks/bench_torch.py``, table in the torch user guide),
  so ``"auto"`` never picks torch for the CPU; without torch installed it
  always means Numba.
"""

from ..exceptions import InvalidInputError

__all__ = ["AUTO_MIN_WORK", "BACKENDS", "resolve_backend"]

BACKENDS = ("numba", "torch", "auto")

# n_pairs * length above which "auto" sends work on an accelerator to torch.
AUTO_MIN_WORK = 2**16


def _cpu_only(device, what):
    """Refuse a device other than the CPU for the Numba backend (without importing torch)."""
    if device is None or (isinstance(device, str) and device.strip().lower() in ("auto", "cpu")):
        return
    if str(device) == "cpu":
        return
    raise InvalidInputError(
        f"{what}: backend='numba' runs on the CPU, but device={device!r} was asked for; "
        "use backend='torch' (or 'auto') for another device, or device='cpu'"
    )


def resolve_backend(backend, device, *, n_pairs, length, what):
    """Resolve ``backend`` and ``device`` into the backend that will run and its device.

    Parameters
    ----------
    backend : {"numba", "torch", "auto"} or None
        ``None`` reads the ``backend`` key of :func:`alignkit.get_config`.
    device : str, torch.device or None
        Torch device (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``);
        ``None`` reads the ``device`` key of :func:`alignkit.get_config`.
    n_pairs : int
        Number of pairs the computation will align.
    length : int
        Typical (largest) sequence length.
    what : str
        Name of the caller, for error messages.

    Returns
    -------
    backend : {"numba", "torch"}
    device : torch.device or None
        The torch device, or ``None`` for Numba (which runs on the CPU).

    Raises
    ------
    InvalidInputError
        If ``backend`` is unknown, if ``backend="numba"`` is asked to run on
        another device than the CPU, or the device is malformed or absent.
    ImportError
        If ``backend="torch"`` and torch is not installed; the message names
        the ``alignkit[torch]`` extra.

    Notes
    -----
    ``"auto"`` picks torch when the device resolves to a GPU and
    ``n_pairs * length >= AUTO_MIN_WORK`` (65536), Numba otherwise; see the
    module docstring for why.

    Examples
    --------
    >>> from alignkit.kernels.dispatch import resolve_backend
    >>> resolve_backend("numba", None, n_pairs=10, length=100, what="example")
    ('numba', None)
    >>> resolve_backend("auto", "cpu", n_pairs=10_000, length=1000, what="example")
    ('numba', None)
    >>> resolve_backend("torch", "cpu", n_pairs=1, length=10, what="example")
    ('torch', device(type='cpu'))
    """
    from .._config import get_config
    from ._torch import import_torch, resolve_device, torch_available

    config = get_config()
    backend = config["backend"] if backend is None else backend
    # A device from the configuration is for torch work; only an explicit one binds Numba.
    explicit_device = device
    device = config["device"] if device is None else device
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InvalidInputError(
            f"{what}: backend must be 'numba', 'torch' or 'auto', got {backend!r}"
        )
    if backend == "numba":
        _cpu_only(explicit_device, what)
        return "numba", None
    if backend == "torch":
        import_torch(f"{what} with backend='torch'")
        return "torch", resolve_device(device, what=f"{what} device")
    if not torch_available():
        return "numba", None
    resolved = resolve_device(device, what=f"{what} device")
    if resolved.type != "cpu" and n_pairs * length >= AUTO_MIN_WORK:
        return "torch", resolved
    return "numba", None
