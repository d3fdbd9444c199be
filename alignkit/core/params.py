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

The constraints are scikit-learn's (:class:`Interval`, :class:`StrOptions`,
:class:`Options`, :class:`HasMethods`, :class:`Hidden`, ``"array-like"``,
``"sparse matrix"``, ``"random_state"``, ``"boolean"``, ``"verbose"``,
``"cv_object"``, ``"nan"``, ``callable``, ``None``, a type, and
``"no_validation"`` for a parameter left unchecked), plus :class:`Pair`. This
module checks them itself, with scikit-learn's messages, rather than through
``sklearn.utils._param_validation``: importing that module imports scipy and
pandas (about a second), which the first call of every public function, and
every joblib worker that runs one, would pay. :class:`Interval` also refuses
booleans: ``True`` is not the integer 1 for alignkit.
"""

import functools
import inspect
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
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
    "check_param",
    "check_params",
    "validate_params",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _type_name(kind: type) -> str:
    """A type as scikit-learn's messages name it (``int``, ``numpy.ndarray``...)."""
    if kind.__module__ == "builtins":
        return kind.__qualname__
    if kind is Real:
        return "float"
    if kind is Integral:
        return "int"
    return f"{kind.__module__}.{kind.__qualname__}"


def _either(constraints: list) -> str:
    """``"a, b or c"``: the constraints joined as scikit-learn's messages join them."""
    if len(constraints) == 1:
        return f"{constraints[0]}"
    return f"{', '.join(str(c) for c in constraints[:-1])} or {constraints[-1]}"


# The Parameters and Returns of every constraint's is_satisfied_by, documented once.
_IS_SATISFIED_BY_SECTIONS = """

        Parameters
        ----------
        val : object
            The value to check.

        Returns
        -------
        satisfied : bool
        """


def _documented_check(summary: str) -> Callable[[_F], _F]:
    """Give an ``is_satisfied_by`` method ``summary`` and the shared numpydoc sections."""

    def document(method):
        method.__doc__ = summary + _IS_SATISFIED_BY_SECTIONS
        return method

    return document


class _Constraint:
    """A kind of allowed value: :meth:`is_satisfied_by` and a description for the message."""

    @_documented_check(
        "Whether ``val`` satisfies the constraint (an abstract hook: every subclass defines it)."
    )
    def is_satisfied_by(self, val: object) -> bool:
        raise NotImplementedError(f"{type(self).__name__} must implement is_satisfied_by")


class _InstancesOf(_Constraint):
    def __init__(self, kind):
        self.kind = kind

    def is_satisfied_by(self, val):
        return isinstance(val, self.kind)

    def __str__(self):
        return f"an instance of {_type_name(self.kind)!r}"


class _NoneConstraint(_Constraint):
    def is_satisfied_by(self, val):
        return val is None

    def __str__(self):
        return "None"


class _NanConstraint(_Constraint):
    def is_satisfied_by(self, val):
        return not isinstance(val, Integral) and isinstance(val, Real) and val != val

    def __str__(self):
        return "numpy.nan"


def _is_sparse(val):
    # A sparse matrix exists only once scipy.sparse is imported: never import it here.
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(val)


class _ArrayLikes(_Constraint):
    def is_satisfied_by(self, val):
        # scikit-learn's _is_arraylike_not_scalar: sparse matrices are not array-likes.
        if _is_sparse(val) or np.isscalar(val):
            return False
        return hasattr(val, "__len__") or hasattr(val, "shape") or hasattr(val, "__array__")

    def __str__(self):
        return "an array-like"


class _SparseMatrices(_Constraint):
    def is_satisfied_by(self, val):
        return _is_sparse(val)

    def __str__(self):
        return "a sparse array or matrix"


class _Callables(_Constraint):
    def is_satisfied_by(self, val):
        return callable(val)

    def __str__(self):
        return "a callable"


class _IterablesNotString(_Constraint):
    def is_satisfied_by(self, val):
        return isinstance(val, Iterable) and not isinstance(val, str)

    def __str__(self):
        return "an iterable"


class _AnyOf(_Constraint):
    """A named shorthand for several constraints (``"boolean"``, ``"random_state"``...)."""

    def __init__(self, *constraints):
        self.constraints = constraints

    def is_satisfied_by(self, val):
        return any(c.is_satisfied_by(val) for c in self.constraints)

    def __str__(self):
        return _either(list(self.constraints))


