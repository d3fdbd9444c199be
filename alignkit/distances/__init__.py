"""The DTW family: public functions over private drivers.

Every function here validates its arguments once and hands float64,
C-contiguous arrays and a parsed window to a private driver; estimators,
barycenters and batch code call the drivers directly.

- :func:`dtw`, :func:`dtw_distance`: dynamic time warping of one pair.
- :func:`ddtw`, :func:`wdtw`, :func:`derivative`, :func:`wdtw_weights`:
  derivative and weighted DTW.
- :func:`erp_distance`, :func:`edr_distance`, :func:`lcss_distance`,
  :func:`msm_distance`, :func:`twe_distance`, :func:`adtw_distance` and their
  ``*_path`` functions: the elastic distances of aeon besides DTW.
- :func:`soft_dtw`, :func:`soft_dtw_alignment`, :func:`soft_dtw_grad`,
  :func:`soft_dtw_divergence`: soft-DTW.
- :func:`envelope`, :func:`lb_kim`, :func:`lb_keogh`, :func:`lb_improved`:
  lower bounds.
- :func:`pairwise_distances`: distance matrices over joblib or numba threads.
- :func:`gak`, :func:`pairwise_gak`, :func:`sigma_gak`: the global alignment kernel
  (Cuturi et al. 2007), tslearn's values.
- :func:`subsequence_search`, :class:`Match`: best matches of a query in a series.
- :class:`StreamMatcher`, :class:`OnlineAligner`: alignment of streams (SPRING,
  on-line time warping).
- :func:`dba`, :func:`soft_dtw_barycenter`: barycenters.
- :class:`StepPattern`, :func:`check_step_pattern`: dtw-python's step patterns.
"""

import importlib

# Each name loads its module on first use, so that ``alignkit.dtw_distance`` does not
# import joblib (pairwise), scipy (barycenters) or the soft-DTW kernels.
_MODULES = {
    "Match": "_subsequence",
    "OnlineAligner": "_streams",
    "StepPattern": "step_patterns",
    "StreamMatcher": "_streams",
    "adtw_distance": "_elastic",
    "adtw_path": "_elastic_paths",
    "check_step_pattern": "step_patterns",
    "dba": "_barycenters",
    "ddtw": "_variants",
    "derivative": "_variants",
    "dtw": "_dtw",
    "dtw_distance": "_dtw",
    "edr_distance": "_elastic",
    "edr_path": "_elastic_paths",
    "envelope": "_lower_bounds",
    "gak": "_gak",
    "erp_distance": "_elastic",
    "erp_path": "_elastic_paths",
    "lb_improved": "_lower_bounds",
    "lb_keogh": "_lower_bounds",
    "lb_kim": "_lower_bounds",
    "lcss_distance": "_elastic",
    "lcss_path": "_elastic_paths",
    "medoid_index": "_pairwise",
    "msm_distance": "_elastic",
    "msm_path": "_elastic_paths",
    "pairwise_distances": "_pairwise",
    "pairwise_gak": "_gak",
    "sigma_gak": "_gak",
    "soft_dtw": "_soft_dtw",
    "soft_dtw_alignment": "_soft_dtw",
    "soft_dtw_barycenter": "_barycenters",
    "soft_dtw_divergence": "_soft_dtw",
    "soft_dtw_grad": "_soft_dtw",
    "subsequence_search": "_subsequence",
    "twe_distance": "_elastic",
    "twe_path": "_elastic_paths",
    "wdtw": "_variants",
    "wdtw_weights": "_variants",
}

__all__ = [
    "Match",
    "OnlineAligner",
    "StepPattern",
    "StreamMatcher",
    "adtw_distance",
    "adtw_path",
    "check_step_pattern",
    "dba",
    "ddtw",
    "derivative",
    "dtw",
    "dtw_distance",
    "edr_distance",
    "edr_path",
    "envelope",
    "gak",
    "erp_distance",
    "erp_path",
    "lb_improved",
    "lb_keogh",
    "lb_kim",
    "lcss_distance",
    "lcss_path",
    "medoid_index",
    "msm_distance",
    "msm_path",
    "pairwise_distances",
    "pairwise_gak",
    "sigma_gak",
    "soft_dtw",
    "soft_dtw_alignment",
    "soft_dtw_barycenter",
    "soft_dtw_divergence",
    "soft_dtw_grad",
    "subsequence_search",
    "twe_distance",
    "twe_path",
    "wdtw",
    "wdtw_weights",
]


def __getattr__(name):
    if name in _MODULES:
        value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
        globals()[name] = value
        return value
    if name == "step_patterns":
        return importlib.import_module(f"{__name__}.step_patterns")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*__all__, "step_patterns"})
