"""Calibration of find_symmetries' default (statistical) decision on sampled data, over many seeds.

For each seed: 2000 points from a torus about the z axis, from N(0, diag(4, 4, 1)) (both
symmetric under rotations about z), from N(0, diag(9, 4, 1)) (no continuous symmetry) and
from a torus tilted by a random rotation; both estimators; the data-space rotation search
with its default statistical decision.  Prints, per case, how often the right generator was
found (rank 1, angle <= 0.05 rad to the true axis), how often a symmetry was reported where
there is none (false positives), and the z-scores.

Run: ``python benchmarks/bench_symmetry_calibration.py [--seeds 20]`` (about 5 minutes, 1 thread).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time
import warnings

import numpy as np
import torch

from varembed import LinearVariationalEmbedding, VariationalEmbedding
from varembed.datasets import torus
from varembed.diagnostics import find_symmetries
from varembed.diagnostics.generators import generator_angle as angle

Z_ROTATION = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
ESTIMATORS = {
    "linear": lambda: LinearVariationalEmbedding(2, random_state=0),
    "neural": lambda: VariationalEmbedding(2, hidden=(8,), max_iter=5, init="linear", random_state=0),
}


def cases(rng):
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return {
        "torus about z": (torus(2000, random_state=rng), Z_ROTATION),
        "N(0, diag(4,4,1))": (rng.normal(size=(2000, 3)) * [2.0, 2.0, 1.0], Z_ROTATION),
        "N(0, diag(9,4,1))": (rng.normal(size=(2000, 3)) * [3.0, 2.0, 1.0], None),
        "tilted torus": (torus(2000, random_state=rng) @ q.T, q @ Z_ROTATION @ q.T),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    stats = {}
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        for case, (X, axis) in cases(np.random.default_rng(100 + seed)).items():
            for name, make in ESTIMATORS.items():
                res = find_symmetries(make().fit(X), "data", random_state=seed)
                row = stats.setdefault((case, name), dict(right=0, near=0, wrong=0, none=0, z0=[], angles=[]))
                row["z0"].append(float(res.z_scores[0]))
                err = angle(res.symmetries[0].generator.B, axis) if (res.rank == 1 and axis is not None) else None
                if res.rank == 0:
                    row["none"] += 1
                elif err is not None and err <= 0.05:
                    row["right"] += 1
                elif err is not None and err <= 0.15:
                    row["near"] += 1  # the right axis, within the sample's own axis error
                else:
                    row["wrong"] += 1
                if err is not None:
                    row["angles"].append(err)
    print(f"# find_symmetries calibration ({datetime.date.today()}, {platform.machine()}, torch "
          f"{torch.__version__}, {args.seeds} seeds x 2000 points, 1 thread, {time.perf_counter() - t0:.0f} s)\n")
    print("| data | estimator | right axis (<= 0.05 rad) | right axis, 0.05-0.15 rad | nothing | wrong axis or "
          "rank | median z of the best candidate | median angle (rad) |")
    print("|---|---|---|---|---|---|---|---|")
    for (case, name), row in stats.items():
        ang = f"{np.median(row['angles']):.3f}" if row["angles"] else "-"
        n = args.seeds
        print(f"| {case} | {name} | {row['right']} / {n} | {row['near']} / {n} | {row['none']} / {n} | "
              f"{row['wrong']} / {n} | {np.median(row['z0']):.2f} | {ang} |")
    print("\nA false positive is any report on N(0, diag(9,4,1)) (no continuous symmetry). At 2000 points the sample's "
          "own symmetry axis is uncertain by ~0.02 rad (the short axis of the sample covariance of N(0, diag(4,4,1)) "
          "is 0.013-0.047 rad off z over seeds 1-3), which bounds the angle any method faithful to the sample reaches; "
          "the linear estimator's parametric training sample (a fresh draw from the fitted Gaussian) adds its own noise.")


if __name__ == "__main__":
    main()
