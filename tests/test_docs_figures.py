"""Every user-guide page shows a figure, and every figure comes from something that exists.

The checks parse the reStructuredText and the example scripts; they do not build the docs
(the build itself, ``make docs``, fails on an image file that an example did not write).

- Each page of ``docs/user_guide`` has a figure: an ``image`` or ``figure`` directive, a
  ``plot`` directive, or a ``minigallery``.
- A gallery image ``/auto_examples/[SUB/]images/sphx_glr_STEM_NNN.png`` names an example
  ``examples/[SUB/]STEM.py`` that exists, its ``:target:`` is that example's page, and every
  ``sphx_glr_auto_examples_..._STEM.py`` reference in the docs names an existing example.
- Every example has a gallery title (a first docstring line underlined with ``=``), every
  gallery folder a header, and every display of :mod:`alignkit.plotting` its own page.
"""

import ast
import re
from pathlib import Path

import pytest

import alignkit.plotting

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
GUIDE_PAGES = sorted((DOCS / "user_guide").glob("*.rst"))
# Sources only: the build's output folders hold generated copies of the examples.
GENERATED = {"_build", "auto_examples", "generated"}

FIGURE = re.compile(r"^[ \t]*\.\. (image|figure|plot|minigallery)::", re.MULTILINE)
GALLERY_IMAGE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?:image|figure):: /auto_examples/(?P<sub>(?:[\w-]+/)*)images/"
    r"sphx_glr_(?P<stem>\w+?)_(?P<number>\d{3})\.png[ \t]*\n(?P<options>(?:(?P=indent)   :.*\n)*)",
    re.MULTILINE,
)
TARGET = re.compile(r":target:\s*(\S+)")
EXAMPLE_REF = re.compile(r":ref:`(?:[^`<]*<)?sphx_glr_auto_examples_(?P<name>\w+)\.py>?`")


def _example_files(examples=EXAMPLES):
    return sorted(examples.rglob("plot_*.py"))


def _example_ref_names(examples=EXAMPLES):
    """``displays_plot_x`` for ``examples/displays/plot_x.py``: sphinx-gallery's label tail."""
    return {
        "_".join(path.relative_to(examples).with_suffix("").parts)
        for path in _example_files(examples)
    }


def figure_problems(text, examples=EXAMPLES):
    """What is wrong with the figures of one page: an empty list when nothing is."""
    problems = []
    if not FIGURE.search(text):
        problems.append("no figure (image, figure, plot or minigallery directive)")
    for match in GALLERY_IMAGE.finditer(text):
        sub, stem = match["sub"], match["stem"]
        script = examples / sub / f"{stem}.py"
        image = f"{sub}images/sphx_glr_{stem}_{match['number']}.png"
        if not script.is_file():
            problems.append(f"{image}: no example examples/{sub}{stem}.py")
        target = TARGET.search(match["options"])
        expected = f"../auto_examples/{sub}{stem}.html"
        if target is None or target[1] != expected:
            found = None if target is None else target[1]
            problems.append(f"{image}: :target: is {found}, expected {expected}")
    known = _example_ref_names(examples)
    for match in EXAMPLE_REF.finditer(text):
        if match["name"] not in known:
            problems.append(
                f"reference to a missing example: sphx_glr_auto_examples_{match['name']}.py"
            )
    return problems


def gallery_title(script):
    """The gallery title of an example script, or None when its docstring has none."""
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    if not docstring:
        return None
    lines = docstring.strip("\n").splitlines()
    if len(lines) < 2 or not lines[0].strip():
        return None
    title, underline = lines[0].strip(), lines[1].strip()
    if set(underline) != {"="} or len(underline) < len(title):
        return None
    return title


def _doc_sources():
    return [
        path
        for path in sorted(DOCS.rglob("*.rst"))
        if not GENERATED.intersection(path.relative_to(DOCS).parts)
    ]


