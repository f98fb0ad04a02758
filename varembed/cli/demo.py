"""``python -m varembed demo``: fit a built-in dataset, print a report with verdicts, write a figure."""

from __future__ import annotations

import os
import time

import numpy as np

from ._common import add_output, add_verbosity, output_dir, write_json

__all__ = ["add_arguments", "run", "DESCRIPTION"]

DESCRIPTION = """Fit a built-in dataset and explain the result.

neural (default): the 2000-point swiss roll (a rolled-up 2-D sheet in 3-D) with
VariationalEmbedding; prints quality against the known unrolled coordinates,
tears and folds of the map, and the diagnostics report (is the fit a solution
of its Euler-Lagrange equation? which symmetries hold?).
linear: load_digits with LinearVariationalEmbedding, the PCA special case.
Writes demo.png (data with the learned manifold, and the latent codes) and
report.json to the --out folder."""


def add_arguments(parser) -> None:
    """Arguments of the ``demo`` subcommand."""
    parser.add_argument("--model", choices=["neural", "linear"], default="neural",
                        help="neural: swiss roll with VariationalEmbedding (default); "
                             "linear: load_digits with LinearVariationalEmbedding (PCA special case)")
    add_output(parser, "varembed_demo")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (neural model)")
    parser.add_argument("--max-iter", type=int, default=None, help="ceiling on the training steps (neural model)")
    add_verbosity(parser)


def _linear_demo(args):
    from scipy.linalg import subspace_angles
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    from .. import LinearVariationalEmbedding

    digits = load_digits()
    X_train, X_test = train_test_split(digits.data, test_size=0.25, random_state=0)
    start = time.perf_counter()
    model = LinearVariationalEmbedding(2, random_state=0, verbose=int(args.verbose)).fit(X_train)
    elapsed = time.perf_counter() - start
    pca = PCA(2, svd_solver="full").fit(X_train)
    angle = subspace_angles(model.components_.T, pca.components_.T).max()
    print(f"varembed demo: load_digits ({X_train.shape[0]} training x {X_train.shape[1]}) -> 2-D, "
          "LinearVariationalEmbedding (the PCA special case)")
    print(f"  fit time                      {elapsed:.3f} s ({model.n_iter_} Riemannian iterations)")
    print(f"  objective F                   {model.objective_:.6f}")
    print(f"  angle to scikit-learn's PCA   {angle:.1e} rad (the same subspace)")
    print(f"  log-likelihood, training set  {model.score(X_train):.4f} per sample (= PCA.score "
          f"{pca.score(X_train):.4f})")
    print(f"  log-likelihood, held out      {model.score(X_test):.4f} per sample (= PCA.score "
          f"{pca.score(X_test):.4f})")
    return model, digits.data, digits.target, "digit", {"angle_to_pca": angle}


def neural_demo(args):
    """Fit :class:`~varembed.VariationalEmbedding` on the built-in swiss roll and print a report.

    Returns
    -------
    (model, X, color, color label, metrics dict)
    """
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness

    from .. import VariationalEmbedding
    from ..datasets import load_demo

    demo = load_demo()
    X = demo.data
    params = dict(demo.params, device=args.device, random_state=0, verbose=int(args.verbose))
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    print(f"varembed demo: swiss roll {X.shape[0]} x {X.shape[1]} -> 2-D, VariationalEmbedding")
    start = time.perf_counter()
    model = VariationalEmbedding(**params).fit(X)
    elapsed = time.perf_counter() - start
    Z = model.transform(X)
    metrics = {
        "fit_seconds": elapsed,
        "trustworthiness": float(trustworthiness(X, Z, n_neighbors=10)),
        "geodesic_spearman": float(spearmanr(pdist(Z), pdist(demo.coordinates)).statistic),
        "heldout_loglik": float(model.score(load_demo(random_state=1).data)),
    }
    print(f"  device              {model.device_}")
    print(f"  fit time            {elapsed:.1f} s ({model.n_iter_} iterations, "
          f"{'converged' if model.converged_ else 'stopped at max_iter'})")
    print(f"  trustworthiness     {metrics['trustworthiness']:.4f} (k = 10; 1 = no false latent neighbours)")
    print(f"  geodesic Spearman   {metrics['geodesic_spearman']:.4f} (latent vs true unrolled distances; 1 = "
          "perfectly unrolled)")
    print(f"  held-out log-lik    {metrics['heldout_loglik']:.4f} per sample (a fresh roll of the same kind)")
    return model, X, np.asarray(demo.target), "roll parameter t", metrics


def run(args) -> int:
    """Run the demo; writes ``demo.png`` and ``report.json`` into ``--out``."""
    from ..diagnostics.defects import neighbourhood_defects
    from ..plotting import plot_demo

    out = output_dir(args.out)
    model, X, color, label, metrics = (_linear_demo if args.model == "linear" else neural_demo)(args)
    defects = neighbourhood_defects(model._to_model(X).cpu().numpy(), model.transform(X))
    print(f"  tears and folds     {defects.describe()}")
    report = model.diagnose(random_state=0)
    print()
    print(report)
    png = os.path.join(out, "demo.png")
    plot_demo(model, X, color, png, color_label=label, defects=defects,
              title=f"{type(model).__name__} on the {'digits' if args.model == 'linear' else 'swiss roll'}")
    js = write_json(os.path.join(out, "report.json"), {
        "command": "demo", "model": args.model, "metrics": metrics,
        "defects": {"tears": len(defects.tears), "folds": len(defects.folds),
                    "tear_fraction": defects.tear_fraction, "fold_fraction": defects.fold_fraction},
        "diagnostics": report.to_dict()})
    print(f"wrote {png}\nwrote {js}")
    return 0
