"""The ``alignkit`` command: ``demo``, ``align``, ``pairwise``, ``search`` and ``list``.

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


_DELIMITERS = {
    ",": ",",
    ";": ";",
    "tab": "\t",
    "\\t": "\t",
    "\t": "\t",
    "space": None,
    "whitespace": None,
}


def _delimiter_of(text, delimiter, decimal):
    """The column separator: the one asked for, or the first of ; tab , found in ``text``."""
    if delimiter is not None:
        return _DELIMITERS[delimiter]
    for candidate in (";", "\t", ","):
        if candidate in text and not (candidate == "," and decimal == ","):
            return candidate
    return None  # runs of whitespace


def _split(line, delimiter):
    if delimiter is None:
        return line.split()
    return [field.strip() for field in line.split(delimiter)]


def _number(field, decimal):
    if decimal == ",":
        if "." in field:
            raise ValueError(field)
        field = field.replace(",", ".")
    return float(field)


def _column_indices(columns, header, path):
    """0-based indices of ``--columns`` tokens: 1-based numbers or header names."""
    indices = []
    for token in columns:
        if token.isdigit():
            if int(token) < 1:
                raise InvalidInputError(f"--columns: column numbers start at 1, got {token}")
            indices.append(int(token) - 1)
        elif header is None:
            raise InvalidInputError(
                f"--columns: {path} has no header row, so column {token!r} can only be "
                "given by its number (1 is the first column)"
            )
        elif token not in header:
            raise InvalidInputError(
                f"--columns: {path} has no column {token!r}; its header names "
                f"{', '.join(repr(name) for name in header)}"
            )
        else:
            indices.append(header.index(token))
    return indices


def _read_text(path, columns=None, delimiter=None, decimal="."):
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is neither a .npy file nor a text (CSV) file") from None
    content = [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not content:
        raise InvalidInputError(f"{path} holds no rows of numbers")
    sep = _delimiter_of("".join(line for _, line in content), delimiter, decimal)
    rows, header, indices = [], None, None
    for position, (number, line) in enumerate(content):
        fields = _split(line, sep)
        if indices is None and columns is not None:
            if position == 0:
                header = fields if _first_non_number(fields, decimal) is not None else None
            indices = _column_indices(columns, header, path)
            if header is not None:
                continue
        elif position == 0 and _first_non_number(fields, decimal) is not None:
            header = fields  # a header row of column names
            continue
        if indices is not None:
            missing = [k + 1 for k in indices if k >= len(fields)]
            if missing:
                raise InvalidInputError(
                    f"{path}, line {number} has {len(fields)} columns, so --columns "
                    f"{missing[0]} does not exist"
                )
            chosen = [(k + 1, fields[k]) for k in indices]
        else:
            chosen = list(enumerate(fields, start=1))
        values = []
        for column, field in chosen:
            try:
                values.append(_number(field, decimal))
            except ValueError:
                what = "is empty" if field == "" else f"holds {field!r}, not a number"
                hint = ""
                if decimal == "." and "," in field:
                    hint = " (for a decimal comma, pass --decimal ,)"
                raise InvalidInputError(
                    f"{path}, line {number}, column {column} {what}{hint}"
                ) from None
        if rows and len(values) != len(rows[0]):
            raise InvalidInputError(
                f"{path}, line {number} has {len(values)} columns but the rows before it "
                f"have {len(rows[0])}"
            )
        rows.append(values)
    if not rows:
        raise InvalidInputError(f"{path} holds no rows of numbers")
    return np.array(rows)


def _first_non_number(fields, decimal):
    for field in fields:
        try:
            _number(field, decimal)
        except ValueError:
            return field
    return None


def read_sequence(
    path: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    delimiter: str | None = None,
    decimal: str = ".",
) -> np.ndarray:
    """Read one sequence from a ``.npy`` file or a CSV / whitespace-separated text file.

    Parameters
    ----------
    path : str or path-like
        A NumPy ``.npy`` file (recognised by its content, whatever its name)
        holding an array of shape ``(n_timepoints,)`` or ``(n_timepoints,
        n_channels)``; or a text file with one row per timepoint and one
        column per channel. A first row that is not numeric (a header) is
        skipped, as are blank lines and lines starting with ``#``.
    columns : list of str, default=None
        The columns to read from a text file, in order: 1-based numbers
        (``"2"``) or header names (``"value"``). None reads every column; a
        ``.npy`` array is always read whole.
    delimiter : {",", ";", "tab", "whitespace"}, default=None
        The column separator of a text file. None takes the first of ``;``,
        tab and ``,`` found in the file (``,`` only when ``decimal`` is
        ``"."``), else runs of whitespace.
    decimal : {".", ","}, default="."
        The decimal mark of a text file.

    Returns
    -------
    sequence : ndarray of shape (n_timepoints, n_channels), dtype float64

    Raises
    ------
    OSError
        If the file cannot be opened.
    InvalidInputError
        If the content is not numbers, rows have different lengths, a column
        does not exist, or the sequence is empty or not finite (the message
        names the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from alignkit.cli import read_sequence
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_text("time;x;y\\n0;1,5;2\\n1;3;4,25\\n")
    >>> read_sequence(path, columns=["x", "y"], decimal=",").tolist()
    [[1.5, 2.0], [3.0, 4.25]]
    """
    from .validation import check_sequence

    if delimiter is not None and delimiter not in _DELIMITERS:
        raise InvalidInputError(
            f"--delimiter: unknown delimiter {delimiter!r}; use one of , ; tab whitespace"
        )
    if decimal not in (".", ","):
        raise InvalidInputError(f"--decimal: the decimal mark is '.' or ',', got {decimal!r}")
    if decimal == "," and delimiter == ",":
        raise InvalidInputError("--decimal , needs another --delimiter than ','")
    with open(path, "rb") as handle:
        is_npy = handle.read(len(_NPY_MAGIC)) == _NPY_MAGIC
    if is_npy:
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InvalidInputError(f"{path} is not a readable .npy array: {exc}") from None
    else:
        array = _read_text(path, columns, delimiter, decimal)
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


def _read_inputs(args, *paths):
    return [
        read_sequence(
            path,
            columns=args.columns,
            delimiter=args.delimiter,
            decimal=args.decimal,
        )
        for path in paths
    ]


def _literal(text):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word: a string option such as mlp


def _parse_params(items):
    params = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"--param {item!r}: write it as NAME=VALUE (e.g. n_components=2)"
            )
        params[key.strip()] = _literal(value.strip())
    return params


_DTW_ONLY = (
    ("squared", "--squared"),
    ("step_pattern", "--step-pattern"),
    ("open_begin", "--open-begin"),
    ("open_end", "--open-end"),
)


def _aligner_for(args):
    """The estimator to align with, and how to name it, or None for the dtw function."""
    from .core.registry import get_registry

    if args.model is not None:
        if args.aligner is not None or args.param:
            raise InvalidInputError(
                "--model takes a fitted aligner as it is: drop --aligner/--param"
            )
        import joblib

        try:
            model = joblib.load(args.model)
        except (OSError, EOFError):
            raise
        except Exception as exc:  # unpickling runs arbitrary code: report it in one line
            raise InvalidInputError(
                f"--model {args.model} is not a pickled aligner ({type(exc).__name__}: {exc})"
            ) from None
        if not callable(getattr(model, "align", None)):
            raise InvalidInputError(
                f"--model {args.model} holds a {type(model).__name__}, which has no align(a, b)"
            )
        return model, f"{type(model).__name__} from {args.model}"
    name = args.aligner or "dtw"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=PluginWarning)
        spec = get_registry().get(name)
    params = _parse_params(args.param)
    if name == "dtw" and not params:
        return None, "dtw"
    for attribute, flag in _DTW_ONLY:
        if getattr(args, attribute) not in (None, False):
            raise InvalidInputError(f"{flag} is an option of --aligner dtw, not of {name!r}")
    if "implicit" in spec.tags:
        raise InvalidInputError(
            f"aligner {name!r} learns its alignment in training: fit it in Python, save it "
            f"with joblib.dump(aligner, 'model.pkl') and pass --model model.pkl"
        )
    aligner = spec.estimator()
    known = aligner.get_params(deep=False)
    if args.window is not None:
        if "window" not in known:
            raise InvalidInputError(f"--window: aligner {name!r} has no window parameter")
        params["window"] = args.window
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidInputError(
            f"--param {unknown[0]}: aligner {name!r} has no such parameter; its parameters "
            f"are {', '.join(sorted(known))}"
        )
    aligner.set_params(**params)
    if hasattr(aligner, "_parameter_constraints"):
        from .core.params import check_estimator_params

        check_estimator_params(aligner)  # align() of an unfitted aligner may not check them
    return aligner, name


def _channel_check(a, b, path_a, path_b, aligner):
    from .base import PairedAligner

    if isinstance(aligner, PairedAligner) or a.shape[1] == b.shape[1]:
        return
    raise InvalidInputError(
        f"{path_a} has {a.shape[1]} channel(s) but {path_b} has {b.shape[1]}; both sequences "
        "must have the same channels (a time or index column? pick the value columns with "
        "--columns; a decimal comma? pass --decimal ,)"
    )


def _write_rows(out, fmt, record, header, rows, report):
    """Write ``rows`` (ints/floats) as CSV under ``header``, or ``record`` as JSON."""
    import json

    handle = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
    try:
        if fmt == "json":
            json.dump(record, handle)
            handle.write("\n")
        else:
            handle.write(",".join(header) + "\n")
            for row in rows:
                handle.write(",".join(repr(value) for value in row) + "\n")
    finally:
        if handle is not sys.stdout:
            handle.close()
    if out != "-":
        print(f"wrote the {'record' if fmt == 'json' else 'rows'} to {out}", file=report)


def _format_of(args):
    if args.format is not None:
        return args.format
    return "json" if args.out is not None and args.out.lower().endswith(".json") else "csv"


def _run_align(args):
    aligner, label = _aligner_for(args)
    a, b = _read_inputs(args, args.a, args.b)
    _channel_check(a, b, args.a, args.b, aligner)
    if aligner is None:
        from .distances import dtw

        alignment = dtw(
            a,
            b,
            window=args.window,
            squared=args.squared,
            step_pattern=args.step_pattern or "symmetric1",
            open_begin=args.open_begin,
            open_end=args.open_end,
        )
        if args.squared:
            kind = "summed squared cost"
        elif args.step_pattern in (None, "symmetric1"):
            kind = "square root of the summed squared cost"
        else:
            kind = f"square root of the {args.step_pattern} step pattern's weighted cost"
    else:
        alignment = aligner.align(a, b)
        kind = f"as {type(aligner).__name__}.align defines it"
    # With --out - the output is standard output, so the summary goes to standard error.
    report = sys.stderr if args.out == "-" else sys.stdout
    if label != "dtw":
        print(f"aligner: {label}", file=report)
    print(f"a: {args.a} ({_shape_text(a)})", file=report)
    print(f"b: {args.b} ({_shape_text(b)})", file=report)
    if aligner is None:
        print(f"window: {_describe_window(args.window, len(a), len(b))}", file=report)
        if args.step_pattern not in (None, "symmetric1"):
            print(f"step pattern: {args.step_pattern}", file=report)
        if args.open_begin or args.open_end:
            ends = [n for n, on in (("begin", args.open_begin), ("end", args.open_end)) if on]
            print(f"open {' and '.join(ends)}", file=report)
    print(f"distance: {alignment.distance!r} ({kind})", file=report)
    print(f"path length: {len(alignment)}", file=report)
    if args.plot is not None:
        _save_figure(args.plot, alignment, a, b)
        print(f"wrote the figure to {args.plot}", file=report)
    if args.out is not None:
        record = {
            "aligner": label,
            "a": str(args.a),
            "b": str(args.b),
            "distance": alignment.distance,
            "path": alignment.path.tolist(),
        }
        _write_rows(args.out, _format_of(args), record, ("i", "j"), alignment.path.tolist(), report)
    return 0


def _run_pairwise(args):
    from .distances import pairwise_distances
    from .validation import check_window

    sequences = _read_inputs(args, *args.files)
    channels = sequences[0].shape[1]
    for path, sequence in zip(args.files, sequences):
        if sequence.shape[1] != channels:
            raise InvalidInputError(
                f"{path} has {sequence.shape[1]} channel(s) but {args.files[0]} has {channels}; "
                "every sequence must have the same channels"
            )
    check_window(args.window)
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise InvalidInputError(f"--out {args.out}: write the matrix to a .npy or .csv file")
    n = len(sequences)
    # pairwise_distances draws the bar on stderr as blocks of rows finish (Ctrl-C stops
    # between blocks, within a second or so).
    distances = pairwise_distances(
        sequences,
        window=args.window,
        squared=args.squared,
        n_jobs=args.n_jobs,
        verbose=not args.quiet,
    )
    if suffix == ".npy":
        np.save(args.out, distances)
    else:
        np.savetxt(args.out, distances, delimiter=",", fmt="%.17g")
    print(f"{n} sequences, {n * (n - 1) // 2} pairs: wrote the {n} x {n} matrix to {args.out}")
    return 0


def _run_search(args):
    from .distances import subsequence_search

    query, series = _read_inputs(args, args.query, args.series)
    if query.shape[1] != series.shape[1]:
        raise InvalidInputError(
            f"{args.query} has {query.shape[1]} channel(s) but {args.series} has "
            f"{series.shape[1]}; the query and the series must have the same channels"
        )
    matches = subsequence_search(
        query,
        series,
        k=args.k,
        window=args.window,
        exclusion_zone=args.exclusion_zone,
        znormalize=args.znormalize,
        squared=args.squared,
    )
    report = sys.stderr if args.out == "-" else sys.stdout
    print(f"query: {args.query} ({_shape_text(query)})", file=report)
    print(f"series: {args.series} ({_shape_text(series)})", file=report)
    print(f"{len(matches)} match{'es' if len(matches) != 1 else ''}:", file=report)
    print(f"  {'RANK':>4}  {'START':>8}  {'END':>8}  DISTANCE", file=report)
    for rank, match in enumerate(matches, start=1):
        print(f"  {rank:>4}  {match.start:>8}  {match.end:>8}  {match.distance!r}", file=report)
    if args.out is not None:
        rows = [(rank, m.start, m.end, m.distance) for rank, m in enumerate(matches, start=1)]
        record = {
            "query": str(args.query),
            "series": str(args.series),
            "matches": [
                {"rank": rank, "start": start, "end": end, "distance": distance}
                for rank, start, end, distance in rows
            ],
        }
        _write_rows(
            args.out, _format_of(args), record, ("rank", "start", "end", "distance"), rows, report
        )
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


def _add_reading(parser):
    group = parser.add_argument_group("reading text files")
    group.add_argument(
        "--columns",
        type=lambda text: [token.strip() for token in text.split(",") if token.strip()],
        metavar="COLS",
        help="the columns of text files to read, comma-separated: 1-based numbers or header "
        "names (default: all; .npy files are read whole), e.g. --columns 2,3 or --columns x,y",
    )
    group.add_argument(
        "--delimiter",
        choices=sorted(_DELIMITERS),
        metavar="D",
        help="column separator: , ; tab or whitespace (default: the first of ; tab , found)",
    )
    group.add_argument(
        "--decimal", default=".", choices=(".", ","), help="decimal mark (default: .)"
    )


def _add_output(parser, what):
    parser.add_argument(
        "--out", metavar="PATH", help=f"write {what} to PATH; '-' is standard output"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "json"),
        help="format of --out (default: json for a .json file, else csv)",
    )


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
        description="Align sequence A with sequence B, by DTW or by any registered aligner "
        "that aligns a pair without training (--aligner), or with a fitted, pickled one "
        "(--model). Each file is a .npy array or a text file with one row per timepoint and "
        "one column per channel (a header row is skipped).",
    )
    align.add_argument("a", metavar="A", help="first sequence (.csv, .txt or .npy)")
    align.add_argument("b", metavar="B", help="second sequence")
    align.add_argument(
        "--aligner", metavar="NAME", help="a registered aligner (alignkit list; default: dtw)"
    )
    align.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="a constructor parameter of --aligner (repeatable), e.g. --param n_components=2",
    )
    align.add_argument(
        "--model", metavar="FILE", help="a fitted aligner saved with joblib.dump (or pickle)"
    )
    align.add_argument("--window", type=_window_type, default=None, metavar="W", help=window_help)
    align.add_argument(
        "--step-pattern",
        metavar="NAME",
        help="a dtw-python step pattern for dtw, e.g. symmetric2, asymmetric (default: symmetric1)",
    )
    align.add_argument(
        "--open-begin", action="store_true", help="dtw: a may match a suffix of b's start"
    )
    align.add_argument("--open-end", action="store_true", help="dtw: a may match a prefix of b")
    align.add_argument(
        "--squared",
        action="store_true",
        help="dtw: report the summed squared cost instead of its square root",
    )
    _add_reading(align)
    _add_output(align, "the path (pairs i,j)")
    align.add_argument("--plot", metavar="PATH", help="draw the alignment to an image file")
    align.set_defaults(handler=_run_align)

    pairwise = commands.add_parser(
        "pairwise",
        help="DTW distances between every two of several sequences",
        description="Compute the matrix of DTW distances between every two of the sequences "
        "in FILES and write it to a .npy or .csv file, with a progress bar on stderr.",
    )
    pairwise.add_argument("files", nargs="+", metavar="FILE", help="sequences (.csv, .txt or .npy)")
    pairwise.add_argument(
        "--out", required=True, metavar="PATH", help="where to write the matrix (.npy or .csv)"
    )
    pairwise.add_argument(
        "--window", type=_window_type, default=None, metavar="W", help=window_help
    )
    pairwise.add_argument("--squared", action="store_true", help="summed squared costs")
    pairwise.add_argument(
        "--n-jobs", type=int, default=None, metavar="N", help="parallel workers (-1: all cores)"
    )
    pairwise.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_reading(pairwise)
    pairwise.set_defaults(handler=_run_pairwise)

    search = commands.add_parser(
        "search",
        help="the best DTW matches of a query inside a long series",
        description="Find the k best non-overlapping DTW matches of QUERY inside SERIES "
        "(alignkit.subsequence_search).",
    )
    search.add_argument("query", metavar="QUERY", help="the short sequence to look for")
    search.add_argument("series", metavar="SERIES", help="the long sequence to search")
    search.add_argument("-k", type=int, default=1, help="number of matches (default: 1)")
    search.add_argument("--window", type=_window_type, default=None, metavar="W", help=window_help)
    search.add_argument(
        "--exclusion-zone",
        type=int,
        default=None,
        metavar="Z",
        help="timepoints between two matches' starts (default: half the query's length)",
    )
    search.add_argument(
        "--znormalize", action="store_true", help="z-normalise the query and every window"
    )
    search.add_argument("--squared", action="store_true", help="summed squared costs")
    _add_reading(search)
    _add_output(search, "the matches (rank,start,end,distance)")
    search.set_defaults(handler=_run_search)

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
    except KeyboardInterrupt:
        print("alignkit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback: one line, and how to get the traceback
        if os.environ.get("ALIGNKIT_DEBUG"):
            raise
        print(
            f"alignkit: error: {type(exc).__name__}: {exc} (an unexpected error: please report "
            "it; ALIGNKIT_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 2
