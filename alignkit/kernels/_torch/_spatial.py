"""Spatial transformer modules: grid generators, bilinear sampler, small CNNs.

Imports torch at import time; loaded through :func:`alignkit.kernels._torch.load`.

Convention: a transform maps OUTPUT normalised coordinates ``(x, y)`` in
``[-1, 1]^2`` (x = column, y = row) to INPUT normalised coordinates, the
sampling map of ``torch.nn.functional.grid_sample``. The output pixel grid
follows ``align_corners``, the same value is given to ``grid_sample``, so the
identity transform reproduces the input exactly.
"""

import torch
from torch import nn
from torch.nn import functional as F

TRANSFORMS = ("attention", "similarity", "affine", "projective", "tps")


def base_grid(height, width, align_corners, dtype=torch.float32, device=None):
    """Normalised ``(x, y)`` of the output pixels, shape ``(height * width, 2)``."""

    def axis(n):
        if align_corners:
            if n == 1:
                return torch.zeros(1, dtype=dtype, device=device)
            return torch.linspace(-1, 1, n, dtype=dtype, device=device)
        return (2 * torch.arange(n, dtype=dtype, device=device) + 1) / n - 1

    ys, xs = torch.meshgrid(axis(height), axis(width), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def n_parameters(transform, tps_grid=(4, 4)):
    """Number of regressed parameters of a transform."""
    sizes = {"attention": 3, "similarity": 4, "affine": 6, "projective": 8}
    if transform == "tps":
        return 2 * tps_grid[0] * tps_grid[1]
    return sizes[transform]


def tps_control_points(tps_grid, dtype=torch.float64):
    """Control points of the thin-plate spline: a regular grid inside ``[-1, 1]^2``."""
    rows, cols = tps_grid
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, rows, dtype=dtype),
        torch.linspace(-1, 1, cols, dtype=dtype),
        indexing="ij",
    )
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def _tps_kernel(r2):
    # U(r) = r^2 log r^2, with U(0) = 0.
    return torch.where(r2 > 0, r2 * torch.log(r2.clamp_min(1e-300)), torch.zeros_like(r2))


def tps_matrix(points, control):
    """Matrix ``M`` with ``grid = M @ moved_control``: the TPS through the control points.

    The spline maps each control point to its moved position and is affine
    plus radial terms elsewhere; it is linear in the moved positions, so ``M``
    is precomputed once per output size.
    """
    k = len(control)
    dtype = torch.float64
    control = control.to(dtype)
    points = points.to(dtype)
    system = torch.zeros(k + 3, k + 3, dtype=dtype)
    system[:k, :k] = _tps_kernel(torch.cdist(control, control) ** 2)
    system[:k, k] = 1
    system[:k, k + 1 :] = control
    system[k, :k] = 1
    system[k + 1 :, :k] = control.T
    inverse = torch.linalg.inv(system)[:, :k]  # only the first k right-hand columns are non-zero
    features = torch.cat(
        [
            _tps_kernel(torch.cdist(points, control) ** 2),
            torch.ones(len(points), 1, dtype=dtype),
            points,
        ],
        dim=1,
    )
    return features @ inverse


