"""The layers and forward passes of :class:`alignkit.SoftAttentionAligner`.

Plain functions of a ``torch.nn.ModuleDict`` of standard layers, so a fitted
model pickles without classes defined by alignkit. Imports torch at import
time; loaded through :func:`alignkit.kernels._torch.load`.
"""

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import _training

_GRID_ENERGY_SCALE = 10.0  # initial scale of the additive score's v for grid input


def _pad(arrays, device, dtype=np.float32):
    """Zero-padded batch ``(B, T, ...)`` of arrays ``(T_k, ...)``, its mask and lengths."""
    lengths = np.array([len(s) for s in arrays])
    batch = np.zeros((len(arrays), lengths.max(), *arrays[0].shape[1:]), dtype=dtype)
    for k, array in enumerate(arrays):
        batch[k, : len(array)] = array
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]
    return (
        torch.as_tensor(batch, device=device),
        torch.as_tensor(mask, device=device),
        torch.as_tensor(lengths),
    )


def _cnn(n_channels, hidden):
    """Three 3x3 convolutions, each group-normalised, two ceil-mode 2x2 max-poolings.

    Cell ``(r, c)`` of the output covers pixels ``[4r, 4r + 4) x [4c, 4c + 4)``.
    Group normalisation shortens the plateau before the attention finds the
    object (on the digit captions, with ``random_state`` 0-4: 3-7 epochs
    instead of 10-25+).
    """

    def block(n_in, n_out):
        groups = 4 if n_out % 4 == 0 else 1
        return [nn.Conv2d(n_in, n_out, 3, padding=1), nn.GroupNorm(groups, n_out), nn.ReLU()]

    return nn.Sequential(
        *block(n_channels, 16),
        nn.MaxPool2d(2, ceil_mode=True),
        *block(16, 32),
        nn.MaxPool2d(2, ceil_mode=True),
        *block(32, hidden),
    )


def _build_model(
    *,
    grid,
    score,
    mode,
    hidden,
    attention_size,
    n_channels_a,
    n_channels_b,
    n_classes,
    max_source_length,
):
    """The layers, by name, of a :class:`SoftAttentionAligner`.

    ``grid`` sources are images of ``n_channels_a`` channels (else sequences);
    ``n_classes`` is the number of tokens (None for frame targets of
    ``n_channels_b`` channels); ``max_source_length`` is the range of the
    location score.
    """
    if grid:
        layers = {
            # Two ceil-mode poolings: cell (r, c) covers pixels [4r, 4r + 4) x [4c, 4c + 4).
            "cnn": _cnn(n_channels_a, hidden),
            "gate": nn.Linear(hidden, 1),
        }
    else:
        layers = {
            "encoder": nn.GRU(n_channels_a, hidden, batch_first=True, bidirectional=True),
            "merge": nn.Linear(2 * hidden, hidden),
            "skip": nn.Linear(n_channels_a, hidden),
        }
    if score == "additive":
        layers["query_proj"] = nn.Linear(hidden, attention_size, bias=False)
        layers["key_proj"] = nn.Linear(hidden, attention_size)
        layers["energy"] = nn.Linear(attention_size, 1, bias=False)
        if grid:
            # Larger initial scores let the attention over many cells move off uniform sooner.
            with torch.no_grad():
                layers["energy"].weight.mul_(_GRID_ENERGY_SCALE)
    elif score == "general":
        layers["key_proj"] = nn.Linear(hidden, hidden, bias=False)
    elif score == "location":
        layers["location"] = nn.Linear(hidden, max_source_length)
    if n_classes is not None:
        # Token indices, then the start symbol; outputs: class logits and the stop logit.
        layers["embed"] = nn.Embedding(n_classes + 1, hidden)
        n_input, n_output = hidden, n_classes + 1
    else:
        n_input = n_output = n_channels_b + 1  # a frame plus the start / stop flag
    if mode == "align":
        layers["query"] = nn.Sequential(
            nn.Linear(n_input - 1, hidden), nn.Tanh(), nn.Linear(hidden, hidden)
        )
        layers["decoder"] = nn.Sequential(
            nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, n_output - 1)
        )
    else:
        layers["init"] = nn.Linear(hidden, hidden)
        layers["cell"] = nn.GRUCell(n_input + hidden, hidden)
        layers["output"] = nn.Sequential(
            nn.Linear(2 * hidden + n_input, hidden), nn.Tanh(), nn.Linear(hidden, n_output)
        )
    return nn.ModuleDict(layers)


