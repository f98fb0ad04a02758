"""``python -m varembed nld``: predicted against measured BatchNorm weight norms on load_digits.

The lead's CLI calls :func:`add_arguments` on its sub-parser and :func:`run`
with the parsed arguments.
"""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["add_arguments", "run", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register the nld options on ``parser``."""
    parser.add_argument("--steps", type=int, default=2000, help="SGD steps (default 2000)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate eta (default 0.05)")
    parser.add_argument("--momentum", type=float, default=0.9, help="heavy-ball momentum beta (default 0.9)")
    parser.add_argument("--weight-decay", type=float, default=1e-3, help="coupled weight decay k (default 1e-3)")
    parser.add_argument("--hidden", type=int, default=32, help="BatchNorm channels (default 32)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--eps", type=float, default=1e-5, help="BatchNorm eps (default 1e-5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=".", help="folder for nld_batchnorm.png and nld_batchnorm.json")
    return parser


def run(args) -> int:
    """Train, predict, print the errors, write the PNG and a JSON summary; returns 0."""
    from ..nld.experiment import plot_batchnorm_experiment, run_batchnorm_experiment

    if args.steps < 1:
        raise SystemExit(f"--steps must be >= 1, got {args.steps}")
    try:
        res = run_batchnorm_experiment(steps=args.steps, lr=args.lr, momentum=args.momentum,
                                       weight_decay=args.weight_decay, hidden=args.hidden,
                                       batch_size=args.batch_size, eps=args.eps, random_state=args.seed)
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"nld: {exc}") from None
    print("Noether's Learning Dynamics on load_digits: Linear -> BatchNorm -> ReLU -> Linear")
    print(res.report)
    print(f"SGD eta={args.lr} beta={args.momentum} k={args.weight_decay}, {args.steps} steps; "
          f"median coherence kappa = {float(_median(res.kappa)):.2f}")
    for name, err in res.errors.items():
        print(f"  max relative error of |w_i|^2, {name:18s}: {err:.2e}")
    os.makedirs(args.out, exist_ok=True)
    png = plot_batchnorm_experiment(res, os.path.join(args.out, "nld_batchnorm.png"))
    with open(os.path.join(args.out, "nld_batchnorm.json"), "w") as fh:
        json.dump({"params": res.params, "errors": res.errors,
                   "final_charge": res.history.charge[-1].tolist()}, fh, indent=2)
    print(f"wrote {png}")
    return 0


def _median(a):
    import numpy as np

    return np.nanmedian(a)


def main(argv=None) -> int:
    """Stand-alone entry: ``python -m varembed.nld.command --steps 500``."""
    parser = add_arguments(argparse.ArgumentParser(prog="varembed nld", description=__doc__))
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
