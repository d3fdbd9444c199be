"""Tests of the ``alignkit`` command, run in-process through ``alignkit.cli.main``."""

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import alignkit
from alignkit.cli import main, parse_window
from alignkit.core.registry import reset_registry
from alignkit.exceptions import WindowError
from alignkit.metrics import path_distance

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(1)
    a = np.cumsum(rng.standard_normal((30, 2)), axis=0)
    b = np.cumsum(rng.standard_normal((42, 2)), axis=0)
    return a, b


def _write_csv(path, array, header=None, sep=","):
    lines = [header] if header else []
    lines += [sep.join(f"{value:.17g}" for value in row) for row in array]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _read_path(path):
    lines = Path(path).read_text().splitlines()
    assert lines[0] == "i,j"
    return np.array([[int(v) for v in line.split(",")] for line in lines[1:]])


def _printed(out, key):
    return re.search(rf"^{key}: (\S+)", out, re.MULTILINE).group(1)


def test_align_csv_files_with_header_and_whitespace(tmp_path, capsys, pair):
    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a, header="x,y")
    file_b = _write_csv(tmp_path / "b.txt", b, sep="  ")
    out_file = tmp_path / "path.csv"
    code = main(["align", file_a, file_b, "--window", "5", "--out", str(out_file)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    expected = alignkit.dtw(a, b, window=5)
    np.testing.assert_array_equal(_read_path(out_file), expected.path)
    assert float(_printed(captured.out, "distance")) == pytest.approx(expected.distance)
    assert int(_printed(captured.out, "path length")) == len(expected.path)


@pytest.mark.parametrize(
    ("text", "window"),
    [("0.25", 0.25), ("itakura:1.5", ("itakura", 1.5)), ("none", None)],
)
def test_align_npy_files_with_squared_cost(tmp_path, capsys, pair, text, window):
    a, b = pair[0][:, 0], pair[1][:, 0]  # 1-D arrays: one channel each
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    out_file = tmp_path / "path.csv"
    argv = [
        "align",
        str(tmp_path / "a.npy"),
        str(tmp_path / "b.npy"),
        "--squared",
        "--window",
        text,
        "--out",
        str(out_file),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    expected = alignkit.dtw(a, b, window=window, squared=True)
    np.testing.assert_array_equal(_read_path(out_file), expected.path)
    assert float(_printed(out, "distance")) == pytest.approx(expected.distance)


def test_align_out_dash_writes_the_path_to_standard_output(tmp_path, capsys, pair):
    # Issue 13, item 13: "--out -" wrote a file named "-".
    a, b = pair
    argv = ["align", _write_csv(tmp_path / "a.csv", a), _write_csv(tmp_path / "b.csv", b)]
    assert main([*argv, "--out", "-"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0] == "i,j"
    path = np.array([[int(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(path, alignkit.dtw(a, b).path)
    assert "distance:" in captured.err
    assert not (tmp_path / "-").exists() and not Path("-").exists()


def test_align_plot_with_an_unknown_format_is_a_clear_error(tmp_path, capsys, pair):
    a, b = pair
    argv = ["align", _write_csv(tmp_path / "a.csv", a), _write_csv(tmp_path / "b.csv", b)]
    assert main([*argv, "--plot", str(tmp_path / "out.xyz")]) == 2
    err = capsys.readouterr().err
    assert "unknown image format 'xyz'" in err and "png" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.xyz").exists()


def test_align_plot_writes_a_png(tmp_path, capsys, pair):
    a, b = pair
    figure = tmp_path / "fig.png"
    argv = [
        "align",
        _write_csv(tmp_path / "a.csv", a),
        _write_csv(tmp_path / "b.csv", b),
        "--plot",
        str(figure),
    ]
    assert main(argv) == 0
    assert str(figure) in capsys.readouterr().out
    assert figure.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("0.1", 0.1),
        ("1e-1", 0.1),
        (" ITAKURA:2 ", ("itakura", 2.0)),
        ("sakoe_chiba:3", ("sakoe_chiba", 3)),
        ("None", None),
    ],
)
def test_parse_window_forms(text, expected):
    assert parse_window(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("abc", "invalid window"),
        ("1.5", r"\[0, 1\]"),
        ("-2", ">= 0"),
        ("itakura:0.5", ">= 1"),
        ("spline:3", "unknown window kind"),
    ],
)
def test_bad_window_exits_2_naming_it(tmp_path, capsys, pair, text, match):
    with pytest.raises(WindowError, match=match):
        parse_window(text)
    a, b = pair
    argv = [
        "align",
        _write_csv(tmp_path / "a.csv", a),
        _write_csv(tmp_path / "b.csv", b),
        "--window",
        text,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--window" in err and re.search(match, err)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("t\n1.0\n2.0\nnan\n4.0\n", "nan at timepoint 2"),
        ("1,2\n3,oops\n", "line 2, column 2 holds 'oops'"),
        ("1,2\n3,\n", "line 2, column 2 is empty"),
        ("1,2\n3\n", "line 2 has 1 columns"),
        ("x,y\n\n", "no rows of numbers"),
    ],
)
def test_invalid_file_content_exits_2_naming_file(tmp_path, capsys, pair, content, match):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    good = _write_csv(tmp_path / "good.csv", pair[0][:, :1])
    assert main(["align", str(bad), good]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alignkit: error: ") and str(bad) in err
    assert match in err.lower() and "Traceback" not in err


def test_unreadable_files_exit_2(tmp_path, capsys, pair):
    good = _write_csv(tmp_path / "good.csv", pair[0])
    missing = tmp_path / "missing.csv"
    assert main(["align", str(missing), good]) == 2
    assert f"{missing}: No such file or directory" in capsys.readouterr().err

    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["align", good, str(pickled)]) == 2
    assert "not a readable .npy array" in capsys.readouterr().err

    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 3, 4)))
    assert main(["align", good, str(cube)]) == 2
    assert "3 dimensions" in capsys.readouterr().err


def test_channel_mismatch_exits_2(tmp_path, capsys, pair):
    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b[:, :1])
    assert main(["align", file_a, file_b]) == 2
    assert "has 2 channel(s) but" in capsys.readouterr().err