class Interval(_Constraint):
    """Numbers of one kind in a range, as scikit-learn's ``Interval``, refusing booleans.

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
    >>> print(Interval(Integral, 1, None, closed="left"))
    an int in the range [1, inf)
    """

    _refuse_bool = True

    def __init__(
        self,
        type: type,
        left: float | None,
        right: float | None,
        *,
        closed: Literal["left", "right", "both", "neither"],
    ):
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed
        self._check_declaration()

    def _check_declaration(self):
        """Refuse a malformed declaration when it is made (at import), as scikit-learn does."""
        if self.type not in (Integral, Real):
            raise ValueError(f"type must be numbers.Integral or numbers.Real. Got {self.type}.")
        if self.closed not in ("left", "right", "both", "neither"):
            raise ValueError(
                f"closed must be 'left', 'right', 'both' or 'neither'. Got {self.closed!r}."
            )
        kind = "an int" if self.type is Integral else "a real number"
        for side, bound in (("left", self.left), ("right", self.right)):
            if bound is not None and not isinstance(bound, self.type):
                raise TypeError(f"Expecting {side} to be {kind}. Got {bound!r}.")
            if self.type is Integral and bound is None and self.closed in (side, "both"):
                raise ValueError(
                    f"{side} can't be None when closed == {self.closed!r} for an interval "
                    "over the integers."
                )
        if self.left is not None and self.right is not None and self.right <= self.left:
            raise ValueError(
                f"right must be greater than left. Got left={self.left} and right={self.right}."
            )

    @_documented_check("Whether ``val`` is a number of the interval's kind (not a bool) within it.")
    def is_satisfied_by(self, val: object) -> bool:
        if not isinstance(val, self.type) or (self._refuse_bool and isinstance(val, bool)):
            return False
        if not isinstance(val, Integral) and val != val:
            return False
        below = operator.lt if self.closed in ("left", "both") else operator.le
        above = operator.gt if self.closed in ("right", "both") else operator.ge
        # An open unbounded end refuses the infinity there, as scikit-learn does.
        left = -np.inf if self.left is None else self.left
        right = np.inf if self.right is None else self.right
        return not below(val, left) and not above(val, right)

    def __str__(self):
        kind = "an int" if self.type is Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if self.type is not Integral:
            left = left if self.left is None else float(left)
            right = right if self.right is None else float(right)
        opening = "[" if self.closed in ("left", "both") else "("
        closing = "]" if self.closed in ("right", "both") else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


class _BoolAsIntInterval(Interval):
    """scikit-learn's own ``Interval``, which reads ``True`` as 1: the shorthands use it.

    ``"random_state"`` and ``"cv_object"`` accept what scikit-learn accepts.
    """

    _refuse_bool = False


class Options(_Constraint):
    """One of a set of values of a type, as scikit-learn's ``Options``.

    Parameters
    ----------
    type : type
        The type of the values.
    options : set
        The allowed values.
    deprecated : set, default=None
        Allowed values shown as deprecated in the message.

    Examples
    --------
    >>> from alignkit.core.params import Options
    >>> Options(int, {1, 2}).is_satisfied_by(2), Options(int, {1, 2}).is_satisfied_by(2.0)
    (True, False)
    """

    def __init__(self, type: type, options: set, *, deprecated: set | None = None):
        self.type = type
        self.options = options
        self.deprecated = deprecated or set()
        if self.deprecated - self.options:
            raise ValueError("The deprecated options must be a subset of the options.")

    @_documented_check("Whether ``val`` is an instance of ``type`` among the options.")
    def is_satisfied_by(self, val: object) -> bool:
        return isinstance(val, self.type) and val in self.options

    def __str__(self):
        shown = [
            f"{option!r} (deprecated)" if option in self.deprecated else f"{option!r}"
            for option in self.options
        ]
        return f"a {_type_name(self.type)} among {{{', '.join(shown)}}}"


