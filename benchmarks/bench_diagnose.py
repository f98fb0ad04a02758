"""Time of ``diagnose()`` on a fitted d = 2, D = 784 VariationalEmbedding (target: <= 30 s on 2 CPU cores).

Data: scikit-learn's load_digits (1797 images) upsampled from 8x8 to 28x28 = 784 pixels, embedded with
VariationalEmbedding(n_components=2, density="kde").  The fit is short (its quality does not matter
here); the timed call is ``diagnose(n_samples=4096)``: Euler-Lagrange residual, Ward identities,
latent and data-space symmetry search with the currents of what is found.

Baseline in the same run: the generic autodiff path of the core (``method="generic"``, the
Euler-Lagrange expression of ``q L`` by torch.func on every point) on a subset of the latent samples,
extrapolated to 4096 points; the printed ratio is generic / fast for the residual alone, and the two
residuals are compared on the subset.

Usage: OMP_NUM_THREADS=2 python benchmarks/bench_diagnose.py [--n-samples 4096] [--fit-iter 100]

Measured (2 CPU cores shared with other jobs, load average 9-10): diagnose 7.7 s; the generic
residual extrapolated to 4096 points 453 s; fast and generic residuals agree to 3e-15 (relative).
"""

import argparse
import time

import numpy as np
import torch


def digits_784():
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    images = load_digits().images
    return np.stack([zoom(img, 3.5, order=1) for img in images]).reshape(len(images), -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4096)
    parser.add_argument("--fit-iter", type=int, default=100)
    parser.add_argument("--generic-points", type=int, default=64)
    parser.add_argument("--bandwidth", type=float, default=12.0,
                        help="KDE width in standardised units (about the median nearest-neighbour distance)")
    args = parser.parse_args()

    from varembed.diagnostics import euler_lagrange_residual

    try:
        from varembed import VariationalEmbedding
    except ImportError:
        from varembed.embedding.neural import VariationalEmbedding

    X = digits_784()
    print(f"data: load_digits upsampled, n={X.shape[0]}, D={X.shape[1]}; torch threads={torch.get_num_threads()}")
    start = time.perf_counter()
    emb = VariationalEmbedding(2, bandwidth=args.bandwidth, max_iter=args.fit_iter, random_state=0,
                               device="cpu").fit(X)
    print(f"fit ({args.fit_iter} Adam steps)           {time.perf_counter() - start:8.2f} s")

    emb.diagnose(n_samples=64, random_state=1)  # warm-up (torch.func tracing caches)
    start = time.perf_counter()
    report = emb.diagnose(n_samples=args.n_samples, random_state=0)
    t_diag = time.perf_counter() - start
    print(report)
    print(f"\ndiagnose(n_samples={args.n_samples})            {t_diag:8.2f} s   (target <= 30 s)")

    z = report.residual.z[: args.generic_points]
    start = time.perf_counter()
    fast = euler_lagrange_residual(emb, z=z)
    t_fast = time.perf_counter() - start
    start = time.perf_counter()
    slow = euler_lagrange_residual(emb, z=z, method="generic")
    t_slow = time.perf_counter() - start
    rel = np.abs(fast.residual - slow.residual).max() / np.abs(slow.residual).max()
    per_point = t_slow / len(z)
    print(f"residual on {len(z)} points: fast {t_fast:.3f} s, generic {t_slow:.3f} s "
          f"(ratio generic/fast {t_slow / t_fast:.1f}); max rel. difference {rel:.2e}")
    print(f"generic residual extrapolated to {args.n_samples} points: {per_point * args.n_samples:.1f} s")


if __name__ == "__main__":
    main()