def test_demo_prints_summary_and_writes_png(tmp_path, capsys):
    from alignkit.datasets import make_ecg_pair

    figure = tmp_path / "demo.png"
    assert main(["demo", "--plot", str(figure), "--window", "0.1"]) == 0
    out = capsys.readouterr().out
    a, b, true_path = make_ecg_pair()
    alignment = alignkit.dtw(a, b, window=0.1)
    dtw_error = path_distance(alignment.path, true_path)
    uniform_error = path_distance(alignkit.UniformAligner().align(a, b).path, true_path)
    assert re.search(rf"DTW distance\s+{alignment.distance:.4f}", out)
    assert re.search(rf"DTW\s+{dtw_error:.2f}", out)
    assert re.search(rf"uniform time warping\s+{uniform_error:.2f}", out)
    assert dtw_error < uniform_error  # the point of the demo: warping beats resampling
    assert f"{len(alignment.path)} matched pairs" in out
    assert str(figure) in out
    data = figure.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


@pytest.fixture
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def test_list_shows_aligners_and_failed_plugins(tmp_path, capsys, monkeypatch, fresh_registry):
    # A distribution whose entry point names a module that does not exist.
    dist_info = tmp_path / "brokenplug-9.9.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 9.9\n")
    (dist_info / "entry_points.txt").write_text(
        "[alignkit]\nbroken = alignkit_no_such_module_xyz\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+dtw\s+DTWAligner\s+built-in\s+\S", out, re.MULTILINE)
    assert re.search(r"^\s+uniform\s+UniformAligner\s+built-in\s+\S", out, re.MULTILINE)
    try:
        version = importlib.metadata.version("alignkit-shapedtw")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is not None:
        assert re.search(
            rf"^\s+shapedtw\s+\w+\s+alignkit-shapedtw {re.escape(version)}\s", out, re.MULTILINE
        )
    assert re.search(
        r"broken \(brokenplug 9\.9\): ModuleNotFoundError: .*"
        r"alignkit_no_such_module_xyz",
        out,
    )


