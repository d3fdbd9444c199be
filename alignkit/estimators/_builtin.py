"""Registration of alignkit's own aligners, through the hook plugins use."""

from ..core.hookspecs import hookimpl
from ..core.registry import AlignerSpec

__all__ = ["alignkit_register_aligners"]


@hookimpl
def alignkit_register_aligners(registry):
    """Register the built-in aligners ``"ctw"``, ``"dtw"`` and ``"uniform"``.

    Parameters
    ----------
    registry : object
        The staging registry given by the plugin loader (see
        :func:`alignkit.core.hookspecs.alignkit_register_aligners`).

    Examples
    --------
    >>> from alignkit.core.registry import Registry
    >>> from alignkit.estimators._builtin import alignkit_register_aligners
    >>> registry = Registry()
    >>> alignkit_register_aligners(registry)
    >>> registry.names()
    ['ctw', 'dtw', 'uniform']
    """
    from ._ctw import CTWAligner
    from ._dtw import DTWAligner
    from ._uniform import UniformAligner

    registry.add(
        AlignerSpec(
            "ctw",
            CTWAligner,
            description="Canonical time warping: CCA + DTW for two modalities (paired input)",
            tags={"explicit", "temporal", "multimodal", "numba"},
        )
    )
    registry.add(
        AlignerSpec(
            "dtw",
            DTWAligner,
            description="Dynamic time warping onto a reference (medoid) timeline",
            tags={"explicit", "temporal", "numba"},
        )
    )
    registry.add(
        AlignerSpec(
            "uniform",
            UniformAligner,
            description="Uniform time warping: linear resampling to a common length (baseline)",
            tags={"explicit", "temporal", "baseline"},
        )
    )
