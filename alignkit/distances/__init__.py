"""The DTW family: public functions over private drivers.

Every function here validates its arguments once and hands float64,
C-contiguous arrays and a parsed window to a private driver; estimators,
barycenters and batch code call the drivers directly.

- :func:`dtw`, :func:`dtw_distance`: dynamic time warping of one pair.
- :func:`ddtw`, :func:`wdtw`, :func:`derivative`, :func:`wdtw_weights`:
  derivative and weighted DTW.
- :func:`soft_dtw`, :func:`soft_dtw_alignment`, :func:`soft_dtw_grad`,
  :func:`soft_dtw_divergence`: soft-DTW.
- :func:`envelope`, :func:`lb_kim`, :func:`lb_keogh`, :func:`lb_improved`:
  lower bounds.
- :func:`pairwise_distances`: distance matrices over joblib or numba threads.
- :func:`subsequence_search`, :class:`Match`: best matches of a query in a series.
- :func:`dba`, :func:`soft_dtw_barycenter`: barycenters.
- :mod:`alignkit.distances.step_patterns`: dtw-python's step patterns.
"""

from ._barycenters import dba, soft_dtw_barycenter
from ._dtw import dtw, dtw_distance
from ._lower_bounds import envelope, lb_improved, lb_keogh, lb_kim
from ._pairwise import medoid_index, pairwise_distances
from ._soft_dtw import soft_dtw, soft_dtw_alignment, soft_dtw_divergence, soft_dtw_grad
from ._subsequence import Match, subsequence_search
from ._variants import ddtw, derivative, wdtw, wdtw_weights
from .step_patterns import StepPattern, check_step_pattern

__all__ = [
    "Match",
    "StepPattern",
    "check_step_pattern",
    "dba",
    "ddtw",
    "derivative",
    "dtw",
    "dtw_distance",
    "envelope",
    "lb_improved",
    "lb_keogh",
    "lb_kim",
    "medoid_index",
    "pairwise_distances",
    "soft_dtw",
    "soft_dtw_alignment",
    "soft_dtw_barycenter",
    "soft_dtw_divergence",
    "soft_dtw_grad",
    "subsequence_search",
    "wdtw",
    "wdtw_weights",
]