def test_usage_errors_and_help_return_exit_codes(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
    assert main(["align", "--help"]) == 0
    assert "--window" in capsys.readouterr().out


def test_installed_console_script_reports_version():
    script = shutil.which("alignkit", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the alignkit console script is not installed next to this Python")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"alignkit {importlib.metadata.version('alignkit')}"


# --- issue 16, item 2: any aligner, text-file options, JSON, pairwise and search --------------


def test_align_with_a_registered_aligner_and_params(tmp_path, capsys, pair):
    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)
    out_file = tmp_path / "path.csv"
    argv = ["align", file_a, file_b, "--aligner", "uniform", "--param", "n_timepoints=50"]
    assert main([*argv, "--out", str(out_file)]) == 0
    captured = capsys.readouterr()
    expected = alignkit.UniformAligner(n_timepoints=50).align(a, b)
    np.testing.assert_array_equal(_read_path(out_file), expected.path)
    assert float(_printed(captured.out, "distance")) == pytest.approx(expected.distance)
    assert "aligner: uniform" in captured.out


def test_align_ctw_takes_sequences_with_different_channels(tmp_path, capsys, pair):
    a, b = pair
    wide = np.column_stack([b, np.random.default_rng(2).standard_normal(len(b))])  # 3 channels
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", wide)
    out_file = tmp_path / "path.json"
    argv = ["align", file_a, file_b, "--aligner", "ctw", "--param", "n_components=1"]
    assert main([*argv, "--out", str(out_file)]) == 0, capsys.readouterr().err
    import json

    record = json.loads(out_file.read_text())
    expected = alignkit.CTWAligner(n_components=1).align(a, wide)
    assert record["aligner"] == "ctw"
    np.testing.assert_array_equal(np.array(record["path"]), expected.path)
    assert record["distance"] == pytest.approx(expected.distance)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--aligner", "soft_attention"], r"learns its alignment in training.*--model"),
        (["--aligner", "uniform", "--window", "3"], r"--window: aligner 'uniform' has no window"),
        (["--aligner", "uniform", "--param", "bogus=1"], r"--param bogus: aligner 'uniform'"),
        (["--aligner", "uniform", "--param", "n_timepoints"], r"NAME=VALUE"),
        (["--aligner", "uniform", "--squared"], r"--squared is an option of --aligner dtw"),
        (["--aligner", "nope"], r"no aligner is registered under the name 'nope'"),
        (["--aligner", "uniform", "--param", "n_timepoints=0"], r"n_timepoints"),
    ],
)
def test_align_aligner_errors_are_one_line(tmp_path, capsys, pair, extra, match):
    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)
    assert main(["align", file_a, file_b, *extra]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_align_with_a_fitted_pickled_model(tmp_path, capsys, pair):
    import joblib

    a, b = pair
    model = alignkit.DTWAligner(window=3).fit([a, b])
    joblib.dump(model, tmp_path / "model.pkl")
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)
    out_file = tmp_path / "path.csv"
    argv = ["align", file_a, file_b, "--model", str(tmp_path / "model.pkl")]
    assert main([*argv, "--out", str(out_file)]) == 0
    captured = capsys.readouterr()
    assert "DTWAligner from" in captured.out
    np.testing.assert_array_equal(_read_path(out_file), model.align(a, b).path)

    joblib.dump({"not": "an aligner"}, tmp_path / "dict.pkl")
    assert main(["align", file_a, file_b, "--model", str(tmp_path / "dict.pkl")]) == 2
    assert "holds a dict, which has no align" in capsys.readouterr().err
    (tmp_path / "junk.pkl").write_bytes(b"\x80\x05junk")
    assert main(["align", file_a, file_b, "--model", str(tmp_path / "junk.pkl")]) == 2
    assert "is not a pickled aligner" in capsys.readouterr().err


