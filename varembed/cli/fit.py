"""``python -m varembed fit``: embed a CSV or ``.npy`` file from the command line."""

from __future__ import annotations

import os

import numpy as np

from ._common import CLIError, add_verbosity

__all__ = ["add_arguments", "run", "load_matrix", "save_matrix", "DESCRIPTION"]


DESCRIPTION = """Embed the rows of a CSV (optional header row) or .npy file and write their latent codes.

Models: neural (default) -- VariationalEmbedding, a smooth nonlinear two-way map
fitted by the variational objective (inverse map, likelihood, diagnostics);
linear -- LinearVariationalEmbedding, the affine special case (exactly PCA for
the default Gaussian density).  Features are standardised (each to unit
variance) unless --no-standardize: features in different units would otherwise
let the largest one dominate."""


def add_arguments(parser) -> None:
    """Arguments of the ``fit`` subcommand."""
    parser.add_argument("input", help="data file: .csv (optional header row) or .npy, one sample per row")
    parser.add_argument("-o", "--output", required=True, help="where to write the latent codes (.csv or .npy)")
    parser.add_argument("--n-components", type=int, default=2, help="latent dimension d (default 2)")
    parser.add_argument("--model", choices=["neural", "linear"], default="neural",
                        help="neural: smooth nonlinear map, VariationalEmbedding (default); "
                             "linear: the affine special case, LinearVariationalEmbedding (PCA)")
    parser.add_argument("--standardize", dest="standardize", action="store_true", default=True,
                        help="scale each feature to unit variance first (default)")
    parser.add_argument("--no-standardize", dest="standardize", action="store_false",
                        help="use the features as they are")
    parser.add_argument("--device", default="auto", help="neural model only: cpu, cuda, cuda:N or auto")
    parser.add_argument("--continuity", type=float, default=None, help="continuity weight lambda")
    parser.add_argument("--max-iter", type=int, default=None, help="ceiling on the optimiser steps")
    parser.add_argument("--random-state", type=int, default=0)
    add_verbosity(parser)


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
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import LinearVariationalEmbedding, VariationalEmbedding

    X = load_matrix(args.input)
    if args.n_components < 1 or args.n_components > X.shape[1]:
        raise CLIError(f"--n-components must lie in [1, {X.shape[1]}] for {X.shape[1]} features, got {args.n_components}")
    params = dict(random_state=args.random_state, verbose=int(args.verbose))
    if args.continuity is not None:
        params["continuity"] = args.continuity
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.model == "linear":
        model = LinearVariationalEmbedding(args.n_components, **params)
    else:
        model = VariationalEmbedding(args.n_components, device=args.device, **params)
    steps = ([StandardScaler()] if args.standardize else []) + [model]
    Z = make_pipeline(*steps).fit_transform(X)
    save_matrix(args.output, Z)
    print(f"embedded {X.shape[0]} x {X.shape[1]} -> {Z.shape[1]} dimensions with {type(model).__name__}"
          f"{' (standardised features)' if args.standardize else ''}; objective F = {model.objective_:.6g}; "
          f"wrote {args.output}")
    return 0
