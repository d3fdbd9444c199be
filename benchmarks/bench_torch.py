"""Time the torch kernels against the Numba kernels and tslearn on the same batch, in one run.

Run ``.venv/bin/python benchmarks/bench_torch.py [--device cuda] [--pairs 64] [--length 512]``.

Cases, on ``--pairs`` pairs of random walks of ``--length`` timepoints and
``--channels`` channels (float64 unless ``--dtype float32``):

- soft-DTW value + gradient with respect to the first sequence of every pair
  (gamma 1): alignkit's torch kernel (one batched call, analytic backward),
  alignkit's Numba kernel (``alignkit.distances._soft_dtw.soft_dtw_grad``, a loop over pairs),
  and tslearn's ``SoftDTWLossPyTorch`` (per-pair Numba inside autograd; its
  tensors go through the CPU whatever the device);
- batched DTW distance (summed squared cost) and DTW distance + path: torch
  (one batched call) against the Numba kernels looped over pairs
  (``alignkit.dtw_distance``, ``alignkit.dtw``).

Every implementation's result is first checked against the Numba kernel's
(values to 1e-9 relative in float64, 1e-4 in float32 and for tslearn, which
computes in float32 whatever the input; gradients to 1e-6 relative to their
largest entry, 2e-3 in float32); the table shows the errors and times every
implementation, so that a peer's float32 error is visible next to its time. Times are
the best of ``--repeat`` runs after one warm-up call; ``ratio`` is the time
divided by the Numba kernel's time on the same case. The error columns give the
largest difference from the Numba kernel's result relative to its largest
entry. Torch runs on ``--threads`` CPU threads (default 1, as the Numba loop).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, environment_lines, format_seconds, optional_import, table  # noqa: E402

import alignkit  # noqa: E402
from alignkit.distances._soft_dtw import soft_dtw_grad  # noqa: E402

warnings.filterwarnings("ignore", message="h5py not installed")

# Peers that compute in float32 even on float64 input: compared to 1e-4 relative.
FLOAT32_PEERS = set()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ...")
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: like the Numba loop)"
    )
    return parser.parse_args()


def random_walks(n_pairs, length, n_channels, seed):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((n_pairs, length, n_channels)), axis=1)


def timed(func, repeat, synchronize):
    """``(result of the warm-up call, best seconds over repeat calls)``."""
    result = func()
    synchronize()
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        synchronize()
        best = min(best, time.perf_counter() - start)
    return result, best


def error(value, reference):
    """Largest absolute difference relative to the largest reference entry (inf: shapes differ)."""
    value, reference = np.asarray(value, dtype=np.float64), np.asarray(reference, np.float64)
    if value.shape != reference.shape:
        return np.inf
    scale = max(float(np.max(np.abs(reference))), np.finfo(float).tiny)
    return float(np.max(np.abs(value - reference))) / scale


def close(value, reference, rel):
    return error(value, reference) <= rel


def soft_dtw_contenders(torch, x, y, device, dtype):
    from alignkit.kernels._torch._soft_dtw import soft_dtw_batch

    def numba():
        results = [soft_dtw_grad(a, b, gamma=1.0) for a, b in zip(x, y)]
        return np.array([r[0] for r in results]), np.stack([r[1] for r in results])

    y_torch = torch.as_tensor(y, dtype=dtype, device=device)

    def torch_kernel():
        xt = torch.as_tensor(x, dtype=dtype, device=device).requires_grad_(True)
        values = soft_dtw_batch(xt, y_torch, gamma=1.0)
        values.sum().backward()
        return values.detach().cpu().numpy(), xt.grad.cpu().numpy()

    contenders = {
        "alignkit numba (loop over pairs)": numba,
        "alignkit torch (batched)": torch_kernel,
    }
    tslearn_metrics = optional_import("tslearn.metrics")
    if tslearn_metrics is not None and hasattr(tslearn_metrics, "SoftDTWLossPyTorch"):
        loss = tslearn_metrics.SoftDTWLossPyTorch(gamma=1.0)

        def tslearn():
            xt = torch.as_tensor(x, dtype=dtype, device=device).requires_grad_(True)
            values = loss(xt, y_torch)
            values.sum().backward()
            return values.detach().cpu().numpy(), xt.grad.cpu().numpy()

        contenders["tslearn SoftDTWLossPyTorch"] = tslearn
        # tslearn computes the DP in float32 whatever the input's dtype.
        FLOAT32_PEERS.add("tslearn SoftDTWLossPyTorch")
    return contenders


def dtw_contenders(torch, x, y, device, dtype, paths):
    from alignkit.kernels._torch._dtw import dtw_batch, paths_to_list

    x_torch = torch.as_tensor(x, dtype=dtype, device=device)
    y_torch = torch.as_tensor(y, dtype=dtype, device=device)
    if paths:

        def numba():
            alignments = [alignkit.dtw(a, b, squared=True) for a, b in zip(x, y)]
            return np.array([al.distance for al in alignments]), [al.path for al in alignments]

        def torch_kernel():
            totals, found, lengths = dtw_batch(x_torch, y_torch, squared=True, return_paths=True)
            return totals.cpu().numpy(), paths_to_list(found, lengths)

    else:

        def numba():
            return np.array([alignkit.dtw_distance(a, b, squared=True) for a, b in zip(x, y)])

        def torch_kernel():
            return dtw_batch(x_torch, y_torch, squared=True).cpu().numpy()

    return {"alignkit numba (loop over pairs)": numba, "alignkit torch (batched)": torch_kernel}


def agrees(case, result, reference, rel):
    if case == "soft":
        # float32 gradients lose about |R| * eps / gamma in each soft-min weight's exponent.
        grad_rel = 1e-6 if rel < 1e-6 else 2e-3
        return close(result[0], reference[0], rel) and close(result[1], reference[1], grad_rel)
    if case == "paths":
        same_paths = all(np.array_equal(p, q) for p, q in zip(result[1], reference[1]))
        return close(result[0], reference[0], rel) and (same_paths or rel > 1e-9)
    return close(result, reference, rel)


def run_case(report, case, title, contenders, args, synchronize, rel):
    from alignkit.kernels._torch import import_torch

    torch = import_torch("benchmarks/bench_torch.py")
    emit(report, f"\n### {title}\n")
    rows, reference, base = [], None, None
    for name, func in contenders.items():
        start = time.perf_counter()
        # tslearn sets torch's thread count when it runs: set ours before every contender.
        torch.set_num_threads(args.threads)
        result, best = timed(func, args.repeat, synchronize)
        if reference is None:
            reference, base = result, best
        ok = agrees(case, result, reference, max(rel, 1e-4) if name in FLOAT32_PEERS else rel)
        ratio = "-" if best is base else f"{best / base:.2f}"
        if case == "soft":
            errors = f"{error(result[0], reference[0]):.1e} / {error(result[1], reference[1]):.1e}"
        elif case == "paths":
            errors = f"{error(result[0], reference[0]):.1e}"
        else:
            errors = f"{error(result, reference):.1e}"
        rows.append([name, errors, "✓" if ok else "✗", format_seconds(best), ratio])
        print(f"  ({name}: {time.perf_counter() - start:.1f} s wall)", file=sys.stderr)
    label = "error: value / gradient" if case == "soft" else "error: distance"
    emit(report, table(["implementation", label, "agrees", "best time", "time / numba"], rows))


def main():
    args = parse_args()
    from alignkit.kernels._torch import import_torch, resolve_device

    torch = import_torch("benchmarks/bench_torch.py")
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    report = []
    emit(report, "## Torch kernels: soft-DTW and DTW, batched torch vs Numba vs tslearn\n")
    for line in environment_lines():
        emit(report, line)
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    emit(report, f"- torch {torch.__version__}, device {device} ({card}), "
                 f"{torch.get_num_threads()} torch CPU threads, {args.dtype}")  # fmt: skip
    emit(report, f"- batch: {args.pairs} pairs of length {args.length}, {args.channels} "
                 f"channel(s), best of {args.repeat} after a warm-up call")  # fmt: skip
    x = random_walks(args.pairs, args.length, args.channels, seed=1)
    y = random_walks(args.pairs, args.length, args.channels, seed=2)
    rel = 1e-9 if args.dtype == "float64" else 1e-4
    data = (torch, x, y, device, dtype)
    cases = [
        ("soft", "Soft-DTW value + gradient (gamma 1)", soft_dtw_contenders(*data)),
        ("distance", "DTW distance", dtw_contenders(*data, paths=False)),
        ("paths", "DTW distance + path", dtw_contenders(*data, paths=True)),
    ]
    for case, title, contenders in cases:
        run_case(report, case, title, contenders, args, synchronize, rel)


if __name__ == "__main__":
    main()
