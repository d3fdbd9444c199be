"""Build the aligner registry: built-in aligners first, then plugins one by one.

Plugins are modules advertised under the ``alignkit`` entry-point group that
implement the hooks of :mod:`alignkit.core.hookspecs`. Each is imported and
its hook called on its own, so a broken plugin is named and skipped instead
of taking the others down (pluggy alone would stop at the first failure).

Three switches control loading:

- ``ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD=1``, or ``set_config(plugin_autoload=False)``:
  load only the built-in aligners; entry points are not even imported.
- ``ALIGNKIT_BLOCK_PLUGINS=name1,name2``: skip (never import) the plugins with
  these entry-point names, for example ``ALIGNKIT_BLOCK_PLUGINS=shapedtw``
  (a comma inside a name is written ``\\,``).
- ``ALIGNKIT_STRICT_PLUGINS=1``, or ``set_config(strict_plugins=True)``: raise
  :class:`~alignkit.exceptions.PluginLoadError` when a plugin fails, instead of
  warning with :class:`~alignkit.exceptions.PluginWarning`.

The switches are read when the registry is built, that is on the first
:func:`alignkit.list_aligners` or :func:`alignkit.get_aligner` of a process
(or after :func:`alignkit.core.registry.reset_registry`).

What the loader can and cannot protect against: plugins run in the user's
process. An import error, an exception in the hook, or ``sys.exit()`` in
either is caught, and the plugin is skipped (or, in strict mode, reported as
:class:`~alignkit.exceptions.PluginLoadError`); ``KeyboardInterrupt`` is
never caught. A plugin that crashes the interpreter (a segmentation fault in
an extension), loops forever, or changes global state (monkeypatching,
``os.chdir``, signal handlers) on import cannot be contained: block it.

The loader fills the registry it is given and does not import
:mod:`alignkit.core.registry`; the built-in aligners are named by module, as
pytest names its default plugins, so ``alignkit.core`` never imports
``alignkit.estimators``.
"""

import importlib
import importlib.metadata
import os
import re
import warnings
from typing import TypeVar

import pluggy

from .._config import get_config
from ..exceptions import PluginLoadError, PluginWarning
from . import hookspecs

__all__ = [
    "ENTRY_POINT_GROUP",
    "BLOCK_ENV_VAR",
    "BUILTIN_PLUGINS",
    "blocked_plugins",
    "build_registry",
]

ENTRY_POINT_GROUP = "alignkit"
BLOCK_ENV_VAR = "ALIGNKIT_BLOCK_PLUGINS"
#: Modules holding the hookimpls of alignkit's own aligners, registered before any plugin.
BUILTIN_PLUGINS = ("alignkit.estimators._builtin",)

_R = TypeVar("_R")  # the registry build_registry fills and returns


class _StagingRegistry:
    """What one plugin's hook sees: adds are kept aside until the hook returns."""

    def __init__(self, registry, distribution, version):
        self._registry = registry
        self._staged = type(registry)()
        self._distribution = distribution
        self._version = version

    def add(self, spec):
        # Checks the type, and duplicates within this plugin, with Registry's messages.
        spec = self._staged.add_provided(spec, self._distribution, self._version)
        if spec.name in self._registry:
            self._registry.add(spec)  # raises DuplicateAlignerError naming both providers

    def names(self):
        return sorted({*self._registry.names(), *self._staged.names()})

    def commit(self):
        for spec in self._staged.specs():
            self._registry.add(spec)


def _register_plugin(manager, registry, plugin, name, distribution, version):
    """Register ``plugin`` and call its hook alone; on any error leave no trace."""
    manager.register(plugin, name=name)
    staging = _StagingRegistry(registry, distribution, version)
    try:
        # Flags hookimpls with no matching hookspec (a misspelt hook name) in this plugin:
        # every plugin registered before it already passed the same check.
        manager.check_pending()
        others = [other for other in manager.get_plugins() if other is not plugin]
        caller = manager.subset_hook_caller("alignkit_register_aligners", others)
        caller(registry=staging)
    except BaseException:
        manager.unregister(plugin)
        raise
    staging.commit()


def blocked_plugins() -> set[str]:
    """Entry-point names listed in ``ALIGNKIT_BLOCK_PLUGINS`` (comma separated).

    A comma inside a name is written ``\\,`` (a backslash before it); the
    warning for a failing plugin spells its name that way.

    Returns
    -------
    names : set of str

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from alignkit.core.plugins import blocked_plugins
    >>> with mock.patch.dict(os.environ, {"ALIGNKIT_BLOCK_PLUGINS": "shapedtw, other"}):
    ...     sorted(blocked_plugins())
    ['other', 'shapedtw']
    >>> with mock.patch.dict(os.environ, {"ALIGNKIT_BLOCK_PLUGINS": r"odd\\,name,other"}):
    ...     sorted(blocked_plugins())
    ['odd,name', 'other']
    """
    value = os.environ.get(BLOCK_ENV_VAR, "")
    names = (name.replace("\\,", ",").strip() for name in re.split(r"(?<!\\),", value))
    return {name for name in names if name}