class StrOptions(Options):
    """One of a set of strings, as scikit-learn's ``StrOptions``.

    Parameters
    ----------
    options : set of str
        The allowed strings.
    deprecated : set of str, default=None
        Allowed strings shown as deprecated in the message.

    Examples
    --------
    >>> from alignkit.core.params import StrOptions
    >>> StrOptions({"joblib"}).is_satisfied_by("joblib")
    True
    >>> print(StrOptions({"joblib"}))
    a str among {'joblib'}
    """

    def __init__(self, options: set[str], *, deprecated: set[str] | None = None):
        super().__init__(str, options, deprecated=deprecated)


class HasMethods(_Constraint):
    """An object with the named methods, as scikit-learn's ``HasMethods``.

    Parameters
    ----------
    methods : str or list of str
        The methods the object must have.

    Examples
    --------
    >>> from alignkit.core.params import HasMethods
    >>> HasMethods(["fit", "predict"]).is_satisfied_by([])
    False
    >>> print(HasMethods(["fit", "predict"]))
    an object implementing 'fit' and 'predict'
    """

    def __init__(self, methods: str | list[str]):
        if not isinstance(methods, str | list):
            raise TypeError(f"methods must be a str or a list of str. Got {methods!r} instead.")
        self.methods = [methods] if isinstance(methods, str) else methods

    @_documented_check("Whether every named attribute of ``val`` is callable.")
    def is_satisfied_by(self, val: object) -> bool:
        return all(callable(getattr(val, method, None)) for method in self.methods)

    def __str__(self):
        names = [repr(method) for method in self.methods]
        shown = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return f"an object implementing {shown}"


class Hidden:
    """An allowed value left out of messages, as scikit-learn's ``Hidden``.

    Parameters
    ----------
    constraint : constraint
        The hidden constraint (any kind :func:`check_params` accepts).

    Examples
    --------
    >>> from alignkit.core.params import Hidden, StrOptions, check_params
    >>> constraints = {"mode": [StrOptions({"fast"}), Hidden(StrOptions({"debug"}))]}
    >>> check_params(constraints, {"mode": "debug"}, "f")
    >>> check_params(constraints, {"mode": "slow"}, "f")
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'mode' parameter of f must be a str among {'fast'}. Got 'slow' instead.
    """  # noqa: E501

    def __init__(self, constraint: Any):
        self.constraint = constraint


def _is_pair(value: object) -> bool:
    """Whether ``value`` is a tuple or list of two values, or a 1-D array of two."""
    if isinstance(value, (tuple, list)):
        return len(value) == 2
    return isinstance(value, np.ndarray) and value.shape == (2,)


class Pair(_Constraint):
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
        self.element = element
        self.ordered = ordered

    @_documented_check(
        "Whether ``val`` is a pair (its elements are checked by :meth:`check_elements`)."
    )
    def is_satisfied_by(self, val: object) -> bool:
        return _is_pair(val)

    def __str__(self):
        return "a pair (a tuple or list of 2 values)"

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
            check_params({label: [self.element]}, {label: item}, owner)
        if self.ordered and value[0] > value[1]:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be a range (low, high) with "
                f"low <= high. Got {value!r} instead."
            )


_SHORTHANDS = {
    "array-like": _ArrayLikes(),
    "sparse matrix": _SparseMatrices(),
    "random_state": _AnyOf(
        _BoolAsIntInterval(Integral, 0, 2**32 - 1, closed="both"),
        _InstancesOf(np.random.RandomState),
        _NoneConstraint(),
    ),
    "boolean": _AnyOf(_InstancesOf(bool), _InstancesOf(np.bool_)),
    "verbose": _AnyOf(
        _BoolAsIntInterval(Integral, 0, None, closed="left"),
        _InstancesOf(bool),
        _InstancesOf(np.bool_),
    ),
    "cv_object": _AnyOf(
        _BoolAsIntInterval(Integral, 2, None, closed="left"),
        HasMethods(["split", "get_n_splits"]),
        _IterablesNotString(),
        _NoneConstraint(),
    ),
    "nan": _NanConstraint(),
}
_NONE = _NoneConstraint()
_CALLABLE = _Callables()


