"""The command line: ``python -m varembed {demo, fit, razor, nld}``.

One entry point and one error policy: bad input or a bad file prints one
line (``error: ...``) on stderr and exits with status 2, never a traceback;
an unexpected internal error prints one line and exits with status 1 (set
``VAREMBED_DEBUG=1`` to see the traceback).  Every subcommand has ``--help``;
long commands show progress unless ``--quiet``; output files go to the
folder given by ``--out`` (default: a named folder, announced on stdout).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ._common import CLIError

__all__ = ["main", "build_parser", "SUBCOMMANDS", "CLIError"]

# subcommand -> (module with add_arguments(parser) and run(args) -> int, one-line help)
SUBCOMMANDS = {
    "demo": ("varembed.cli.demo", "fit a built-in dataset, print a report and write a figure"),
    "fit": ("varembed.cli.fit", "embed a CSV or .npy file and write the latent codes"),
    "razor": ("varembed.cli.razor", "Noether's Razor: learn the conserved quantities of a Hamiltonian system"),
    "nld": ("varembed.cli.nld", "Noether's Learning Dynamics: predicted vs measured charges under SGD"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m varembed",
        description="varembed: dimensionality reduction as a variational problem.",
        epilog="Run 'python -m varembed COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=getattr(module, "DESCRIPTION", help_text),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
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
    except (CLIError, ValueError, TypeError, OSError) as exc:
        if os.environ.get("VAREMBED_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line instead of a traceback
        if os.environ.get("VAREMBED_DEBUG"):
            raise
        print(f"internal error ({type(exc).__name__}): {exc} -- rerun with VAREMBED_DEBUG=1 for the traceback",
              file=sys.stderr)
        return 1
