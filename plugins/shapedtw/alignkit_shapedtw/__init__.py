"""alignkit-shapedtw: shapeDTW (Zhao & Itti, 2018) for alignkit, shipped as a plugin.

Installing this distribution registers the aligner ``"shapedtw"`` through the
``alignkit`` entry-point group, so ``alignkit.get_aligner("shapedtw")`` finds
it; the estimator and the descriptors can also be imported directly.
"""

from ._descriptors import shape_descriptors
from ._estimator import ShapeDTWAligner

__version__ = "0.1.0"

__all__ = ["ShapeDTWAligner", "shape_descriptors", "__version__"]
