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
from numbers import Integral, Real

import numpy as np

from ..exceptions import InvalidParameterError

__all__ = [
    "HasMethods",
    "Hidden",
    "Integral",
    "Interval",
    "Options",
    "Real",
    "StrOptions",
    "check_estimator_params",
    "check_params",
    "validate_params",
]


class _Spec:
    """A constraint, stored as given and turned into scikit-learn's on its first check.

    Declarations run when a module is imported; scikit-learn's constraint
    module imports scipy and pandas (about a second), which the DTW family and
    the joblib workers running its kernels should not pay for. So the
    declarations are these light records, and scikit-learn is imported by the
    first check that needs it.
    """

    _sklearn_name = ""

    def __init__(self, *args, **kwargs):
        self._args = args
        self._kwargs = kwargs

    @functools.cached_property
    def constraint(self):
        """The scikit-learn constraint object this declaration stands for."""
        from sklearn.utils import _param_validation

        return getattr(_param_validation, self._sklearn_name)(
            *[_sklearn(arg) for arg in self._args], **self._kwargs
        )

    def is_satisfied_by(self, val):
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

    def __init__(self, type, left, right, *, closed):
        super().__init__(type, left, right, closed=closed)

    @functools.cached_property
    def constraint(self):
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


class HasMethods(_Spec):
    """scikit-learn's ``HasMethods``: an object with the named methods.

    Parameters
    ----------
    methods : str or list of str
        The methods the object must have.
    """

    _sklearn_name = "HasMethods"


class Hidden(_Spec):
    """scikit-learn's ``Hidden``: an allowed value not shown in messages.

    Parameters
    ----------
    constraint : constraint
        The hidden constraint.
    """

    _sklearn_name = "Hidden"


def _sklearn(constraint):
    return constraint.constraint if isinstance(constraint, _Spec) else constraint


def check_params(constraints, params, owner):
    """Check parameter values against their constraints.

    Parameters
    ----------
    constraints : dict
        Parameter name -> list of constraints (scikit-learn's language, with
        :class:`Interval` from this module). Names absent from ``constraints``
        are not checked; the string ``"no_validation"`` skips one parameter.
    params : dict
        Parameter name -> value.
    owner : str
        The estimator or function the parameters belong to, for the message.

    Raises
    ------
    InvalidParameterError
        If a value satisfies none of its constraints.

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


def check_estimator_params(estimator):
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


def validate_params(constraints):
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
