"""Generated bad input for every public name of ``alignkit.__all__`` (issue 13, "Must show").

Each test draws arguments from the strategies below: wrong dtypes (object, text,
complex, bool, int, float16, float32), wrong shapes (0-d, empty, no channels, an
extra dimension, mismatched channels), NaN and infinities at drawn positions,
huge (1e154 .. 1e308) and tiny (1e-308) magnitudes, masked, strided, Fortran
ordered and read-only arrays, lists, and windows from -10 to 2**63 as ints,
floats, ``Fraction`` values and bools. Every draw knows what a correct library
must do with it:

- ``"must"``: a valid (if unusual) input, read as the float64 array ``clean``;
  the call must return the value of a brute-force reference written here or in
  ``tests/_reference.py`` (a plain O(nm) DP, or an enumeration of every path);
- ``"never"``: bad input; the call must raise an :class:`AlignkitError` whose
  message names the argument;
- ``"may"``: huge magnitudes; the library may refuse them up front (naming the
  argument) or return the reference value, but where the squared cost
  overflows (the reference is not finite) it must refuse.

Nothing else is allowed: another exception type is a crash and fails the test,
and a returned value must be finite. Every example runs in process: the inputs
are ones the library must validate before any kernel sees them.
"""

import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from _reference import all_paths, as_2d, band_cells, local_cost, reference_backtrack, reference_dtw
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import alignkit
from alignkit.exceptions import AlignkitError

# Names of alignkit.__all__ that take no data to validate, each with its reason.
EXCLUDED = {
    "__version__": "a string, not a callable",
    "config_context": "configuration, not a computation over data (tests/test_config.py)",
    "get_config": "configuration getter, takes no argument",
    "set_config": "configuration setter, not a computation over data",
    "hookimpl": "pluggy's hook marker for plugin authors",
    "get_aligner": "registry lookup by name (tests/core/test_registry.py)",
    "list_aligners": "registry listing (tests/core/test_registry.py)",
    "AlignerSpec": "registry record describing a plugin aligner, not a computation",
    "Alignment": "result class, built by alignkit from validated output",
    "AttentionAlignment": "result class, built by alignkit from validated output",
    "CTWAlignment": "result class, built by alignkit from validated output",
    "MultiAlignment": "result class, built by alignkit from validated output",
    "Match": "result class of subsequence_search",
    "StepPattern": "a step-pattern definition (a parameter), tested in test_step_patterns.py",
}

