"""Every public function and method has type hints on its signature.

The public names are those of ``alignkit.__all__`` and of the ``__all__`` of
the public subpackages and modules listed in ``_public.py``, with the constructor, the public
methods and the properties that their classes define. Every parameter but
``self``/``cls`` and ``*args``/``**kwargs`` is annotated, and so is the return,
except that of ``__init__``: PEP 484 lets a constructor with annotated
parameters leave out ``-> None``, and scikit-learn style constructors do.
"""

import inspect
import re

from _public import public_objects


def _own_callables(qualified, cls):
    """The constructor, public methods and property getters that ``cls`` defines itself.

    The ``set_*_request`` methods scikit-learn generates are its own.
    """
    found = {}
    for attribute, value in vars(cls).items():
        if isinstance(value, property):
            function = value.fget
        elif isinstance(value, (staticmethod, classmethod)):
            function = value.__func__
        else:
            function = getattr(cls, attribute)
        generated = re.fullmatch(r"set_\w+_request", attribute)
        public = attribute == "__init__" or not attribute.startswith("_")
        if public and not generated and inspect.isfunction(function):
            found[f"{qualified}.{attribute}"] = function
    return found


def _callables():
    names = {}
    for qualified, obj in public_objects().items():
        if inspect.isclass(obj):
            names.update(_own_callables(qualified, obj))
        else:
            names[qualified] = obj
    return names


CALLABLES = _callables()
_SKIPPED = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _missing(function):
    """Names of the unannotated parameters of ``function``, ``"return"`` for its return."""
    signature = inspect.signature(function)
    missing = [
        name
        for index, (name, parameter) in enumerate(signature.parameters.items())
        if parameter.annotation is inspect.Parameter.empty
        and parameter.kind not in _SKIPPED
        and not (index == 0 and name in ("self", "cls"))
    ]
    if signature.return_annotation is inspect.Signature.empty and function.__name__ != "__init__":
        missing.append("return")
    return missing


def test_the_public_callables_are_found():
    assert "alignkit.estimators._dtw.DTWAligner.__init__" in CALLABLES
    assert "alignkit.estimators._ctw.CTWAligner.fit" in CALLABLES
    assert "alignkit.base.SequenceAligner.fit" in CALLABLES
    assert "alignkit.distances._dtw.dtw" in CALLABLES
    assert "alignkit.testing.check_aligner" in CALLABLES
    assert len(CALLABLES) > 140


def test_every_public_signature_is_annotated():
    missing = {name: _missing(function) for name, function in sorted(CALLABLES.items())}
    missing = {name: parameters for name, parameters in missing.items() if parameters}
    assert not missing, "unannotated:\n" + "\n".join(
        f"{name}: {', '.join(parameters)}" for name, parameters in missing.items()
    )
