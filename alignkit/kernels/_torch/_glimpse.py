"""Recurrent attention model modules (Mnih et al. 2014): retina, glimpse net, core, policy.

Imports torch at import time; loaded through :func:`alignkit.kernels._torch.load`.

Locations are ``(x, y)`` in ``[-1, 1]^2`` (x the column, y the row), in the
``align_corners=False`` convention: pixel ``k`` of ``n`` has its centre at
``(2k + 1) / n - 1``, so ``(0, 0)`` is the image centre.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


def retina(images, locations, patch_size, n_scales, scale_factor=2):
    """Multi-resolution glimpses, vectorised over the batch.

    Parameters
    ----------
    images : Tensor of shape (batch, channels, height, width)
    locations : Tensor of shape (batch, 2)
        Glimpse centres.
    patch_size : int
        Side ``g`` of the first (finest) patch, in pixels.
    n_scales : int
        Number of patches; patch ``k`` is ``g * scale_factor**k`` pixels wide,
        averaged down to ``g x g``.
    scale_factor : int, default=2

    Returns
    -------
    glimpses : Tensor of shape (batch, n_scales, channels, patch_size, patch_size)
        Zero outside the image.
    """
    batch, channels, height, width = images.shape
    out = []
    for k in range(n_scales):
        factor = scale_factor**k
        side = patch_size * factor
        offsets_x = 2 * torch.arange(side, dtype=images.dtype, device=images.device) + 1 - side
        offsets_y = offsets_x / height
        offsets_x = offsets_x / width
        grid_y, grid_x = torch.meshgrid(offsets_y, offsets_x, indexing="ij")
        grid = torch.stack([grid_x, grid_y], dim=-1)  # (side, side, 2)
        grid = grid.unsqueeze(0) + locations.to(images.dtype).view(batch, 1, 1, 2)
        patch = F.grid_sample(
            images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
        if factor > 1:
            patch = F.avg_pool2d(patch, factor)
        out.append(patch)
    return torch.stack(out, dim=1)


class GlimpseNetwork(nn.Module):
    """``g = relu(W_g h_g + W_l h_l)`` from the glimpse ``h_g`` and location ``h_l`` codes."""

    def __init__(self, glimpse_size, glimpse_hidden, loc_hidden, output):
        super().__init__()
        self.what = nn.Linear(glimpse_size, glimpse_hidden)
        self.where = nn.Linear(2, loc_hidden)
        self.what_out = nn.Linear(glimpse_hidden, output)
        self.where_out = nn.Linear(loc_hidden, output)

    def forward(self, glimpses, locations):
        what = F.relu(self.what(glimpses.flatten(1)))
        where = F.relu(self.where(locations))
        return F.relu(self.what_out(what) + self.where_out(where))


class Core(nn.Module):
    """Recurrent core: a ReLU RNN cell (the paper's static-image model) or an LSTM cell."""

    def __init__(self, input_size, hidden, kind="rnn"):
        super().__init__()
        self.kind = kind
        self.hidden = hidden
        if kind == "lstm":
            self.cell = nn.LSTMCell(input_size, hidden)
        else:
            self.input = nn.Linear(input_size, hidden)
            self.recurrent = nn.Linear(hidden, hidden)

    def initial(self, batch, like):
        zeros = like.new_zeros(batch, self.hidden)
        return (zeros, zeros.clone()) if self.kind == "lstm" else zeros

    def forward(self, g, state):
        if self.kind == "lstm":
            h, c = self.cell(g, state)
            return h, (h, c)
        h = F.relu(self.input(g) + self.recurrent(state))
        return h, h


class LocationPolicy(nn.Module):
    """Gaussian policy mean ``tanh(f(h))`` on the detached core state."""

    def __init__(self, hidden, loc_hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, loc_hidden), nn.ReLU(), nn.Linear(loc_hidden, 2))

    def forward(self, h):
        return torch.tanh(self.net(h.detach()))


def gaussian_log_prob(sample, mean, std):
    """Log-density of an isotropic Gaussian, summed over the two coordinates."""
    return (
        -((sample - mean) ** 2) / (2 * std**2) - math.log(std) - 0.5 * math.log(2 * math.pi)
    ).sum(-1)


def reinforce_loss(log_probs, rewards, baselines):
    """REINFORCE with a baseline: ``-mean_t sum (R - b_t) log pi(l_t)``, the advantage detached.

    Parameters
    ----------
    log_probs : Tensor of shape (batch, n_steps)
    rewards : Tensor of shape (batch,)
    baselines : Tensor of shape (batch, n_steps)

    Returns
    -------
    loss : Tensor (scalar)
        Its gradient with respect to the policy is the negated REINFORCE
        estimate, so gradient descent climbs the expected reward.
    """
    advantage = (rewards.unsqueeze(1) - baselines).detach()
    return -(log_probs * advantage).sum(1).mean()


