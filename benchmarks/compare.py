"""varembed against PCA, KernelPCA, Isomap, UMAP and t-SNE on four datasets.

Datasets: swiss roll and S-curve (2 000 points each, with ground-truth manifold
coordinates), load_digits (with labels) and a 20 000-point synthetic manifold (a swiss
roll rotated into 10 dimensions).  For each method: fit time, time to transform 1 000
new points (where the method has a transform), trustworthiness and continuity (k = 10),
kNN accuracy (digits labels; elsewhere 5 bins of the roll coordinate), Spearman
correlation of latent distances with true geodesic distances (where known),
reconstruction error (where an inverse map exists) and held-out log-likelihood (where
defined).  Quality metrics use a fixed random subset of at most 2 000 training points;
methods with O(n^2) memory (KernelPCA, Isomap) are skipped above 6 000 points.

Writes benchmarks/results/compare.md and one PNG of embeddings per dataset.

Usage: python benchmarks/compare.py [--quick] [--datasets swiss_roll,digits] [--methods ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr
from sklearn.datasets import load_digits, make_s_curve, make_swiss_roll
from sklearn.decomposition import PCA, KernelPCA
from sklearn.manifold import TSNE, Isomap, trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

RESULTS = Path(__file__).resolve().parent / "results"


# ----------------------------------------------------------------------------- data
def _roll_data(maker, n, seed, dim=3):
    X, t = maker(n, noise=0.05, random_state=seed)
    height = X[:, 1].copy()
    truth = np.column_stack([t, height])
    if dim > 3:
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        X = np.hstack([X, 0.05 * rng.standard_normal((n, dim - 3))]) @ q.T
    return X, truth


def _arc_coordinates(truth, kind):
    """True intrinsic coordinates: swiss-roll arc length along the spiral, and height."""
    t, h = truth[:, 0], truth[:, 1]
    if kind == "roll":  # spiral r = t, arc length s(t) = (t sqrt(1+t^2) + asinh t)/2
        s = 0.5 * (t * np.sqrt(1 + t**2) + np.arcsinh(t))
    else:  # S-curve parameter t in [-3pi/2, 3pi/2] on unit circles: arc length = t
        s = t
    return np.column_stack([s, h])


def datasets(quick):
    n = 1000 if quick else 2000
    big = 5000 if quick else 20000
    out = {}
    X, truth = _roll_data(make_swiss_roll, 2 * n, 0)
    out["swiss_roll"] = (X[:n], X[n:], _arc_coordinates(truth[:n], "roll"), None)
    X, truth = _roll_data(make_s_curve, 2 * n, 0)
    out["s_curve"] = (X[:n], X[n:], _arc_coordinates(truth[:n], "s"), None)
    digits = load_digits()
    Xd = StandardScaler().fit_transform(digits.data)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(Xd))
    tr, te = perm[:1400], perm[1400:]
    out["digits"] = (Xd[tr], Xd[te], None, digits.target[tr])
    X, truth = _roll_data(make_swiss_roll, big + 1000, 1, dim=10)
    out["synthetic_20k"] = (X[:big], X[big:], _arc_coordinates(truth[:big], "roll"), None)
    return out


# -------------------------------------------------------------------------- methods
def methods(quick):
    from varembed import LinearVariationalEmbedding

    m = {
        "varembed-linear": lambda: LinearVariationalEmbedding(2, random_state=0),
        "PCA": lambda: PCA(2, random_state=0),
        "KernelPCA": lambda: KernelPCA(2, kernel="rbf", fit_inverse_transform=True, random_state=0),
        "Isomap": lambda: Isomap(n_neighbors=10, n_components=2),
        "t-SNE": lambda: TSNE(2, random_state=0, init="pca"),
    }
    try:
        from varembed import VariationalEmbedding

        m["varembed-neural"] = lambda: VariationalEmbedding(2, random_state=0)
    except ImportError:
        pass
    try:
        import umap  # noqa: F401

        m["UMAP"] = lambda: umap.UMAP(n_components=2, random_state=0)
    except ImportError:
        pass
    return m


QUADRATIC_MEMORY = {"KernelPCA", "Isomap"}


def evaluate(name, make, X, X_new, truth, labels, rng):
    row = {"method": name}
    if name in QUADRATIC_MEMORY and len(X) > 6000:
        row["note"] = "skipped: O(n^2) memory"
        return row, None
    model = make()
    start = time.perf_counter()
    Z = model.fit_transform(X)
    row["fit_s"] = time.perf_counter() - start
    if hasattr(model, "transform"):
        start = time.perf_counter()
        model.transform(X_new[:1000])
        row["transform_1k_s"] = time.perf_counter() - start
    idx = rng.choice(len(X), size=min(2000, len(X)), replace=False)
    Xs, Zs = X[idx], Z[idx]
    row["trustworthiness"] = trustworthiness(Xs, Zs, n_neighbors=10)
    row["continuity"] = trustworthiness(Zs, Xs, n_neighbors=10)
    if labels is None and truth is not None:
        edges = np.quantile(truth[:, 0], [0.2, 0.4, 0.6, 0.8])
        y = np.digitize(truth[idx, 0], edges)
    else:
        y = labels[idx] if labels is not None else None
    if y is not None:
        row["knn_acc"] = cross_val_score(KNeighborsClassifier(10), Zs, y, cv=5).mean()
    if truth is not None:
        sub = idx[:1000]
        row["geodesic_spearman"] = spearmanr(pdist(Z[sub]), pdist(truth[sub])).statistic
    if hasattr(model, "inverse_transform"):
        try:
            rec = model.inverse_transform(model.transform(X_new[:1000]))
            row["recon_mse"] = float(np.mean((rec - X_new[:1000]) ** 2))
        except Exception as exc:  # some methods lack a usable inverse
            row["note"] = f"no inverse: {type(exc).__name__}"
    if hasattr(model, "score") and name != "KernelPCA":
        try:
            row["heldout_loglik"] = float(model.score(X_new))
        except Exception:
            pass
    return row, Z


COLUMNS = ["method", "fit_s", "transform_1k_s", "trustworthiness", "continuity", "knn_acc",
           "geodesic_spearman", "recon_mse", "heldout_loglik", "note"]


def to_markdown(name, rows):
    lines = [f"### {name}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for c in COLUMNS:
            v = r.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _provenance(quick):
    """One line: date, cores, library versions and the size preset of this run."""
    import os
    import platform
    from datetime import date
    from importlib.metadata import PackageNotFoundError, version

    libs = []
    for pkg in ("varembed", "torch", "scikit-learn", "umap-learn"):
        try:
            libs.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return (f"Run {date.today().isoformat()} on {os.cpu_count()} CPU cores ({platform.machine()}), "
            f"{', '.join(libs)}; {'quick' if quick else 'full'} sizes. Times are wall-clock seconds.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="smaller datasets")
    parser.add_argument("--datasets", default=None, help="comma-separated subset")
    parser.add_argument("--methods", default=None, help="comma-separated subset")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(exist_ok=True)
    data = datasets(args.quick)
    meths = methods(args.quick)
    if args.datasets:
        data = {k: v for k, v in data.items() if k in args.datasets.split(",")}
    if args.methods:
        meths = {k: v for k, v in meths.items() if k in args.methods.split(",")}
    report = ["# varembed benchmark: embeddings compared", "", _provenance(args.quick), ""]
    for dname, (X, X_new, truth, labels) in data.items():
        rows, embeddings = [], {}
        for mname, make in meths.items():
            rng = np.random.default_rng(0)
            print(f"[{dname}] {mname} ...", flush=True)
            row, Z = evaluate(mname, make, X, X_new, truth, labels, rng)
            rows.append(row)
            if Z is not None:
                embeddings[mname] = Z
        report.append(to_markdown(f"{dname} (n = {len(X)}, D = {X.shape[1]})", rows))
        color = labels if labels is not None else truth[:, 0]
        fig, axes = plt.subplots(1, len(embeddings), figsize=(3.2 * len(embeddings), 3.2))
        for ax, (mname, Z) in zip(np.atleast_1d(axes), embeddings.items()):
            ax.scatter(Z[:, 0], Z[:, 1], c=color[: len(Z)], s=2, cmap="Spectral")
            ax.set_title(mname, fontsize=9)
            ax.set_xticks([]), ax.set_yticks([])
        fig.tight_layout()
        fig.savefig(RESULTS / f"compare_{dname}.png", dpi=90)
        plt.close(fig)
        (RESULTS / "compare.md").write_text("\n".join(report))
    report.append("Embeddings: " + ", ".join(f"[{k}](compare_{k}.png)" for k in data) + "\n")
    (RESULTS / "compare.md").write_text("\n".join(report))
    print("\n".join(report))


if __name__ == "__main__":
    main()
