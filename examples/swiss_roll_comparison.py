"""
Swiss roll and S-curve: VariationalEmbedding against Isomap and UMAP
====================================================================

Unrolls two classic 2-D manifolds in 3-D with the nonlinear variational embedding and
compares it with Isomap (and UMAP when ``umap-learn`` is installed) by trustworthiness
(k = 10) and the Spearman correlation between latent distances and the true geodesic
distances (arc length along the roll, height).  Unlike Isomap and UMAP, the variational
map is parametric in both directions (``inverse_transform``) and has a likelihood.  Its
defaults start from Isomap's codes here (the roll is near-isometric), use their kernel
density as the prior and anchor the map to the data, then train to convergence: the result
no longer depends on stopping early (Spearman 0.993 at the default budget and at 4x).
"""

import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr
from sklearn.datasets import make_s_curve
from sklearn.manifold import Isomap, trustworthiness

from varembed import VariationalEmbedding
from varembed.datasets import swiss_roll

n = 1000 if os.environ.get("VAREMBED_DOCS_FAST") else 2000
roll = swiss_roll(n, noise=0.05, random_state=0)
Xs, ts = make_s_curve(n, noise=0.05, random_state=0)
data = {
    "swiss roll": (roll.data, roll.coordinates, roll.t),
    "S-curve": (Xs, np.column_stack([ts, Xs[:, 1]]), ts),
}
methods = {
    "VariationalEmbedding": lambda: VariationalEmbedding(2, random_state=0),
    "Isomap": lambda: Isomap(n_neighbors=10, n_components=2),
}
try:
    import umap

    methods["UMAP"] = lambda: umap.UMAP(n_components=2, random_state=0)
except ImportError:
    pass

fig, axes = plt.subplots(len(data), len(methods), figsize=(3.6 * len(methods), 3.4 * len(data)))
for row, (dname, (X, truth, color)) in enumerate(data.items()):
    for col, (mname, make) in enumerate(methods.items()):
        start = time.perf_counter()
        Z = make().fit_transform(X)
        elapsed = time.perf_counter() - start
        trust = trustworthiness(X, Z, n_neighbors=10)
        sub = slice(0, 800)
        rho = spearmanr(pdist(Z[sub]), pdist(truth[sub])).statistic
        print(f"{dname:10s} {mname:22s} fit {elapsed:6.1f} s  trust {trust:.4f}  geodesic Spearman {rho:.3f}")
        ax = axes[row, col]
        points = ax.scatter(Z[:, 0], Z[:, 1], c=color, s=3, cmap="Spectral")
        ax.set_xlabel("embedding 1")
        ax.set_ylabel("embedding 2")
        ax.set_title(f"{dname}: {mname}\ntrust {trust:.3f}, Spearman {rho:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
fig.colorbar(points, ax=axes, label="position along the manifold (roll angle / S-curve parameter)", shrink=0.6)
fig.savefig("swiss_roll_comparison.png", dpi=90)
