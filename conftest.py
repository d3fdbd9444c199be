"""Environment for every test and doctest, set before any kernel is imported.

- ``NUMBA_CACHE_DIR`` defaults to ``build/numba-cache/<hash of the kernels' source>``
  (as in the Makefile) so compiled kernels are reused between runs, and a change
  to a kernel's callee in another file cannot leave a stale compiled caller
  (numba's cache only checks the file of the cached function itself).
- ``MPLBACKEND`` defaults to ``Agg`` so plotting tests never need a display.
"""

import hashlib
import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent
_KERNELS = sorted((_REPO / "alignkit" / "kernels" / "_numba").glob("*.py"))
_KERNEL_HASH = hashlib.sha1(b"".join(p.read_bytes() for p in _KERNELS)).hexdigest()[:12]
os.environ.setdefault("NUMBA_CACHE_DIR", str(_REPO / "build" / "numba-cache" / _KERNEL_HASH))
os.environ.setdefault("MPLBACKEND", "Agg")