class RecurrentAttention(nn.Module):
    """Retina, glimpse network, core, location policy, baseline and classifier."""

    def __init__(
        self,
        channels,
        n_classes,
        patch_size,
        n_scales,
        scale_factor,
        glimpse_hidden,
        loc_hidden,
        core_hidden,
        core,
    ):
        super().__init__()
        self.patch_size = patch_size
        self.n_scales = n_scales
        self.scale_factor = scale_factor
        size = channels * n_scales * patch_size * patch_size
        self.glimpse = GlimpseNetwork(size, glimpse_hidden, loc_hidden, core_hidden)
        self.core = Core(core_hidden, core_hidden, core)
        self.policy = LocationPolicy(core_hidden, loc_hidden)
        self.baseline = nn.Linear(core_hidden, 1)
        self.classifier = nn.Linear(core_hidden, n_classes)

    def forward(self, images, n_glimpses, std, first, mode="sample", locations=None):
        """Run the glimpses.

        Parameters
        ----------
        images : Tensor (batch, channels, height, width)
        n_glimpses : int
        std : float
            Policy standard deviation (sampling mode).
        first : Tensor (batch, 2)
            First glimpse location.
        mode : {"sample", "mean", "fixed", "random"}
            Later locations: sampled from the policy, its mean, the given
            ``locations`` (batch, n_glimpses, 2), or uniform at random.

        Returns
        -------
        logits : Tensor (batch, n_classes)
        log_probs : Tensor (batch, n_glimpses - 1)
            Log-probabilities of the sampled locations (zeros unless sampling).
        baselines : Tensor (batch, n_glimpses - 1)
        path : Tensor (batch, n_glimpses, 2)
            Glimpse centres.
        h : Tensor (batch, core_hidden)
            Final core state.
        """
        batch = images.shape[0]
        location = first if mode != "fixed" else locations[:, 0]
        state = self.core.initial(batch, images)
        path, log_probs, baselines = [location], [], []
        for t in range(n_glimpses):
            glimpse = retina(images, location, self.patch_size, self.n_scales, self.scale_factor)
            h, state = self.core(self.glimpse(glimpse, location), state)
            if t == n_glimpses - 1:
                break
            mean = self.policy(h)
            baselines.append(self.baseline(h.detach()).squeeze(1))
            if mode == "sample":
                location = (mean + std * torch.randn_like(mean)).detach()
                log_probs.append(gaussian_log_prob(location, mean, std))
                location = location.clamp(-1, 1)
            else:
                log_probs.append(mean.new_zeros(batch))
                if mode == "mean":
                    location = mean.detach()
                elif mode == "fixed":
                    location = locations[:, t + 1]
                else:
                    location = torch.rand_like(mean) * 2 - 1
            path.append(location)
        stack = (lambda items: torch.stack(items, dim=1)) if baselines else None
        empty = images.new_zeros(batch, 0)
        return (
            self.classifier(h),
            stack(log_probs) if stack else empty,
            stack(baselines) if stack else empty,
            torch.stack(path, dim=1),
            h,
        )


def make_optimizer(model, learning_rate):
    """Adam over every network of the model."""
    return torch.optim.Adam(model.parameters(), lr=learning_rate)


def first_locations(like, batch, uniform):
    """First glimpse centres: uniform in ``[-1, 1]^2`` (torch's seeded RNG) or the centre."""
    if uniform:
        return torch.rand(batch, 2, dtype=like.dtype, device=like.device) * 2 - 1
    return like.new_zeros(batch, 2)


def hybrid_loss(model, images, targets, first, mode, fixed, *, n_glimpses, std, reward, weight):
    """The paper's hybrid loss and the batch accuracy of the trajectories trained on.

    Cross-entropy through the classifier, core and glimpse network; with
    sampled locations, plus the baseline's squared error and ``weight`` times
    the REINFORCE term (reward ``"correct"``: 1 for a correct class;
    ``"probability"``: the probability of the true class).
    """
    logits, log_probs, baselines, _, _ = model(
        images, n_glimpses, std, first, mode=mode, locations=fixed
    )
    classification = F.cross_entropy(logits, targets)
    correct = (logits.argmax(1) == targets).to(images.dtype)
    if reward == "correct":
        rewards = correct
    else:
        rewards = torch.softmax(logits, dim=1).detach().gather(1, targets[:, None])[:, 0]
    if mode != "sample" or log_probs.shape[1] == 0:
        return classification, correct.mean()
    baseline_loss = F.mse_loss(baselines, rewards.unsqueeze(1).expand_as(baselines))
    policy_loss = reinforce_loss(log_probs, rewards, baselines)
    return classification + baseline_loss + weight * policy_loss, correct.mean()


def probabilities(model, images, runs, *, n_glimpses, std, fixed=None, chunk=256):
    """Class probabilities averaged over ``runs``, the glimpse paths and final core states.

    ``runs`` is a list of modes of :meth:`RecurrentAttention.forward`
    (``"fixed"`` reads ``fixed``); path and state are those of the last run.
    """
    probas, paths, states = [], [], []
    with torch.no_grad():
        for start in range(0, len(images), chunk):
            rows = images[start : start + chunk]
            first = rows.new_zeros(len(rows), 2)
            locations = None if fixed is None else fixed[start : start + chunk]
            proba = 0
            for mode in runs:
                logits, _, _, path, h = model(
                    rows, n_glimpses, std, first, mode=mode, locations=locations
                )
                proba = proba + torch.softmax(logits, dim=1) / len(runs)
            probas.append(proba)
            paths.append(path)
            states.append(h)
    return torch.cat(probas), torch.cat(paths), torch.cat(states)


def nll(proba, targets):
    """Negative log-likelihood of the true classes (the validation loss)."""
    return float(F.nll_loss(torch.log(proba + 1e-12), targets))


__all__ = [
    "Core",
    "GlimpseNetwork",
    "LocationPolicy",
    "RecurrentAttention",
    "first_locations",
    "gaussian_log_prob",
    "hybrid_loss",
    "make_optimizer",
    "nll",
    "probabilities",
    "reinforce_loss",
    "retina",
]
