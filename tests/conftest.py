"""Test configuration shared by every test module.

- ``NUMBA_CACHE_DIR`` defaults to ``build/numba-cache/<hash of the kernels' source>``
  (as in the Makefile) so compiled kernels are reused between runs, and a change
  to a kernel's callee in another file cannot leave a stale compiled caller.
- ``MPLBACKEND`` defaults to ``Agg`` so plotting tests never need a display.
- Hypothesis runs under the "ci" profile unless ``HYPOTHESIS_PROFILE`` names
  another: no deadline (the first call of a kernel may load it from the numba
  cache), derandomised so a failure reproduces on every run, modest example
  counts, and no example database written into the checkout.
"""

import hashlib
import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
_KERNELS = sorted((_REPO / "alignkit" / "kernels" / "_numba").glob("*.py"))
_KERNEL_HASH = hashlib.sha1(b"".join(p.read_bytes() for p in _KERNELS)).hexdigest()[:12]
os.environ.setdefault("NUMBA_CACHE_DIR", str(_REPO / "build" / "numba-cache" / _KERNEL_HASH))
os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import HealthCheck, settings  # noqa: E402

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
