"""Run Python code in a subprocess where ``import torch`` fails, as if torch were not installed.

Putting ``None`` in ``sys.modules["torch"]`` is not enough: SciPy's array-API
helpers see the key and read attributes of it. A meta-path finder that refuses
``torch`` behaves like a missing distribution.
"""

import subprocess
import sys
import textwrap

PRELUDE = textwrap.dedent(
    """
    import sys

    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NoTorch())
    """
)


def run_without_torch(code):
    """Run ``code`` in a fresh interpreter without torch; return the CompletedProcess."""
    script = PRELUDE + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