def _annotate(model, source, lengths):
    """Annotations ``(B, N, hidden)``: grid cells in row-major order, or source frames.

    For sequences, a bidirectional GRU plus a per-frame skip projection;
    packing keeps the backward GRU from reading the padding, so padding does
    not change the annotations of real frames.
    """
    if "cnn" in model:
        return model["cnn"](source).flatten(2).transpose(1, 2)
    packed = pack_padded_sequence(source, lengths, batch_first=True, enforce_sorted=False)
    states, _ = model["encoder"](packed)
    states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.shape[1])
    return model["merge"](states) + model["skip"](source)


def _keys(model, score, annotations):
    if score in ("additive", "general"):
        return model["key_proj"](annotations)
    return annotations


def _attend(model, score, query, keys, source_mask):
    """Attention ``(B, T, N)`` of queries ``(B, T, hidden)`` over keys ``(B, N, .)``."""
    if score == "additive":
        hidden = model["query_proj"](query).unsqueeze(2) + keys.unsqueeze(1)
        energies = model["energy"](torch.tanh(hidden)).squeeze(-1)
    elif score == "location":
        energies = model["location"](query)[..., : source_mask.shape[1]]
    else:  # dot and general: keys are already W_a h for general
        energies = query @ keys.transpose(1, 2)
    energies = energies.masked_fill(~source_mask.unsqueeze(1), float("-inf"))
    return torch.softmax(energies, dim=-1)


def _forward_align(model, score, batch):
    source, source_mask, source_lengths, target, _, _ = batch
    annotations = _annotate(model, source, source_lengths)
    keys = _keys(model, score, annotations)
    weights = _attend(model, score, model["query"](target), keys, source_mask)
    context = weights @ annotations
    return model["decoder"](context), None, weights, context


def _start_input(model, n_batch, like):
    """The decoder's first input: the start token's embedding, or a zero frame with the flag set."""
    if "embed" in model:
        start = model["embed"].num_embeddings - 1
        return model["embed"](torch.full((n_batch,), start, device=like.device))
    start = torch.zeros((n_batch, model["cell"].input_size - model["cell"].hidden_size))
    start[:, -1] = 1.0
    return start.to(like)


def _step_input(model, value):
    """The next decoder input after emitting ``value`` (token indices or frames)."""
    if "embed" in model:
        return model["embed"](value)
    return torch.cat([value, torch.zeros_like(value[:, :1])], dim=1)


def _decoder_start(model, score, source, source_mask, lengths):
    """Annotations, keys and the first state ``tanh(W mean_i h_i)`` over real frames or cells."""
    annotations = _annotate(model, source, lengths)
    weight = source_mask.unsqueeze(-1).to(annotations.dtype)
    mean = (annotations * weight).sum(1) / weight.sum(1)
    return annotations, _keys(model, score, annotations), torch.tanh(model["init"](mean))


def _decoder_step(model, score, state, previous, annotations, keys, source_mask):
    """One step: attend from ``state``, gate (grid input), update the state, output."""
    weights = _attend(model, score, state.unsqueeze(1), keys, source_mask)
    context = (weights @ annotations).squeeze(1)
    if "gate" in model:  # Show, Attend and Tell: beta = sigmoid(f(s_{t-1}))
        context = torch.sigmoid(model["gate"](state)) * context
    state = model["cell"](torch.cat([previous, context], dim=1), state)
    output = model["output"](torch.cat([state, context, previous], dim=1))
    return state, output, weights.squeeze(1), context


