"""Hook specifications of alignkit plugins (declarations only).

A plugin is a module that holds hook implementations, marked with
:data:`hookimpl` and named after the hooks below, and advertised under the
``alignkit`` entry-point group::

    [project.entry-points.alignkit]
    myaligner = "alignkit_myaligner.plugin"

alignkit's own aligners register through the same hooks, from the modules
named in :data:`alignkit.core.plugins.BUILTIN_PLUGINS`
(:mod:`alignkit.estimators._builtin`).
"""

from typing import Any

import pluggy

__all__ = ["hookspec", "hookimpl", "alignkit_register_aligners"]

hookspec = pluggy.HookspecMarker("alignkit")
hookimpl = pluggy.HookimplMarker("alignkit")


@hookspec
def alignkit_register_aligners(registry: Any) -> None:
    """Register aligners by calling ``registry.add(AlignerSpec(...))``.

    Called once per process, when the registry is first needed (for example
    by :func:`alignkit.list_aligners` or :func:`alignkit.get_aligner`): first
    for alignkit's built-in aligners, then for each entry point of the
    ``alignkit`` group, one plugin at a time. Each plugin's implementation is
    called on its own, against a staging registry: its aligners are added to
    the real registry only if the implementation returns without raising, so
    a plugin that fails halfway registers nothing. The return value is
    ignored.

    A plugin that fails to import, or whose implementation raises (a
    duplicate name and ``SystemExit`` included; ``KeyboardInterrupt``
    propagates), is skipped with an
    :class:`~alignkit.exceptions.PluginWarning` that names the entry point
    and its distribution, and is listed in ``Registry.failures``; with
    ``ALIGNKIT_STRICT_PLUGINS=1`` a :class:`~alignkit.exceptions.PluginLoadError`
    is raised instead.

    Parameters
    ----------
    registry : object
        The staging registry of this plugin. Its ``add(spec)`` takes an
        :class:`~alignkit.AlignerSpec` and raises
        :class:`~alignkit.exceptions.DuplicateAlignerError` if the name is
        taken; its ``names()`` lists the names registered so far, staged ones
        included. The loader fills ``spec.distribution`` and ``spec.version``
        from the entry point's distribution, so a plugin leaves them unset.

    Examples
    --------
    >>> import alignkit
    >>> from alignkit import AlignerSpec
    >>> from alignkit import DTWAligner
    >>> from alignkit.core.registry import Registry
    >>> class BandedDTWAligner(DTWAligner):
    ...     "DTW with a 10 % Sakoe-Chiba band by default."
    ...     def __init__(self, window=0.1, reference="medoid", n_jobs=None, verbose=0):
    ...         super().__init__(window, reference, n_jobs, verbose)
    >>> @alignkit.hookimpl
    ... def alignkit_register_aligners(registry):
    ...     registry.add(AlignerSpec("banded_dtw", BandedDTWAligner, tags={"explicit"}))
    >>> registry = Registry()
    >>> alignkit_register_aligners(registry)
    >>> registry.names()
    ['banded_dtw']
    """
