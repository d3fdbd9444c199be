"""alignkit hook implementations of alignkit-shapedtw (entry point ``alignkit: shapedtw``)."""

from typing import Any

from alignkit import AlignerSpec, hookimpl

from ._estimator import ShapeDTWAligner

__all__ = ["alignkit_register_aligners"]


@hookimpl
def alignkit_register_aligners(registry: Any) -> None:
    """Register :class:`~alignkit_shapedtw.ShapeDTWAligner` under the name ``"shapedtw"``.

    The plugin loader fills in the spec's distribution (``alignkit-shapedtw``)
    and version from the entry point, so they are left unset here; the tags
    are those the class declares (``_alignkit_tags``: ``"explicit"``,
    ``"numba"``, and ``"temporal"`` from its sequence-aligner base).

    Parameters
    ----------
    registry : Registry
        The registry being filled; this hook calls its ``add`` once.

    Examples
    --------
    >>> from alignkit.core.registry import Registry
    >>> from alignkit_shapedtw import plugin
    >>> registry = Registry()
    >>> plugin.alignkit_register_aligners(registry)
    >>> registry.get("shapedtw").estimator.__name__
    'ShapeDTWAligner'
    >>> sorted(registry.get("shapedtw").tags)
    ['explicit', 'numba', 'temporal']
    """
    registry.add(
        AlignerSpec(
            name="shapedtw",
            estimator=ShapeDTWAligner,
            description="shapeDTW: DTW over local shape descriptors (Zhao & Itti, 2018)",
        )
    )
