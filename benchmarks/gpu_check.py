"""Check the torch backend on whatever device torch sees: tests, parity, throughput, training.

Run ``.venv/bin/python benchmarks/gpu_check.py [--device auto|cpu|cuda] [--out build/gpu_check]``.

One prepared run (under 8 minutes on a GPU, under 2 minutes with ``--device cpu``,
where every size is small) that:

1. runs the torch test subset in a subprocess (``pytest -m "not slow"`` over the
   torch kernel and loss test files; on a GPU also every ``@pytest.mark.gpu`` test
   of ``tests/`` and the torch training base's tests);
2. checks torch-vs-Numba parity on the device, in float64, on random batches with
   unequal lengths (a one-frame sequence included) and several windows: DTW
   distances to 1e-9 relative and paths identical (``alignkit.dtw``), soft-DTW
   values and gradients to 1e-9 relative to the largest entry
   (``soft_dtw_grad``), the recomputed (memory-linear) backward pass equal to the
   stored one bit for bit, and one long pair forward + backward (10,000 x 10,000
   on a GPU) with its peak device memory;
3. measures batched DTW (distances; distances + paths) and soft-DTW forward +
   backward throughput in cells per second (the soft-DTW case at batch 512,
   256 x 256, 2 channels in float32 on a GPU, the published pytorch-softdtw-cuda
   figure's case), and the same soft-DTW case with pysdtw and ``ddtw`` only if
   they are importable (this script never installs anything);
4. times one training epoch of each learned aligner on tiny data (on a GPU, on
   the GPU and on the CPU).

It writes ``gpu_check.json`` and ``gpu_check.md`` into ``--out`` and exits 1 when a
parity check fails, 2 when the test subset fails (parity first), 0 otherwise.
Peers' numbers are measured on the same inputs and device, after their values
are compared with alignkit's (float32: 1e-4 relative).
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import format_seconds, optional_import, table  # noqa: E402

import alignkit  # noqa: E402
from alignkit.distances._soft_dtw import soft_dtw_grad  # noqa: E402
from alignkit.kernels._torch import import_torch, resolve_device  # noqa: E402
from alignkit.kernels._torch._dtw import dtw_batch, paths_to_list  # noqa: E402
from alignkit.kernels._torch._soft_dtw import soft_dtw_batch  # noqa: E402
from alignkit.validation import check_window  # noqa: E402

torch = import_torch("benchmarks/gpu_check.py")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_TEST_FILES = [
    "tests/distances/test_soft_dtw.py",  # first: tests/test_soft_dtw_loss.py imports from it
    "tests/kernels/test_torch_kernels.py",
    "tests/kernels/test_soft_dtw_memory.py",
    "tests/test_soft_dtw_loss.py",
]
WINDOWS = [None, 3, 0.2, ("itakura", 2.0)]
VALUE_TOL = 1e-9

# Sizes per mode: a GPU run fills minutes, a CPU run stays under two minutes in all.
SIZES = {
    "cuda": {
        "parity": (32, 300, 250, 3),
        "long_pair": 10_000,
        "dtw": (512, 256, 256, 2),
        "soft": (512, 256, 256, 2),
        "aligners": 1.0,
    },
    "cpu": {
        "parity": (6, 60, 50, 2),
        "long_pair": 1_000,
        "dtw": (16, 64, 64, 2),
        "soft": (16, 64, 64, 2),
        "aligners": 0.5,
    },
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", default=os.path.join(REPO, "build", "gpu_check"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best kept)")
    parser.add_argument(
        "--skip-tests", action="store_true", help="do not run the pytest subset (step 1)"
    )
    return parser.parse_args(argv)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_of(func, device, repeat):
    """``(result of a warm-up call, best seconds over repeat calls)``."""
    result = func()
    synchronize(device)
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return result, best


# ------------------------------------------------------------------------------------ 1. tests


def run_tests(device):
    """The torch test subset in a fresh interpreter: ``{command, returncode, summary}``."""
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if importlib.util.find_spec("xdist") is not None:
        base += ["-n", "0"]
    files = list(TORCH_TEST_FILES)
    marker = "not slow"
    if device.type == "cuda":
        files.append("tests/estimators/test_torch_base.py")
        marker = "gpu or not slow"
    commands = [base + ["-m", marker, *files]]
    if device.type == "cuda":
        # Every GPU test of tests/ (skipped, with the reason, on a machine without one).
        commands.append(base + ["-m", "gpu", "tests"])
    start = time.perf_counter()
    returncode, summaries, failures = 0, [], []
    for command in commands:
        completed = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=400, check=False
        )
        lines = completed.stdout.strip().splitlines()
        summaries.append(lines[-1] if lines else completed.stderr.strip()[-300:])
        failures += [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        if completed.returncode not in (0, 5):  # 5: nothing collected
            returncode = completed.returncode
    return {
        "command": " ; ".join(" ".join(command[1:]) for command in commands),
        "returncode": returncode,
        "summary": " ; ".join(summaries),
        "failures": failures[:20],
        "seconds": round(time.perf_counter() - start, 1),
    }


# ----------------------------------------------------------------------------------- 2. parity


def random_batch(rng, n_pairs, max_n, max_m, n_channels):
    """Padded pairs of random lengths; pair 0 is a one-frame sequence against a full one."""
    x_lengths = rng.integers(1, max_n + 1, n_pairs)
    y_lengths = rng.integers(1, max_m + 1, n_pairs)
    x_lengths[0], y_lengths[0] = 1, max_m
    x_lengths[-1], y_lengths[-1] = max_n, max_m
    x = np.zeros((n_pairs, max_n, n_channels))
    y = np.zeros((n_pairs, max_m, n_channels))
    for b in range(n_pairs):
        x[b, : x_lengths[b]] = np.cumsum(rng.standard_normal((x_lengths[b], n_channels)), 0)
        y[b, : y_lengths[b]] = np.cumsum(rng.standard_normal((y_lengths[b], n_channels)), 0)
    return x, y, x_lengths, y_lengths


def relative_error(value, reference):
    value, reference = np.asarray(value, np.float64), np.asarray(reference, np.float64)
    scale = max(float(np.max(np.abs(reference), initial=0.0)), np.finfo(float).tiny)
    return float(np.max(np.abs(value - reference), initial=0.0)) / scale


def dtw_parity(device, batch, window):
    """Torch DTW distances and paths against ``alignkit.dtw`` per pair."""
    x, y, x_lengths, y_lengths = batch
    distances, paths, lengths = dtw_batch(
        torch.tensor(x, device=device), torch.tensor(y, device=device), x_lengths, y_lengths,
        window=check_window(window), squared=True, return_paths=True,
    )  # fmt: skip
    distances, paths = distances.cpu().numpy(), paths_to_list(paths, lengths)
    worst, same_paths = 0.0, True
    for b in range(len(x)):
        expected = alignkit.dtw(
            x[b, : x_lengths[b]], y[b, : y_lengths[b]], window=window, squared=True
        )
        worst = max(worst, relative_error(distances[b], expected.distance))
        same_paths &= bool(np.array_equal(paths[b], expected.path))
    return {"max_error": worst, "paths_identical": same_paths}


def soft_parity(device, batch, window, gamma=0.5):
    """Torch soft-DTW values and gradients against the Numba ``soft_dtw_grad`` per pair."""
    x, y, x_lengths, y_lengths = batch
    results = []
    for recompute in (False, True):
        xt = torch.tensor(x, device=device, requires_grad=True)
        yt = torch.tensor(y, device=device, requires_grad=True)
        values = soft_dtw_batch(
            xt, yt, x_lengths, y_lengths, gamma=gamma, window=check_window(window),
            recompute=recompute,
        )  # fmt: skip
        values.sum().backward()
        results.append([t.detach().cpu() for t in (values, xt.grad, yt.grad)])
    identical = all(torch.equal(a, b) for a, b in zip(*results))
    values, grad_x, grad_y = (t.numpy() for t in results[0])
    value_error = grad_error = 0.0
    padding_zero = True
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        value, expected_x = soft_dtw_grad(a, c, gamma=gamma, window=window)
        _, expected_y = soft_dtw_grad(c, a, gamma=gamma, window=window)
        value_error = max(value_error, relative_error(values[b], value))
        got = np.concatenate([grad_x[b, : x_lengths[b]].ravel(), grad_y[b, : y_lengths[b]].ravel()])
        expected = np.concatenate([expected_x.ravel(), expected_y.ravel()])
        grad_error = max(grad_error, relative_error(got, expected))
        padding_zero &= not grad_x[b, x_lengths[b] :].any() and not grad_y[b, y_lengths[b] :].any()
    return {
        "max_error": value_error,
        "max_gradient_error": grad_error,
        "recompute_identical": identical,
        "padding_gradient_zero": padding_zero,
    }


def long_pair(device, n_timepoints):
    """One pair forward + backward, recomputed weights (float32): seconds and peak memory."""
    generator = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(1, n_timepoints, 1, generator=generator).to(device).requires_grad_(True)
    y = torch.randn(1, n_timepoints, 1, generator=generator).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    value = soft_dtw_batch(x, y, gamma=1.0, recompute=True)
    value.sum().backward()
    synchronize(device)
    seconds = time.perf_counter() - start
    finite = bool(torch.isfinite(value).all() and torch.isfinite(x.grad).all())
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {
        "n_timepoints": n_timepoints,
        "seconds": round(seconds, 2),
        "finite": finite,
        "peak_device_mib": None if peak is None else round(peak, 1),
        "stored_weights_would_be_mib": round(3 * n_timepoints**2 * 4 / 2**20, 1),
    }


def run_parity(device, sizes):
    rows = []
    for k, window in enumerate(WINDOWS):
        batch = random_batch(np.random.default_rng(k), *sizes["parity"])
        dtw = dtw_parity(device, batch, window)
        rows.append({
            "check": f"dtw window={window!r}",
            **dtw,
            "passed": dtw["max_error"] <= VALUE_TOL and dtw["paths_identical"],
        })  # fmt: skip
        soft = soft_parity(device, batch, window)
        passed = (
            soft["max_error"] <= VALUE_TOL
            and soft["max_gradient_error"] <= VALUE_TOL
            and soft["recompute_identical"]
            and soft["padding_gradient_zero"]
        )
        rows.append({"check": f"soft-dtw window={window!r}", **soft, "passed": passed})
    pair = long_pair(device, sizes["long_pair"])
    rows.append({"check": f"soft-dtw long pair {pair['n_timepoints']}^2", **pair,
                 "passed": pair["finite"]})  # fmt: skip
    return rows


# ------------------------------------------------------------------------------- 3. throughput


def walks(shape, dtype, device, seed):
    rng = np.random.default_rng(seed)
    return torch.tensor(np.cumsum(rng.standard_normal(shape), axis=1), dtype=dtype, device=device)


def soft_contenders(device, dtype):
    """``name -> function(x, y) -> (values, grad of x)`` for alignkit and importable peers."""

    def alignkit_soft(recompute):
        def run(x, y):
            x = x.detach().requires_grad_(True)
            values = soft_dtw_batch(x, y, gamma=1.0, recompute=recompute)
            values.sum().backward()
            return values.detach(), x.grad

        return run

    # The default recomputes the weights above STORE_LIMIT bytes: both ways are timed.
    contenders = {
        "alignkit torch (stored weights)": alignkit_soft(False),
        "alignkit torch (recomputed weights)": alignkit_soft(True),
    }
    pysdtw = optional_import("pysdtw")
    if pysdtw is not None:
        loss = pysdtw.SoftDTW(
            gamma=1.0, dist_func=pysdtw.distance.pairwise_l2_squared,
            use_cuda=device.type == "cuda",
        )  # fmt: skip
        contenders["pysdtw"] = _peer(loss)
    ddtw = optional_import("ddtw")
    if ddtw is not None:
        backend = "cuda_cpp" if device.type == "cuda" else "torch"
        try:
            loss = ddtw.SDTW(gamma=1.0, backend=backend)
        except TypeError:  # an interface without these keywords: its defaults
            loss = ddtw.SDTW()
        contenders[f"ddtw ({backend})"] = _peer(loss)
    return contenders


def _peer(loss):
    def run(x, y):
        x = x.detach().requires_grad_(True)
        values = loss(x, y)
        values.sum().backward()
        return values.detach().reshape(-1), x.grad

    return run


def run_throughput(device, sizes, repeat):
    rows = []
    batch, n, m, channels = sizes["dtw"]
    x, y = (
        walks((batch, n, channels), torch.float32, device, 1),
        walks((batch, m, channels), torch.float32, device, 2),
    )
    for label, paths in (("dtw distances", False), ("dtw distances + paths", True)):
        _, seconds = best_of(lambda p=paths: dtw_batch(x, y, return_paths=p), device, repeat)
        rows.append(_throughput_row(label, "alignkit torch", batch, n, m, "float32", seconds))
    batch, n, m, channels = sizes["soft"]
    for dtype in (torch.float32, torch.float64):
        x = walks((batch, n, channels), dtype, device, 3)
        y = walks((batch, m, channels), dtype, device, 4)
        reference = None
        for name, func in soft_contenders(device, dtype).items():
            row = {"case": "soft-dtw forward+backward", "implementation": name}
            try:
                result, seconds = best_of(lambda f=func, a=x, b=y: f(a, b), device, repeat)
            except Exception as error:  # a peer's failure is reported, never fatal
                rows.append({**row, "error": f"{type(error).__name__}: {error}"[:200]})
                continue
            reference = result if reference is None else reference
            row = _throughput_row(row["case"], name, batch, n, m, str(dtype)[6:], seconds)
            row["value_error"] = relative_error(result[0].cpu(), reference[0].cpu())
            row["gradient_error"] = relative_error(result[1].cpu(), reference[1].cpu())
            rows.append(row)
    return rows


def _throughput_row(case, name, batch, n, m, dtype, seconds):
    return {
        "case": case,
        "implementation": name,
        "shape": f"{batch} x {n} x {m}",
        "dtype": dtype,
        "seconds": seconds,
        "cells_per_second": batch * n * m / seconds,
    }


# ------------------------------------------------------------------------ 4. learned aligners


def aligner_cases(scale):
    """``name -> (estimator factory(device), fit arguments)`` on tiny data."""
    from alignkit import DeepCTWAligner, GlimpseAligner, SoftAttentionAligner, STNAligner
    from alignkit.datasets import make_digit_canvas, make_nonlinear_views, make_warped_copy

    n_images = max(32, int(128 * scale))
    canvas = make_digit_canvas(n_images, kind="RTS", random_state=0)
    glimpses = make_digit_canvas(n_images, kind="T", random_state=0)
    views, _ = make_nonlinear_views(n_pairs=4, n_timepoints=int(200 * scale), random_state=0)
    copies, _ = make_warped_copy(n_pairs=max(20, int(80 * scale)), random_state=0)
    common = {"max_epochs": 2, "random_state": 0}
    return {
        "DeepCTWAligner": (lambda d: DeepCTWAligner(device=d, **common), (views,)),
        "STNAligner": (lambda d: STNAligner(device=d, **common), (canvas.images, canvas.labels)),
        "GlimpseAligner": (
            lambda d: GlimpseAligner(n_glimpses=3, device=d, **common),
            (glimpses.images, glimpses.labels),
        ),
        "SoftAttentionAligner": (lambda d: SoftAttentionAligner(device=d, **common), (copies,)),
    }


def run_aligners(device, scale):
    devices = ["cpu"] if device.type == "cpu" else [str(device), "cpu"]
    rows = []
    for name, (make, data) in aligner_cases(scale).items():
        for where in devices:
            row = {"aligner": name, "device": where}
            try:
                start = time.perf_counter()
                model = make(where).fit(*data)
                seconds = time.perf_counter() - start
                row["epoch_seconds"] = seconds / max(model.n_iter_, 1)
                row["loss_finite"] = bool(np.all(np.isfinite(model.loss_curve_)))
            except Exception as error:  # reported in the table; parity decides the exit code
                row["error"] = f"{type(error).__name__}: {error}"[:200]
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------------- report


def environment(device):
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "alignkit": alignkit.__version__,
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    for peer in ("pysdtw", "ddtw"):
        module = optional_import(peer)
        info[peer] = getattr(module, "__version__", "installed") if module else "not installed"
    return info


def markdown(report):
    env = report["environment"]
    lines = [f"## gpu_check on {env.get('gpu', env['device'])} ({env['date']})", ""]
    lines += [f"- {key}: {value}" for key, value in env.items()]
    tests = report.get("tests")
    if tests:
        lines += ["", f"Tests (`{tests['command']}`): {tests['summary']} ({tests['seconds']} s)"]
    lines += ["", "### Parity with Numba (float64)", ""]
    lines.append(table(
        ["check", "value error", "gradient error", "paths / recompute", "passed"],
        [[row["check"], _number(row.get("max_error")), _number(row.get("max_gradient_error")),
          _flags(row), "yes" if row["passed"] else "NO"] for row in report["parity"]],
    ))  # fmt: skip
    lines += ["", "### Throughput", ""]
    lines.append(table(
        ["case", "implementation", "batch x n x m", "dtype", "time", "cells / s", "error"],
        [[row["case"], row["implementation"], row.get("shape", "-"), row.get("dtype", "-"),
          format_seconds(row.get("seconds")), _number(row.get("cells_per_second"), ".3g"),
          row.get("error", _number(row.get("value_error")))] for row in report["throughput"]],
    ))  # fmt: skip
    lines += ["", "### Learned aligners: one epoch, tiny data", ""]
    lines.append(table(
        ["aligner", "device", "epoch time", "loss finite / error"],
        [[row["aligner"], row["device"], format_seconds(row.get("epoch_seconds")),
          row.get("error", row.get("loss_finite"))] for row in report["aligners"]],
    ))  # fmt: skip
    return "\n".join(lines) + "\n"


def _number(value, spec=".1e"):
    return "-" if value is None else format(value, spec)


def _flags(row):
    if "paths_identical" in row:
        return "paths identical" if row["paths_identical"] else "PATHS DIFFER"
    if "recompute_identical" in row:
        return "recompute identical" if row["recompute_identical"] else "RECOMPUTE DIFFERS"
    peak = row.get("peak_device_mib")
    return f"{row['seconds']} s" + ("" if peak is None else f", peak {peak} MiB")


def main(argv=None):
    args = parse_args(argv)
    device = resolve_device(args.device)
    sizes = SIZES["cuda" if device.type == "cuda" else "cpu"]
    if device.type == "cpu":
        # One thread: on a shared or small machine more threads spin against each other.
        torch.set_num_threads(1)
    report = {"environment": environment(device)}
    steps = [
        ("parity", lambda: run_parity(device, sizes)),
        ("throughput", lambda: run_throughput(device, sizes, args.repeat)),
        ("aligners", lambda: run_aligners(device, sizes["aligners"])),
    ]
    if not args.skip_tests:
        steps.insert(0, ("tests", lambda: run_tests(device)))
    for name, step in steps:
        start = time.perf_counter()
        report[name] = step()
        print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_check.json"), "w") as handle:
        json.dump(report, handle, indent=2, default=str)
    text = markdown(report)
    with open(os.path.join(args.out, "gpu_check.md"), "w") as handle:
        handle.write(text)
    print(text)
    if not all(row["passed"] for row in report["parity"]):
        return 1
    if "tests" in report and report["tests"]["returncode"] != 0:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
