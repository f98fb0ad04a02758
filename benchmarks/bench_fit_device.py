"""Wall time of a whole ``VariationalEmbedding.fit`` on the CPU and on CUDA, same data, same run.

Fits the swiss roll of the acceptance test (``make_swiss_roll(2000, noise=0.05,
random_state=0)``) and a 20 000-point roll with default settings on each
requested device / dtype, and prints per configuration: fit time, ``n_iter_``,
``transform`` time, trustworthiness (k = 10) and the Spearman correlation of
latent against geodesic distances (both on a fixed 2000-point subsample), and the
CPU/configuration fit-time ratio against the first (CPU) row.

Usage::

    python benchmarks/bench_fit_device.py [--sizes 2000 20000] [--configs cpu:float64 cuda:float64 cuda:float32]

Rows whose device is unavailable are skipped with a message.  Set
OMP_NUM_THREADS to control CPU threads.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr
from sklearn.manifold import trustworthiness

from varembed import VariationalEmbedding
from varembed.datasets import geodesic_distances, swiss_roll


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_one(n, device, dtype, n_eval=2000):
    """Fit the ``n``-point roll on ``device`` / ``dtype``; return a result dict."""
    roll = swiss_roll(n, noise=0.05, random_state=0)
    emb = VariationalEmbedding(n_components=2, random_state=0, device=device, dtype=dtype)
    _sync(device)
    t0 = time.perf_counter()
    emb.fit(roll.data)
    _sync(device)
    fit_s = time.perf_counter() - t0
    idx = np.random.default_rng(0).choice(n, size=min(n, n_eval), replace=False)
    t0 = time.perf_counter()
    Z = emb.transform(roll.data[idx])
    _sync(device)
    transform_s = time.perf_counter() - t0
    return {
        "n": n, "device": device, "dtype": dtype, "fit_s": fit_s, "n_iter": int(emb.n_iter_),
        "transform_s": transform_s,
        "trust": float(trustworthiness(roll.data[idx], Z, n_neighbors=10)),
        "spearman": float(spearmanr(pdist(Z), geodesic_distances(roll.coordinates[idx]))[0]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--configs", nargs="+", default=["cpu:float64", "cuda:float64", "cuda:float32"])
    parser.add_argument("--json", action="store_true", help="also print one JSON line per row")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'absent'}")
    for n in args.sizes:
        base = None
        for config in args.configs:
            device, dtype = config.split(":")
            if device.startswith("cuda") and not torch.cuda.is_available():
                print(f"n={n:6d} {config:14s} skipped: CUDA is not available")
                continue
            r = run_one(n, device, dtype)
            base = base or r["fit_s"]
            print(f"n={n:6d} {config:14s} fit {r['fit_s']:7.1f} s ({r['n_iter']:4d} steps, "
                  f"{1e3 * r['fit_s'] / max(r['n_iter'], 1):6.1f} ms/step incl. setup) | "
                  f"transform(2000) {r['transform_s']:5.2f} s | trust {r['trust']:.4f} "
                  f"Spearman {r['spearman']:.3f} | first-row/this fit time {base / r['fit_s']:5.2f}x", flush=True)
            if args.json:
                print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