class GridGenerator(nn.Module):
    """Parameters -> sampling grid ``(batch, height, width, 2)`` for one transform family."""

    def __init__(self, transform, output_size, align_corners, tps_grid=(4, 4)):
        super().__init__()
        self.transform = transform
        self.output_size = tuple(output_size)
        self.align_corners = bool(align_corners)
        self.tps_grid = tuple(tps_grid)
        grid = base_grid(*self.output_size, self.align_corners, dtype=torch.float64)
        # Float64 buffers (cast at use), so a float64 identity is exact.
        self.register_buffer("grid", grid)
        if transform == "tps":
            control = tps_control_points(self.tps_grid)
            self.register_buffer("control", control)
            self.register_buffer("tps", tps_matrix(grid, control))

    def identity(self):
        """The parameter vector of the identity transform (float64)."""
        vectors = {
            "attention": [1.0, 0.0, 0.0],
            "similarity": [1.0, 0.0, 0.0, 0.0],
            "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            "projective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        }
        if self.transform in vectors:
            return torch.tensor(vectors[self.transform], dtype=torch.float64)
        return self.control.reshape(-1).clone().cpu()

    def matrix(self, theta):
        """Homogeneous ``(batch, 3, 3)`` matrices of the non-TPS transforms."""
        batch = theta.shape[0]
        ones = theta.new_ones(batch)
        zeros = theta.new_zeros(batch)
        if self.transform == "attention":
            s, tx, ty = theta.unbind(1)
            rows = [s, zeros, tx, zeros, s, ty, zeros, zeros, ones]
        elif self.transform == "similarity":
            a, b, tx, ty = theta.unbind(1)
            rows = [a, -b, tx, b, a, ty, zeros, zeros, ones]
        elif self.transform == "affine":
            rows = [*theta.unbind(1), zeros, zeros, ones]
        elif self.transform == "projective":
            rows = [*theta.unbind(1), ones]
        else:
            raise ValueError("a thin-plate spline has no matrix")
        return torch.stack(rows, dim=1).reshape(batch, 3, 3)

    def forward(self, theta):
        batch = theta.shape[0]
        height, width = self.output_size
        grid = self.grid.to(theta.dtype)
        if self.transform == "tps":
            moved = theta.reshape(batch, -1, 2)
            points = self.tps.to(theta.dtype) @ moved  # (batch, H*W, 2)
        else:
            homogeneous = torch.cat([grid, grid.new_ones(len(grid), 1)], dim=1)
            mapped = homogeneous @ self.matrix(theta).transpose(1, 2)  # (batch, H*W, 3)
            if self.transform == "projective":
                z = mapped[..., 2:]
                eps = torch.where(z < 0, -1e-6, 1e-6).to(z.dtype)
                z = torch.where(z.abs() < 1e-6, eps, z)
                points = mapped[..., :2] / z
            else:
                points = mapped[..., :2]
        return points.reshape(batch, height, width, 2)

    def map_points(self, theta, points):
        """Apply the transforms to normalised ``points`` ``(k, 2)``: returns ``(batch, k, 2)``."""
        if self.transform == "tps":
            control = self.control.to(theta.dtype)
            matrix = tps_matrix(points.to(torch.float64), control.to(torch.float64)).to(theta.dtype)
            return matrix @ theta.reshape(theta.shape[0], -1, 2)
        homogeneous = torch.cat([points, points.new_ones(len(points), 1)], dim=1).to(theta.dtype)
        mapped = homogeneous @ self.matrix(theta).transpose(1, 2)
        if self.transform == "projective":
            return mapped[..., :2] / mapped[..., 2:]
        return mapped[..., :2]


def sample(images, grid, align_corners, padding_mode):
    """Bilinear sampling of ``images`` ``(batch, C, H, W)`` at ``grid``."""
    return F.grid_sample(
        images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners
    )


