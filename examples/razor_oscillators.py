"""
Noether's Razor on harmonic oscillators
=======================================

Which quadratic quantities do two oscillators conserve?  With equal
frequencies, all of ``u(2)`` (4: both energies, the angular momentum and the
other mixing generator); with distinct frequencies only the two energies.
The razor fits a variational Hamiltonian network whose Hamiltonian is exactly
invariant under the flows of the quantities it selects; the ELBO decides how
many, and the report checks them against the ground truth and on held-out
trajectories.

Run ``python -m varembed razor --ablation`` for every system and arm (learned,
MAP, vanilla, oracle; about 15 CPU minutes); this example fits the learned arm
on two systems (about 1 minute on one core; ``--out`` for the figure).
"""

from __future__ import annotations

import argparse
import os
import tempfile

import torch

from varembed.razor.experiment import run_system
from varembed.razor.report import LEGEND, format_table, plot_selection, verdict

#: Smaller budgets than the ablation presets: this example runs in the documentation build.
FAST = dict(selection_iter=250, max_iter=150, n_test=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default="distinct2,equal2")
    parser.add_argument("--arms", default="learned,vanilla")
    docs = os.environ.get("VAREMBED_DOCS_FAST") == "1"  # the docs build: keep its PNGs out of the tree
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "varembed_razor_example"))
    args = parser.parse_args([] if docs else argv)
    torch.set_num_threads(1)  # small matrices: one thread is fastest
    os.makedirs(args.out, exist_ok=True)
    for name in args.systems.split(","):
        _, _, results = run_system(name, arms=tuple(args.arms.split(",")), overrides=FAST)
        for r in results:
            print(verdict(r))
        print(format_table(results))
        path = plot_selection(results, os.path.join(args.out, f"razor_{name}.png"), title=name)
        print(f"wrote {path}\n")
    print(LEGEND)


if __name__ == "__main__":
    main()
