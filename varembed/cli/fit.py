"""``python -m varembed fit``: embed a CSV or ``.npy`` file from the command line."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["add_arguments", "run", "load_matrix", "save_matrix"]


def add_arguments(parser) -> None:
    """Arguments of the ``fit`` subcommand."""
    parser.add_argument("input", help="data file: .csv (optional header row) or .npy, one sample per row")
    parser.add_argument("-o", "--output", required=True, help="where to write the latent codes (.csv or .npy)")
    parser.add_argument("--n-components", type=int, default=2, help="latent dimension d (default 2)")
    parser.add_argument("--model", choices=["linear", "neural"], default="linear",
                        help="linear (exact, pymanopt) or neural (smooth MLP map, torch)")
    parser.add_argument("--device", default="auto", help="neural model only: cpu, cuda, cuda:N or auto")
    parser.add_argument("--continuity", type=float, default=None, help="continuity weight lambda")
    parser.add_argument("--random-state", type=int, default=0)


def load_matrix(path: str) -> np.ndarray:
    """Read a 2-D float array from ``.npy`` or ``.csv`` (a non-numeric first row is a header)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"input file not found: {path}")
    if path.endswith(".npy"):
        try:
            data = np.load(path, allow_pickle=False)
        except Exception as exc:  # malformed file
            raise ValueError(f"could not read {path} as a .npy array: {exc}") from exc
    else:
        with open(path) as handle:
            first = handle.readline()
        try:
            [float(v) for v in first.strip().split(",")]
            skip = 0
        except ValueError:
            skip = 1
        try:
            data = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
        except ValueError as exc:
            raise ValueError(f"could not parse {path} as a numeric CSV: {exc}") from exc
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"{path} must hold a 2-D array (samples x features), got shape {data.shape}")
    return data


def save_matrix(path: str, data: np.ndarray) -> None:
    """Write ``data`` as ``.npy`` or ``.csv`` according to the extension."""
    if path.endswith(".npy"):
        np.save(path, data)
    else:
        np.savetxt(path, data, delimiter=",", fmt="%.17g")


def run(args) -> int:
    """Fit the chosen model and write the latent codes."""
    X = load_matrix(args.input)
    if args.model == "linear":
        from .. import LinearVariationalEmbedding

        params = {} if args.continuity is None else {"continuity": args.continuity}
        model = LinearVariationalEmbedding(args.n_components, random_state=args.random_state, **params)
    else:
        from ..embedding.neural import VariationalEmbedding

        params = {} if args.continuity is None else {"continuity": args.continuity}
        model = VariationalEmbedding(args.n_components, device=args.device,
                                     random_state=args.random_state, **params)
    Z = model.fit_transform(X)
    save_matrix(args.output, Z)
    print(f"embedded {X.shape[0]} x {X.shape[1]} -> {Z.shape[1]} dimensions "
          f"({args.model}); objective F = {model.objective_:.6g}; wrote {args.output}")
    return 0
