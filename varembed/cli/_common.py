"""What every subcommand shares: the error type, verbosity flags, output folders, strict JSON."""

from __future__ import annotations

import json
import math
import os

import numpy as np

__all__ = ["CLIError", "add_verbosity", "add_output", "output_dir", "to_json_safe", "write_json"]


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def add_verbosity(parser, *, default_verbose: bool = True) -> None:
    """``--verbose`` / ``--quiet`` (progress bars and step reports are on by default)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--verbose", dest="verbose", action="store_true", default=default_verbose,
                       help="show progress (default)" if default_verbose else "show progress")
    group.add_argument("--quiet", dest="verbose", action="store_false", help="no progress output")


def add_output(parser, default: str) -> None:
    """``--out FOLDER`` for the files a command writes."""
    parser.add_argument("--out", default=default, metavar="FOLDER",
                        help=f"folder for the files this command writes (default: ./{default})")


def output_dir(path: str) -> str:
    """Create the output folder (and say so); refuse a path that is an existing file."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"--out {path!r} is a file, not a folder")
    os.makedirs(path, exist_ok=True)
    return path


def to_json_safe(obj):
    """Plain JSON types only: NumPy scalars and arrays converted, NaN and +-inf replaced by ``None``."""
    if isinstance(obj, dict):
        return {str(k): to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_json_safe(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def write_json(path: str, obj) -> str:
    """Write strict JSON (no NaN / Infinity tokens; missing values are ``null``)."""
    with open(path, "w") as handle:
        json.dump(to_json_safe(obj), handle, indent=2, allow_nan=False)
        handle.write("\n")
    return path
