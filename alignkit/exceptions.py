"""Exceptions and warnings raised by alignkit.

Every exception subclasses both :class:`AlignkitError` and the builtin a user
would already catch, so ``except ValueError`` keeps working.
"""

__all__ = [
    "AlignkitError",
    "InvalidInputError",
    "NonNumericInputError",
    "InvalidParameterError",
    "WindowError",
    "AlignkitMemoryError",
    "UnknownAlignerError",
    "DuplicateAlignerError",
    "PluginLoadError",
    "PluginWarning",
]


class AlignkitError(Exception):
    """Base class of every error raised by alignkit."""


class InvalidInputError(AlignkitError, ValueError):
    """An argument has the wrong shape, dtype or content (NaN, inf, empty...)."""


class NonNumericInputError(InvalidInputError, TypeError):
    """An argument holds values that are not numbers (a ``TypeError`` as well)."""


class InvalidParameterError(InvalidInputError, TypeError):
    """A parameter (not an array) has a value its declaration does not allow.

    The message names the estimator or function, the parameter, the value and
    what is allowed (see :mod:`alignkit.core.params`).
    """


class WindowError(AlignkitError, ValueError):
    """A window (band, parallelogram or mask) is malformed or admits no path."""


class AlignkitMemoryError(AlignkitError, MemoryError):
    """A computation would need more memory than allowed (see ``max_memory``)."""


class UnknownAlignerError(AlignkitError, KeyError):
    """No aligner is registered under the requested name."""

    def __str__(self):
        # KeyError.__str__ wraps the message in quotes; show it as written.
        return str(self.args[0]) if self.args else ""


class DuplicateAlignerError(AlignkitError, ValueError):
    """Two distributions register an aligner under the same name."""


class PluginLoadError(AlignkitError, RuntimeError):
    """A plugin failed to import or register (raised in strict mode)."""


class PluginWarning(UserWarning):
    """A plugin failed to import or register and was skipped."""