def _conv_features(in_channels, widths, kernel):
    layers = []
    for width in widths:
        layers += [
            nn.Conv2d(in_channels, width, kernel, padding=kernel // 2),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.ReLU(),
        ]
        in_channels = width
    return nn.Sequential(*layers), in_channels


class Localizer(nn.Module):
    """Small CNN regressing transform parameters: ``identity + out(features)``.

    The last layer starts at zero, so the transform starts at the identity,
    and weight decay pulls toward the identity (not toward a zero transform).
    """

    def __init__(self, in_channels, identity, widths=(8, 16), hidden=32):
        super().__init__()
        self.features, channels = _conv_features(in_channels, widths, 5)
        self.pool = nn.AdaptiveAvgPool2d(3)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(channels * 9, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, len(identity))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("identity", identity.clone().to(torch.float64))

    def forward(self, x):
        offset = self.out(self.fc(self.pool(self.features(x))))
        return self.identity.to(offset.dtype) + offset


class SmallCNN(nn.Module):
    """Two conv + pool blocks and a two-layer classifier head."""

    def __init__(self, in_channels, n_classes, widths=(16, 32), hidden=64):
        super().__init__()
        self.features, channels = _conv_features(in_channels, widths, 3)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(channels * 16, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.out(self.fc(self.pool(self.features(x))))


class SpatialTransformer(nn.Module):
    """Localiser + grid generator + sampler; ``forward`` returns ``(warped, theta)``.

    ``reference`` (optional) is concatenated to the input of the localiser
    only (registration to paired targets or a template).
    """

    def __init__(
        self,
        in_channels,
        transform,
        output_size,
        align_corners,
        padding_mode,
        tps_grid,
        localizer_channels=None,
    ):
        super().__init__()
        self.generator = GridGenerator(transform, output_size, align_corners, tps_grid)
        self.align_corners = bool(align_corners)
        self.padding_mode = padding_mode
        self.localizer = Localizer(localizer_channels or in_channels, self.generator.identity())

    def forward(self, images, reference=None):
        source = images if reference is None else torch.cat([images, reference], dim=1)
        theta = self.localizer(source)
        grid = self.generator(theta)
        return sample(images, grid, self.align_corners, self.padding_mode), theta


def make_optimizer(groups, weight_decay):
    """Adam over parameter ``groups`` (each with its own ``lr``)."""
    return torch.optim.Adam(groups, weight_decay=weight_decay)


def warp(transformer, images, reference=None):
    """``(warped, theta)``; the images themselves without a transformer (the plain CNN)."""
    if transformer is None:
        return images, None
    return transformer(images, reference)


def task_loss(transformer, classifier, images, labels):
    """Cross-entropy of the classifier on the warped images."""
    warped, _ = warp(transformer, images)
    return F.cross_entropy(classifier(warped), labels)


def registration_loss(transformer, images, targets, paired):
    """Mean squared error of the warped images against their targets."""
    warped, _ = warp(transformer, images, targets if paired else None)
    return F.mse_loss(warped, targets)


def evaluate(loss, *args):
    """``float(loss(*args))`` without gradients."""
    with torch.no_grad():
        return float(loss(*args))


def class_probabilities(transformer, classifier, images, chunk=256):
    """Softmax of the classifier on the warped images, ``chunk`` images at a time."""
    out = []
    with torch.no_grad():
        for start in range(0, len(images), chunk):
            warped, _ = warp(transformer, images[start : start + chunk])
            out.append(torch.softmax(classifier(warped), dim=1))
    return torch.cat(out)


def predict_theta(transformer, images, references, paired, refine_steps, refine_lr, chunk=256):
    """Predicted transform parameters, then ``refine_steps`` Adam steps on each image's own.

    The refinement fits every image's parameters to its reference (the
    target or the template) by the summed squared image error, so each image's
    parameters get only its own gradient.
    """
    generator = transformer.generator
    thetas = []
    for start in range(0, len(images), chunk):
        rows = images[start : start + chunk]
        reference = None if references is None else references[start : start + chunk]
        with torch.no_grad():
            source = rows if not paired else torch.cat([rows, reference], dim=1)
            theta = transformer.localizer(source)
        if refine_steps:
            theta = theta.clone().requires_grad_(True)
            optimizer = torch.optim.Adam([theta], lr=refine_lr)
            for _ in range(refine_steps):
                optimizer.zero_grad()
                warped = F.grid_sample(
                    rows,
                    generator(theta),
                    mode="bilinear",
                    padding_mode=transformer.padding_mode,
                    align_corners=transformer.align_corners,
                )
                loss = ((warped - reference) ** 2).flatten(1).sum(1).sum()
                loss.backward()
                optimizer.step()
            theta = theta.detach()
        thetas.append(theta)
    return torch.cat(thetas)


def warp_with(transformer, images, theta):
    """Images sampled at the grids of ``theta``, without gradients."""
    with torch.no_grad():
        grid = transformer.generator(theta)
        return sample(images, grid, transformer.align_corners, transformer.padding_mode)


def to_numpy(tensor):
    """A float64 NumPy copy of ``tensor`` on the CPU."""
    return tensor.detach().cpu().double().numpy()


__all__ = [
    "TRANSFORMS",
    "GridGenerator",
    "Localizer",
    "SmallCNN",
    "SpatialTransformer",
    "base_grid",
    "class_probabilities",
    "evaluate",
    "make_optimizer",
    "n_parameters",
    "predict_theta",
    "registration_loss",
    "sample",
    "task_loss",
    "to_numpy",
    "tps_control_points",
    "tps_matrix",
    "warp",
    "warp_with",
]
