"""The aligner registry: :class:`AlignerSpec`, :class:`Registry` and the public look-ups.

The process-wide registry is built once, on first use: :func:`get_registry`
hands an empty :class:`Registry` to :func:`alignkit.core.plugins.build_registry`,
which fills it (built-in aligners, then the plugins of the ``alignkit``
entry-point group). :func:`list_aligners` and :func:`get_aligner` read it.
The loader knows the registry only through the object it is given, so this
module imports the loader and never the other way round.
"""

import dataclasses
import difflib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..exceptions import DuplicateAlignerError, InvalidInputError, UnknownAlignerError

__all__ = [
    "AlignerSpec",
    "PluginFailure",
    "Registry",
    "class_tags",
    "get_registry",
    "reset_registry",
    "list_aligners",
    "get_aligner",
]

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def class_tags(estimator: type) -> frozenset[str]:
    """The registry tags an aligner class declares: ``_alignkit_tags`` over its MRO.

    Every class of the MRO may set a class attribute ``_alignkit_tags`` (an
    iterable of str); the tags of a class are their union, so a family base
    (paired input: ``"multimodal"``), a mixin (``"torch"``) and the aligner
    itself (``"explicit"``) each declare what they bring. The vocabulary is
    described in :mod:`alignkit.base`.

    Parameters
    ----------
    estimator : type
        The aligner class.

    Returns
    -------
    tags : frozenset of str

    Raises
    ------
    TypeError
        If a class declares ``_alignkit_tags`` as one str or with a non-str tag.

    Examples
    --------
    >>> from alignkit import CTWAligner
    >>> from alignkit.core.registry import class_tags
    >>> sorted(class_tags(CTWAligner))
    ['explicit', 'multimodal', 'numba', 'temporal']
    """
    tags = set()
    for klass in getattr(estimator, "__mro__", ()):
        declared = vars(klass).get("_alignkit_tags", ())
        if isinstance(declared, str) or not all(isinstance(tag, str) for tag in declared):
            raise TypeError(
                f"{klass.__qualname__}._alignkit_tags must be an iterable of str, got {declared!r}"
            )
        tags.update(declared)
    return frozenset(tags)


def _optional_str(value, what):
    if value is not None and not isinstance(value, str):
        raise TypeError(f"AlignerSpec {what} must be a str or None, got {type(value).__name__}")


@dataclass(frozen=True)
class AlignerSpec:
    """The registration record of one aligner.

    Parameters
    ----------
    name : str
        Name users pass to :func:`alignkit.get_aligner`: lowercase letters,
        digits and underscores, starting with a letter (``"dtw"``,
        ``"soft_dtw"``).
    estimator : type
        The aligner class (it must have a ``fit`` method);
        ``get_aligner(name, **params)`` returns ``estimator(**params)``.
    description : str, default=""
        One line shown by ``alignkit list``; empty takes the first line of
        the class docstring.
    tags : iterable of str, default=frozenset()
        Capabilities to filter on, for example ``{"explicit", "temporal",
        "numba"}``, added to those the class declares (see
        :func:`~alignkit.core.registry.class_tags`): leave it empty when the
        class declares its tags; pass it for a class that declares none.
        Stored as a frozenset, the union of both.
    distribution : str, default=None
        Distribution (package) that provides the aligner. Filled in by the
        plugin loader; plugins leave it unset.
    version : str, default=None
        Version of that distribution, filled in by the plugin loader.

    Raises
    ------
    InvalidInputError
        If ``name`` is not a lowercase identifier.
    TypeError
        If ``estimator`` is not a class with ``fit``, or a tag is not a str.

    Examples
    --------
    >>> from alignkit import AlignerSpec, CTWAligner
    >>> sorted(AlignerSpec("my_ctw", CTWAligner).tags)
    ['explicit', 'multimodal', 'numba', 'temporal']
    >>> sorted(AlignerSpec("my_ctw", CTWAligner, tags=["fast"]).tags)
    ['explicit', 'fast', 'multimodal', 'numba', 'temporal']
    """

    name: str
    estimator: type
    description: str = ""
    tags: frozenset = field(default_factory=frozenset)
    distribution: str | None = None
    version: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvalidInputError(
                f"AlignerSpec name must be a lowercase identifier such as 'soft_dtw' "
                f"(letters a-z, digits, underscores, starting with a letter), got {self.name!r}"
            )
        if not isinstance(self.estimator, type) or not callable(
            getattr(self.estimator, "fit", None)
        ):
            raise TypeError(
                f"AlignerSpec {self.name!r}: estimator must be a class with a fit method, "
                f"got {self.estimator!r}"
            )
        if not isinstance(self.description, str):
            raise TypeError(f"AlignerSpec {self.name!r}: description must be a str")
        if not self.description:
            summary = (self.estimator.__doc__ or "").strip().split("\n", 1)[0]
            object.__setattr__(self, "description", summary.strip())
        if isinstance(self.tags, str):
            raise TypeError(
                f"AlignerSpec {self.name!r}: tags must be an iterable of str, not one str "
                f"(write tags={{{self.tags!r}}})"
            )
        tags = frozenset(self.tags)
        bad = sorted(repr(tag) for tag in tags if not isinstance(tag, str))
        if bad:
            raise TypeError(f"AlignerSpec {self.name!r}: tags must be str, got {', '.join(bad)}")
        object.__setattr__(self, "tags", tags | class_tags(self.estimator))
        _optional_str(self.distribution, "distribution")
        _optional_str(self.version, "version")

    @property
    def provider(self) -> str:
        """``"distribution version"`` for messages (``"an unknown distribution"`` if unset)."""
        if self.distribution is None:
            return "an unknown distribution"
        return f"{self.distribution} {self.version}" if self.version else self.distribution


