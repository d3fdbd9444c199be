"""Parameters declared once, in scikit-learn's constraint language, checked with one message.

Every estimator declares ``_parameter_constraints`` (a dict from parameter name
to a list of allowed kinds) and calls :func:`check_estimator_params` at the top
of ``fit``; every public function that takes more than arrays declares its
constraints with :func:`validate_params`. A violation raises
:class:`~alignkit.exceptions.InvalidParameterError` with scikit-learn's
message, which names the estimator or function, the parameter, the value and
what is allowed::

    The 'n_init' parameter of SoftAttentionAligner must be an int in the range
    [1, inf). Got 0 instead.

The constraints are scikit-learn's (``StrOptions``, ``Options``,
``HasMethods``, ``Hidden``, ``"array-like"``, ``"random_state"``,
``"boolean"``, ``callable``, ``None``, a type), declared through the light
classes of this module so that declaring them imports nothing heavy;
:class:`Interval` also refuses booleans: ``True`` is not the integer 1 for
alignkit.
"""

import functools
import inspect
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from ..exceptions import InvalidParameterError

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = [
    "HasMethods",
    "Hidden",
    "Integral",
    "Interval",
    "Options",
    "Pair",
    "Real",
    "StrOptions",
    "check_estimator_params",
    "check_params",
    "validate_params",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class _Spec:
    """A constraint, stored as given and turned into scikit-learn's on its first check.

    Declarations run when a module is imported; scikit-learn's constraint
    module imports scipy and pandas (about a second), which the DTW family and
    the joblib workers running its kernels should not pay for. So the
    declarations are these light records, and scikit-learn is imported by the
    first check that needs it.
    """

    _sklearn_name = ""

    def __init__(self, *args: Any, **kwargs: Any):
        self._args = args
        self._kwargs = kwargs

    @functools.cached_property
    def constraint(self) -> Any:
        """The scikit-learn constraint object this declaration stands for."""
        from sklearn.utils import _param_validation

        return getattr(_param_validation, self._sklearn_name)(
            *[_sklearn(arg) for arg in self._args], **self._kwargs
        )

    def is_satisfied_by(self, val: object) -> bool:
        """Whether ``val`` satisfies the constraint.

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        satisfied : bool
        """
        return self.constraint.is_satisfied_by(val)

    def __str__(self):
        return str(self.constraint)


class Interval(_Spec):
    """scikit-learn's ``Interval`` that refuses ``bool`` values.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        The kind of number.
    left, right : float or int or None
        The bounds; ``None`` is unbounded.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.

    Examples
    --------
    >>> from numbers import Integral
    >>> from alignkit.core.params import Interval
    >>> Interval(Integral, 1, None, closed="left").is_satisfied_by(True)
    False
    >>> Interval(Integral, 1, None, closed="left").is_satisfied_by(3)
    True
    """

    def __init__(
        self,
        type: type,
        left: float | None,
        right: float | None,
        *,
        closed: Literal["left", "right", "both", "neither"],
    ):
        super().__init__(type, left, right, closed=closed)

    @functools.cached_property
    def constraint(self) -> Any:
        """scikit-learn's ``Interval``, refusing booleans, built on first use."""
        from sklearn.utils._param_validation import Interval as SklearnInterval

        class NoBoolInterval(SklearnInterval):
            def is_satisfied_by(self, val):
                return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)

        return NoBoolInterval(*self._args, **self._kwargs)


class StrOptions(_Spec):
    """scikit-learn's ``StrOptions``: one of a set of strings.

    Parameters
    ----------
    options : set of str
        The allowed strings.
    deprecated : set of str, default=None
        Allowed strings shown as deprecated in the message.
    """

    _sklearn_name = "StrOptions"

    def __init__(self, options: set[str], *, deprecated: set[str] | None = None):
        super().__init__(options, deprecated=deprecated)


class Options(_Spec):
    """scikit-learn's ``Options``: one of a set of values of a type.

    Parameters
    ----------
    type : type
        The type of the values.
    options : set
        The allowed values.
    """

    _sklearn_name = "Options"

    def __init__(self, type: type, options: set):
        super().__init__(type, options)


class HasMethods(_Spec):
    """scikit-learn's ``HasMethods``: an object with the named methods.

    Parameters
    ----------
    methods : str or list of str
        The methods the object must have.
    """

    _sklearn_name = "HasMethods"

    def __init__(self, methods: str | list[str]):
        super().__init__(methods)


class Hidden(_Spec):
    """scikit-learn's ``Hidden``: an allowed value not shown in messages.

    Parameters
    ----------
    constraint : constraint
        The hidden constraint.
    """

    _sklearn_name = "Hidden"

    def __init__(self, constraint: Any):
        super().__init__(constraint)


def _is_pair(value: object) -> bool:
    """Whether ``value`` is a tuple or list of two values, or a 1-D array of two."""
    if isinstance(value, (tuple, list)):
        return len(value) == 2
    return isinstance(value, np.ndarray) and value.shape == (2,)


