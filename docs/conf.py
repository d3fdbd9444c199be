"""Sphinx configuration of the alignkit documentation.

Build with ``make docs`` (``python -m sphinx -W --keep-going -b html docs docs/_build/html``).
The build needs no network: intersphinx is off and the theme loads no external assets.
"""

import hashlib
import os
from pathlib import Path

# When sphinx runs without the Makefile: render figures without a display, and keep the
# Numba cache out of the source tree in a folder keyed on the kernels' source, as the
# Makefile does (Numba's cache misses changes to a kernel's callees in other files).
_ROOT = Path(__file__).resolve().parent.parent
_KERNELS = sorted((_ROOT / "alignkit" / "kernels" / "_numba").glob("*.py"))
_KERNEL_HASH = hashlib.sha1(b"".join(path.read_bytes() for path in _KERNELS)).hexdigest()[:12]
os.environ.setdefault("NUMBA_CACHE_DIR", str(_ROOT / "build" / "numba-cache" / _KERNEL_HASH))
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import alignkit  # noqa: E402

project = "alignkit"
author = "alignkit developers"
copyright = "alignkit developers"
version = alignkit.__version__
release = alignkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
default_role = "literal"
# Nitpicky: every Python cross-reference that does not resolve is a warning, so a broken
# reference fails the build (``-W``). The docs build offline (no intersphinx), so references
# into other projects cannot resolve and are not reported; neither are private names, which
# the API reference does not document.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(sklearn|joblib|torch|numpy|scipy|matplotlib|importlib|ast)(\..*)?"),
    (r"py:.*", r"(.*\.)?_[A-Za-z]\w*(\..*)?"),
]

# -- autodoc / autosummary ----------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"

# -- numpydoc -------------------------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# A small set of structural checks that every public docstring must pass.
numpydoc_validation_checks = {"PR02", "GL08"}

# -- sphinx-gallery -------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    "image_scrapers": ("matplotlib",),
    "doc_module": ("alignkit",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"alignkit": None},
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    # The execution-times page loads DataTables from a CDN; the docs must work offline.
    "write_computation_times": False,
}

# -- plot directive (the user-guide figures that no gallery example draws) ------------------
plot_pre_code = ""
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.dpi": 100}


# -- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"alignkit {version}"
html_show_sourcelink = False
html_theme_options = {
    # Offline: no analytics, no external icon links, no version switcher fetched over the network.
    "icon_links": [],
    "analytics": {},
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "show_prev_next": True,
    "navigation_with_keys": False,
}


def _skip_namedtuple_fields(app, what, name, obj, skip, options):
    # NamedTuple fields repeat the Attributes section as "Alias for field number N".
    if what == "class" and (getattr(obj, "__doc__", None) or "").startswith("Alias for field"):
        return True
    return None


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods whose docstrings link into its own docs.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_namedtuple_fields)
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
