"""The ``alignkit`` command: ``alignkit demo``, ``alignkit align A B`` and ``alignkit list``.

Run ``alignkit --help`` or ``alignkit COMMAND --help`` for the options. Errors
the user can fix (unreadable files, bad windows, invalid sequences) are
printed as ``alignkit: error: ...`` with exit code 2, without a traceback.
"""

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import AlignkitError, InvalidInputError, PluginWarning, WindowError

__all__ = ["main", "parse_window", "read_sequence"]

_NPY_MAGIC = b"\x93NUMPY"
_WINDOW_FORMS = "none, an int radius, a float fraction in [0, 1], itakura:SLOPE or sakoe_chiba:R"


def parse_window(text: str) -> int | float | tuple[str, float] | None:
    """Parse a ``--window`` value into a window for :func:`alignkit.dtw`.

    Parameters
    ----------
    text : str
        ``"none"``; an int (Sakoe-Chiba radius in timepoints); a float with a
        decimal point or exponent (fraction of the longer length, in
        ``[0, 1]``); ``"itakura:SLOPE"``; or ``"sakoe_chiba:R"`` with ``R``
        an int or a float as above. Case and surrounding spaces are ignored.

    Returns
    -------
    window : None, int, float or tuple
        The window, checked by :func:`alignkit.validation.check_window`.

    Raises
    ------
    WindowError
        If ``text`` is not one of these forms or the value is out of range.

    Examples
    --------
    >>> from alignkit.cli import parse_window
    >>> parse_window("10"), parse_window("0.1"), parse_window("itakura:2")
    (10, 0.1, ('itakura', 2.0))
    >>> parse_window("none") is None
    True
    """
    from .validation import check_window

    cleaned = text.strip().lower()
    kind, _, value = cleaned.rpartition(":")
    try:
        if cleaned == "none":
            window = None
        elif kind == "itakura":
            window = ("itakura", float(value))
        elif kind in ("", "sakoe_chiba"):
            radius = int(value) if value.lstrip("+-").isdigit() else float(value)
            window = radius if kind == "" else ("sakoe_chiba", radius)
        else:
            raise ValueError(f"unknown window kind {kind!r}")
    except ValueError as exc:
        raise WindowError(f"invalid window {text!r} ({exc}); use {_WINDOW_FORMS}") from None
    check_window(window, name=f"window {text!r}")
    return window


def _window_type(text):
    """argparse ``type=`` wrapper: a bad window becomes a usage error (exit code 2)."""
    try:
        return parse_window(text)
    except WindowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_fields(line):
    """The numbers of one text line, or the 1-based column and text of the first non-number."""
    fields = [field.strip() for field in line.split(",")] if "," in line else line.split()
    values = []
    for column, field in enumerate(fields, start=1):
        try:
            values.append(float(field))
        except ValueError:
            return None, (column, field)
    return values, None


def _read_text(path):
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is neither a .npy file nor a text (CSV) file") from None
    rows = []
    first = True
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        values, bad = _parse_fields(line)
        if values is None:
            if first:  # a header row of column names
                first = False
                continue
            column, field = bad
            what = "is empty" if field == "" else f"holds {field!r}, not a number"
            raise InvalidInputError(f"{path}, line {number}, column {column} {what}")
        first = False
        if rows and len(values) != len(rows[0]):
            raise InvalidInputError(
                f"{path}, line {number} has {len(values)} columns but the rows before it "
                f"have {len(rows[0])}"
            )
        rows.append(values)
    if not rows:
        raise InvalidInputError(f"{path} holds no rows of numbers")
    return np.array(rows)


