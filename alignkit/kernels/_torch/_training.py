"""The torch side of the shared training base: seeded RNG forks, threads, payloads, devices.

Used by :class:`alignkit.estimators._torch_base.TorchTrainingMixin` through
:func:`alignkit.kernels._torch.load`.
"""

import contextlib
import io
import threading

import numpy as np
import torch

__all__ = [
    "as_device",
    "as_index_tensor",
    "as_tensor",
    "device_available",
    "dump_payload",
    "forked_rng",
    "is_torch_object",
    "load_payload",
    "minibatches",
    "set_num_threads",
    "to_device",
    "torch_threads",
    "train_epoch",
]


def is_torch_object(value):
    """Whether ``value`` is a module, a tensor or an optimizer (stored in the payload)."""
    return isinstance(value, (torch.nn.Module, torch.Tensor, torch.optim.Optimizer))


def as_tensor(array, device, dtype=torch.float32):
    """``array`` as a tensor of ``dtype`` on ``device``.

    A read-only array (a joblib memory map) is copied first: torch cannot
    wrap memory it may not write.
    """
    array = np.asarray(array)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def as_index_tensor(array, device):
    """Integer ``array`` (class indices, row indices) as an int64 tensor on ``device``."""
    return torch.as_tensor(np.asarray(array), dtype=torch.long, device=device)


def minibatches(indices, batch_size, device):
    """Row tensors of ``indices`` in the order of ``torch.randperm``, ``batch_size`` at a time."""
    order = indices[torch.randperm(len(indices)).numpy()]
    for start in range(0, len(order), batch_size):
        yield torch.as_tensor(order[start : start + batch_size], device=device)


def train_epoch(optimizer, batches, batch_loss, clip=None):
    """One optimiser step per batch of rows; the mean loss, each batch weighted by its size.

    ``batch_loss(rows)`` is the loss of the samples at the indices ``rows``
    (an element of ``batches``). With ``clip``, a module, its gradients are
    clipped to norm 1 before each step.
    """
    total, count = 0.0, 0
    for rows in batches:
        optimizer.zero_grad()
        loss = batch_loss(rows)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(clip.parameters(), 1.0)
        optimizer.step()
        total += float(loss.detach()) * len(rows)
        count += len(rows)
    return total / count


@contextlib.contextmanager
def forked_rng(device, seed):
    """Fork the torch RNG of the CPU (and of ``device`` if CUDA) and seed the fork.

    The caller's global torch random state is the same after the block.
    """
    devices = []
    if device is not None and device.type == "cuda":
        devices = [0 if device.index is None else device.index]
    with torch.random.fork_rng(devices=devices):
        # Seed only the generators forked here: torch.manual_seed would also reseed
        # every other GPU's generator, which the fork does not restore.
        torch.default_generator.manual_seed(seed)
        if devices:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        yield


def set_num_threads(n_threads):
    """Set torch's intra-op threads to ``n_threads`` (nothing to do if they already are)."""
    if torch.get_num_threads() != n_threads:
        torch.set_num_threads(n_threads)


class _ThreadBlocks:
    """Open :func:`torch_threads` blocks, per process and per thread; torch's count before."""

    lock = threading.Lock()
    n_open = 0
    before = None
    local = threading.local()


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``n_threads`` torch intra-op threads, and restore them after.

    A nested block restores the count its enclosing block set. torch's count
    is per process, so blocks open in several threads at once share it (the
    last one to start sets it), and when the last one closes, the count from
    before the first is restored. The interop threads are left alone: torch
    refuses to change them once parallel work has started.
    """
    blocks = _ThreadBlocks
    with blocks.lock:
        if blocks.n_open == 0:
            blocks.before = torch.get_num_threads()
        blocks.n_open += 1
        depth = getattr(blocks.local, "depth", 0)
        blocks.local.depth = depth + 1
        found = torch.get_num_threads()
        set_num_threads(n_threads)
    try:
        yield
    finally:
        with blocks.lock:
            blocks.n_open -= 1
            blocks.local.depth = depth
            if blocks.n_open == 0:
                set_num_threads(blocks.before)
            elif depth:  # back in this thread's enclosing block
                set_num_threads(found)


def dump_payload(objects):
    """Bytes of ``torch.save`` of a dict of torch objects.

    One save keeps shared references (an optimizer's parameters are the
    module's); CUDA tensors are stored with their device and mapped on load.
    """
    buffer = io.BytesIO()
    torch.save(objects, buffer)
    return buffer.getvalue()


def load_payload(payload, device):
    """The dict of :func:`dump_payload`, loaded on the CPU and moved to ``device``."""
    objects = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
    return {name: to_device(value, device) for name, value in objects.items()}


def to_device(value, device):
    """A module, tensor or optimizer state moved to ``device`` (in place where torch does)."""
    if device.type == "cpu":
        return value
    if isinstance(value, (torch.nn.Module, torch.Tensor)):
        return value.to(device)
    if isinstance(value, torch.optim.Optimizer):
        for slot in value.state.values():
            for key, item in slot.items():
                if isinstance(item, torch.Tensor):
                    slot[key] = item.to(device)
    return value


def device_available(device):
    """Whether this machine has ``device`` (a ``torch.device``)."""
    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        return backend is not None and backend.is_available()
    return True


def as_device(name):
    """``torch.device(name)``: a device stored as its string in a pickle."""
    return torch.device(name)
