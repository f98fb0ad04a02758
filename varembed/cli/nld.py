"""``python -m varembed nld``: Noether's Learning Dynamics, predicted against measured BatchNorm weight norms.

The lead's CLI calls :func:`add_arguments` on its sub-parser and :func:`run`
with the parsed arguments.
"""

from __future__ import annotations

import argparse
import os

from ._common import CLIError, add_output, add_verbosity, output_dir, write_json

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = """\
Noether's Learning Dynamics (Tanaka & Kunin 2021) on load_digits.

Trains Linear -> BatchNorm -> ReLU -> Linear with torch.optim.SGD and records
the squared norm |w_i|^2 of every filter feeding BatchNorm (a Noether charge of
the scale symmetry).  It compares the record with three predictions and says
in words whether each one works and, if not, which assumption fails:

  exact recursion    exact whenever the symmetry is exact
  modified equation  the charge balance from the core's Noether current; O(eta)
  NLD closed form    the paper's r^2(t) (group-wise RMSProp); needs coherent
                     gradients (kappa ~ 1)

By default it runs two regimes side by side: 'coherent' (SGD without
momentum: every prediction holds) and 'noisy' (momentum 0.9 with minibatch
noise: the closed form over-predicts; the others still hold).  Writes
nld_batchnorm.png (figure) and nld_batchnorm.json (strict JSON) to --out.
Theory and measured studies: docs/nld.rst.
"""

_SETTINGS = ("lr", "momentum", "weight_decay", "batch_size")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register the nld options on ``parser``."""
    parser.add_argument("--regime", choices=["both", "coherent", "noisy"], default="both",
                        help="which preset to run (default both, side by side)")
    parser.add_argument("--steps", type=int, default=2000, help="SGD steps per regime (default 2000)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate eta (default: the regime's, 0.05)")
    parser.add_argument("--momentum", type=float, default=None,
                        help="heavy-ball momentum beta (default: the regime's, 0 or 0.9)")
    parser.add_argument("--weight-decay", type=float, default=None,
                        help="coupled weight decay k (default: the regime's, 1e-3)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="minibatch size, 0 for full batch (default: the regime's, 128)")
    parser.add_argument("--hidden", type=int, default=32, help="BatchNorm channels (default 32)")
    parser.add_argument("--eps", type=float, default=1e-5,
                        help="BatchNorm eps (default 1e-5; it breaks the symmetry at O(eps/var): "
                             "1e-12 makes the recursion exact to round-off)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (model, probe batches, minibatches)")
    add_output(parser, "varembed_nld")
    add_verbosity(parser)
    return parser


def _settings(args) -> dict:
    given = {k: getattr(args, k) for k in _SETTINGS if getattr(args, k) is not None}
    if "batch_size" in given:
        if given["batch_size"] < 0:
            raise CLIError(f"--batch-size must be >= 0 (0: full batch), got {given['batch_size']}")
        given["batch_size"] = given["batch_size"] or None
    if given and args.regime == "both":
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise CLIError(f"overriding {flags} needs one regime: add --regime coherent or --regime noisy")
    return given


def run(args) -> int:
    """Train, print the verdicts, write the PNG and the JSON summary; returns 0."""
    from ..nld.experiment import run_batchnorm_experiment
    from ..nld.report import format_report, plot_experiments, summary

    if args.steps < 1:
        raise CLIError(f"--steps must be >= 1, got {args.steps}")
    if args.hidden < 1:
        raise CLIError(f"--hidden must be >= 1, got {args.hidden}")
    settings = _settings(args)
    out = output_dir(args.out)
    regimes = ["coherent", "noisy"] if args.regime == "both" else [args.regime]
    results = [run_batchnorm_experiment(name, steps=args.steps, hidden=args.hidden, eps=args.eps,
                                        random_state=args.seed, progress=args.verbose, **settings)
               for name in regimes]
    print(format_report(results))
    png = plot_experiments(results, os.path.join(out, "nld_batchnorm.png"))
    js = write_json(os.path.join(out, "nld_batchnorm.json"), {"command": "nld", "regimes": summary(results)})
    print(f"\nwrote {png}\nwrote {js}")
    return 0
