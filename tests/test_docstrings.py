"""Every public estimator and function has a complete numpydoc docstring.

The public names are those of ``alignkit.__all__`` and of the ``__all__`` of
the public subpackages and modules below, with the public methods that their
classes define. numpydoc's validator checks each against the error codes in
``_CHECKED_CODES``; a class's Parameters section is checked against its
constructor's signature. Two checks numpydoc does not make follow: the
default a class states (``int, default=1``) is the constructor's, and every
fitted attribute (ending in ``_``) of an estimator is documented in its
Attributes section.
"""

import ast
import dataclasses
import inspect
import re

import pytest
from _public import public_objects
from numpydoc import docscrape
from numpydoc import validate as numpydoc_validate
from test_common import CONFORMANCE
from test_common import _one_torch_thread as _one_torch_thread  # autouse: tiny torch fits

import alignkit
from alignkit.testing import make_check_input

# What "complete" means: a docstring; a one-line summary that starts with a
# capital and ends with a period; every parameter documented, in signature
# order, with a type and a description, and none that does not exist; a
# Returns section where the function returns, a Yields section where it yields.
_CHECKED_CODES = {
    "GL08": "no docstring",
    "SS01": "no summary",
    "SS02": "summary does not start with a capital letter",
    "SS03": "summary does not end with a period",
    "SS04": "summary has heading whitespace",
    "SS06": "summary spans several lines",
    "PR01": "parameters not documented",
    "PR02": "unknown parameters documented",
    "PR03": "parameters in the wrong order",
    "PR04": "parameter without a type",
    "PR07": "parameter without a description",
    "PR10": "parameter without a space before the colon",
    "RT01": "no Returns section",
    "YD01": "no Yields section",
}


def _with_methods(objects):
    """Add the public methods each public class defines itself.

    Read through the class, so that a method behind scikit-learn's
    ``available_if`` (a descriptor in the class dict) is found too; the
    ``set_*_request`` methods scikit-learn generates are its own.
    """
    names = dict(objects)
    for qualified, obj in objects.items():
        if inspect.isclass(obj):
            for attribute in vars(obj):
                method = getattr(obj, attribute)
                generated = re.fullmatch(r"set_\w+_request", attribute)
                if not attribute.startswith("_") and not generated and inspect.isfunction(method):
                    names[f"{qualified}.{attribute}"] = method
    return names


PUBLIC = public_objects()
PUBLIC_CLASSES = {name: obj for name, obj in PUBLIC.items() if inspect.isclass(obj)}
DOCUMENTED = sorted(_with_methods(PUBLIC))


def test_the_public_names_are_found():
    assert "alignkit.estimators._dtw.DTWAligner" in PUBLIC
    assert "alignkit.estimators._ctw.CTWAligner.fit" in DOCUMENTED
    assert "alignkit.base.SequenceAligner.fit" in DOCUMENTED
    assert "alignkit.testing.check_aligner" in PUBLIC
    assert "alignkit.distances._dtw.dtw" in PUBLIC
    assert len(PUBLIC) > 70


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstring_is_complete(name):
    result = numpydoc_validate.validate(name)
    errors = [(code, message) for code, message in result["errors"] if code in _CHECKED_CODES]
    assert not errors, "\n".join(f"{name}: {code} {message}" for code, message in errors)


def _parameter_entries(cls):
    entries = {}
    for entry in docscrape.ClassDoc(cls)["Parameters"]:
        for name in entry.name.split(","):
            entries[name.strip()] = entry
    return entries


def _matches(stated, default):
    try:
        return ast.literal_eval(stated) == default
    except (ValueError, SyntaxError):  # not a literal, e.g. frozenset(): compare the text
        return stated == repr(default)


def _defaults(cls):
    """Constructor defaults, with a dataclass field's default factory called."""
    factories = {}
    if dataclasses.is_dataclass(cls):
        factories = {
            field.name: field.default_factory
            for field in dataclasses.fields(cls)
            if field.default_factory is not dataclasses.MISSING
        }
    defaults = {}
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.name in factories:
            defaults[parameter.name] = factories[parameter.name]()
        elif parameter.default is not inspect.Parameter.empty:
            defaults[parameter.name] = parameter.default
    return defaults


@pytest.mark.parametrize("name", sorted(PUBLIC_CLASSES))
def test_stated_defaults_are_the_constructors(name):
    cls = PUBLIC_CLASSES[name]
    entries = _parameter_entries(cls)
    for parameter_name, default in _defaults(cls).items():
        if parameter_name not in entries:
            continue  # a missing entry is PR01's, in test_docstring_is_complete
        stated_type = entries[parameter_name].type
        assert "default=" in stated_type, f"{name}: {parameter_name} states no default"
        stated = stated_type.rpartition("default=")[2].strip()
        assert _matches(stated, default), (
            f"{name}: {parameter_name} states default={stated}, the signature has {default!r}"
        )


def _estimators_to_fit():
    """Every aligner of the common checks, and the other public estimators."""
    estimators = [aligner for aligners in CONFORMANCE.values() for aligner in aligners]
    others = ("DTWDistances", "KNeighborsDTWClassifier", "KNeighborsDTWRegressor")
    estimators += [getattr(alignkit, name)() for name in others]
    return estimators


def _id(estimator):
    return type(estimator).__name__


@pytest.mark.parametrize(
    "estimator", _estimators_to_fit(), ids=[_id(e) for e in _estimators_to_fit()]
)
def test_fitted_attributes_are_documented(estimator):
    make_check_input(estimator).fit(estimator)
    documented = {}
    for entry in docscrape.ClassDoc(type(estimator))["Attributes"]:
        for attribute in entry.name.split(","):
            documented[attribute.strip()] = entry.desc
    fitted = {key for key in vars(estimator) if key.endswith("_") and not key.startswith("_")}
    assert fitted, f"{_id(estimator)} set no fitted attribute"
    undocumented = sorted(fitted - set(documented))
    assert not undocumented, f"{_id(estimator)}: fitted attributes not documented: {undocumented}"
    empty = sorted(name for name in fitted if not documented[name])
    assert not empty, f"{_id(estimator)}: attributes without a description: {empty}"