def test_text_columns_delimiter_and_decimal_comma(tmp_path, capsys, pair):
    a, b = pair
    rows = ["time;x;y"] + [f"{t};{x:.6f};{y:.6f}".replace(".", ",") for t, (x, y) in enumerate(a)]
    (tmp_path / "eu.csv").write_text("\n".join(rows) + "\n")
    np.save(tmp_path / "b.npy", b)
    rounded = np.round(a, 6)
    out_file = tmp_path / "path.csv"
    for columns in ("x,y", "2,3"):
        argv = ["align", str(tmp_path / "eu.csv"), str(tmp_path / "b.npy"), "--decimal", ","]
        assert main([*argv, "--columns", columns, "--out", str(out_file)]) == 0
        capsys.readouterr()
        np.testing.assert_array_equal(_read_path(out_file), alignkit.dtw(rounded, b).path)
    # Without --decimal the comma is named in the error; a time column in the error's hint.
    argv = ["align", str(tmp_path / "eu.csv"), str(tmp_path / "b.npy")]
    assert main(argv) == 2
    assert "pass --decimal ," in capsys.readouterr().err
    assert main([*argv, "--decimal", ","]) == 2
    err = capsys.readouterr().err
    assert "has 3 channel(s)" in err and "--columns" in err
    assert main([*argv, "--decimal", ",", "--columns", "z"]) == 2
    assert "has no column 'z'" in capsys.readouterr().err
    # An explicit delimiter: whitespace-separated with a tab.
    (tmp_path / "tab.txt").write_text("\n".join(f"{x:.17g}\t{y:.17g}" for x, y in a) + "\n")
    argv = ["align", str(tmp_path / "tab.txt"), str(tmp_path / "b.npy"), "--delimiter", "tab"]
    assert main([*argv, "--out", str(out_file)]) == 0
    np.testing.assert_array_equal(_read_path(out_file), alignkit.dtw(a, b).path)


