"""Test configuration shared by every test module.

- ``NUMBA_CACHE_DIR`` and ``MPLBACKEND`` are set in the repository's root
  ``conftest.py``, which also covers the doctests of ``alignkit/``.
- Hypothesis runs under the "ci" profile unless ``HYPOTHESIS_PROFILE`` names
  another: no deadline (the first call of a kernel may load it from the numba
  cache), derandomised so a failure reproduces on every run, modest example
  counts, and no example database written into the checkout.
- ``tests/`` mirrors the package (``tests/distances/``, ``tests/estimators/`` ...);
  the shared helpers ``_reference`` and ``_no_torch`` live here and are put on
  ``sys.path`` for every subfolder.
- A test marked ``@pytest.mark.gpu`` is skipped, with the reason, where torch is
  missing or sees no CUDA GPU; the marker is enough, no ``skipif`` is needed.
"""

import importlib.util
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Fake plugin distributions: imported only by the plugin tests that put them on
# sys.path, never by collection (--doctest-modules would import them).
collect_ignore = ["fixtures"]

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=50,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _no_gpu_reason():
    """Why GPU tests cannot run here, or None where torch sees a CUDA GPU."""
    if importlib.util.find_spec("torch") is None:
        return "needs torch with a CUDA GPU (torch is not installed)"
    import torch

    if not torch.cuda.is_available():
        return "needs a CUDA GPU (torch sees none)"
    return None


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return  # torch is imported only when a GPU test was collected
    reason = _no_gpu_reason()
    if reason is not None:
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason=reason))