def _forward_predict(model, score, batch):
    """Teacher-forced decoding: step t attends from the state after targets ``< t``."""
    source, source_mask, source_lengths, target, _, _ = batch
    annotations, keys, state = _decoder_start(model, score, source, source_mask, source_lengths)
    previous = _start_input(model, target.shape[0], annotations)
    outputs, all_weights, contexts = [], [], []
    for t in range(target.shape[1]):
        state, output, weights, context = _decoder_step(
            model, score, state, previous, annotations, keys, source_mask
        )
        outputs.append(output)
        all_weights.append(weights)
        contexts.append(context)
        previous = _step_input(model, target[:, t])
    outputs = torch.stack(outputs, dim=1)
    return (
        outputs[..., :-1],
        outputs[..., -1],
        torch.stack(all_weights, dim=1),
        torch.stack(contexts, dim=1),
    )


def _loss(outputs, batch, doubly_stochastic=0.0):
    """Masked per-step loss (squared error of frames or cross-entropy of tokens) + the extras.

    In predict mode the stop logit's binary cross-entropy is added, and with
    ``doubly_stochastic > 0`` the coverage penalty over real target steps only.
    """
    values, stop_logits, weights, _ = outputs
    _, _, _, target, target_mask, target_lengths = batch
    mask = target_mask.to(values.dtype)
    if target.dtype == torch.long:
        per_step = torch.nn.functional.cross_entropy(
            values.transpose(1, 2), target, reduction="none"
        )
    else:
        per_step = ((values - target) ** 2).mean(-1)
    loss = (per_step * mask).sum() / mask.sum()
    if stop_logits is not None:
        last = torch.arange(target.shape[1], device=target.device).unsqueeze(0) == (
            target_lengths.to(target.device).unsqueeze(1) - 1
        )
        stop = torch.nn.functional.binary_cross_entropy_with_logits(
            stop_logits, last.to(values.dtype), reduction="none"
        )
        loss = loss + (stop * mask).sum() / mask.sum()
    if doubly_stochastic:
        coverage = (weights * mask.unsqueeze(-1)).sum(1)  # padded target steps do not count
        loss = loss + doubly_stochastic * ((1.0 - coverage) ** 2).mean()
    return loss


def make_optimizer(model, learning_rate):
    """Adam over every layer of the model."""
    return torch.optim.Adam(model.parameters(), lr=learning_rate)


def no_grad():
    """``torch.no_grad()``: a block without gradients."""
    return torch.no_grad()


def train_epoch(model, optimizer, n_pairs, batch_size, batch_loss):
    """One epoch over ``n_pairs`` in the order of ``torch.randperm``; the mean loss.

    ``batch_loss(rows)`` is the loss of the pairs at the indices ``rows``;
    gradients are clipped to norm 1 before each step.
    """
    model.train()
    order = torch.randperm(n_pairs).numpy()
    batches = (order[start : start + batch_size] for start in range(0, n_pairs, batch_size))
    return _training.train_epoch(optimizer, batches, batch_loss, clip=model)


def image_batch(images, n_cells, device):
    """Standardised images as a batch: the tensor, a mask with every cell real, no lengths."""
    tensor = torch.as_tensor(images.astype(np.float32), device=device)
    mask = torch.ones((len(images), n_cells), dtype=torch.bool, device=device)
    return tensor, mask, None


def decode(model, score, source, n_steps, tokens):
    """Greedy decoding of one source batch ``(source, mask, lengths)``.

    Each predicted frame, or the most likely token index, is fed back as the
    next input until the stop logit is positive (probability above one half)
    or ``n_steps`` steps; returns the emitted values as a NumPy array.
    """
    with torch.no_grad():
        annotations, keys, state = _decoder_start(model, score, *source)
        previous = _start_input(model, 1, annotations)
        emitted = []
        for _ in range(n_steps):
            state, output, _, _ = _decoder_step(
                model, score, state, previous, annotations, keys, source[1]
            )
            value = output[:, :-1]
            if tokens:
                value = value.argmax(dim=1)
            emitted.append(value[0])
            if float(output[0, -1]) > 0.0:
                break
            previous = _step_input(model, value)
    return torch.stack(emitted).cpu().numpy()
