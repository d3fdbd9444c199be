"""alignkit: align sequences and images, explicitly and with learned aligners.

Importing alignkit is cheap: the names below load their modules (numpy,
numba kernels, scikit-learn) on first use, and no plugin is loaded until the
registry is first asked for an aligner.
"""

import importlib
import importlib.util

from ._config import config_context as config_context
from ._config import get_config as get_config
from ._config import set_config as set_config
from ._version import __version__ as __version__

_LAZY = {
    "Alignment": "alignkit.core.results",
    "AttentionAlignment": "alignkit.estimators._attention_alignment",
    "AlignerSpec": "alignkit.core.registry",
    "CTWAligner": "alignkit.estimators._ctw",
    "CTWAlignment": "alignkit.estimators._ctw",
    "DTWAligner": "alignkit.estimators._dtw",
    "DeepCTWAligner": "alignkit.estimators._deep_ctw",
    "DTWDistances": "alignkit.estimators._neighbors",
    "KernelKMeans": "alignkit.estimators._clustering_kernel",
    "TimeSeriesKMeans": "alignkit.estimators._clustering",
    "TimeSeriesKMedoids": "alignkit.estimators._clustering",
    "silhouette_score": "alignkit.estimators._clustering",
    "KNeighborsDTWClassifier": "alignkit.estimators._neighbors",
    "KNeighborsDTWRegressor": "alignkit.estimators._neighbors",
    "UniformAligner": "alignkit.estimators._uniform",
    "dba": "alignkit.distances",
    "dtw": "alignkit.distances",
    "dtw_distance": "alignkit.distances",
    "from_aeon": "alignkit.validation",
    "get_aligner": "alignkit.core.registry",
    "GlimpseAligner": "alignkit.estimators._glimpse",
    "hookimpl": "alignkit.core.hookspecs",
    "list_aligners": "alignkit.core.registry",
    "Match": "alignkit.distances",
    "OnlineAligner": "alignkit.distances",
    "StreamMatcher": "alignkit.distances",
    "MultiAlignment": "alignkit.multiview",
    "SoftAttentionAligner": "alignkit.estimators._soft_attention",
    "SoftDTWLoss": "alignkit.losses",
    "StepPattern": "alignkit.distances",
    "STNAligner": "alignkit.estimators._stn",
    "subsequence_search": "alignkit.distances",
    "attention_path": "alignkit.estimators._attention_alignment",
    "upsample_attention": "alignkit.estimators._attention_alignment",
    "pairwise_distances": "alignkit.distances",
    "path_distance": "alignkit.metrics",
    "soft_dtw": "alignkit.distances",
    "soft_dtw_alignment": "alignkit.distances",
    "soft_dtw_barycenter": "alignkit.distances",
    "soft_dtw_divergence": "alignkit.distances",
    "soft_dtw_grad": "alignkit.distances",
}

_SUBMODULES = {
    "base",
    "callbacks",
    "core",
    "datasets",
    "distances",
    "estimators",
    "exceptions",
    "kernels",
    "losses",
    "metrics",
    "multiview",
    "plotting",
    "preprocessing",
    "testing",
    "validation",
}

# Names that need torch; the star import leaves them out where torch is missing, so that
# ``from alignkit import *`` works (``alignkit.SoftDTWLoss`` then names the torch extra).
_TORCH_ONLY = {"SoftDTWLoss"}


def _torch_installed():
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import hook that refuses torch
        return False


__all__ = sorted(
    {*_LAZY, "config_context", "get_config", "set_config", "__version__"}
    - (set() if _torch_installed() else _TORCH_ONLY)
)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"alignkit.{name}")
    raise AttributeError(f"module 'alignkit' has no attribute {name!r}")


def __dir__():
    return sorted({*__all__, *_SUBMODULES})
