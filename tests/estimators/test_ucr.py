"""Reproduce published 1-NN DTW error rates of the UCR archive (Dau et al. 2019).

The numbers come from the archive's DataSummary.csv (see
``/work/shared/research/datasets.md``): squared-Euclidean local cost on the
bundled, already z-normalised series; "window 0" is a Sakoe-Chiba radius of 0
(Euclidean distance for equal lengths). aeon ships these datasets inside its
wheel, so loading works offline.
"""

import importlib

import numpy as np
import pytest

import alignkit

PUBLISHED = [
    ("GunPoint", None, 0.0933),
    ("GunPoint", 0, 0.0867),
    ("ItalyPowerDemand", None, 0.0496),
    ("ItalyPowerDemand", 0, 0.0447),
    ("ArrowHead", None, 0.2971),
    ("ArrowHead", 0, 0.2000),
]


def _load(name, split):
    datasets = importlib.import_module("aeon.datasets")
    X, y = datasets.load_classification(name, split=split)
    # aeon is channels-first (n_cases, n_channels, n_timepoints); alignkit is time-first.
    return [np.ascontiguousarray(case.T) for case in X], np.asarray(y)


def one_nn_error(name, window, squared=True):
    """Test error of 1-NN with DTW; ties go to the first training case (``np.argmin``)."""
    X_train, y_train = _load(name, "train")
    X_test, y_test = _load(name, "test")
    distances = np.array(
        [
            [alignkit.dtw_distance(a, b, window=window, squared=squared) for b in X_train]
            for a in X_test
        ]
    )
    return float(np.mean(y_train[np.argmin(distances, axis=1)] != y_test))


@pytest.mark.parametrize("name, window, published", PUBLISHED)
def test_one_nn_dtw_reproduces_published_error(name, window, published):
    assert round(one_nn_error(name, window), 4) == published


def test_square_root_convention_gives_same_neighbours():
    assert round(one_nn_error("GunPoint", None, squared=False), 4) == 0.0933


def test_fraction_zero_equals_radius_zero():
    assert round(one_nn_error("GunPoint", 0.0), 4) == 0.0867
