"""load_digits: k-NN accuracy of VariationalEmbedding vs PCA at the same n_components.

Runs the acceptance pipeline

    GridSearchCV(Pipeline([StandardScaler(), VariationalEmbedding(), KNeighborsClassifier()]),
                 {"variationalembedding__n_components": [2, 5, 10]})

and then reports the 5-fold cross-validated accuracy of the same pipeline with
``VariationalEmbedding`` and with ``PCA`` at each ``n_components``, plus fit
times.  Usage: ``python benchmarks/bench_digits.py [--quick] [--cv 5]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from varembed import VariationalEmbedding


def pipeline(reducer):
    return Pipeline([("standardscaler", StandardScaler()), (type(reducer).__name__.lower(), reducer),
                     ("kneighborsclassifier", KNeighborsClassifier())])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller network, fewer steps, 600 samples")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--components", default="2,5,10")
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    params = dict(random_state=0)
    if args.quick:
        X, y = X[:600], y[:600]
        params.update(hidden=(32,), max_iter=100)
    comps = [int(c) for c in args.components.split(",")]
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=0)

    t0 = time.perf_counter()
    search = GridSearchCV(pipeline(VariationalEmbedding(**params)),
                          {"variationalembedding__n_components": comps}, cv=cv)
    search.fit(X, y)
    print(f"GridSearchCV over n_components {comps}: best {search.best_params_} "
          f"(accuracy {search.best_score_:.4f}), {time.perf_counter() - t0:.0f} s")
    rows = []
    for n, mean, std in zip(comps, search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]):
        t1 = time.perf_counter()
        pca = cross_val_score(pipeline(PCA(n, random_state=0)), X, y, cv=cv)
        t_pca = time.perf_counter() - t1
        rows.append(dict(n_components=n, varembed=float(mean), varembed_std=float(std), pca=float(pca.mean()),
                         pca_std=float(pca.std()), varembed_fit_s=float(
                             search.cv_results_["mean_fit_time"][comps.index(n)]), pca_cv_s=t_pca))
    print(f"{args.cv}-fold k-NN accuracy (n = {len(y)}):")
    print("  n_components | VariationalEmbedding | PCA            | VE fit time")
    for r in rows:
        print(f"  {r['n_components']:12d} | {r['varembed']:.4f} +- {r['varembed_std']:.4f}      "
              f"| {r['pca']:.4f} +- {r['pca_std']:.4f} | {r['varembed_fit_s']:.1f} s")
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()
