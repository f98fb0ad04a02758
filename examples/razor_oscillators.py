"""Noether's Razor on harmonic oscillators: Table-1/2-style comparison and Figure-3-style plot.

For a single oscillator (7 trajectories x 4 transitions, the paper's Table 1
data) and for n = 2 and n = 3 uncoupled unit oscillators, fit four variational
HNNs on identical data:

* vanilla  - no symmetry;
* oracle   - symmetrised over the true group (SO(2), U(n));
* learned  - K learnable quadratic conserved quantities chosen by the ELBO;
* map      - the learned arm with the KL (Occam) term removed.

Printed per arm: training -ELBO/N with its NLL and KL/N parts and the one-step
MSE on train / test / test_wider / test_moved.  For learned arms: the
singular values of the learned generators, the estimated rank against the
true dimension (n^2, from the Poisson-bracket null space), the gap and the
parallelness of each leading singular vector to the true conserved subspace.
PNG plots of the singular values are written to ``--out``.

Small CPU settings (see varembed.razor.experiment.PRESETS); on 2 shared cores
the whole script takes about 10-15 minutes.  ``--systems nharm2`` runs one.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from varembed.razor.analysis import identity_alignment
from varembed.razor.experiment import format_table, plot_singular_values, run_comparison


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default="nharm1,nharm2,nharm3")
    parser.add_argument("--arms", default="vanilla,oracle,learned,map")
    parser.add_argument("--out", default="razor_figures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-iter", type=int, default=None, help="override the preset optimiser steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the matrices are small: one thread is fastest, and CPU time stays honest
    os.makedirs(args.out, exist_ok=True)
    overrides = {} if args.n_iter is None else {"n_iter": args.n_iter}
    for name in args.systems.split(","):
        start = time.perf_counter()
        _, _, results = run_comparison(name, arms=tuple(args.arms.split(",")), seed=args.seed, overrides=overrides)
        print(f"\n=== {name} ({time.perf_counter() - start:.0f} s) ===")
        print(format_table(results))
        for r in results:
            if r.symmetries is not None and name == "nharm1":
                a = r.estimator.conserved_[0][0]
                print(f"{r.arm}: |cos(sym A, I)| = {identity_alignment(a):.4f}")
        if any(r.symmetries is not None for r in results):
            path = plot_singular_values(results, os.path.join(args.out, f"razor_{name}_singular_values.png"), name)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
