"""How a check reports: an AssertionError naming the aligner and the check."""

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "CheckFailure",
    "aligner_check",
    "assert_same_outputs",
    "describe_difference",
    "expect_error",
    "require",
]


class CheckFailure(AssertionError):
    """A check's own failure; its message already names the aligner and the check."""


def _prefix(aligner, check):
    return f"{type(aligner).__name__} failed {check}"


def require(condition: object, aligner: Any, check: str, message: str) -> None:
    """Raise :class:`CheckFailure` naming ``aligner`` and ``check`` unless ``condition``.

    An explicit raise, not ``assert``: the checks must also run under ``python -O``.
    """
    if not condition:
        raise CheckFailure(f"{_prefix(aligner, check)}: {message}")


def expect_error(
    aligner: Any,
    check: str,
    error: type[Exception],
    what: str,
    function: Callable[..., Any],
    *args: Any,
) -> None:
    """Require ``function(*args)`` to raise ``error``; another exception, or none, fails ``check``.

    ``what`` names the call in the message (``"fit with a NaN"``...).
    """
    try:
        function(*args)
    except error:
        return
    except Exception as other:
        require(
            False,
            aligner,
            check,
            f"{what} raised {type(other).__name__} ({other}); expected "
            f"{error.__module__}.{error.__qualname__}",
        )
    require(False, aligner, check, f"{what} did not raise {error.__name__}")


def aligner_check(function: Callable[[Any], None]) -> Callable[[Any], None]:
    """Make ``function(aligner)`` a check whose every failure names the aligner and itself.

    An error raised by the aligner's own code (a TypeError in ``fit``, an
    assertion inside it) becomes an AssertionError that says which check was
    running, with the original error chained.
    """

    @functools.wraps(function)
    def check(aligner):
        try:
            function(aligner)
        except CheckFailure:
            raise
        except Exception as error:
            raise CheckFailure(
                f"{_prefix(aligner, function.__name__)}: {type(error).__name__}: {error}"
            ) from error

    return check


def describe_difference(left: Any, right: Any, rtol: float, atol: float) -> str | None:
    """What differs between two outputs (arrays, floats, or lists of them), or None."""
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        if not isinstance(left, (list, tuple)) or not isinstance(right, (list, tuple)):
            return f"one output is a {type(left).__name__}, the other a {type(right).__name__}"
        if len(left) != len(right):
            return f"{len(left)} items against {len(right)}"
        for index, (item, other) in enumerate(zip(left, right)):
            problem = describe_difference(item, other, rtol, atol)
            if problem:
                return f"item {index}: {problem}"
        return None
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape:
        return f"shape {left.shape} against {right.shape}"
    if left.dtype.kind in "fc" or right.dtype.kind in "fc":
        if not np.allclose(left, right, rtol=rtol, atol=atol, equal_nan=True):
            difference = np.max(np.abs(left - right))
            return f"values differ (largest absolute difference {difference:.3g})"
        return None
    if not np.array_equal(left, right):
        return f"{np.sum(left != right)} of {left.size} values differ"
    return None


def assert_same_outputs(
    aligner: Any,
    check: str,
    what: str,
    outputs: Mapping[str, Any],
    expected: Mapping[str, Any],
    rtol: float = 1e-7,
    atol: float = 1e-10,
) -> None:
    """Require two dicts of method outputs to agree, naming the method that differs."""
    for method, value in expected.items():
        problem = describe_difference(outputs[method], value, rtol, atol)
        require(problem is None, aligner, check, f"{what} {method} differs: {problem}")