def read_sequence(path: str | os.PathLike) -> np.ndarray:
    """Read one sequence from a ``.npy`` file or a CSV / whitespace-separated text file.

    Parameters
    ----------
    path : str or path-like
        A NumPy ``.npy`` file (recognised by its content, whatever its name)
        holding an array of shape ``(n_timepoints,)`` or ``(n_timepoints,
        n_channels)``; or a text file with one row per timepoint and one
        column per channel, separated by commas or whitespace. A first row
        that is not numeric (a header) is skipped, as are blank lines and
        lines starting with ``#``.

    Returns
    -------
    sequence : ndarray of shape (n_timepoints, n_channels), dtype float64

    Raises
    ------
    OSError
        If the file cannot be opened.
    InvalidInputError
        If the content is not numbers, rows have different lengths, or the
        sequence is empty or not finite (the message names the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from alignkit.cli import read_sequence
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_text("x,y\\n1,2\\n3,4\\n")
    >>> read_sequence(path).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    from .validation import check_sequence

    with open(path, "rb") as handle:
        is_npy = handle.read(len(_NPY_MAGIC)) == _NPY_MAGIC
    if is_npy:
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InvalidInputError(f"{path} is not a readable .npy array: {exc}") from None
    else:
        array = _read_text(path)
    return check_sequence(array, name=str(path))


def _describe_window(window, n, m):
    if window is None:
        return "none (full DTW)"
    if isinstance(window, tuple) and window[0] == "itakura":
        return f"Itakura parallelogram, max slope {window[1]:g}"
    radius = window[1] if isinstance(window, tuple) else window
    if isinstance(radius, float):
        # The convention of alignkit.dtw: round(w * max(n, m)), halves up.
        timepoints = int(np.floor(radius * max(n, m) + 0.5))
        return f"Sakoe-Chiba band, {radius:g} of the longer length (radius {timepoints})"
    if radius >= max(n, m):
        return f"Sakoe-Chiba band, radius {radius} (covers every cell: no constraint)"
    return f"Sakoe-Chiba band, radius {radius}"


def _shape_text(sequence):
    n_channels = sequence.shape[1]
    return f"{len(sequence)} timepoints, {n_channels} channel{'s' if n_channels > 1 else ''}"


def _path_text(points):
    return " ".join(f"({i}, {j})" for i, j in points.tolist())


def _save_figure(path, alignment, a, b, true_path=None, title=None):
    """The alignment above, the cost matrix with the sequences in the margins below."""
    from .plotting import plot_alignment, plot_cost_matrix
    from .plotting._common import import_pyplot

    import_pyplot()  # a missing matplotlib then names the alignkit[plot] extra
    from matplotlib.figure import Figure

    # A bare Figure draws with Agg whatever the session's backend: no window ever opens.
    figure = Figure(figsize=(10, 12))
    formats = figure.canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise InvalidInputError(
            f"--plot {path}: unknown image format {suffix!r}; use one of "
            f"{', '.join(sorted(formats))} (e.g. {Path(path).stem}.png)"
        )
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.7))
    figure.subplots_adjust(hspace=0.3)
    plot_alignment(alignment, a, b, ax=top, max_lines=120, true_path=true_path)
    plot_cost_matrix(alignment, a, b, ax=bottom, true_path=true_path)
    if title:
        figure.suptitle(title, fontsize="x-large", y=0.95)
    figure.savefig(path, dpi=100, bbox_inches="tight")


def _run_demo(args):
    from .datasets import make_ecg_pair
    from .distances import dtw
    from .estimators._uniform import UniformAligner
    from .metrics import path_distance

    a, b, true_path = make_ecg_pair()
    alignment = dtw(a, b, window=args.window, return_cost_matrix=True)
    uniform = UniformAligner().align(a, b)
    rows = [
        ("a", _shape_text(a)),
        ("b", _shape_text(b)),
        ("window", _describe_window(args.window, len(a), len(b))),
        ("DTW distance", f"{alignment.distance:.4f}"),
        ("path length", f"{len(alignment)} matched pairs (i, j)"),
        ("path start", _path_text(alignment.path[:5]) + " ..."),
        ("path end", "... " + _path_text(alignment.path[-5:])),
    ]
    print(
        "alignkit demo: two synthetic ECG recordings of the same heartbeats at different,\n"
        "varying speeds (alignkit.datasets.make_ecg_pair), aligned with DTW.\n"
    )
    for label, text in rows:
        print(f"  {label:<14} {text}")
    dtw_error = path_distance(alignment.path, true_path)
    uniform_error = path_distance(uniform.path, true_path)
    print("\nAlignment error against the true path (mean distance in frames, lower is better):")
    print(f"  {'DTW':<22} {dtw_error:6.2f}")
    print(f"  {'uniform time warping':<22} {uniform_error:6.2f}   (linear resampling, no warping)")
    _save_figure(
        args.plot, alignment, a, b, true_path, title="alignkit demo: DTW between two ECG recordings"
    )
    print(f"\nWrote {args.plot}: the matched points (top), and the accumulated cost matrix")
    print("with the DTW path in red and the true path dashed (bottom).")
    return 0


def _run_align(args):
    from .distances import dtw

    a = read_sequence(args.a)
    b = read_sequence(args.b)
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(
            f"{args.a} has {a.shape[1]} channel(s) but {args.b} has {b.shape[1]}; "
            "both sequences must have the same channels"
        )
    alignment = dtw(a, b, window=args.window, squared=args.squared)
    kind = "summed squared cost" if args.squared else "square root of the summed squared cost"
    # With --out - the path is standard output, so the summary goes to standard error.
    report = sys.stderr if args.out == "-" else sys.stdout
    print(f"a: {args.a} ({_shape_text(a)})", file=report)
    print(f"b: {args.b} ({_shape_text(b)})", file=report)
    print(f"window: {_describe_window(args.window, len(a), len(b))}", file=report)
    print(f"distance: {alignment.distance!r} ({kind})", file=report)
    print(f"path length: {len(alignment)}", file=report)
    if args.plot is not None:
        _save_figure(args.plot, alignment, a, b)
        print(f"wrote the figure to {args.plot}", file=report)
    if args.out is not None:
        out = sys.stdout if args.out == "-" else args.out
        np.savetxt(out, alignment.path, fmt="%d", delimiter=",", header="i,j", comments="")
        if args.out != "-":
            print(f"wrote the path to {args.out}", file=report)
    return 0


def _origin(spec):
    return "built-in" if spec.distribution == "alignkit" else spec.provider


def _run_list(args):
    from .core.registry import get_registry

    # Failed plugins are listed below; the loader's warnings would only repeat them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=PluginWarning)
        registry = get_registry()
    specs = registry.specs()
    rows = [("NAME", "ESTIMATOR", "ORIGIN", "DESCRIPTION")]
    rows += [(s.name, s.estimator.__name__, _origin(s), s.description) for s in specs]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    print(f"{len(specs)} aligner{'s' if len(specs) != 1 else ''} registered:\n")
    for row in rows:
        print(
            "  " + "  ".join(text.ljust(width) for text, width in zip(row, widths)) + "  " + row[3]
        )
    if registry.failures:
        print(f"\n{len(registry.failures)} plugin(s) failed to load and were skipped:")
        for failure in registry.failures:
            provider = failure.distribution or "unknown distribution"
            if failure.version:
                provider += f" {failure.version}"
            print(f"  {failure.name} ({provider}): {failure.error}")
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="alignkit",
        description="Align sequences with dynamic time warping and other aligners.",
    )
    parser.add_argument("--version", action="version", version=f"alignkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    window_help = f"path constraint: {_WINDOW_FORMS} (default: none)"

    demo = commands.add_parser(
        "demo",
        help="align two synthetic ECG recordings, print a summary and draw them",
        description="Align the bundled pair of synthetic ECG recordings, compare the DTW path "
        "and the uniform baseline with the known true path, and draw the alignment.",
    )
    demo.add_argument(
        "--plot",
        default="alignment.png",
        metavar="PATH",
        help="where to write the picture (default: alignment.png)",
    )
    demo.add_argument("--window", type=_window_type, default=None, metavar="W", help=window_help)
    demo.set_defaults(handler=_run_demo)

    align = commands.add_parser(
        "align",
        help="align two sequences read from CSV or NPY files",
        description="Align sequence A with sequence B by DTW. Each file is a .npy array or a "
        "text file with one row per timepoint and one column per channel (comma or whitespace "
        "separated; a header row is skipped).",
    )
    align.add_argument("a", metavar="A", help="first sequence (.csv, .txt or .npy)")
    align.add_argument("b", metavar="B", help="second sequence, with the same channels")
    align.add_argument("--window", type=_window_type, default=None, metavar="W", help=window_help)
    align.add_argument(
        "--squared",
        action="store_true",
        help="report the summed squared cost instead of its square root",
    )
    align.add_argument(
        "--out", metavar="PATH", help="write the path as CSV (header i,j); '-' is standard output"
    )
    align.add_argument("--plot", metavar="PATH", help="draw the alignment to an image file")
    align.set_defaults(handler=_run_align)

    listing = commands.add_parser(
        "list",
        help="show the registered aligners and plugins that failed to load",
        description="Show every registered aligner (built-in or from a plugin) and the "
        "plugins that failed to load.",
    )
    listing.set_defaults(handler=_run_list)
    return parser


def _error_text(exc):
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``alignkit`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success; 2 for a usage error, an unreadable file, a bad window
        or an invalid sequence (the reason is printed to stderr).

    Examples
    --------
    >>> from alignkit.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    alignkit ...
    0
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: keep main() a function
        return 0 if exc.code is None else int(exc.code)
    try:
        return args.handler(args)
    except (AlignkitError, OSError, ImportError) as exc:
        print(f"alignkit: error: {_error_text(exc)}", file=sys.stderr)
        return 2
