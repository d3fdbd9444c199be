"""Test configuration shared by every test module.

- ``NUMBA_CACHE_DIR`` and ``MPLBACKEND`` are set in the repository's root
  ``conftest.py``, which also covers the doctests of ``alignkit/``.
- Hypothesis runs under the "ci" profile unless ``HYPOTHESIS_PROFILE`` names
  another: no deadline (the first call of a kernel may load it from the numba
  cache), derandomised so a failure reproduces on every run, modest example
  counts, and no example database written into the checkout.
"""

import os

from hypothesis import HealthCheck, settings

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