def test_dtw_options_step_pattern_and_open_end(tmp_path, capsys, pair):
    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a[:15])
    file_b = _write_csv(tmp_path / "b.csv", b)
    out_file = tmp_path / "path.csv"
    argv = ["align", file_a, file_b, "--step-pattern", "asymmetric", "--open-end"]
    assert main([*argv, "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    expected = alignkit.dtw(a[:15], b, step_pattern="asymmetric", open_end=True)
    np.testing.assert_array_equal(_read_path(out_file), expected.path)
    assert float(_printed(out, "distance")) == pytest.approx(expected.distance)
    assert main(["align", file_a, file_b, "--step-pattern", "bogus"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_json_to_standard_output(tmp_path, capsys, pair):
    import json

    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)
    assert main(["align", file_a, file_b, "--out", "-", "--format", "json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    expected = alignkit.dtw(a, b)
    assert record["path"] == expected.path.tolist()
    assert record["distance"] == expected.distance
    assert "distance:" in captured.err  # the summary went to standard error


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_pairwise_writes_the_matrix_with_progress(tmp_path, capsys, suffix):
    rng = np.random.default_rng(3)
    sequences = [np.cumsum(rng.standard_normal(20 + k)) for k in range(7)]
    files = []
    for k, sequence in enumerate(sequences):
        np.save(tmp_path / f"s{k}.npy", sequence)
        files.append(str(tmp_path / f"s{k}.npy"))
    out_file = tmp_path / f"D{suffix}"
    assert main(["pairwise", *files, "--window", "4", "--out", str(out_file)]) == 0
    captured = capsys.readouterr()
    matrix = np.load(out_file) if suffix == ".npy" else np.loadtxt(out_file, delimiter=",")
    expected = np.array(
        [[alignkit.dtw_distance(x, y, window=4) for y in sequences] for x in sequences]
    )
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=0)
    assert "21/21 pairs 100%" in captured.err
    assert "7 sequences, 21 pairs" in captured.out
    assert main(["pairwise", *files, "--out", str(tmp_path / "D.txt")]) == 2
    assert ".npy or .csv" in capsys.readouterr().err
    np.save(tmp_path / "wide.npy", np.zeros((20, 2)))
    assert main(["pairwise", files[0], str(tmp_path / "wide.npy"), "--out", str(out_file)]) == 2
    assert "has 2 channel(s)" in capsys.readouterr().err


def test_pairwise_quiet_prints_no_bar_and_the_bar_counts_every_pair(tmp_path, capsys):
    rng = np.random.default_rng(4)
    files = []
    for k in range(12):
        np.save(tmp_path / f"s{k}.npy", np.cumsum(rng.standard_normal(15)))
        files.append(str(tmp_path / f"s{k}.npy"))
    out_file = str(tmp_path / "D.npy")
    assert main(["pairwise", *files, "--out", out_file, "--quiet", "--n-jobs", "2"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["pairwise", *files, "--out", out_file, "--n-jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err  # standard error is not a terminal here: lines, not redraws
    lines = err.splitlines()
    counts = [int(line.split()[2].split("/")[0]) for line in lines]
    assert counts == sorted(counts) and lines[-1].startswith("pairwise DTW 66/66 pairs 100%")


def test_search_prints_and_writes_the_matches(tmp_path, capsys):
    rng = np.random.default_rng(5)
    series = np.cumsum(rng.standard_normal(600))
    query = series[300:340] + 0.01 * rng.standard_normal(40)
    np.save(tmp_path / "series.npy", series)
    np.save(tmp_path / "query.npy", query)
    out_file = tmp_path / "m.csv"
    argv = ["search", str(tmp_path / "query.npy"), str(tmp_path / "series.npy"), "-k", "3"]
    assert main([*argv, "--window", "4", "--out", str(out_file)]) == 0
    capsys.readouterr()
    expected = alignkit.subsequence_search(query, series, k=3, window=4)
    lines = out_file.read_text().splitlines()
    assert lines[0] == "rank,start,end,distance"
    for line, (rank, match) in zip(lines[1:], enumerate(expected, start=1), strict=True):
        fields = line.split(",")
        assert [int(fields[0]), int(fields[1]), int(fields[2])] == [rank, match.start, match.end]
        assert float(fields[3]) == match.distance
    assert main([*argv, "-k", "0"]) == 2
    assert "'k'" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_and_interrupts_exit_130(
    tmp_path, capsys, pair, monkeypatch
):
    import alignkit.distances

    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(alignkit.distances, "dtw", broken)
    monkeypatch.delenv("ALIGNKIT_DEBUG", raising=False)
    assert main(["align", file_a, file_b]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alignkit: error: RuntimeError: kaboom") and err.count("\n") == 1
    monkeypatch.setenv("ALIGNKIT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="kaboom"):
        main(["align", file_a, file_b])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(alignkit.distances, "dtw", interrupted)
    assert main(["align", file_a, file_b]) == 130
    assert capsys.readouterr().err == "alignkit: interrupted\n"


def test_align_with_a_plugin_aligner(tmp_path, capsys, pair):
    pytest.importorskip("alignkit_shapedtw")  # the plugin of plugins/shapedtw, installed by make
    from alignkit_shapedtw import ShapeDTWAligner

    a, b = pair
    file_a = _write_csv(tmp_path / "a.csv", a)
    file_b = _write_csv(tmp_path / "b.csv", b)
    out_file = tmp_path / "path.csv"
    assert main(["align", file_a, file_b, "--aligner", "shapedtw", "--out", str(out_file)]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(_read_path(out_file), ShapeDTWAligner().align(a, b).path)