def test_the_user_guide_has_pages():
    assert len(GUIDE_PAGES) >= 12


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda path: path.stem)
def test_user_guide_page_shows_a_figure_that_exists(page):
    assert figure_problems(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", _doc_sources(), ids=lambda path: str(path.relative_to(DOCS)))
def test_gallery_references_name_existing_examples(source):
    problems = [
        p for p in figure_problems(source.read_text(encoding="utf-8")) if "no figure" not in p
    ]
    assert problems == []


@pytest.mark.parametrize(
    "script", _example_files(), ids=lambda path: str(path.relative_to(EXAMPLES))
)
def test_every_example_has_a_gallery_title(script):
    assert gallery_title(script) is not None


def test_every_gallery_folder_has_a_header():
    folders = {script.parent for script in _example_files()}
    for folder in folders:
        headers = [folder / name for name in ("README.rst", "README.txt", "GALLERY_HEADER.rst")]
        header = next((path for path in headers if path.is_file()), None)
        assert header is not None, f"{folder.relative_to(ROOT)} has no gallery header"
        lines = [line for line in header.read_text(encoding="utf-8").splitlines() if line.strip()]
        titles = [
            k
            for k in range(len(lines) - 1)
            if set(lines[k + 1]) <= {"=", "-"} and len(lines[k + 1]) >= len(lines[k])
        ]
        assert titles, f"{header.relative_to(ROOT)} has no title"


def test_every_display_has_its_own_gallery_page():
    displays = [name for name in alignkit.plotting.__all__ if name.endswith("Display")]
    assert len(displays) == 8
    titles = {gallery_title(script): script for script in _example_files()}
    for name in displays:
        pages = [
            script for title, script in titles.items() if title and title.startswith(f"{name}:")
        ]
        assert len(pages) == 1, f"{name} has {len(pages)} gallery pages titled '{name}: ...'"
        code = pages[0].read_text(encoding="utf-8")
        # A page shows the display's one-call constructors, or its constructor where it has none.
        constructors = [
            f"{name}.{attribute}"
            for attribute in dir(getattr(alignkit.plotting, name))
            if attribute.startswith("from_")
        ] or [f"{name}("]
        missing = [call for call in constructors if call not in code]
        assert missing == [], f"{pages[0].name} does not call {missing}"


# The checks themselves must fail on bad pages and scripts.


def test_a_page_without_a_figure_is_reported():
    assert figure_problems("Title\n=====\n\nText only.\n") == [
        "no figure (image, figure, plot or minigallery directive)"
    ]


def test_an_image_of_a_missing_example_is_reported():
    text = (
        ".. figure:: /auto_examples/images/sphx_glr_plot_no_such_example_001.png\n"
        "   :target: ../auto_examples/plot_no_such_example.html\n\n   Caption.\n"
    )
    assert figure_problems(text) == [
        "images/sphx_glr_plot_no_such_example_001.png: no example examples/plot_no_such_example.py"
    ]


def test_an_image_in_the_wrong_folder_or_with_a_wrong_target_is_reported():
    moved = (
        ".. image:: /auto_examples/images/sphx_glr_plot_alignment_display_001.png\n"
        "   :target: ../auto_examples/plot_alignment_display.html\n"
    )
    assert figure_problems(moved) == [
        "images/sphx_glr_plot_alignment_display_001.png: no example "
        "examples/plot_alignment_display.py"
    ]
    wrong_target = (
        ".. image:: /auto_examples/images/sphx_glr_plot_dtw_basics_002.png\n"
        "   :target: ../auto_examples/plot_windows.html\n"
    )
    assert figure_problems(wrong_target) == [
        "images/sphx_glr_plot_dtw_basics_002.png: :target: is ../auto_examples/plot_windows.html, "
        "expected ../auto_examples/plot_dtw_basics.html"
    ]


def test_a_reference_to_a_missing_example_is_reported():
    text = ".. plot::\n\n   pass\n\nSee :ref:`sphx_glr_auto_examples_plot_gone.py`.\n"
    assert figure_problems(text) == [
        "reference to a missing example: sphx_glr_auto_examples_plot_gone.py"
    ]


def test_a_script_without_a_gallery_title_is_reported(tmp_path):
    untitled = tmp_path / "plot_untitled.py"
    untitled.write_text('"""Just a sentence."""\nx = 1\n')
    short = tmp_path / "plot_short.py"
    short.write_text('"""\nA long title\n=====\n"""\n')
    good = tmp_path / "plot_good.py"
    good.write_text('"""\nA title\n=======\n\nText.\n"""\n')
    assert gallery_title(untitled) is None
    assert gallery_title(short) is None
    assert gallery_title(good) == "A title"
