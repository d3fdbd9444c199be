"""Deep CCA in torch: differentiable canonical correlations and the encoders they train.

The torch side of alignkit's one CCA module, :mod:`alignkit.multiview._cca`,
which holds the NumPy versions (:func:`~alignkit.multiview._cca.linear_cca`
gives the same correlations, with the projections). Deep CTW maximises the
sum of these correlations along its paths through two encoders, one per
modality, built and run here.
"""

import numpy as np
import torch

__all__ = [
    "ACTIVATIONS",
    "adam",
    "canonical_correlations",
    "encode",
    "is_module",
    "mlp_encoder",
    "warped_correlations",
]

#: Activation name -> torch module class of the ``"mlp"`` encoders.
ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}


def canonical_correlations(h_a, h_b, reg_a, reg_b):
    """Canonical correlations of two views, differentiable (all of them, descending).

    ``S_aa = H_a^T H_a / (L - 1) + reg_a I`` (and so for ``b``) with centred
    ``H``; the correlations are the singular values of
    ``T = S_aa^{-1/2} S_ab S_bb^{-1/2}``, computed as those of
    ``L_a^{-1} S_ab L_b^{-T}`` (Cholesky factors ``S = L L^T``), which differs
    from ``T`` by orthogonal factors on each side only.

    Parameters
    ----------
    h_a : torch.Tensor of shape (n_frames, n_features_a)
        First view, one row per frame (frames matched by a path).
    h_b : torch.Tensor of shape (n_frames, n_features_b)
        Second view, on the same frames.
    reg_a, reg_b : float
        Ridge added to each view's covariance.

    Returns
    -------
    correlations : torch.Tensor of shape (min(n_features_a, n_features_b),)
        In descending order; gradients flow to ``h_a`` and ``h_b``.
    """
    n_frames = h_a.shape[0]
    h_a = h_a - h_a.mean(dim=0)
    h_b = h_b - h_b.mean(dim=0)
    s_ab = h_a.T @ h_b / (n_frames - 1)
    eye_a = torch.eye(h_a.shape[1], dtype=h_a.dtype, device=h_a.device)
    eye_b = torch.eye(h_b.shape[1], dtype=h_b.dtype, device=h_b.device)
    s_aa = h_a.T @ h_a / (n_frames - 1) + reg_a * eye_a
    s_bb = h_b.T @ h_b / (n_frames - 1) + reg_b * eye_b
    l_a = torch.linalg.cholesky(s_aa)
    l_b = torch.linalg.cholesky(s_bb)
    left = torch.linalg.solve_triangular(l_a, s_ab, upper=False)
    whitened = torch.linalg.solve_triangular(l_b, left.T, upper=False).T
    return torch.linalg.svdvals(whitened)


def warped_correlations(outputs, paths, reg_a, reg_b):
    """Canonical correlations of encoder outputs matched by paths, stacked over pairs.

    Parameters
    ----------
    outputs : tuple of two lists of torch.Tensor
        Per pair, the outputs ``(n_timepoints, n_features)`` of each side.
    paths : list of ndarray of shape (path_length, 2)
        Per pair, the matched frames.
    reg_a, reg_b : float
        Ridge of each view (see :func:`canonical_correlations`).

    Returns
    -------
    correlations : torch.Tensor
        As :func:`canonical_correlations` of the matched rows.
    """
    index_a, index_b, offset_a, offset_b = [], [], 0, 0
    for h_a, h_b, path in zip(outputs[0], outputs[1], paths):
        index_a.append(path[:, 0] + offset_a)
        index_b.append(path[:, 1] + offset_b)
        offset_a, offset_b = offset_a + len(h_a), offset_b + len(h_b)
    stacked_a, stacked_b = torch.cat(outputs[0]), torch.cat(outputs[1])
    device = stacked_a.device
    h_a = stacked_a[torch.as_tensor(np.concatenate(index_a), device=device)]
    h_b = stacked_b[torch.as_tensor(np.concatenate(index_b), device=device)]
    return canonical_correlations(h_a, h_b, reg_a, reg_b)


def is_module(value):
    """Whether ``value`` is a ``torch.nn.Module``."""
    return isinstance(value, torch.nn.Module)


def mlp_encoder(n_channels, hidden_layer_sizes, activation, n_outputs):
    """A frame-wise multilayer perceptron ``n_channels -> hidden_layer_sizes -> n_outputs``.

    Parameters
    ----------
    n_channels : int
        Input width.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers, each followed by ``activation``.
    activation : {"relu", "tanh", "gelu"}
        The hidden activation.
    n_outputs : int
        Output width (linear output layer).

    Returns
    -------
    encoder : torch.nn.Sequential
    """
    layers, width = [], n_channels
    for size in hidden_layer_sizes:
        layers += [torch.nn.Linear(width, size), ACTIVATIONS[activation]()]
        width = size
    layers.append(torch.nn.Linear(width, n_outputs))
    return torch.nn.Sequential(*layers)


def adam(modules, learning_rate, weight_decay):
    """One Adam optimizer over the parameters of several modules."""
    parameters = [parameter for module in modules for parameter in module.parameters()]
    return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay)


def encode(encoders, pairs, means, scales, device, train=False):
    """Outputs of two encoders on every pair, standardised first, as float64 tensors.

    Parameters
    ----------
    encoders : tuple of torch.nn.Module
        The encoder of each side; put in train or eval mode here.
    pairs : list of tuple of ndarray
        ``(a, b)`` sequences of shape ``(n_timepoints, n_channels)``.
    means, scales : tuple of ndarray
        Per-channel standardisation of each side.
    device : torch.device
        Where the encoders live.
    train : bool, default=False
        Whether gradients are recorded (and the modules in train mode).

    Returns
    -------
    outputs : tuple of two lists of torch.Tensor
        Per side and pair, the encoder output cast to float64 (the encoders
        run in float32).
    """
    outputs = ([], [])
    for encoder in encoders:
        encoder.train(train)
    with torch.set_grad_enabled(train):
        for pair in pairs:
            for side in (0, 1):
                scaled = (pair[side] - means[side]) / scales[side]
                tensor = torch.as_tensor(scaled, dtype=torch.float32, device=device)
                outputs[side].append(encoders[side](tensor).to(torch.float64))
    return outputs
