"""``python -m varembed razor``: the vanilla / oracle / learned / MAP comparison.

The lead's CLI calls :func:`add_arguments` on its sub-parser and :func:`run`
with the parsed arguments.
"""

from __future__ import annotations

import argparse
import json
import os

from ..razor.experiment import ARMS, PRESETS, format_table, plot_singular_values, run_comparison

__all__ = ["add_arguments", "run", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register the razor options on ``parser``."""
    parser.add_argument("--system", default="nharm3",
                        help=f"nharm<n> or nbody<d>d<n>b (presets: {', '.join(PRESETS)}); default nharm3")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated subset of " + ",".join(ARMS))
    parser.add_argument("--n-iter", type=int, default=None, help="optimiser steps (default: preset)")
    parser.add_argument("--n-train", type=int, default=None, help="training trajectories (default: preset)")
    parser.add_argument("--n-train-steps", type=int, default=None, help="transitions per training trajectory")
    parser.add_argument("--n-conserved", type=int, default=None, help="learnable conserved-quantity slots K")
    parser.add_argument("--hidden", type=int, default=None, help="hidden width of F_theta")
    parser.add_argument("--n-test", type=int, default=100, help="trajectories per test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--out", default=None, help="folder for the singular-value PNG and a JSON summary")
    parser.add_argument("--verbose", action="store_true")
    return parser


def _overrides(args) -> dict:
    keys = {"n_iter": args.n_iter, "n_train": args.n_train, "n_train_steps": args.n_train_steps,
            "n_conserved": args.n_conserved, "hidden": args.hidden}
    out = {k: v for k, v in keys.items() if v is not None}
    out["device"] = args.device
    return out


def summary(results) -> dict:
    """JSON-friendly metrics of every arm."""
    out = {}
    for r in results:
        entry = {"train": r.train, "mse": r.test_mse, "seconds": r.seconds}
        if r.symmetries is not None:
            s = r.symmetries
            entry["symmetries"] = {
                "singular_values": s.singular_values.tolist(), "rank": s.rank, "gap": s.gap,
                "true_dim": s.true_dim, "parallelness": s.parallelness.tolist(),
                "bracket_residuals": s.bracket_residuals.tolist(),
            }
        out[r.arm] = entry
    return out


def run(args) -> int:
    """Run the comparison, print the table, optionally write the PNG and JSON; returns 0."""
    arms = tuple(a.strip() for a in args.arms.split(",") if a.strip())
    unknown = set(arms) - set(ARMS)
    if unknown:
        raise SystemExit(f"unknown arms {sorted(unknown)}; choose from {', '.join(ARMS)}")
    _, _, results = run_comparison(args.system, arms=arms, seed=args.seed, n_test=args.n_test,
                                   overrides=_overrides(args), verbose=args.verbose)
    print(f"Noether's Razor on {args.system}")
    print(format_table(results))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        if any(r.symmetries is not None for r in results):
            path = plot_singular_values(results, os.path.join(args.out, f"razor_{args.system}_singular_values.png"),
                                        title=args.system)
            print(f"wrote {path}")
        with open(os.path.join(args.out, f"razor_{args.system}.json"), "w") as fh:
            json.dump(summary(results), fh, indent=2)
    return 0


def main(argv=None) -> int:
    """Stand-alone entry: ``python -m varembed.razor.command --system nharm2``."""
    parser = add_arguments(argparse.ArgumentParser(prog="varembed razor", description=__doc__))
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
