"""The ground of alignkit: what every other layer may use.

Hook specifications (:mod:`~alignkit.core.hookspecs`), the plugin loader
(:mod:`~alignkit.core.plugins`) and the registry it fills
(:mod:`~alignkit.core.registry`), parameter constraints
(:mod:`~alignkit.core.params`), the parsed ``Window`` value
(:mod:`~alignkit.core.window`), result types (:mod:`~alignkit.core.results`)
and the joblib helpers that carry the configuration into workers
(:mod:`~alignkit.core.parallel`). Core imports only ``alignkit.exceptions``,
``alignkit._config`` and itself; this package imports nothing, so using one
part of core loads no other (see ``docs/dev/architecture.rst``).
"""
