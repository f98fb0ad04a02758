"""``python -m varembed demo``: fit a built-in dataset, print a report, write a PNG."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    """Arguments of the ``demo`` subcommand."""
    parser.add_argument("--model", choices=["neural", "linear"], default="neural",
                        help="neural: swiss roll with VariationalEmbedding (default); "
                             "linear: load_digits with LinearVariationalEmbedding (PCA special case)")
    parser.add_argument("-o", "--output", default="varembed_demo.png", help="PNG to write")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (neural model)")
    parser.add_argument("--max-iter", type=int, default=None, help="override the training length")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _linear_demo(args):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from scipy.linalg import subspace_angles

    from .. import LinearVariationalEmbedding

    digits = load_digits()
    X, y = digits.data, digits.target
    start = time.perf_counter()
    model = LinearVariationalEmbedding(2, random_state=0, verbose=0 if args.quiet else 1).fit(X)
    elapsed = time.perf_counter() - start
    pca = PCA(2, svd_solver="full").fit(X)
    angle = subspace_angles(model.components_.T, pca.components_.T).max()
    print("varembed demo: load_digits (1797 x 64) -> 2-D, LinearVariationalEmbedding")
    print(f"  fit time            {elapsed:.3f} s ({model.n_iter_} Riemannian iterations)")
    print(f"  objective F         {model.objective_:.6f}")
    print(f"  angle to PCA        {angle:.2e} rad")
    print(f"  held-out style LL   {model.score(X):.4f} per sample")
    return model, X, y


def neural_demo(args):
    """Fit :class:`~varembed.VariationalEmbedding` on the built-in swiss roll and print a report.

    Returns
    -------
    (model, X, color)
    """
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness

    from .. import VariationalEmbedding
    from ..datasets import load_demo

    demo = load_demo()
    X = demo.data
    params = dict(demo.params, device=args.device, random_state=0, verbose=0 if args.quiet else 1)
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    print(f"varembed demo: swiss roll {X.shape[0]} x {X.shape[1]} -> 2-D, VariationalEmbedding")
    start = time.perf_counter()
    model = VariationalEmbedding(**params).fit(X)
    elapsed = time.perf_counter() - start
    Z = model.transform(X)
    rho = spearmanr(pdist(Z), pdist(demo.coordinates)).statistic
    print(f"  device              {model.device_}")
    print(f"  fit time            {elapsed:.1f} s ({model.n_iter_} iterations)")
    print(f"  objective F         {model.objective_:.4f} (standardised units)")
    print(f"  trustworthiness     {trustworthiness(X, Z, n_neighbors=10):.4f} (k = 10)")
    print(f"  geodesic Spearman   {rho:.4f} (latent vs true unrolled distances)")
    print(f"  held-out log-lik    {model.score(load_demo(random_state=1).data):.4f} per sample")
    return model, X, np.asarray(demo.target)


def run(args) -> int:
    """Run the demo."""
    if args.model == "linear":
        model, X, y = _linear_demo(args)
    else:
        model, X, y = neural_demo(args)
    try:
        report = model.diagnose(random_state=0)
        print(report)
    except ImportError:
        pass
    from ..plotting import plot_demo

    plot_demo(model, X, y, args.output)
    print(f"wrote {args.output}")
    return 0
