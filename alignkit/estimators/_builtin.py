"""Registration of alignkit's own aligners, through the hook plugins use.

Each aligner is registered by name only: its tags are those its class
declares (``_alignkit_tags``, see :func:`alignkit.core.registry.class_tags`)
and its description is the first line of its docstring.
"""

from typing import Any

from ..core.hookspecs import hookimpl
from ..core.registry import AlignerSpec

__all__ = ["alignkit_register_aligners"]


@hookimpl
def alignkit_register_aligners(registry: Any) -> None:
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
    >>> sorted(registry.get("ctw").tags)
    ['explicit', 'multimodal', 'numba', 'temporal']
    """
    from ._ctw import CTWAligner
    from ._deep_ctw import DeepCTWAligner
    from ._dtw import DTWAligner
    from ._glimpse import GlimpseAligner
    from ._soft_attention import SoftAttentionAligner
    from ._stn import STNAligner
    from ._uniform import UniformAligner

    aligners = {
        "ctw": CTWAligner,
        "deep_ctw": DeepCTWAligner,
        "dtw": DTWAligner,
        "glimpse": GlimpseAligner,
        "soft_attention": SoftAttentionAligner,
        "stn": STNAligner,
        "uniform": UniformAligner,
    }
    for name, estimator in aligners.items():
        registry.add(AlignerSpec(name, estimator))