class PluginFailure(NamedTuple):
    """A plugin that was skipped while the registry was built.

    Attributes
    ----------
    name : str
        Entry-point name of the plugin.
    distribution : str or None
        Distribution that declares the entry point.
    version : str or None
        Version of that distribution.
    error : str
        The error, as ``"ExceptionType: message"``.
    """

    name: str
    distribution: str | None
    version: str | None
    error: str


def _normalise_tags(tags):
    if isinstance(tags, str):
        return frozenset([tags])
    return frozenset(tags)


class Registry:
    """Aligners by name.

    Attributes
    ----------
    failures : list of PluginFailure
        Plugins that were skipped because they failed to import or register.

    Examples
    --------
    >>> from alignkit import AlignerSpec, DTWAligner, UniformAligner
    >>> from alignkit.core.registry import Registry
    >>> registry = Registry()
    >>> registry.add(AlignerSpec("dtw", DTWAligner, tags={"explicit", "numba"}))
    >>> registry.add(AlignerSpec("uniform", UniformAligner, tags={"explicit"}))
    >>> registry.names()
    ['dtw', 'uniform']
    >>> [spec.name for spec in registry.filter(tags="numba")]
    ['dtw']
    """

    def __init__(self):
        self._specs = {}
        self.failures = []

    def __contains__(self, name):
        return name in self._specs

    def __len__(self):
        return len(self._specs)

    def __repr__(self):
        return f"Registry(names={self.names()}, failures={len(self.failures)})"

    def add(self, spec: AlignerSpec) -> None:
        """Register one aligner.

        Parameters
        ----------
        spec : AlignerSpec

        Raises
        ------
        TypeError
            If ``spec`` is not an :class:`AlignerSpec`.
        DuplicateAlignerError
            If an aligner with the same name is already registered; the
            message names both distributions.
        """
        if not isinstance(spec, AlignerSpec):
            raise TypeError(
                f"Registry.add takes an AlignerSpec, got {type(spec).__name__}; "
                "write registry.add(AlignerSpec(name, EstimatorClass, ...))"
            )
        if spec.name in self._specs:
            raise DuplicateAlignerError(
                f"aligner name {spec.name!r} is already registered by "
                f"{self._specs[spec.name].provider}; {spec.provider} registers it again "
                "(rename one of them, or uninstall or block one of the plugins)"
            )
        self._specs[spec.name] = spec

    def add_provided(
        self, spec: AlignerSpec, distribution: str | None, version: str | None
    ) -> AlignerSpec:
        """Register ``spec`` as provided by ``distribution`` at ``version``.

        The plugin loader's add: the spec's ``distribution`` and ``version``
        fields are replaced by the entry point's provenance.

        Parameters
        ----------
        spec : AlignerSpec
        distribution : str or None
        version : str or None

        Returns
        -------
        spec : AlignerSpec
            The registered spec, with its provenance.

        Raises
        ------
        TypeError, DuplicateAlignerError
            As :meth:`add`.
        """
        if isinstance(spec, AlignerSpec):
            spec = dataclasses.replace(spec, distribution=distribution, version=version)
        self.add(spec)
        return spec

    def record_failure(
        self, name: str, distribution: str | None, version: str | None, error: BaseException
    ) -> None:
        """Record a plugin that was skipped, in ``failures``.

        Parameters
        ----------
        name : str
            Entry-point name of the plugin.
        distribution, version : str or None
            The distribution that declares the entry point, and its version.
        error : BaseException
            What the plugin raised.
        """
        self.failures.append(
            PluginFailure(name, distribution, version, f"{type(error).__name__}: {error}")
        )

    def get(self, name: str) -> AlignerSpec:
        """The spec registered under ``name``.

        Parameters
        ----------
        name : str

        Returns
        -------
        spec : AlignerSpec

        Raises
        ------
        UnknownAlignerError
            If no aligner has that name; the message suggests the closest
            known name and lists them all.
        """
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            raise UnknownAlignerError(self._unknown_message(name)) from None

    def _unknown_message(self, name):
        known = self.names()
        message = f"no aligner is registered under the name {name!r}"
        close = difflib.get_close_matches(str(name).lower(), known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        else:
            message += "."
        message += f" Known aligners: {', '.join(map(repr, known)) or 'none'}."
        if self.failures:
            skipped = ", ".join(repr(failure.name) for failure in self.failures)
            message += f" Plugins that failed to load: {skipped} (see registry.failures)."
        return message

    def names(self) -> list[str]:
        """Sorted names of the registered aligners.

        Returns
        -------
        names : list of str
        """
        return sorted(self._specs)

    def specs(self) -> list[AlignerSpec]:
        """The registered specs, sorted by name.

        Returns
        -------
        specs : list of AlignerSpec
        """
        return [self._specs[name] for name in self.names()]

    def filter(self, tags: str | Iterable[str] | None = None) -> list[AlignerSpec]:
        """The specs that have every one of ``tags``, sorted by name.

        Parameters
        ----------
        tags : str or iterable of str, default=None
            Required tags; ``None`` or empty keeps every spec.

        Returns
        -------
        specs : list of AlignerSpec
        """
        required = _normalise_tags(tags or ())
        return [spec for spec in self.specs() if required <= spec.tags]


_lock = threading.RLock()
_registry = None
_building = False


def get_registry() -> Registry:
    """The process-wide registry, built on first use.

    The first call loads the built-in aligners and then the plugins of the
    ``alignkit`` entry-point group (see :mod:`alignkit.core.plugins` for the
    switches that disable, block or make strict plugin loading); later calls
    return the same object. Safe to call from several threads.

    Returns
    -------
    registry : Registry

    Raises
    ------
    PluginLoadError
        In strict mode, if a plugin fails to load (the registry is then not
        kept, so the next call tries again).

    Examples
    --------
    >>> from alignkit.core.registry import get_registry
    >>> get_registry().get("dtw").distribution
    'alignkit'
    """
    global _registry, _building
    if _registry is not None:
        return _registry
    with _lock:
        if _registry is None:
            if _building:
                raise RuntimeError(
                    "the alignkit registry is being built: a plugin hook must use the "
                    "registry it is given, not alignkit.get_registry / get_aligner / "
                    "list_aligners"
                )
            # On first use: the loader brings pluggy and entry-point discovery, which
            # ``alignkit.AlignerSpec`` and ``import alignkit`` do not need.
            from .plugins import build_registry

            _building = True
            try:
                _registry = build_registry(Registry())
            finally:
                _building = False
    return _registry


def reset_registry() -> None:
    """Forget the process-wide registry, so the next use rebuilds it (for tests).

    Examples
    --------
    >>> from alignkit.core.registry import reset_registry
    >>> reset_registry()
    """
    global _registry
    with _lock:
        _registry = None


def list_aligners(tags: str | Iterable[str] | None = None) -> list[str]:
    """Names of the registered aligners, sorted.

    Parameters
    ----------
    tags : str or iterable of str, default=None
        Keep only aligners that have all of these tags.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> import alignkit
    >>> "dtw" in alignkit.list_aligners()
    True
    >>> "uniform" in alignkit.list_aligners(tags={"numba"})
    False
    """
    return [spec.name for spec in get_registry().filter(tags=tags)]


def get_aligner(name: str, **params: Any) -> Any:
    """A new, unfitted aligner by registered name.

    Parameters
    ----------
    name : str
        A name listed by :func:`list_aligners`.
    **params
        Constructor parameters of the aligner.

    Returns
    -------
    aligner : estimator
        ``spec.estimator(**params)``.

    Raises
    ------
    UnknownAlignerError
        If ``name`` is not registered (the message lists the known names).

    Examples
    --------
    >>> import alignkit
    >>> alignkit.get_aligner("dtw", window=5)
    DTWAligner(window=5)
    """
    return get_registry().get(name).estimator(**params)
