"""Overhead of :class:`varembed.nld.NoetherTracker` on a training step of a small CNN with BatchNorm.

Model: Conv(1->16) -> BN -> ReLU -> Conv(16->32) -> BN -> ReLU -> AvgPool -> Linear(512->10)
on load_digits 8x8 images, batch 64, float32, SGD (momentum 0.9, weight decay 5e-4).  All of
its symmetry families are tracked (BN scale groups, pre-BN bias translations, BN-affine
rescale pairs, last-layer translations).  Blocks of steps with and without the tracker are
interleaved (same model and optimiser; the hook is attached and removed between blocks);
the overhead is the median over adjacent pairs of blocks of (tracked / untracked) - 1, which
is robust to slow changes in machine load; the ratio of the fastest blocks is printed too.
Target: overhead <= 10% of a step.  Timings on a shared CPU are inflated by contention; the
ratio is measured within one run.

Usage: ``python benchmarks/bench_nld.py [--blocks 25] [--steps 20] [--threads 1]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from varembed.nld import NoetherTracker, find_symmetries
from varembed.nld.experiment import digits


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


def block(model, opt, X, y, idx):
    t0 = time.perf_counter()
    for b in idx:
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[b]), y[b]).backward()
        opt.step()
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=25)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = digits(dtype=torch.float32)
    X = X.reshape(-1, 1, 8, 8)
    g = torch.Generator().manual_seed(0)
    model = small_cnn()
    fams = find_symmetries(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    idx = [torch.randint(0, X.shape[0], (args.batch,), generator=g) for _ in range(args.steps)]
    block(model, opt, X, y, idx)  # warm-up
    base, tracked = [], []
    n_groups = sum(f.n_groups for f in fams)
    for _ in range(args.blocks):
        base.append(block(model, opt, X, y, idx))
        tracker = NoetherTracker(model, opt, fams)
        tracked.append(block(model, opt, X, y, idx))
        tracker.remove()
    t_base, t_tr = np.min(base) / args.steps, np.min(tracked) / args.steps
    overhead = float(np.median(np.array(tracked) / np.array(base))) - 1.0
    min_overhead = t_tr / t_base - 1.0
    print(f"{len(fams)} families, {n_groups} groups tracked; batch {args.batch}, {args.threads} thread(s)")
    print(f"step without tracker: {1e3 * t_base:.3f} ms   with tracker: {1e3 * t_tr:.3f} ms (fastest blocks)")
    print(f"overhead from the fastest blocks: {100 * min_overhead:.1f}%")
    print(f"tracking overhead (median of paired blocks): {100 * overhead:.1f}% of a step (target <= 10%): "
          f"{'PASS' if overhead <= 0.10 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