class Pair(_Spec):
    """A pair of values, each satisfying ``element``, checked element by element.

    A pair is a tuple, a list or a 1-D array of two values. Once a value is a
    pair, :func:`check_params` checks its two elements in turn, so that a
    violation names the element (``'tps_grid[1]'``) in the one message format.

    Parameters
    ----------
    element : constraint
        What each of the two values must satisfy.
    ordered : bool, default=False
        Also require ``value[0] <= value[1]`` (a range ``(low, high)``).

    Examples
    --------
    >>> from numbers import Integral
    >>> from alignkit.core.params import Interval, Pair, check_params
    >>> grid = {"grid": [Pair(Interval(Integral, 2, None, closed="left"))]}
    >>> check_params(grid, {"grid": (4, 4)}, "f")
    >>> check_params(grid, {"grid": (4, 1)}, "f")
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'grid[1]' parameter of f must be an int in the range [2, inf). Got 1 instead.
    """  # noqa: E501

    def __init__(self, element: Any, *, ordered: bool = False):
        super().__init__(element, ordered=ordered)

    @functools.cached_property
    def constraint(self) -> Any:
        """The scikit-learn constraint for the pair as a whole, built on first use."""
        from sklearn.utils._param_validation import HasMethods

        # scikit-learn's make_constraint passes only its own constraint classes through.
        class PairConstraint(HasMethods):
            def __init__(self):
                super(HasMethods, self).__init__()

            def is_satisfied_by(self, val):
                return _is_pair(val)

            def __str__(self):
                return "a pair (a tuple or list of 2 values)"

        return PairConstraint()

    def check_elements(self, value: Any, name: str, owner: str) -> None:
        """Check the two elements of the pair ``value`` (and their order).

        Parameters
        ----------
        value : tuple, list or ndarray
            A pair (see :meth:`is_satisfied_by`).
        name : str
            The parameter's name.
        owner : str
            The estimator or function the parameter belongs to, for the message.

        Raises
        ------
        InvalidParameterError
            If an element violates ``element`` (the message names
            ``name[index]``) or if an ordered pair is decreasing.
        """
        for index, item in enumerate(value):
            label = f"{name}[{index}]"
            check_params({label: [self._args[0]]}, {label: item}, owner)
        if self._kwargs["ordered"] and value[0] > value[1]:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be a range (low, high) with "
                f"low <= high. Got {value!r} instead."
            )


def _sklearn(constraint):
    return constraint.constraint if isinstance(constraint, _Spec) else constraint


def check_params(constraints: Mapping[str, Any], params: Mapping[str, Any], owner: str) -> None:
    """Check parameter values against their constraints.

    Parameters
    ----------
    constraints : dict
        Parameter name -> list of constraints (scikit-learn's language, with
        :class:`Interval` and :class:`Pair` from this module). Names absent from
        ``constraints`` are not checked; the string ``"no_validation"`` skips one
        parameter.
    params : dict
        Parameter name -> value.
    owner : str
        The estimator or function the parameters belong to, for the message.

    Raises
    ------
    InvalidParameterError
        If a value satisfies none of its constraints, or is a pair whose
        element violates its :class:`Pair` constraint.

    Examples
    --------
    >>> from numbers import Integral
    >>> from alignkit.core.params import Interval, check_params
    >>> check_params({"k": [Interval(Integral, 1, None, closed="left")]}, {"k": 0}, "search")
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'k' parameter of search must be an int in the range [1, inf). Got 0 instead.
    """  # noqa: E501
    from sklearn.utils._param_validation import InvalidParameterError as SklearnError
    from sklearn.utils._param_validation import validate_parameter_constraints

    converted = {
        name: value if isinstance(value, str) else [_sklearn(item) for item in value]
        for name, value in constraints.items()
    }
    try:
        validate_parameter_constraints(converted, params, caller_name=owner)
    except SklearnError as error:
        raise InvalidParameterError(str(error)) from None
    for name, value in params.items():
        declared = constraints.get(name, ())
        for constraint in () if isinstance(declared, str) else declared:
            if isinstance(constraint, Pair) and constraint.is_satisfied_by(value):
                constraint.check_elements(value, name, owner)


def check_estimator_params(estimator: "BaseEstimator") -> None:
    """Check an estimator's parameters against its ``_parameter_constraints``.

    Parameters
    ----------
    estimator : BaseEstimator
        An estimator that declares ``_parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        If a parameter value satisfies none of its constraints.
    """
    check_params(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        type(estimator).__name__,
    )


def validate_params(constraints: Mapping[str, Any]) -> Callable[[_F], _F]:
    """Decorate a public function so that its parameters are checked on every call.

    Parameters
    ----------
    constraints : dict
        Parameter name -> list of constraints, as in :func:`check_params`.

    Returns
    -------
    decorator : callable

    Examples
    --------
    >>> from numbers import Integral
    >>> from alignkit.core.params import Interval, validate_params
    >>> @validate_params({"k": [Interval(Integral, 1, None, closed="left")]})
    ... def top(k=1):
    ...     return k
    >>> top(k=2)
    2
    >>> top(k=2.0)
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'k' parameter of top must be an int in the range [1, inf). Got 2.0 instead.
    """  # noqa: E501

    def decorate(func):
        signature = inspect.signature(func)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameters {sorted(unknown)}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = {name: bound.arguments[name] for name in constraints}
            check_params(constraints, values, func.__qualname__)
            return func(*args, **kwargs)

        return wrapper

    return decorate
