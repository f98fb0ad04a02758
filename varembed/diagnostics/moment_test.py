"""The calibrated symmetry test on sampled data: sample moments along a candidate flow against a randomisation null.

A sample from a distribution invariant under the flow of a generator ``A``
(``x' = A x``) has, for every test function ``f``, ``E[grad f(x) . A x] = 0``;
a finite sample breaks this at order ``1/sqrt(n)``.  The moment test takes the
polynomials up to degree :data:`MOMENT_DEGREE` as test functions (rows
normalised by their per-point spread, columns by the flow's RMS), and compares
each candidate's residual with its spread under a randomisation null: the
same data with every point moved along the candidate's orbit by a random
angle, which for an exactly invariant distribution is another sample of it.
The result is a z-score per candidate (:func:`moment_test`), used by
:func:`~varembed.diagnostics.symmetries.find_symmetries` in its default
(``tol=None``) mode.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["moment_test", "MOMENT_DEGREE", "MOMENT_DEGREE_HIGH_D"]


#: Highest degree of the polynomial test functions of the moment test (lower above 4 dimensions).
MOMENT_DEGREE, MOMENT_DEGREE_HIGH_D = 4, 3


def _exponents(n: int, degree: int) -> np.ndarray:
    """All multi-indices ``alpha`` of ``n`` variables with ``1 <= |alpha| <= degree``."""
    from itertools import combinations_with_replacement

    rows = []
    for m in range(1, degree + 1):
        for combo in combinations_with_replacement(range(n), m):
            rows.append(np.bincount(combo, minlength=n))
    return np.array(rows)


def _monomial_gradients(x: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """``grad prod_l x_l^alpha_l`` for every multi-index row of ``exps``: shape ``(n_points, J, n)``."""
    n_pts, n = x.shape
    deg = int(exps.max())
    powers = x[:, :, None] ** np.arange(deg + 1)[None, None, :]  # (c, n, deg + 1)
    cols = np.arange(n)[None, :]
    factors = powers[:, cols, exps]  # (c, J, n): x_l^alpha_l
    lowered = powers[:, cols, np.maximum(exps - 1, 0)] * exps[None]  # alpha_l x_l^(alpha_l - 1)
    ones = np.ones((n_pts, exps.shape[0], 1))
    before = np.cumprod(np.concatenate([ones, factors[:, :, :-1]], -1), -1)  # prod_{l < i}
    after = np.cumprod(np.concatenate([ones, factors[:, :, :0:-1]], -1), -1)[:, :, ::-1]  # prod_{l > i}
    return lowered * before * after


def _moment_matrix(x: np.ndarray, a: np.ndarray, b: np.ndarray, exps: np.ndarray, return_scales: bool = False):
    """``M[j, k] = mean_i grad phi_j(x_i) . (A_k x_i + b_k)``, normalised.

    ``phi_j(x) = prod x^alpha_j``: ``M[:, k] = 0`` says the sample moments of every
    ``phi_j`` are stationary along the flow of generator ``k``.  Column ``k`` is
    divided by ``scale_k = rms |A_k x + b_k|`` (a null vector ``v`` is the generator
    ``sum_k (v_k / scale_k) (A_k, b_k)``), and row ``j`` by the root mean square of
    its per-point terms, so that noisy high-degree moments weigh no more than their
    sampling spread allows.
    """
    flows = np.einsum("kij,cj->cki", a, x) + b[None]  # (c, k, n)
    cols = np.maximum(np.sqrt(np.mean(np.sum(flows**2, -1), 0)), 1e-300)
    terms = np.einsum("cji,cki->cjk", _monomial_gradients(x, exps), flows / cols[None, :, None])  # per point
    # each row in units of its own sampling noise (the spread of the per-point terms): a z-score matrix
    rows = np.maximum(np.sqrt(np.mean(np.sum(terms**2, -1), 0)), 1e-300)
    out = terms.mean(0) / rows[:, None]
    return (out, cols) if return_scales else out


def _orbit_move(x: np.ndarray, mat: np.ndarray, gen: torch.Generator) -> np.ndarray:
    """Move each point along the flow of ``mat`` by an independent uniform angle (a full turn of the slowest plane).

    If the data's distribution is invariant under the flow, the moved points are
    another sample of it: the randomisation null of the moment test.  Uses the
    eigen-decomposition ``B = U diag(i w) U^H`` of the antisymmetric generator.
    """
    evals, vecs = np.linalg.eig(mat)
    freqs = np.abs(evals.imag)
    period = 2 * np.pi / max(float(freqs[freqs > 1e-9 * max(freqs.max(), 1e-300)].min()), 1e-300)
    theta = torch.rand(x.shape[0], generator=gen, dtype=torch.float64).numpy() * period
    coords = x.astype(complex) @ np.linalg.inv(vecs).T  # U^-1 x per row
    return np.real((coords * np.exp(theta[:, None] * evals[None])) @ vecs.T)


def moment_test(x, a, b, n_null, z_crit, gen):
    """Candidate symmetries of the sample ``x`` by the moment test, smallest singular value first.

    Returns the singular values (ascending), the candidate generators' coefficients
    in the basis ``a, b`` (one row each, unit norm of ``(A, b)``), the number
    accepted, and the z-scores and null standard deviations of the tested ones.
    """
    n = x.shape[1]
    exps = _exponents(n, MOMENT_DEGREE if n <= 4 else MOMENT_DEGREE_HIGH_D)
    moments, scales = _moment_matrix(x, a, b, exps, return_scales=True)
    _, sv, vt = np.linalg.svd(np.vstack([moments, np.zeros((max(0, a.shape[0] - moments.shape[0]), a.shape[0]))]),
                              full_matrices=False)
    order = np.argsort(sv)
    sv, vt = sv[order], vt[order]
    raw = vt / scales[None]  # back to the unnormalised basis
    raw /= np.sqrt(np.sum(np.tensordot(raw, a, 1) ** 2, (1, 2)) + (raw @ b) ** 2 @ np.ones(b.shape[1]))[:, None]
    zs, spreads = [], []
    for value, coef, gcoef in zip(sv, vt, raw):
        mat = np.tensordot(gcoef, a, 1)
        if np.abs(mat).max() < 1e-12:  # a pure translation has no compact orbit: not testable this way
            break
        null = [np.linalg.norm(_moment_matrix(_orbit_move(x, mat, gen), a, b, exps) @ coef) for _ in range(n_null)]
        mean, spread = float(np.mean(null)), float(np.std(null, ddof=1))
        zs.append((value - mean) / max(spread, np.finfo(float).tiny))
        spreads.append(spread)
        if zs[-1] > z_crit:
            break
    accepted = len(zs) - (1 if zs and zs[-1] > z_crit else 0)
    return sv, raw, accepted, np.asarray(zs), np.asarray(spreads)


