"""Fixtures shared by the plotting tests: a closed figure after each test, a pair to draw."""

import importlib

import numpy as np
import pytest

plt = importlib.import_module("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def pair():
    """Two random walks of two channels and different lengths (25 and 35 timepoints)."""
    rng = np.random.default_rng(0)
    a = np.cumsum(rng.standard_normal((25, 2)), axis=0)
    b = np.cumsum(rng.standard_normal((35, 2)), axis=0)
    return a, b


@pytest.fixture
def inside():
    """``inside(inner, outer)``: whether bounding box ``inner`` lies within ``outer`` (0.5 px)."""

    def check(inner, outer, tolerance=0.5):
        return (
            inner.x0 >= outer.x0 - tolerance
            and inner.y0 >= outer.y0 - tolerance
            and inner.x1 <= outer.x1 + tolerance
            and inner.y1 <= outer.y1 + tolerance
        )

    return check
