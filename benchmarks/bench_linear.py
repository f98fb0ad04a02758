"""Fit time of LinearVariationalEmbedding against scikit-learn's PCA, same run, same data.

n = 100 000 samples, D = 100 features, d = 10 components, eigen-spectrum decaying as e^{-k/10}.
Prints the time ratios against PCA(svd_solver="full") and PCA(svd_solver="covariance_eigh")
and the largest principal angle between the fitted subspaces.  Target: ratio to "full" <= 1.0
with angle < 1e-6 rad.

Usage: python benchmarks/bench_linear.py [--n 100000] [--repeats 3]
"""

import argparse
import time

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from varembed import LinearVariationalEmbedding


def best_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((args.dim, args.dim)))
    scales = np.exp(-np.arange(args.dim) / 20.0)  # variances decay as e^{-k/10}
    X = (rng.standard_normal((args.n, args.dim)) * scales) @ q.T

    t_full, pca = best_time(lambda: PCA(args.d, svd_solver="full").fit(X), args.repeats)
    t_eigh, _ = best_time(lambda: PCA(args.d, svd_solver="covariance_eigh").fit(X), args.repeats)
    t_ours, emb = best_time(
        lambda: LinearVariationalEmbedding(args.d, random_state=0).fit(X), args.repeats
    )
    angle = subspace_angles(emb.components_.T, pca.components_.T).max()
    print(f"data: n={args.n}, D={args.dim}, d={args.d}; best of {args.repeats}")
    print(f"PCA(svd_solver='full')            {t_full:8.3f} s")
    print(f"PCA(svd_solver='covariance_eigh') {t_eigh:8.3f} s")
    print(f"LinearVariationalEmbedding        {t_ours:8.3f} s  ({emb.n_iter_} Riemannian iterations)")
    print(f"ratio to full:            {t_ours / t_full:6.3f}   (target <= 1.0)")
    print(f"ratio to covariance_eigh: {t_ours / t_eigh:6.3f}")
    print(f"largest principal angle:  {angle:.2e} rad   (target < 1e-6)")


if __name__ == "__main__":
    main()
