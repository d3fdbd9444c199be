"""The public names of alignkit, shared by the docstring and typing tests."""

import importlib
import inspect

from test_common import HAS_TORCH

import alignkit

PUBLIC_MODULES = (
    "base",
    "distances",
    "multiview",
    "datasets",
    "metrics",
    "plotting",
    "testing",
    "callbacks",
    "preprocessing",
    "validation",
)


def public_objects():
    """Qualified name -> class or function, for every public name."""
    found = {}
    named = [(alignkit, name) for name in alignkit.__all__]
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(f"alignkit.{module_name}")
        named += [(module, name) for name in module.__all__]
    for module, name in named:
        try:
            obj = getattr(module, name)
        except ImportError:
            if HAS_TORCH:
                raise
            continue  # a torch-only name (SoftDTWLoss): checked where torch is installed
        if inspect.isclass(obj) or inspect.isfunction(obj):
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return found