def _make_constraint(constraint: Any) -> tuple[_Constraint, bool]:
    """The constraint object a declaration stands for, and whether it is hidden."""
    if isinstance(constraint, _Constraint):
        return constraint, False
    if isinstance(constraint, Hidden):
        return _make_constraint(constraint.constraint)[0], True
    if isinstance(constraint, str) and constraint in _SHORTHANDS:
        return _SHORTHANDS[constraint], False
    if constraint is None:
        return _NONE, False
    if constraint is callable:
        return _CALLABLE, False
    if isinstance(constraint, type):
        return _InstancesOf(constraint), False
    if isinstance(constraint, float) and constraint != constraint:
        return _SHORTHANDS["nan"], False
    raise ValueError(f"Unknown constraint type: {constraint}")


def _make_constraints(constraints: Mapping[str, Any]) -> dict[str, Any]:
    """Each declared list as (constraint, hidden) pairs; ``"no_validation"`` kept as is."""
    return {
        name: declared
        if isinstance(declared, str) and declared == "no_validation"
        else [_make_constraint(item) for item in declared]
        for name, declared in constraints.items()
    }


def _check_made(made: Mapping[str, Any], params: Mapping[str, Any], owner: str) -> None:
    """:func:`check_params` over constraints already made by :func:`_make_constraints`."""
    for name, value in params.items():
        declared = made.get(name, "no_validation")
        if isinstance(declared, str):
            continue
        if not any(constraint.is_satisfied_by(value) for constraint, _ in declared):
            shown = [constraint for constraint, hidden in declared if not hidden]
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be {_either(shown)}. "
                f"Got {value!r} instead."
            )
        for constraint, _ in declared:
            if isinstance(constraint, Pair) and constraint.is_satisfied_by(value):
                constraint.check_elements(value, name, owner)


def check_params(constraints: Mapping[str, Any], params: Mapping[str, Any], owner: str) -> None:
    """Check parameter values against their constraints.

    Parameters
    ----------
    constraints : dict
        Parameter name -> list of constraints (scikit-learn's language, see
        the module's description, with :class:`Interval` and :class:`Pair`
        from this module). Names absent from ``constraints`` are not checked;
        the string ``"no_validation"`` skips one parameter.
    params : dict
        Parameter name -> value.
    owner : str
        The estimator or function the parameters belong to, for the message.

    Raises
    ------
    InvalidParameterError
        If a value satisfies none of its constraints (scikit-learn's message:
        the visible constraints, joined by commas and a final "or"), or is a
        pair whose element violates its :class:`Pair` constraint.
    ValueError
        If a declaration is not a constraint.

    Examples
    --------
    >>> from numbers import Integral
    >>> from alignkit.core.params import Interval, check_params
    >>> check_params({"k": [Interval(Integral, 1, None, closed="left")]}, {"k": 0}, "search")
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'k' parameter of search must be an int in the range [1, inf). Got 0 instead.
    """  # noqa: E501
    _check_made(_make_constraints(constraints), params, owner)


def check_param(name: str, value: Any, constraints: list, owner: str) -> None:
    """Check one parameter value: :func:`check_params` for hot functions.

    :func:`validate_params` binds the whole signature on every call (a few
    microseconds); a function called millions of times on short sequences
    (``dtw_distance``) checks its flags with this instead, in the same message
    format.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : object
        Its value.
    constraints : list
        The allowed kinds, as one entry of :func:`check_params`'s dict.
    owner : str
        The estimator or function the parameter belongs to, for the message.

    Raises
    ------
    InvalidParameterError
        If ``value`` satisfies none of ``constraints``.

    Examples
    --------
    >>> from alignkit.core.params import check_param
    >>> check_param("squared", True, ["boolean"], "dtw_distance")
    >>> check_param("squared", "no", ["boolean"], "dtw_distance")
    Traceback (most recent call last):
    ...
    alignkit.exceptions.InvalidParameterError: The 'squared' parameter of dtw_distance must be an instance of 'bool' or an instance of 'numpy.bool'. Got 'no' instead.
    """  # noqa: E501
    made = [_make_constraint(constraint) for constraint in constraints]
    for constraint, _ in made:
        if constraint.is_satisfied_by(value):
            if isinstance(constraint, Pair):
                constraint.check_elements(value, name, owner)
            return
    _check_made({name: made}, {name: value}, owner)


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
    made = _make_constraints(constraints)

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
            _check_made(made, values, func.__qualname__)
            return func(*args, **kwargs)

        return wrapper

    return decorate
