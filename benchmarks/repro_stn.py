"""Reproduce the STNAligner claims on digit canvases (issue: STN and Glimpse aligners).

Protocol (3 seeds, held-out source digits, 1 torch thread, CPU seconds):

1. Task mode on RTS canvases (rotation +-45 deg, scale 0.7-1.2, random position on
   32x32): ST-CNN (affine) vs the same CNN without the transformer; test error.
2. Rectification by the ST-CNN: the scale-normalised spread of the composed
   pose map (predicted sampling map, then the inverse of the true distortion,
   at the corners of the central half of the output) against the input's
   (identity map), and the mean same-class distance between unit-norm images
   after vs before (raw distances also printed: zooming in adds ink), with the
   mean distance between images of different classes for comparison.
3. Registration mode on clean pairs under known mild affine maps ("A"
   canvases, 24x24): mean digit-corner error of the network alone and after
   test-time refinement, against the identity's.

Run: ``make repro-stn`` (about 10 CPU minutes), or ``python benchmarks/repro_stn.py --quick``.
"""

import argparse
import time

import numpy as np


def _setup():
    import torch

    torch.set_num_threads(1)


def _pose_spread(predicted, truth):
    """Scale-normalised spread of the output -> canonical map at four points."""
    points = np.array([[-0.5, -0.5, 1], [0.5, -0.5, 1], [0.5, 0.5, 1], [-0.5, 0.5, 1]]).T
    mapped = np.linalg.inv(truth) @ predicted @ points
    mapped = mapped[:, :2] / mapped[:, 2:]
    spread = np.linalg.norm(mapped - mapped.mean(axis=0), axis=1).mean()
    size = np.linalg.norm(mapped[:, :, 0] - mapped[:, :, 2], axis=1).mean()
    return spread / size


def _class_distances(images, labels, normalise=True):
    """Mean distance between images of one class (averaged over classes), and of two classes.

    With ``normalise`` each image is scaled to unit norm first: the transformer
    zooms in (a digit fills more of its output than of the canvas), which adds
    ink and so raw distances, whatever the pose.
    """
    flat = images.reshape(len(images), -1).astype(np.float64)
    if normalise:
        flat = flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    squared = (flat**2).sum(axis=1)
    gram = np.sqrt(np.maximum(squared[:, None] + squared[None] - 2 * flat @ flat.T, 0))
    within = []
    for label in np.unique(labels):
        group = gram[np.ix_(labels == label, labels == label)]
        within.append(group[np.triu_indices(len(group), 1)].mean())
    return float(np.mean(within)), float(gram[labels[:, None] != labels[None]].mean())


def task_mode(seed, epochs, n_train):
    from alignkit import STNAligner
    from alignkit.datasets import make_digit_canvas

    sources = np.arange(1797)
    train = make_digit_canvas(
        n_train, "RTS", source_indices=sources[sources % 5 != 0], random_state=seed
    )
    test = make_digit_canvas(
        None, "RTS", source_indices=sources[sources % 5 == 0], random_state=100 + seed
    )
    row = {}
    for name, transformation in (("cnn", None), ("st_cnn", "affine")):
        start = time.process_time()
        model = STNAligner(transformation=transformation, max_epochs=epochs, random_state=seed)
        model.fit(train.images, train.labels)
        row[f"{name}_error"] = 1 - model.score(test.images, test.labels)
        row[f"{name}_cpu_s"] = time.process_time() - start
    identity = np.tile(np.eye(3), (len(test.images), 1, 1))
    predicted = model.predict_transform(test.images)
    row["spread_ratio"] = _pose_spread(predicted, test.transforms) / _pose_spread(
        identity, test.transforms
    )
    rectified = model.transform(test.images)[:, 0]
    for suffix, normalise in (("", True), ("_raw", False)):
        after, before = (
            _class_distances(x, test.labels, normalise) for x in (rectified, test.images)
        )
        row["same_class_ratio" + suffix] = after[0] / before[0]
        row["other_class_ratio" + suffix] = after[1] / before[1]
    return row


def registration(seed, epochs, n_train):
    from alignkit import STNAligner
    from alignkit.datasets import make_digit_canvas

    size = 24
    sources = np.arange(1797)
    upright = make_digit_canvas(kind="clean", canvas_size=size, random_state=0)
    by_source = upright.images[np.argsort(upright.source)]
    placement = upright.transforms[0]

    def pairs(n, subset, state):
        distorted = make_digit_canvas(
            n, "A", canvas_size=size, source_indices=subset, random_state=state
        )
        truth = distorted.transforms @ np.linalg.inv(placement)
        return distorted.images, by_source[distorted.source], truth

    X, Y, _ = pairs(n_train, sources[sources % 5 != 0], seed)
    X_test, Y_test, truth = pairs(None, sources[sources % 5 == 0], 100 + seed)
    corners = placement @ np.array([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], float).T

    def corner_error(predicted):
        a, b = predicted @ corners, truth @ corners
        return np.linalg.norm(a[:, :2] / a[:, 2:] - b[:, :2] / b[:, 2:], axis=1).mean(1) * size / 2

    start = time.process_time()
    model = STNAligner(
        mode="registration", loc_lr_mult=1.0, max_epochs=epochs, random_state=seed
    ).fit(X, Y)
    cpu = time.process_time() - start
    network = corner_error(model.predict_transform(X_test, targets=Y_test))
    refined = corner_error(
        model.set_params(refine_steps=100).predict_transform(X_test, targets=Y_test)
    )
    identity = corner_error(np.tile(np.eye(3), (len(X_test), 1, 1)))
    return {
        "identity_px": identity.mean(),
        "network_px": network.mean(),
        "network_ratio": network.mean() / identity.mean(),
        "refined_px": refined.mean(),
        "refined_under_1px": np.mean(refined < 1.0),
        "fit_cpu_s": cpu,
    }


def _table(title, rows, seeds):
    keys = list(rows[0])
    print(f"\n{title}")
    print("| seed | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for seed, row in zip(seeds, rows):
        print(f"| {seed} | " + " | ".join(f"{row[k]:.4g}" for k in keys) + " |")
    mean = {k: np.mean([r[k] for r in rows]) for k in keys}
    std = {k: np.std([r[k] for r in rows]) for k in keys}
    print("| mean +- std | " + " | ".join(f"{mean[k]:.4g} +- {std[k]:.2g}" for k in keys) + " |")
    return mean


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, fewer epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    _setup()
    seeds = [0] if args.quick else args.seeds
    task_epochs, registration_epochs = (10, 10) if args.quick else (30, 20)
    task = _table(
        f"Task mode, RTS 32x32, {task_epochs} epochs on 3 x 1437 training canvases",
        [task_mode(seed, task_epochs, 3 * 1437) for seed in seeds],
        seeds,
    )
    print(f"ST-CNN / CNN error ratio (means): {task['st_cnn_error'] / task['cnn_error']:.3f}")
    _table(
        f"Registration mode, affine pairs 24x24, {registration_epochs} epochs on 2 x 1437 pairs",
        [registration(seed, registration_epochs, 2 * 1437) for seed in seeds],
        seeds,
    )


if __name__ == "__main__":
    main()
