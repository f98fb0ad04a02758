"""Robustness of the default VariationalEmbedding over data seeds, random states and variants.

The 2000-point swiss roll and S-curve (noise 0.05) over 5 data seeds x 3 ``random_state`` s,
plus the 1000-point roll and the roll with a hole (3 seeds each): trustworthiness (k = 10,
all points) and Spearman correlation of embedded and geodesic distances (1000 points).
Prints the table and the minima; writes ``robustness.md`` and ``robustness.json``.

    python benchmarks/bench_robustness.py [--seeds 5] [--states 3] [--out benchmarks/results]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial.distance import pdist  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.datasets import make_s_curve, make_swiss_roll  # noqa: E402
from sklearn.manifold import trustworthiness  # noqa: E402

from varembed import VariationalEmbedding  # noqa: E402


def data(kind: str, n: int, seed: int, hole: bool = False):
    if kind == "roll":
        X, t = make_swiss_roll(n, noise=0.05, random_state=seed, hole=hole)
        arc = 0.5 * (t * np.sqrt(1 + t**2) + np.arcsinh(t))
        return X, np.c_[arc, X[:, 1]]
    X, t = make_s_curve(n, noise=0.05, random_state=seed)
    return X, np.c_[t, X[:, 1]]


def score(X, truth, state):
    t0 = time.perf_counter()
    emb = VariationalEmbedding(random_state=state).fit(X)
    Z = emb.transform(X)
    sub = np.random.default_rng(0).choice(len(X), size=min(1000, len(X)), replace=False)
    return dict(trust=float(trustworthiness(X, Z, n_neighbors=10)),
                spearman=float(spearmanr(pdist(Z[sub]), pdist(truth[sub])).statistic),
                fit_s=time.perf_counter() - t0, n_iter=int(emb.n_iter_), init=emb.init_kind_)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--states", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    cases = [(kind, 2000, s, False) for kind in ("roll", "S-curve") for s in range(args.seeds)]
    cases += [("roll", 1000, s, False) for s in range(3)] + [("roll", 2000, s, True) for s in range(3)]
    rows = []
    for kind, n, seed, hole in cases:
        X, truth = data(kind, n, seed, hole)
        for state in range(args.states if n == 2000 and not hole else 1):
            row = dict(data=f"{kind}{' hole' if hole else ''}", n=n, seed=seed, random_state=state,
                       **score(X, truth, state))
            rows.append(row)
            print(json.dumps(row), flush=True)
    groups = {}
    for r in rows:
        groups.setdefault(f"{r['data']} n={r['n']}", []).append(r)
    lines = ["# Robustness of the defaults (`benchmarks/bench_robustness.py`)", "",
             f"2 shared CPU cores, one thread; {time.strftime('%Y-%m-%d')}.", "",
             "| data | fits | min trust | min Spearman | median Spearman | median fit s |", "|---|---|---|---|---|---|"]
    for name, rs in groups.items():
        sp = [r["spearman"] for r in rs]
        lines.append(f"| {name} | {len(rs)} | {min(r['trust'] for r in rs):.4f} | {min(sp):.4f} | "
                     f"{np.median(sp):.4f} | {np.median([r['fit_s'] for r in rs]):.0f} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.md").write_text("\n".join(lines) + "\n")
    (out / "robustness.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
