"""Generator bases and discovery of invariant subspaces.

Symmetry discovery is linear algebra once the residual of a candidate
generator is linear in its coefficients: for a basis ``G_1..G_p`` of candidate
generators and conditions (sample points, directions) ``c = 1..N``, stack the
residuals into ``R[c, k] = residual_c(G_k)``.  A combination ``sum_k a_k G_k``
is a symmetry exactly when ``R a = 0``, so the symmetries form the numerical
null space of ``R``.  Its singular values are the evidence: a clear gap
between the (near-)zero ones and the rest says how many independent
symmetries there are.

This module is shared by the embedding diagnostics, Noether's Learning
Dynamics (parameter-group symmetries) and Noether's Razor (conserved
quadratic quantities).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = [
    "InvariantSubspace",
    "invariant_subspace",
    "residual_matrix",
    "antisymmetric_basis",
    "translation_basis",
    "symmetric_basis",
    "quadratic_form_basis",
]


@dataclass(frozen=True)
class InvariantSubspace:
    """Null space of a stacked residual matrix.

    Attributes
    ----------
    basis : ndarray of shape (rank, n_generators)
        Orthonormal coefficient vectors of the invariant generators.
    singular_values : ndarray of shape (n_generators,)
        All singular values of the (column-normalised) residual matrix, in
        increasing order: the first ``rank`` are the evidence for the
        symmetries, the next one measures how clearly the rest is broken.
    rank : int
        Dimension of the invariant subspace.
    threshold : float
        Singular values at or below this were counted as zero.
    gap : float
        ``singular_values[rank] / max(singular_values[rank - 1], tiny)``
        (``inf`` when nothing or everything is invariant).
    """

    basis: np.ndarray
    singular_values: np.ndarray
    rank: int
    threshold: float
    gap: float


def invariant_subspace(
    residuals,
    *,
    tol: Optional[float] = None,
    rtol: float = 1e-6,
    rank: Optional[int] = None,
) -> InvariantSubspace:
    """Numerical null space of a residual matrix, with singular values as evidence.

    Parameters
    ----------
    residuals : array-like of shape (n_conditions, n_generators)
        ``residuals[c, k]``: the residual of basis generator ``k`` under
        condition ``c``; a generator ``a`` (coefficient vector) is invariant
        when ``residuals @ a == 0``.
    tol : float, optional
        Absolute threshold on singular values.  Default ``rtol * s_max``.
    rtol : float, default=1e-6
        Relative threshold when ``tol`` is not given.
    rank : int, optional
        Force the dimension of the null space (e.g. when it is known) instead
        of thresholding.

    Returns
    -------
    InvariantSubspace
    """
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(f"residuals must be 2-D (n_conditions, n_generators), got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("residuals contain NaN or inf")
    n_gen = r.shape[1]
    if r.shape[0] < n_gen:  # pad so that the SVD returns all right singular vectors
        r = np.vstack([r, np.zeros((n_gen - r.shape[0], n_gen))])
    _, s, vt = np.linalg.svd(r, full_matrices=False)
    order = np.argsort(s)
    s, vt = s[order], vt[order]
    s_max = float(s[-1]) if s.size else 0.0
    threshold = float(tol) if tol is not None else rtol * max(s_max, np.finfo(float).tiny)
    k = int(np.sum(s <= threshold)) if rank is None else int(rank)
    if not 0 <= k <= n_gen:
        raise ValueError(f"rank must lie in [0, {n_gen}], got {k}")
    if 0 < k < n_gen:
        gap = float(s[k] / max(s[k - 1], np.finfo(float).tiny))
    else:
        gap = float("inf")
    return InvariantSubspace(basis=vt[:k].copy(), singular_values=s, rank=k, threshold=threshold, gap=gap)


def residual_matrix(residual: Callable[[np.ndarray], np.ndarray], n_generators: int) -> np.ndarray:
    """Stack a linear residual map into a matrix by evaluating it on basis vectors.

    Parameters
    ----------
    residual : callable
        ``a (n_generators,) -> residuals (n_conditions,)``, linear in ``a``.
    n_generators : int

    Returns
    -------
    ndarray of shape (n_conditions, n_generators)
    """
    eye = np.eye(n_generators)
    cols = [np.asarray(residual(eye[k]), dtype=np.float64).ravel() for k in range(n_generators)]
    return np.stack(cols, axis=1)


def antisymmetric_basis(n: int) -> np.ndarray:
    """Orthonormal basis of so(n) (antisymmetric ``n x n`` matrices).

    Returns
    -------
    ndarray of shape (n (n - 1) / 2, n, n)
        ``E_ij - E_ji`` (scaled by ``1/sqrt 2``) for ``i < j``.
    """
    mats = []
    for i in range(n):
        for j in range(i + 1, n):
            m = np.zeros((n, n))
            m[i, j], m[j, i] = -1.0, 1.0
            mats.append(m / np.sqrt(2.0))
    return np.array(mats).reshape(-1, n, n)


def symmetric_basis(n: int) -> np.ndarray:
    """Orthonormal basis of symmetric ``n x n`` matrices (Frobenius inner product).

    Returns
    -------
    ndarray of shape (n (n + 1) / 2, n, n)
    """
    mats = []
    for i in range(n):
        for j in range(i, n):
            m = np.zeros((n, n))
            if i == j:
                m[i, i] = 1.0
            else:
                m[i, j] = m[j, i] = 1.0 / np.sqrt(2.0)
            mats.append(m)
    return np.array(mats)


def translation_basis(n: int) -> np.ndarray:
    """Standard basis of translations of ``R^n``, shape ``(n, n)``."""
    return np.eye(n)


def quadratic_form_basis(n: int, *, linear: bool = True, constant: bool = False) -> list:
    """Basis of quadratic functions ``C(x) = 1/2 x^T A x + b^T x (+ c)`` on ``R^n``.

    Parameters
    ----------
    n : int
        Dimension of the state ``x`` (``2 x degrees of freedom`` in phase space).
    linear : bool, default=True
        Include the linear terms ``b``.
    constant : bool, default=False
        Include the constant function.

    Returns
    -------
    list of (A, b, c)
        Each entry a symmetric ``A (n, n)``, ``b (n,)`` and scalar ``c``.
    """
    basis = [(a, np.zeros(n), 0.0) for a in symmetric_basis(n)]
    if linear:
        basis += [(np.zeros((n, n)), e, 0.0) for e in np.eye(n)]
    if constant:
        basis.append((np.zeros((n, n)), np.zeros(n), 1.0))
    return basis
