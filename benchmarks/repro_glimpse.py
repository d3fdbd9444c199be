"""Reproduce the GlimpseAligner claims on cluttered digit canvases (issue: STN and Glimpse).

Protocol: "TC" canvases (a 16x16 digit at a random position on 40x40, four 8x8
patches of other digits as clutter), 5 x 1437 training canvases built from 80%
of the bundled digits, the 360 other digits as held-out canvases; 1 torch
thread; CPU seconds. Models, all with 4 glimpses of 8x8 pixels at 3 scales:

- ``oracle``: glimpses at the true digit centre (the glimpse network alone);
- ``centre``: every glimpse at the canvas centre;
- ``random``: glimpses after the first at uniformly random places;
- ``learned``: the REINFORCE policy (the model of the paper);
- ``cnn``: the CNN of :class:`alignkit.STNAligner` with ``transformation=None``.

Hit rate: the fraction of glimpses after the first whose centre lies in the
true digit box. Targets: learned hit rate >= centre's + 0.15 and learned
error <= random's; oracle error < CNN's.

Run: ``make repro-glimpse`` (3 seeds, about 12 CPU minutes each; the learned model
alone trains in about 3), ``--seeds 0`` for one seed, or ``--quick``.
"""

import argparse
import time

import numpy as np

SETTINGS = dict(n_glimpses=4, patch_size=8, n_scales=3)


def _data(seed):
    from alignkit.datasets import make_digit_canvas

    sources = np.arange(1797)
    train = make_digit_canvas(
        5 * 1437, "TC", source_indices=sources[sources % 5 != 0], random_state=seed
    )
    test = make_digit_canvas(
        None, "TC", source_indices=sources[sources % 5 == 0], random_state=100 + seed
    )
    return train, test


def box_centres(canvas):
    size = canvas.images.shape[-1]
    rows = (canvas.boxes[:, 0] + canvas.boxes[:, 2]) / 2
    cols = (canvas.boxes[:, 1] + canvas.boxes[:, 3]) / 2
    return np.column_stack([cols / size * 2 - 1, rows / size * 2 - 1])


def hit_rate(locations, canvas):
    """Fraction of glimpses after the first whose centre is inside the digit box."""
    size = canvas.images.shape[-1]
    pixels = (locations + 1) * size / 2
    boxes = canvas.boxes[:, None]
    inside = (
        (pixels[..., 0] >= boxes[..., 1])
        & (pixels[..., 0] <= boxes[..., 3])
        & (pixels[..., 1] >= boxes[..., 0])
        & (pixels[..., 1] <= boxes[..., 2])
    )
    return float(inside[:, 1:].mean())


def run(seed, epochs, learned_params):
    from alignkit import GlimpseAligner, STNAligner

    train, test = _data(seed)
    n_test = len(test.images)
    rows = {}

    def timed(name, fit):
        start = time.process_time()
        error, hits = fit()
        rows[name] = {"error": error, "hit_rate": hits, "cpu_s": time.process_time() - start}

    def oracle():
        model = GlimpseAligner(max_epochs=epochs, random_state=seed, **SETTINGS)
        model.fit(train.images, train.labels, locations=box_centres(train))
        predicted = model.predict(test.images, locations=box_centres(test))
        return float(np.mean(predicted != test.labels)), 1.0

    def centre():
        model = GlimpseAligner(max_epochs=epochs, random_state=seed, **SETTINGS)
        model.fit(train.images, train.labels, locations=np.zeros((len(train.images), 2)))
        predicted = model.predict(test.images, locations=np.zeros((n_test, 2)))
        hits = hit_rate(np.zeros((n_test, SETTINGS["n_glimpses"], 2)), test)
        return float(np.mean(predicted != test.labels)), hits

    def random():
        model = GlimpseAligner(max_epochs=epochs, random_state=seed, policy="random", **SETTINGS)
        model.fit(train.images, train.labels)
        draws = np.random.default_rng(seed).uniform(-1, 1, (n_test, SETTINGS["n_glimpses"], 2))
        return 1 - model.score(test.images, test.labels), hit_rate(draws, test)

    def learned():
        model = GlimpseAligner(random_state=seed, **{**SETTINGS, **learned_params})
        model.fit(train.images, train.labels)
        return 1 - model.score(test.images, test.labels), hit_rate(
            model.predict_locations(test.images), test
        )

    def cnn():
        model = STNAligner(transformation=None, max_epochs=30, random_state=seed)
        model.fit(train.images, train.labels)
        return 1 - model.score(test.images, test.labels), float("nan")

    for name, fit in (
        ("oracle", oracle),
        ("centre", centre),
        ("random", random),
        ("learned", learned),
        ("cnn", cnn),
    ):
        timed(name, fit)
        print(seed, name, {k: round(v, 4) for k, v in rows[name].items()}, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, fewer epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    seeds = [0] if args.quick else args.seeds
    epochs = 20 if args.quick else 100
    learned_params = {"max_epochs": epochs, "reward": "probability"}
    results = [run(seed, epochs, learned_params) for seed in seeds]
    print(f"\nTC canvases 40x40, {len(seeds)} seed(s), {epochs} epochs; mean +- std")
    print("| model | error | hit rate | CPU s |")
    print("|---|---|---|---|")
    for name in results[0]:
        cells = []
        for key in ("error", "hit_rate", "cpu_s"):
            values = np.array([r[name][key] for r in results])
            cells.append(f"{values.mean():.3f} +- {values.std():.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
