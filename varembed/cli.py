"""Command line: ``python -m varembed {demo, fit, razor, nld}``.

Every subcommand has ``--help``.  Subcommands of optional modules are loaded
lazily, so a failure in one never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

# subcommand -> (module with add_arguments(parser) and run(args) -> int, help)
SUBCOMMANDS = {
    "demo": ("varembed.demo", "fit a built-in dataset, print a report and write a PNG"),
    "fit": ("varembed.fit_command", "embed a CSV or .npy file and write the latent codes"),
    "razor": ("varembed.razor.command", "Noether's Razor on a Hamiltonian system"),
    "nld": ("varembed.nld.command", "Noether's Learning Dynamics on load_digits"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser with one sub-parser per available subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m varembed",
        description="varembed: dimensionality reduction as a variational problem.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