def _block_value(name):
    """How ``name`` is written in ``ALIGNKIT_BLOCK_PLUGINS``."""
    return name.replace(",", "\\,")


def _provenance(entry_point):
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    return dist.name, dist.version


def _entry_points():
    # Sorted so that which of two clashing plugins wins does not depend on sys.path order.
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted(found, key=lambda ep: (ep.name, _provenance(ep)[0] or ""))


def _skip(registry, name, distribution, version, error, strict):
    provider = distribution or "an unknown distribution"
    if distribution and version:
        provider = f"{distribution} {version}"
    what = f"alignkit plugin {name!r} (entry point of {provider}) failed to load"
    reason = f"{type(error).__name__}: {error}"
    registry.record_failure(name, distribution, version, error)
    if strict:
        raise PluginLoadError(
            f"{what}: {reason}. Strict plugin loading is on (ALIGNKIT_STRICT_PLUGINS or "
            f"set_config(strict_plugins=True)); set {BLOCK_ENV_VAR}={_block_value(name)} "
            "to skip this plugin."
        ) from error
    warnings.warn(
        f"{what} and was skipped: {reason}. Set {BLOCK_ENV_VAR}={_block_value(name)} to skip "
        "it silently, or ALIGNKIT_STRICT_PLUGINS=1 to raise instead.",
        PluginWarning,
        stacklevel=2,
    )


def _load_entry_point(manager, registry, entry_point, strict):
    distribution, version = _provenance(entry_point)
    try:
        plugin = entry_point.load()
        _register_plugin(manager, registry, plugin, entry_point.name, distribution, version)
    # SystemExit too: a plugin calling sys.exit() must not end the user's process.
    # KeyboardInterrupt is the user's and propagates.
    except (Exception, SystemExit) as error:
        _skip(registry, entry_point.name, distribution, version, error, strict)


def _alignkit_version():
    # The distribution's metadata, as for every plugin (``alignkit`` itself sits above core).
    try:
        return importlib.metadata.version("alignkit")
    except importlib.metadata.PackageNotFoundError:
        return None


def build_registry(registry: _R) -> _R:
    """Fill ``registry`` with the built-in aligners and the installed plugins.

    Built-ins (the modules of ``BUILTIN_PLUGINS``) register first, as
    distribution ``"alignkit"``; then every entry point of the ``alignkit``
    group that is not blocked is loaded, one at a time, in order of
    entry-point name. A plugin that fails to import or register is skipped
    with a :class:`~alignkit.exceptions.PluginWarning` and recorded in
    ``registry.failures``. Configuration and environment switches are
    described in :mod:`alignkit.core.plugins`.

    Most code wants :func:`alignkit.core.registry.get_registry`, which builds
    the registry once per process.

    Parameters
    ----------
    registry : Registry
        An empty :class:`~alignkit.core.registry.Registry`. The loader uses
        only its ``add``, ``add_provided``, ``names``, ``specs``,
        ``record_failure`` and ``in``, and makes its staging registries with
        ``type(registry)()``.

    Returns
    -------
    registry : Registry
        The same object, filled.

    Raises
    ------
    PluginLoadError
        In strict mode, when a plugin fails (chained from the plugin's error).

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.core.plugins import build_registry
    >>> from alignkit.core.registry import Registry
    >>> with alignkit.config_context(plugin_autoload=False):
    ...     build_registry(Registry()).names()
    ['ctw', 'deep_ctw', 'dtw', 'glimpse', 'soft_attention', 'stn', 'uniform']
    """
    config = get_config()
    manager = pluggy.PluginManager("alignkit")
    manager.add_hookspecs(hookspecs)
    version = _alignkit_version()
    # Built-ins go through the same path as plugins, but their errors are our bugs: raise.
    for module in BUILTIN_PLUGINS:
        plugin = importlib.import_module(module)
        _register_plugin(manager, registry, plugin, module, "alignkit", version)
    if not config["plugin_autoload"]:
        return registry
    blocked = blocked_plugins()
    for entry_point in _entry_points():
        if entry_point.name not in blocked:
            _load_entry_point(manager, registry, entry_point, config["strict_plugins"])
    return registry
