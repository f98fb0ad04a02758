"""GPU check of LinearVariationalEmbedding: the same fit on the CPU and on a device, same subspace, timings.

For the planted-cluster data (``bench_linear_density.planted``; n = 2000 and
``--large``) and each of the KDE functional, KDE likelihood and GMM
likelihood fits (float64, same seeds, hence the same Monte-Carlo batches),
fits once on the CPU and once on ``--device``, and prints the largest
principal angle between the two fitted subspaces, the difference of the
objectives and both fit times.  Exits with status 1 if an angle exceeds
``--tol`` (default 1e-4 rad), 0 otherwise, and 0 with a message when the
device is CUDA and CUDA is absent.  ``--device cpu`` runs the whole script
on the CPU (both fits identical: a check of the script itself).

Usage: python benchmarks/gpu_linear.py [--device cuda] [--large 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np
import torch
from scipy.linalg import subspace_angles

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_linear_density import planted  # noqa: E402

from varembed import LinearVariationalEmbedding  # noqa: E402

CONFIGS = {
    "kde-functional": dict(density="kde", bandwidth=0.5),
    "kde-likelihood": dict(density="kde", bandwidth=0.5, objective="likelihood"),
    "gmm-likelihood": dict(density="gmm", objective="likelihood"),
}


def timed_fit(X, device, params):
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    emb = LinearVariationalEmbedding(2, random_state=0, device=device, **params).fit(X)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return emb, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--large", type=int, default=10000, help="size of the second planted data set (0: skip)")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--json", action="store_true", help="one JSON line per fit pair")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_linear: CUDA is not available here; nothing to check.")
        return 0
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.device.startswith("cuda"):
        print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| cuda", torch.version.cuda)
    worst = 0.0
    for n in [2000] + ([args.large] if args.large else []):
        X, _, plane = planted(n, seed=0)
        for name, params in CONFIGS.items():
            cpu, t_cpu = timed_fit(X, "cpu", params)
            dev, t_dev = timed_fit(X, args.device, params)
            row = dict(n=n, config=name, angle_cpu_device=float(subspace_angles(cpu.components_.T,
                                                                                  dev.components_.T).max()),
                       objective_diff=abs(cpu.objective_ - dev.objective_),
                       angle_to_plane=float(subspace_angles(dev.components_.T, plane).max()),
                       cpu_s=t_cpu, device_s=t_dev, best_restart=(cpu.best_restart_, dev.best_restart_),
                       residual=dev.affine_residual_)
            worst = max(worst, row["angle_cpu_device"])
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(f"n={n:6d} {name:15s} angle(cpu, {args.device}) {row['angle_cpu_device']:.2e} rad | "
                      f"|dF| {row['objective_diff']:.1e} | angle to plane {row['angle_to_plane']:.3f} | "
                      f"cpu {t_cpu:6.1f} s, {args.device} {t_dev:6.1f} s (x{t_cpu / t_dev:.1f}) | "
                      f"restarts {row['best_restart']} | rho {row['residual']:.1e}", flush=True)
    ok = worst <= args.tol
    print(f"gpu_linear: largest CPU/device angle {worst:.2e} rad ({'ok' if ok else 'FAIL'}: tolerance {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