# ALIGNKIT_PROPERTY_EXAMPLES raises the count for a deeper local search.
_EXAMPLES = int(os.environ.get("ALIGNKIT_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=max(_EXAMPLES // 4, 8))

# --------------------------------------------------------------------------- strategies


@dataclass
class Arg:
    """A drawn argument: what the library receives and what it must make of it."""

    value: object
    clean: object  # the float64 reading of a valid input (None when it must be refused)
    accept: str  # "must", "may" or "never"
    label: str

    def __repr__(self):
        return f"Arg({self.label}, accept={self.accept}, value={self.value!r})"


_BASE = st.integers(-8, 8).map(lambda k: k / 8.0)  # exact binary fractions in [-1, 1]

_KINDS = (
    "float64",
    "list",
    "int",
    "bool",
    "float16",
    "float32",
    "object_numbers",
    "object_text",
    "text",
    "complex",
    "zero_d",
    "empty",
    "no_channels",
    "extra_dim",
    "nan",
    "inf",
    "huge",
    "tiny",
    "masked",
    "masked_hole",
    "strided",
    "fortran",
    "read_only",
)


def _readonly(array):
    array = np.array(array)
    array.flags.writeable = False
    return array


@st.composite
def sequences(
    draw, name, n_channels=None, kinds=_KINDS, max_timepoints=4, min_timepoints=None, values=_BASE
):
    """One sequence argument ``(n_timepoints, n_channels)``, valid or not.

    ``min_timepoints`` defaults to the number of channels (the layout the
    library reads without being told); ``values`` draws the entries.
    """
    channels = n_channels if n_channels is not None else draw(st.integers(1, 2))
    wrong_channels = n_channels is not None and draw(st.integers(0, 9)) == 0
    if wrong_channels:
        channels = n_channels + 1
    shortest = channels if min_timepoints is None else min_timepoints
    length = draw(st.integers(shortest, max(max_timepoints, shortest)))
    size = length * channels
    base = np.array(draw(st.lists(values, min_size=size, max_size=size)), dtype=np.float64)
    base = base.reshape(length, channels)
    kind = draw(st.sampled_from(kinds))
    arg = _perturb(draw, base, kind)
    if wrong_channels:
        arg = Arg(arg.value, None, "never", f"{arg.label}+wrong_channels")
    return arg


def _perturb(draw, base, kind):
    """``base`` (float64, 2-D) presented as ``kind``."""
    squeeze = base.shape[1] == 1 and draw(st.booleans())
    shown = base[:, 0] if squeeze else base
    position = tuple(draw(st.integers(0, size - 1)) for size in base.shape)
    if kind == "float64":
        return Arg(shown.copy(), base, "must", kind)
    if kind == "list":
        return Arg(shown.tolist(), base, "must", kind)
    if kind == "int":
        ints = np.rint(base * 4).astype(np.int64)
        return Arg(ints[:, 0] if squeeze else ints, ints.astype(np.float64), "must", kind)
    if kind == "bool":
        flags = base > 0
        return Arg(flags[:, 0] if squeeze else flags, flags.astype(np.float64), "must", kind)
    if kind in ("float16", "float32"):
        cast = shown.astype(kind)
        return Arg(cast, as_2d(cast.astype(np.float64)), "must", kind)
    if kind == "object_numbers":
        return Arg(shown.astype(object), base, "must", kind)
    if kind == "object_text":
        objects = shown.astype(object)
        objects[position if not squeeze else position[0]] = "x"
        return Arg(objects, None, "never", kind)
    if kind == "text":
        return Arg(shown.astype(str), None, "never", kind)
    if kind == "complex":
        return Arg(shown.astype(np.complex128), None, "never", kind)
    if kind == "zero_d":
        return Arg(np.float64(base[0, 0]), None, "never", kind)
    if kind == "empty":
        return Arg(np.zeros((0, base.shape[1])), None, "never", kind)
    if kind == "no_channels":
        return Arg(np.zeros((base.shape[0], 0)), None, "never", kind)
    if kind == "extra_dim":
        return Arg(base[None], None, "never", kind)
    if kind in ("nan", "inf"):
        bad = base.copy()
        bad[position] = np.nan if kind == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
        return Arg(bad[:, 0] if squeeze else bad, None, "never", f"{kind}@{position}")
    if kind == "huge":
        scale = draw(st.floats(1e154, 1e308))
        big = base * scale
        return Arg(big[:, 0] if squeeze else big, big, "may", f"huge*{scale:.3g}")
    if kind == "tiny":
        small = base * 1e-308
        return Arg(small[:, 0] if squeeze else small, small, "must", kind)
    if kind == "masked":
        return Arg(np.ma.masked_array(shown, mask=False), base, "must", kind)
    if kind == "masked_hole":
        mask = np.zeros(shown.shape, dtype=bool)
        mask[position if not squeeze else position[0]] = True
        return Arg(np.ma.masked_array(shown, mask=mask), None, "never", f"{kind}@{position}")
    if kind == "strided":
        wide = np.repeat(shown, 2, axis=0)[::2]
        return Arg(wide, base, "must", kind)
    if kind == "fortran":
        return Arg(np.asfortranarray(base), base, "must", kind)
    if kind == "read_only":
        return Arg(_readonly(shown), base, "must", kind)
    raise AssertionError(kind)


@st.composite
def windows(draw):
    """A ``window`` argument and the Sakoe-Chiba radius it means (None: no constraint).

    ``clean`` is ``("full",)``, ``("radius", r)`` or ``("fraction", w)``.
    """
    kind = draw(st.sampled_from(["none", "int", "big", "numpy_int", "float", "fraction", "bool"]))
    if kind == "none":
        return Arg(None, ("full",), "must", "None")
    if kind in ("int", "big", "numpy_int"):
        value = draw(st.integers(-10, 12) if kind != "big" else st.integers(13, 2**63))
        if kind == "numpy_int":
            value = np.int64(min(value, 2**62))
        ok = value >= 0
        return Arg(value, ("radius", int(value)) if ok else None, "must" if ok else "never", kind)
    if kind == "float":
        value = draw(
            st.one_of(
                st.floats(-10, 2.0**63),
                st.floats(0, 1),
                st.sampled_from([math.nan, math.inf, -math.inf, 0.5, 1.0, 2.0**63]),
            )
        )
        ok = 0.0 <= value <= 1.0
        return Arg(value, ("fraction", value) if ok else None, "must" if ok else "never", kind)
    if kind == "fraction":
        value = Fraction(draw(st.integers(-10, 30)), draw(st.integers(1, 20)))
        ok = 0 <= value <= 1
        clean = ("fraction", float(value)) if ok else None
        return Arg(value, clean, "must" if ok else "never", kind)
    return Arg(draw(st.booleans()), None, "never", kind)


def window_mask(window, n, m):
    """The cell set a drawn window allows for an ``n`` by ``m`` problem (exact arithmetic)."""
    if window is None or window[0] == "full":
        return np.ones((n, m), dtype=bool)
    if window[0] == "radius":
        radius = window[1]
    else:
        radius = math.floor(Fraction(window[1]) * max(n, m) + Fraction(1, 2))
    return band_cells(n, m, min(radius, max(n, m)))


@st.composite
def collections(
    draw, name="X", min_size=1, max_size=3, kinds=_KINDS, max_timepoints=4, n_channels=None
):
    """A collection argument: a list of sequences, a 2-D array or a 3-D array.

    Returns the :class:`Arg` and, for a list, the :class:`Arg` of each item.
    """
    forms = ["list", "list", "array2d", "array3d", "bad"]
    if n_channels is not None and n_channels > 1:
        forms.remove("array2d")
    form = draw(st.sampled_from(forms))
    if form == "bad":
        value = draw(st.sampled_from([[], np.zeros((0, 3)), np.zeros(3), np.zeros((1, 2, 2, 2))]))
        return Arg(value, None, "never", "bad_collection"), []
    size = draw(st.integers(min_size, max_size))
    if form == "list":
        first = draw(sequences(name, n_channels, kinds=kinds, max_timepoints=max_timepoints))
        channels = np.asarray(first.clean).shape[1] if first.clean is not None else None
        items = [first] + [
            draw(sequences(name, n_channels=channels, kinds=kinds, max_timepoints=max_timepoints))
            for _ in range(size - 1)
        ]
        accept = _combine(items)
        clean = [item.clean for item in items] if accept != "never" else None
        return Arg([item.value for item in items], clean, accept, "list"), items
    channels = 1 if form == "array2d" else n_channels or draw(st.integers(1, 2))
    length = draw(st.integers(channels, max(channels, max_timepoints)))
    base = np.array(
        draw(st.lists(_BASE, min_size=size * length * channels, max_size=size * length * channels))
    )
    base = base.reshape(size, length, channels)
    kind = draw(st.sampled_from(["float64", "nan", "huge", "read_only", "float32", "masked_hole"]))
    array = base[:, :, 0] if form == "array2d" else base
    if kind == "float64":
        return Arg(array, list(base), "must", form), []
    if kind == "float32":
        cast = array.astype(np.float32)
        return Arg(cast, list(as_3d(cast).astype(np.float64)), "must", form), []
    if kind == "read_only":
        return Arg(_readonly(array), list(base), "must", form), []
    if kind == "huge":
        scale = draw(st.floats(1e154, 1e308))
        return Arg(array * scale, list(base * scale), "may", form + "+huge"), []
    position = tuple(draw(st.integers(0, s - 1)) for s in array.shape)
    if kind == "nan":
        bad = array.copy()
        bad[position] = np.nan
        # Trailing all-NaN timepoints of a 3-D array are padding; keep one real value per row.
        if form == "array3d" and channels == 1 and position[1] == length - 1:
            padded = [b[: length - 1] if k == position[0] else b for k, b in enumerate(base)]
            return Arg(bad, padded, "must" if length > 1 else "never", form + "+padding"), []
        return Arg(bad, None, "never", f"{form}+nan@{position}"), []
    mask = np.zeros(array.shape, dtype=bool)
    mask[position] = True
    return Arg(np.ma.masked_array(array, mask=mask), None, "never", f"{form}+masked"), []


def as_3d(array):
    return array[:, :, None] if array.ndim == 2 else array


def _combine(args):
    accepts = {arg.accept for arg in args}
    return "never" if "never" in accepts else "may" if "may" in accepts else "must"


# --------------------------------------------------------------------------- the oracle


def names_argument(message, names):
    """True when ``message`` names one of ``names`` as an argument."""
    for name in names:
        patterns = [
            rf"^{re.escape(name)}\b",
            rf"['`\"]{re.escape(name)}['`\"]",
            rf"\b{re.escape(name)}\[",
        ]
        patterns += [rf"\b{re.escape(name)}=", rf"\b(argument|parameter) {re.escape(name)}\b"]
        patterns.append(rf"[:;] {re.escape(name)} (must|is|has|holds)\b")  # "loss: y must ..."
        patterns += [rf"\b{re.escape(name)} and \w", rf"\w and {re.escape(name)}\b"]  # "a and b"
        if len(name) > 2:
            patterns.append(rf"\b{re.escape(name)}\b")
        if any(re.search(pattern, message) for pattern in patterns):
            return True
    return False


def outcome(call, named):
    """Run ``call`` under the rules of the module docstring.

    ``named`` maps each argument name to its drawn :class:`Arg`. Returns True
    when the call returned (the caller then compares with the reference), False
    when it raised a correct alignkit error.
    """
    accept = _combine(named.values())
    suspects = [name for name, arg in named.items() if arg.accept != "must"]
    try:
        result = call()
    except AlignkitError as exc:
        assert accept != "must", f"valid input refused: {type(exc).__name__}: {exc}"
        assert names_argument(str(exc), suspects), (
            f"the message does not name any of {suspects}: {exc}"
        )
        event(f"refused: {type(exc).__name__}")
        return False, None
    event(f"returned ({accept})")
    assert accept != "never", f"bad input accepted without an error; returned {result!r}"
    return True, result


def assert_finite_close(actual, expected, what, rtol=1e-9):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert np.all(np.isfinite(expected)), (
        f"{what}: the reference overflows ({expected}), yet the library returned {actual} "
        "instead of raising"
    )
    assert np.all(np.isfinite(actual)), f"{what}: silent non-finite output {actual}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.max(np.abs(expected), initial=0.0)
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=1e-12 * scale + 1e-300, err_msg=what
    )


def ref_dtw_distance(a, b, window=None):
    a, b = as_2d(a), as_2d(b)
    with np.errstate(over="ignore", invalid="ignore"):
        return math.sqrt(reference_dtw(a, b, window_mask(window, len(a), len(b)))[-1, -1])


def ref_soft(a, b, gamma, window=None):
    """Soft-DTW by enumeration of every path: value and expected alignment matrix."""
    a, b = as_2d(a), as_2d(b)
    with np.errstate(over="ignore", invalid="ignore"):
        cost = local_cost(a, b)
    mask = window_mask(window, len(a), len(b))
    paths = [p for p in all_paths(len(a), len(b)) if mask[p[:, 0], p[:, 1]].all()]
    with np.errstate(over="ignore"):
        totals = np.array([cost[p[:, 0], p[:, 1]].sum() for p in paths])
    low = totals.min()
    if not np.isfinite(low):
        return math.inf, None
    # A path whose cost overflows has weight exp(-inf) = 0 in the soft minimum.
    paths = [p for p, total in zip(paths, totals) if np.isfinite(total)]
    totals = totals[np.isfinite(totals)]
    weights = np.exp(-(totals - low) / gamma)
    value = low - gamma * math.log(weights.sum())
    expected = np.zeros(cost.shape)
    for w, p in zip(weights / weights.sum(), paths):
        expected[p[:, 0], p[:, 1]] += w
    return value, expected


# --------------------------------------------------------------------------- functions

_PAIR_CALLS = {"dtw_distance", "dtw"}


@SETTINGS
@given(data=st.data(), function=st.sampled_from(sorted(_PAIR_CALLS)))
def test_dtw_pair(data, function):
    a = data.draw(sequences("a"), label="a")
    channels = np.asarray(a.clean).shape[1] if a.clean is not None else None
    b = data.draw(sequences("b", n_channels=channels), label="b")
    window = data.draw(windows(), label="window")
    call = getattr(alignkit, function)
    returned, result = outcome(
        lambda: call(a.value, b.value, window=window.value), {"a": a, "b": b, "window": window}
    )
    if not returned:
        return
    expected = ref_dtw_distance(a.clean, b.clean, window.clean)
    if function == "dtw_distance":
        assert_finite_close(result, expected, "dtw_distance")
        return
    assert_finite_close(result.distance, expected, "dtw().distance")
    n, m = len(as_2d(a.clean)), len(as_2d(b.clean))
    path = np.asarray(result.path)
    mask = window_mask(window.clean, n, m)
    assert mask[path[:, 0], path[:, 1]].all(), "the path leaves the window"
    with np.errstate(over="ignore"):
        along = local_cost(a.clean, b.clean)[path[:, 0], path[:, 1]].sum()
    assert_finite_close(math.sqrt(along), expected, "cost along dtw().path")


@SETTINGS
@given(data=st.data())
def test_pairwise_distances(data):
    X, _ = data.draw(collections("X"), label="X")
    window = data.draw(windows(), label="window")
    returned, result = outcome(
        lambda: alignkit.pairwise_distances(X.value, window=window.value),
        {"X": X, "window": window},
    )
    if not returned:
        return
    expected = [[ref_dtw_distance(p, q, window.clean) for q in X.clean] for p in X.clean]
    assert_finite_close(result, expected, "pairwise_distances")


_SOFT = ("soft_dtw", "soft_dtw_alignment", "soft_dtw_grad", "soft_dtw_divergence")


@SETTINGS
@given(data=st.data(), function=st.sampled_from(_SOFT))
def test_soft_dtw_family(data, function):
    a = data.draw(sequences("a", max_timepoints=3), label="a")
    channels = np.asarray(a.clean).shape[1] if a.clean is not None else None
    b = data.draw(sequences("b", n_channels=channels, max_timepoints=3), label="b")
    window = data.draw(windows(), label="window")
    gamma_arg = data.draw(
        st.one_of(
            st.sampled_from([1.0, 0.1, 2]).map(lambda g: Arg(g, float(g), "must", "gamma")),
            st.sampled_from([0.0, -1.0, math.nan, math.inf, "1", True]).map(
                lambda g: Arg(g, None, "never", "bad gamma")
            ),
        ),
        label="gamma",
    )
    named = {"a": a, "b": b, "window": window, "gamma": gamma_arg}
    call = getattr(alignkit, function)
    returned, result = outcome(
        lambda: call(a.value, b.value, gamma=gamma_arg.value, window=window.value), named
    )
    if not returned:
        return
    gamma, win = gamma_arg.clean, window.clean
    value, expected = ref_soft(a.clean, b.clean, gamma, win)
    if function == "soft_dtw":
        assert_finite_close(result, value, function, rtol=1e-7)
    elif function == "soft_dtw_alignment":
        assert_finite_close(result[0], value, function, rtol=1e-7)
        assert_finite_close(result[1], expected, function + " matrix", rtol=1e-6)
    elif function == "soft_dtw_grad":
        assert_finite_close(result[0], value, function, rtol=1e-7)
        a2, b2 = as_2d(a.clean), as_2d(b.clean)
        grad = np.einsum("ij,ijk->ik", expected, 2 * (a2[:, None, :] - b2[None, :, :]))
        assert_finite_close(result[1], grad, function + " gradient", rtol=1e-6)
    else:
        half = (
            ref_soft(a.clean, a.clean, gamma, win)[0] + ref_soft(b.clean, b.clean, gamma, win)[0]
        ) / 2
        assert_finite_close(result, value - half, function, rtol=1e-6)


@SETTINGS
@given(data=st.data())
def test_dba(data):
    X, _ = data.draw(collections("X"), label="X")
    channels = np.asarray(X.clean[0]).shape[1] if X.clean else None
    init = data.draw(sequences("init", n_channels=channels), label="init")
    window = data.draw(windows(), label="window")
    named = {"X": X, "init": init, "window": window}
    returned, result = outcome(
        lambda: alignkit.dba(X.value, n_iter=1, init=init.value, window=window.value), named
    )
    if not returned:
        return
    # One DBA step by hand: each frame of the average becomes the mean of the frames
    # matched to it, unless that raises the summed squared cost.
    start = as_2d(init.clean)
    sums, counts, before, after = np.zeros_like(start), np.zeros(len(start)), 0.0, 0.0
    for sequence in X.clean:
        with np.errstate(over="ignore", invalid="ignore"):
            acc = reference_dtw(
                sequence, start, window_mask(window.clean, len(sequence), len(start))
            )
        path = reference_backtrack(acc)
        np.add.at(sums, path[:, 1], as_2d(sequence)[path[:, 0]])
        np.add.at(counts, path[:, 1], 1)
        before += acc[-1, -1]
    step = sums / counts[:, None]
    for sequence in X.clean:
        with np.errstate(over="ignore", invalid="ignore"):
            mask = window_mask(window.clean, len(sequence), len(step))
            after += reference_dtw(sequence, step, mask)[-1, -1]
    assert np.isfinite(before), f"dba returned {result} although the summed cost overflows"
    assert_finite_close(result, step if after <= before else start, "dba after one iteration")


@FEW
@given(data=st.data())
def test_soft_dtw_barycenter(data):
    X, _ = data.draw(collections("X", max_size=2, max_timepoints=3), label="X")
    channels = np.asarray(X.clean[0]).shape[1] if X.clean else None
    init = data.draw(sequences("init", n_channels=channels, max_timepoints=3), label="init")
    returned, result = outcome(
        lambda: alignkit.soft_dtw_barycenter(X.value, init=init.value, n_iter=5),
        {"X": X, "init": init},
    )
    if not returned:
        return

    def objective(z):
        return sum(ref_soft(z, x, 1.0)[0] for x in X.clean)

    start = as_2d(init.clean)
    assert np.all(np.isfinite(result)), f"silent non-finite barycenter {result}"
    assert np.shape(result) == start.shape
    assert np.isfinite(objective(start)), "a barycenter returned for an overflowing cost"
    assert objective(result) <= objective(start) + 1e-9 * abs(objective(start)) + 1e-12


def ref_subsequence(query, series, window):
    """Cheapest DTW of ``query`` with any span ``series[s:e + 1]``, the band placed at ``s``."""
    query, series = as_2d(query), as_2d(series)
    n, m = len(query), len(series)
    if window[0] == "full":
        radius = None
    elif window[0] == "radius":
        radius = window[1]
    else:
        radius = math.floor(Fraction(window[1]) * n + Fraction(1, 2))
    best = math.inf
    for start in range(m):
        for end in range(start, m):
            rows, cols = np.ogrid[:n, : end - start + 1]
            mask = None if radius is None else np.abs(rows - cols) <= radius
            with np.errstate(over="ignore", invalid="ignore"):
                best = min(best, reference_dtw(query, series[start : end + 1], mask)[-1, -1])
    return math.sqrt(best)


@SETTINGS
@given(data=st.data())
def test_subsequence_search(data):
    query = data.draw(sequences("query", max_timepoints=3), label="query")
    channels = np.asarray(query.clean).shape[1] if query.clean is not None else None
    series = data.draw(sequences("series", n_channels=channels, max_timepoints=6), label="series")
    window = data.draw(windows(), label="window")
    named = {"query": query, "series": series, "window": window}
    returned, result = outcome(
        lambda: alignkit.subsequence_search(query.value, series.value, window=window.value), named
    )
    if not returned:
        return
    expected = ref_subsequence(query.clean, series.clean, window.clean)
    zeros = np.zeros((len(as_2d(series.clean)), 1))
    if ref_subsequence(np.zeros((len(as_2d(query.clean)), 1)), zeros, window.clean) == math.inf:
        assert result == [], f"{result} returned where the window admits no match"
        return
    assert len(result) == 1, f"no match returned, although one of cost {expected} exists"
    assert_finite_close(result[0].distance, expected, "subsequence_search best match")


@SETTINGS
@given(data=st.data())
def test_path_distance(data):
    paths = {
        name: data.draw(
            sequences(name, n_channels=2, min_timepoints=1, max_timepoints=5), label=name
        )
        for name in ("path_a", "path_b")
    }
    for name, arg in paths.items():
        if arg.label == "bool":  # a boolean path is refused (documented), not read as 0/1
            paths[name] = Arg(arg.value, None, "never", "bool")
    returned, result = outcome(
        lambda: alignkit.path_distance(paths["path_a"].value, paths["path_b"].value), paths
    )
    if not returned:
        return
    a, b = paths["path_a"].clean, paths["path_b"].clean
    with np.errstate(over="ignore", invalid="ignore"):
        gaps = [[math.hypot(*(p - q)) for q in b] for p in a]
    count = len(a) + len(b)  # divided first: the mean is finite where the sum may not be
    mean = sum(min(row) / count for row in gaps) + sum(min(col) / count for col in zip(*gaps))
    assert_finite_close(result, mean, "path_distance")


@SETTINGS
@given(data=st.data())
def test_attention_path(data):
    attention = data.draw(
        sequences("attention", min_timepoints=1, values=_BASE.map(abs)), label="attention"
    )
    if attention.accept != "never" and np.ndim(attention.value) != 2:
        attention = Arg(attention.value, None, "never", "1-D")
    negative = data.draw(st.booleans()) and attention.accept != "never"
    if negative:
        value = np.array(attention.clean)
        value[0, 0] = -0.5
        attention = Arg(value, None, "never", "negative")
    returned, result = outcome(
        lambda: alignkit.attention_path(attention.value), {"attention": attention}
    )
    if not returned:
        return
    weights = np.asarray(attention.clean)
    cost = -np.log(np.maximum(weights.T, 1e-12))
    n, m = cost.shape
    best = min(cost[p[:, 0], p[:, 1]].sum() for p in all_paths(n, m))
    path, value = result
    assert_finite_close(value, best, "attention_path cost")
    assert_finite_close(cost[path[:, 0], path[:, 1]].sum(), best, "cost along attention_path")


@SETTINGS
@given(data=st.data())
def test_upsample_attention(data):
    height, width = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    grid = (-(-height // 4), -(-width // 4))
    weights = data.draw(
        sequences("weights", n_channels=grid[0] * grid[1], min_timepoints=1), label="weights"
    )
    if weights.accept != "never" and np.ndim(weights.value) != 2:
        weights = Arg(weights.value, None, "never", "1-D")
    grid_arg = data.draw(
        st.one_of(
            st.just(Arg(grid, grid, "must", "grid")),
            st.sampled_from(
                [
                    (grid[0] + 1, grid[1]),
                    (-grid[0], grid[1]),
                    (float(grid[0]), grid[1]),
                    (grid[0],),
                    None,
                    (True, grid[1]),
                ]
            ).map(lambda g: Arg(g, None, "never", "bad grid")),
        ),
        label="grid_shape",
    )
    named = {
        "weights": weights,
        "grid_shape": grid_arg,
        "image_shape": Arg((height, width), 0, "must", ""),
    }
    returned, result = outcome(
        lambda: alignkit.upsample_attention(weights.value, grid_arg.value, (height, width)), named
    )
    if not returned:
        return
    cells = np.asarray(weights.clean)
    expected = np.zeros((len(cells), height, width))
    for row in range(height):
        for col in range(width):
            cell_rows = min(4, height - 4 * (row // 4))
            cell_cols = min(4, width - 4 * (col // 4))
            expected[:, row, col] = cells[:, (row // 4) * grid[1] + col // 4] / (
                cell_rows * cell_cols
            )
    assert_finite_close(result, expected, "upsample_attention")


# --------------------------------------------------------------------------- estimators


def _channels(collection):
    return None if collection.clean is None else as_2d(collection.clean[0]).shape[1]


def _distance_matrix(P, Q, window):
    return np.array([[ref_dtw_distance(p, q, window) for q in Q] for p in P])


def _merge(*args):
    """One argument name for several drawn values (fit's X and transform's X)."""
    accept = _combine(args)
    return Arg([a.value for a in args], None if accept == "never" else 0, accept, "merged")


@SETTINGS
@given(data=st.data())
def test_dtw_distances(data):
    X, _ = data.draw(collections("X"), label="X")
    Y, _ = data.draw(collections("X", n_channels=_channels(X)), label="Y")
    window = data.draw(windows(), label="window")
    estimator = alignkit.DTWDistances(window=window.value)
    returned, result = outcome(
        lambda: estimator.fit(X.value).transform(Y.value), {"X": _merge(X, Y), "window": window}
    )
    if returned:
        expected = _distance_matrix(Y.clean, X.clean, window.clean)
        assert_finite_close(result, expected, "DTWDistances")


_LABELS = st.sampled_from(["int", "int", "str", "nan", "short", "2d"])


def _labels(kind, count, draw):
    classes = np.array(draw(st.lists(st.integers(0, 2), min_size=count, max_size=count)))
    if kind == "int":
        return Arg(classes, classes, "must", kind)
    if kind == "str":
        return Arg(np.array(["ab"[c % 2] for c in classes]), classes % 2, "must", kind)
    if kind == "nan":
        labels = classes.astype(float)
        labels[draw(st.integers(0, count - 1))] = np.nan
        return Arg(labels, None, "never", kind)
    if kind == "short":
        return Arg(classes[:-1], None, "never", kind)
    return Arg(classes[:, None].repeat(2, axis=1), None, "never", kind)


@SETTINGS
@given(data=st.data(), regressor=st.booleans())
def test_kneighbors(data, regressor):
    X, _ = data.draw(collections("X", min_size=2), label="X")
    count = len(X.clean) if X.clean is not None else 3
    y = _labels(data.draw(_LABELS, label="y kind"), count, data.draw)
    if regressor and y.label == "str":
        y = Arg(y.value, None, "never", "text target")
    if regressor and y.label == "2d":  # several outputs per sequence
        y = Arg(y.value, y.value, "must", "multi-output")
    Q, _ = data.draw(collections("X", n_channels=_channels(X)), label="query")
    window = data.draw(windows(), label="window")
    cls = alignkit.KNeighborsDTWRegressor if regressor else alignkit.KNeighborsDTWClassifier
    estimator = cls(window=window.value)

    def call():
        fitted = estimator.fit(X.value, y.value)
        return fitted.kneighbors(Q.value), fitted.predict(Q.value)

    returned, result = outcome(call, {"X": _merge(X, Q), "y": y, "window": window})
    if not returned:
        return
    (distances, indices), predicted = result
    expected = _distance_matrix(Q.clean, X.clean, window.clean)
    nearest = expected.min(axis=1)
    assert_finite_close(distances[:, 0], nearest, "kneighbors distance")
    chosen = expected[np.arange(len(expected)), indices[:, 0]]
    assert_finite_close(chosen, nearest, "distance to the reported neighbour")
    for row, query_distances in enumerate(expected):
        closest = np.flatnonzero(query_distances == query_distances.min())
        if len(closest) == 1:  # a unique nearest neighbour decides the prediction
            want = np.asarray(y.value)[closest[0]]
            assert np.all(predicted[row] == want), f"predicted {predicted[row]!r}, not {want!r}"


@SETTINGS
@given(data=st.data())
def test_dtw_aligner(data):
    X, _ = data.draw(collections("X"), label="X")
    window = data.draw(windows(), label="window")
    estimator = alignkit.DTWAligner(window=window.value)
    returned, result = outcome(
        lambda: estimator.fit(X.value).transform(X.value), {"X": X, "window": window}
    )
    if not returned:
        return
    sequences = [as_2d(x) for x in X.clean]
    with np.errstate(over="ignore", invalid="ignore"):
        costs = _distance_matrix(sequences, sequences, window.clean) ** 2
    medoid = sequences[int(np.argmin(costs.sum(axis=1)))]
    for k, sequence in enumerate(sequences):
        mask = window_mask(window.clean, len(sequence), len(medoid))
        path = reference_backtrack(reference_dtw(sequence, medoid, mask))
        sums = np.zeros_like(medoid)
        np.add.at(sums, path[:, 1], sequence[path[:, 0]])
        counts = np.bincount(path[:, 1], minlength=len(medoid))[:, None]
        assert_finite_close(np.asarray(result[k]), sums / counts, f"DTWAligner transform X[{k}]")


@SETTINGS
@given(data=st.data())
def test_uniform_aligner(data):
    X, _ = data.draw(collections("X"), label="X")
    length = data.draw(
        st.one_of(
            st.integers(1, 6).map(lambda n: Arg(n, n, "must", "int")),
            st.sampled_from(["max", "min"]).map(lambda n: Arg(n, n, "must", n)),
            st.sampled_from([0, -1, 2.5, True, "mean", None, 10**12, math.nan]).map(
                lambda n: Arg(n, None, "never", "bad")
            ),
        ),
        label="n_timepoints",
    )
    estimator = alignkit.UniformAligner(n_timepoints=length.value)
    returned, result = outcome(
        lambda: estimator.fit(X.value).transform(X.value), {"X": X, "n_timepoints": length}
    )
    if not returned:
        return
    sequences = [as_2d(x) for x in X.clean]
    lengths = [len(x) for x in sequences]
    target = {"max": max(lengths), "min": min(lengths)}.get(length.clean, length.clean)
    for k, sequence in enumerate(sequences):
        grid = np.linspace(0, len(sequence) - 1, target)
        expected = np.column_stack(
            [np.interp(grid, np.arange(len(sequence)), column) for column in sequence.T]
        )
        assert_finite_close(np.asarray(result[k]), expected, f"UniformAligner X[{k}]")


def test_every_public_name_is_covered_or_excluded():
    covered = {name[len("test_") :] for name in globals() if name.startswith("test_")}
    covered |= set(_PAIR_CALLS) | set(_SOFT) | {"DTWDistances", "DTWAligner", "UniformAligner"}
    covered |= {"KNeighborsDTWClassifier", "KNeighborsDTWRegressor", "KernelKMeans"}
    covered |= {"TimeSeriesKMeans", "TimeSeriesKMedoids"}
    covered |= set(_TORCH_COVERED) | {"CTWAligner", "from_aeon", "OnlineAligner", "StreamMatcher"}
    public = set(alignkit.__all__)
    assert not covered & set(EXCLUDED), "a name is both tested and excluded"
    missing = public - set(EXCLUDED) - covered
    assert not missing, f"public names without a bad-input property test: {sorted(missing)}"
    assert set(EXCLUDED) <= public | {"SoftDTWLoss"}, f"stale: {set(EXCLUDED) - public}"


# --------------------------------------------------------------------------- CTW and torch

_TINY_TORCH = {
    "DeepCTWAligner": {
        "max_epochs": 1,
        "hidden_layer_sizes": (8,),
        "n_outputs": 4,
        "n_components": 2,
    },
    "SoftAttentionAligner": {"max_epochs": 1, "hidden_size": 8, "attention_size": 8},
    "STNAligner": {"max_epochs": 1, "batch_size": 16},
    "GlimpseAligner": {
        "n_glimpses": 2,
        "patch_size": 4,
        "n_scales": 2,
        "glimpse_hidden": 16,
        "loc_hidden": 8,
        "core_hidden": 16,
        "max_epochs": 1,
        "batch_size": 16,
    },
}
_TORCH_COVERED = (*_TINY_TORCH, "SoftDTWLoss")


def _fitted_outputs(estimator, X, y):
    fitted = estimator.fit(X) if y is None else estimator.fit(X, y)
    outputs = [fitted.transform(X)]
    if hasattr(fitted, "predict") and y is not None:
        outputs.append(fitted.predict(X))
    return outputs


def _assert_outputs_finite(outputs, what):
    for output in outputs:
        for part in output if isinstance(output, list) else [output]:
            values = np.asarray(part)
            if values.dtype.kind in "fc":
                assert np.all(np.isfinite(values)), f"{what}: silent non-finite output"


@FEW
@given(data=st.data())
def test_ctw_aligner(data):
    from alignkit.testing import make_check_input

    pairs = [tuple(pair) for pair in make_check_input(alignkit.CTWAligner()).X[:3]]
    index, side = data.draw(st.integers(0, 2), label="pair"), data.draw(st.integers(0, 1))
    channels = pairs[index][side].shape[1]
    drawn = data.draw(sequences("X", n_channels=channels, max_timepoints=6), label="X item")
    pairs[index] = tuple(drawn.value if k == side else pairs[index][k] for k in range(2))
    estimator = alignkit.CTWAligner(n_components=1)
    returned, result = outcome(lambda: _fitted_outputs(estimator, pairs, None), {"X": drawn})
    if returned:
        _assert_outputs_finite(result, "CTWAligner")
        for (a, b), alignment in zip(pairs, estimator.align_pairs(pairs)):
            path = np.asarray(alignment.path)
            assert tuple(path[0]) == (0, 0)
            assert tuple(path[-1]) == (len(np.atleast_1d(a)) - 1, len(np.atleast_1d(b)) - 1)
            assert np.isfinite(alignment.distance)


def _torch_case(name, data):
    """A tiny valid input of the estimator with one drawn item (or the labels) put in it."""
    from alignkit.testing import make_check_input

    estimator = getattr(alignkit, name)(**_TINY_TORCH[name])
    check = make_check_input(estimator)
    X, y = check.X, check.y
    target = data.draw(st.sampled_from(["X", "X", "y"] if y is not None else ["X"]), label="arg")
    if target == "y":
        labels = _labels(data.draw(_LABELS, label="y kind"), len(y), data.draw)
        labels = Arg(
            np.asarray(y) if labels.accept == "must" else labels.value,
            0,
            labels.accept,
            labels.label,
        )
        return estimator, X, labels.value, {"y": labels}
    if check.family == "image":
        images = np.asarray(X, dtype=np.float64)
        kind = data.draw(st.sampled_from(_KINDS), label="image kind")
        drawn = _perturb(data.draw, images.reshape(len(images), -1), kind)
        value = drawn.value
        if drawn.accept != "never" or kind in ("nan", "inf", "masked_hole", "object_text"):
            flat = np.asarray(value) if not isinstance(value, np.ma.MaskedArray) else value
            value = flat.reshape(images.shape) if np.size(flat) == images.size else flat
        if kind == "extra_dim":
            value = images[None]
        return estimator, value, y, {"X": Arg(value, 0, drawn.accept, kind)}
    index = data.draw(st.integers(0, len(X) - 1), label="index")
    if check.family == "paired":
        side = data.draw(st.integers(0, 1), label="side")
        channels = X[index][side].shape[1]
        drawn = data.draw(sequences("X", n_channels=channels, max_timepoints=8), label="item")
        X = list(X)
        X[index] = tuple(drawn.value if k == side else X[index][k] for k in range(2))
    else:
        channels = np.asarray(X[index]).shape[1] if np.ndim(X[index]) == 2 else 1
        drawn = data.draw(sequences("X", n_channels=channels, max_timepoints=8), label="item")
        X = list(X)
        X[index] = drawn.value
    return estimator, X, y, {"X": drawn}


@FEW
@given(data=st.data(), name=st.sampled_from(sorted(_TINY_TORCH)))
def test_torch_aligners(data, name):
    pytest.importorskip("torch")
    estimator, X, y, named = _torch_case(name, data)
    returned, result = outcome(lambda: _fitted_outputs(estimator, X, y), named)
    if returned:
        _assert_outputs_finite(result, name)


@SETTINGS
@given(data=st.data())
def test_soft_dtw_loss(data):
    torch = pytest.importorskip("torch")
    kinds = tuple(kind for kind in _KINDS if not kind.startswith("masked"))  # no torch masks
    x = data.draw(sequences("x", max_timepoints=3, kinds=kinds), label="x")
    channels = np.asarray(x.clean).shape[1] if x.clean is not None else None
    y = data.draw(sequences("y", n_channels=channels, max_timepoints=3, kinds=kinds), label="y")
    window = data.draw(windows(), label="window")

    def tensor(arg):
        if arg.accept == "never":
            try:  # bad content in a tensor (NaN, inf, complex, no channels ...) or no tensor at all
                return torch.as_tensor(np.asarray(arg.value))[None]
            except (TypeError, ValueError, RuntimeError):
                return arg.value
        return torch.as_tensor(np.ascontiguousarray(arg.clean, dtype=np.float64))[None]

    def call():
        loss = alignkit.SoftDTWLoss(gamma=1.0, window=window.value)
        return float(loss(tensor(x), tensor(y)))

    returned, result = outcome(call, {"x": x, "y": y, "window": window})
    if returned:
        assert_finite_close(
            result, ref_soft(x.clean, y.clean, 1.0, window.clean)[0], "SoftDTWLoss", rtol=1e-7
        )


def _aeon_layout(value):
    """One alignkit-layout item of a list as aeon stores it (channels first)."""
    if isinstance(value, list) and np.ndim(value) == 2:  # a nested list of frames
        return np.transpose(np.array(value, dtype=object)).tolist()
    if np.ndim(value) == 2:
        return np.transpose(value)
    if np.ndim(value) == 3:
        return np.swapaxes(value, 1, 2)
    return value


@SETTINGS
@given(data=st.data())
def test_from_aeon(data):
    X, _ = data.draw(collections("X"), label="X")
    if isinstance(X.value, np.ndarray) and X.value.ndim == 3:
        aeon = np.swapaxes(X.value, 1, 2)
    elif isinstance(X.value, np.ndarray):
        aeon = X.value  # numpy2D: univariate rows, the same in both layouts
    else:
        aeon = [_aeon_layout(item) for item in X.value]
    returned, result = outcome(lambda: alignkit.from_aeon(aeon), {"X": X})
    if returned:
        assert len(result) == len(X.clean)
        for got, want in zip(result, X.clean):
            assert_finite_close(got, as_2d(want), "from_aeon")


@SETTINGS
@given(data=st.data(), name=st.sampled_from(["OnlineAligner", "StreamMatcher"]))
def test_streaming_constructors(data, name):
    """Input checking only: the streaming classes validate their fixed sequence up front."""
    argument = "reference" if name == "OnlineAligner" else "query"
    drawn = data.draw(sequences(argument), label=argument)
    cls = getattr(alignkit, name)
    extra = {"threshold": math.inf} if name == "StreamMatcher" else {}
    outcome(lambda: cls(drawn.value, **extra), {argument: drawn})


def _kernel_kmeans_objective(K, labels):
    """The kernel k-means objective of a partition, summed by hand over the Gram matrix."""
    total = 0.0
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        block = K[np.ix_(members, members)]
        total += np.trace(block) - block.sum() / len(members)
    return total


@FEW
@given(data=st.data())
def test_kernel_kmeans(data):
    from alignkit.distances import pairwise_gak

    X, _ = data.draw(collections("X", min_size=2, max_size=4), label="X")
    if X.clean is not None:
        distinct = {as_2d(s).tobytes() + bytes(as_2d(s).shape) for s in X.clean}
        assume(len(distinct) >= 2)  # two clusters need two distinct sequences
    model = alignkit.KernelKMeans(n_clusters=2, sigma=1.0, random_state=0)
    returned, result = outcome(lambda: model.fit(X.value), {"X": X})
    if returned:
        assert set(np.unique(result.labels_)) <= {0, 1}
        assert len(result.labels_) == len(X.clean)
        K = pairwise_gak([as_2d(s) for s in X.clean], sigma=1.0)
        expected = _kernel_kmeans_objective(K, result.labels_)
        assert_finite_close(result.inertia_, expected, "KernelKMeans.inertia_", rtol=1e-6)
        np.testing.assert_array_equal(model.predict(X.value), result.labels_)


def _two_distinct(X):
    if X.clean is not None:
        distinct = {as_2d(s).tobytes() + bytes(as_2d(s).shape) for s in X.clean}
        assume(len(distinct) >= 2)


@FEW
@given(data=st.data())
def test_time_series_kmeans(data):
    X, _ = data.draw(collections("X", min_size=2, max_size=4), label="X")
    _two_distinct(X)
    model = alignkit.TimeSeriesKMeans(n_clusters=2, max_iter=3, random_state=0)
    returned, result = outcome(lambda: model.fit(X.value), {"X": X})
    if returned:
        # The inertia and labels agree with the reference DP to the final centres.
        centres = list(result.cluster_centers_)
        table = np.array([[ref_dtw_distance(s, c) for c in centres] for s in X.clean])
        expected = sum(table[i, label] ** 2 for i, label in enumerate(result.labels_))
        assert_finite_close(result.inertia_, expected, "TimeSeriesKMeans.inertia_", rtol=1e-6)
        best = table.min(axis=1)
        chosen = table[np.arange(len(table)), result.labels_]
        np.testing.assert_allclose(chosen, best, rtol=1e-9, atol=1e-12)


@FEW
@given(data=st.data())
def test_time_series_kmedoids(data):
    X, _ = data.draw(collections("X", min_size=2, max_size=4), label="X")
    _two_distinct(X)
    model = alignkit.TimeSeriesKMedoids(n_clusters=2, method="pam", random_state=0)
    returned, result = outcome(lambda: model.fit(X.value), {"X": X})
    if returned:
        D = _distance_matrix(X.clean, X.clean, None)
        medoids = result.medoid_indices_
        expected = D[:, medoids].min(axis=1).sum()
        assert_finite_close(result.inertia_, expected, "TimeSeriesKMedoids.inertia_", rtol=1e-9)


@FEW
@given(data=st.data())
def test_silhouette_score(data):
    from sklearn.metrics import silhouette_score as sklearn_silhouette

    X, _ = data.draw(collections("X", min_size=3, max_size=4), label="X")
    _two_distinct(X)
    count = len(X.clean) if X.clean is not None else 3
    labels = np.arange(count) % 2
    returned, result = outcome(lambda: alignkit.silhouette_score(X.value, labels), {"X": X})
    if returned:
        D = _distance_matrix(X.clean, X.clean, None)
        expected = sklearn_silhouette(D, labels, metric="precomputed")
        assert_finite_close(result, expected, "silhouette_score", rtol=1e-9)
