"""Numba's compilation flags and the disk-cache fallback for read-only installs."""

import subprocess
import sys
import textwrap

from alignkit.kernels._numba import _flags

# Every cache location Numba tries is probed by writing a temporary file into it;
# refusing those writes is how a read-only install looks to Numba (as root,
# file permissions alone cannot make a folder read-only).
_READ_ONLY = """
import tempfile
_real = tempfile.TemporaryFile
def _read_only(*args, **kwargs):
    if kwargs.get("dir") is not None:
        raise PermissionError(13, "Read-only file system", kwargs["dir"])
    return _real(*args, **kwargs)
tempfile.TemporaryFile = _read_only
"""


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_READ_ONLY + code)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_fastmath_keeps_infinities_and_nans():
    assert not {"nnan", "ninf", "fast", "reassoc", "contract"} & _flags.FASTMATH
    assert _flags.JIT_OPTIONS["fastmath"] == set(_flags.FASTMATH)


def test_cache_is_on_where_writable():
    assert _flags.disk_cache_available()
    assert _flags.JIT_OPTIONS["cache"] is True


def test_plain_numba_refuses_to_cache_in_read_only_locations():
    # The failure alignkit works around: without the fallback, importing a kernel raises.
    result = _run(
        """
from numba import njit
try:
    njit(cache=True)(lambda x: x + 1)
except RuntimeError as error:
    print("refused:", "cannot cache" in str(error))
"""
    )
    assert result.returncode == 0, result.stderr
    assert "refused: True" in result.stdout


def test_read_only_install_compiles_in_memory_with_one_warning():
    result = _run(
        """
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import alignkit
    distance = alignkit.dtw_distance([0.0, 1.0, 2.0, 3.0, 5.0], [1.0, 2.0, 3.0, 4.0], squared=True)
    path = alignkit.dtw([0.0, 1.0, 2.0], [0.0, 2.0]).path.tolist()
from alignkit.kernels._numba import _flags
ours = [w for w in caught if "Numba cannot write its cache" in str(w.message)]
print(distance, path, len(ours), _flags.JIT_OPTIONS["cache"])
"""
    )
    assert result.returncode == 0, result.stderr
    # 2.0 by hand: (0 - 1)^2 + (5 - 4)^2, every other timepoint matched exactly.
    assert result.stdout.split() == ["2.0", "[[0,", "0],", "[1,", "0],", "[2,", "1]]", "1", "False"]
