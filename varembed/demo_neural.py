"""The neural part of ``python -m varembed demo``: unroll a swiss roll."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["neural_demo"]


def neural_demo(args):
    """Fit :class:`~varembed.VariationalEmbedding` on the built-in swiss roll and print a report.

    Returns
    -------
    (model, X, color)
    """
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness

    from . import VariationalEmbedding
    from .datasets import load_demo

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
