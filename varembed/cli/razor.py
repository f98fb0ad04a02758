"""``python -m varembed razor``: Noether's Razor ablation (learned / MAP / vanilla / oracle) per system."""

from __future__ import annotations

import os

from ..razor.experiment import ARMS, SYSTEMS, run_ablation, summary
from ..razor.report import LEGEND, format_table, plot_selection, verdict
from ._common import CLIError, add_output, add_verbosity, output_dir, write_json

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = """Noether's Razor: learn the conserved quantities of a Hamiltonian system.

For each system, four variational HNNs are fitted on the same trajectories:
learned (the ELBO selects the symmetries), map (the same selection by the MAP
loss: no Occam term), vanilla (no symmetry) and oracle (the exact conserved
quantities).  The report starts with the verdict of every learned arm, then
the table and its legend; a JSON summary and a figure of the selection per
system go to --out.  Systems: """ + ", ".join(SYSTEMS)


def add_arguments(parser):
    """Register the razor options on ``parser``."""
    parser.add_argument("--system", default="distinct3", help=f"one of {', '.join(SYSTEMS)} (default distinct3)")
    parser.add_argument("--ablation", action="store_true", help="every system (about 15 CPU minutes)")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated subset of " + ",".join(ARMS))
    parser.add_argument("--max-iter", type=int, default=None, help="steps of the final model (default: preset)")
    parser.add_argument("--selection-iter", type=int, default=None, help="steps per symmetry hypothesis")
    parser.add_argument("--n-train", type=int, default=None, help="training trajectories (default: preset)")
    parser.add_argument("--n-conserved", type=int, default=None, help="most slots K tried by the selection")
    parser.add_argument("--hidden", type=int, nargs="+", default=None, help="hidden widths of F_theta")
    parser.add_argument("--n-test", type=int, default=None, help="trajectories per test set (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    add_output(parser, "varembed_razor")
    add_verbosity(parser)
    return parser


def _overrides(args) -> dict:
    keys = {"max_iter": args.max_iter, "selection_iter": args.selection_iter,
            "n_train": args.n_train, "n_conserved": args.n_conserved, "n_test": args.n_test,
            "hidden": None if args.hidden is None else tuple(args.hidden)}
    for name in ("max_iter", "selection_iter", "n_train", "n_test"):
        if keys[name] is not None and keys[name] < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {keys[name]}")
    out = {k: v for k, v in keys.items() if v is not None}
    out["device"] = args.device
    return out


def run(args) -> int:
    """Run the comparison, print verdicts, legend and table, write JSON and figures to ``--out``."""
    arms = tuple(a.strip() for a in args.arms.split(",") if a.strip())
    unknown = set(arms) - set(ARMS)
    if unknown or not arms:
        raise CLIError(f"unknown arms {sorted(unknown)}; choose from {', '.join(ARMS)}")
    systems = tuple(SYSTEMS) if args.ablation else (args.system,)
    bad = [s for s in systems if s not in SYSTEMS]
    if bad:
        raise CLIError(f"unknown system {bad[0]!r}; choose from {', '.join(SYSTEMS)}")
    out = output_dir(args.out)
    overrides = _overrides(args)
    if args.verbose:
        print(f"Noether's Razor on {', '.join(systems)} ({', '.join(arms)}); files go to {out}/", flush=True)
    figures = []

    def after_system(results):
        if args.verbose:  # progress: each system's rows as soon as they exist
            print(format_table(results), flush=True)
        if any(r.selection for r in results):
            path = os.path.join(out, f"razor_{results[0].system}_selection.png")
            figures.append(plot_selection(results, path, title=results[0].system))

    results = run_ablation(systems, arms=arms, seed=args.seed, overrides=overrides, verbose=int(args.verbose),
                           callback=after_system)
    print("\nNoether's Razor report")
    for r in results:
        if r.arm in ("learned", "map"):
            print(verdict(r))
    print()
    print(format_table(results))
    print()
    print(LEGEND)
    name = "ablation" if args.ablation else systems[0]
    json_path = write_json(os.path.join(out, f"razor_{name}.json"), summary(results))
    for path in figures + [json_path]:
        print(f"wrote {path}")
    return 0
