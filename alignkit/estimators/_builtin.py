"""Registration of alignkit's own aligners, through the hook plugins use."""

from ..core.hookspecs import hookimpl
from ..core.registry import AlignerSpec

__all__ = ["alignkit_register_aligners"]


@hookimpl
def alignkit_register_aligners(registry):
    """Register the built-in aligners (``"ctw"``, ``"deep_ctw"``, ``"dtw"``, ``"stn"``...).

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
    ['ctw', 'deep_ctw', 'dtw', 'glimpse', 'soft_attention', 'stn', 'uniform']
    """
    from ._ctw import CTWAligner
    from ._deep_ctw import DeepCTWAligner
    from ._dtw import DTWAligner
    from ._glimpse import GlimpseAligner
    from ._soft_attention import SoftAttentionAligner
    from ._stn import STNAligner
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
            "deep_ctw",
            DeepCTWAligner,
            description=(
                "Deep canonical time warping: neural encoders + CCA + DTW for two modalities "
                "(paired input)"
            ),
            tags={"explicit", "temporal", "multimodal", "numba", "torch"},
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
            "glimpse",
            GlimpseAligner,
            description="Recurrent attention model: glimpses placed by a REINFORCE policy",
            tags={"implicit", "spatial", "image", "torch"},
        )
    )
    registry.add(
        AlignerSpec(
            "soft_attention",
            SoftAttentionAligner,
            description=(
                "Soft attention (align / RNNsearch predict) as a learned alignment (paired input)"
            ),
            tags={"implicit", "temporal", "multimodal", "torch"},
        )
    )
    registry.add(
        AlignerSpec(
            "stn",
            STNAligner,
            description="Spatial transformer network: learned image warps (task or registration)",
            tags={"implicit", "spatial", "image", "torch"},
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
