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
from typing import Optional

import numpy as np

__all__ = [
    "InvariantSubspace",
    "invariant_subspace",
    "RankDecision",
    "count_zero",
    "antisymmetric_basis",
    "translation_basis",
    "symmetric_basis",
    "quadratic_form_basis",
]


@dataclass(frozen=True)
class RankDecision:
    """How many values of a spectrum count as zero, and the evidence.

    Returned by :func:`count_zero`; ``gap`` says how clear the decision is.

    Attributes
    ----------
    n_zero : int
        Number of values judged zero (the smallest ones).
    threshold : float
        The decision threshold: the largest value that counts as zero
        (``tol``, ``rtol``, ``gap``, ``fixed``) or the critical z-score
        (``null``).
    gap : float
        Smallest non-zero value over the largest zero one (``inf`` when
        nothing or everything is zero): how clear the decision is.
    rule : {"tol", "rtol", "null", "gap", "fixed"}
        The mode that decided.
    z_scores : ndarray or None
        ``(value - null_mean) / null_scale`` per value, ascending values (rule ``"null"``):
        how many standard errors of the sampling spread each value lies from zero.
    """

    n_zero: int
    threshold: float
    gap: float
    rule: str
    z_scores: Optional[np.ndarray] = None


def count_zero(values, *, tol=None, rtol=None, null_scale=None, null_mean=0.0, z_crit: float = 3.0, n_zero=None,
               floor: float = 1e-3) -> RankDecision:
    """THE rank rule of varembed: how many of the smallest values of a spectrum are zero.

    Every "how many symmetries" question (embedding diagnostics, NLD
    parameter symmetries, Noether's Razor conserved quantities) is answered
    by this one rule, with its evidence.  Exactly one mode applies, in this
    order of precedence:

    * ``n_zero`` -- a known count (``rule="fixed"``);
    * ``tol`` -- exact mode: values ``<= tol`` are zero;
    * ``rtol`` -- values ``<= rtol * max(values)`` are zero;
    * ``null_scale`` -- statistical mode: the sampling spread each value
      would have if its direction were an exact zero (a scalar, or one per
      value in ascending order of the values; e.g. from a bootstrap or the
      analytic ``1 / sqrt(n)`` scale), optionally with the mean ``null_mean``
      such a value would have (a randomisation null); the smallest values with
      ``(value - null_mean) / null_scale <= z_crit`` are zero: the ones the
      data do not reject;
    * otherwise the largest ratio gap ``s_k / s_{k-1}`` among values above
      ``floor * max(values)`` (values below that floor are zero): scale free.

    Parameters
    ----------
    values : array-like of shape (n,)
        Non-negative singular values, in any order.
    tol, rtol, null_scale, z_crit, n_zero, floor :
        See above.

    Returns
    -------
    RankDecision
    """
    s = np.sort(np.abs(np.asarray(values, dtype=np.float64).ravel()))
    n = s.size
    tiny = np.finfo(float).tiny
    s_max = float(s[-1]) if n else 0.0
    z_scores = None
    if n_zero is not None:
        k, rule = int(n_zero), "fixed"
        if not 0 <= k <= n:
            raise ValueError(f"the number of zero values must lie in [0, {n}], got {k}")
        threshold = float(s[k - 1]) if k else float("nan")
    elif tol is not None or rtol is not None:
        threshold = float(tol) if tol is not None else float(rtol) * max(s_max, tiny)
        k, rule = int(np.sum(s <= threshold)), ("tol" if tol is not None else "rtol")
    elif null_scale is not None:
        scale = np.broadcast_to(np.asarray(null_scale, dtype=np.float64), s.shape)
        z_scores = (s - np.broadcast_to(np.asarray(null_mean, dtype=np.float64), s.shape)) / np.maximum(scale, tiny)
        rejected = np.nonzero(z_scores > z_crit)[0]
        k, rule, threshold = (int(rejected[0]) if rejected.size else n), "null", float(z_crit)
    else:
        rule = "gap"
        if n == 0 or s_max <= 0:
            k = n
        else:
            lo = floor * s_max
            m = int(np.sum(s <= lo))
            if m == n:
                k = n
            else:
                prev = np.maximum(np.concatenate([[lo], s[:-1]]), lo)
                k = m + int(np.argmax((s / prev)[m:]))
        threshold = float(s[k - 1]) if k else float("nan")
    gap = float(s[k] / max(s[k - 1], tiny)) if 0 < k < n else float("inf")
    return RankDecision(n_zero=k, threshold=threshold, gap=gap, rule=rule, z_scores=z_scores)


@dataclass(frozen=True)
class InvariantSubspace:
    """Null space of a stacked residual matrix.

    Attributes
    ----------
    basis : ndarray of shape (rank, n_generators)
        Orthonormal coefficient vectors of the invariant generators.
    singular_values : ndarray of shape (n_generators,)
        All singular values of the residual matrix, in increasing order: the
        first ``rank`` are the evidence for the symmetries, the next one
        measures how clearly the rest is broken.
    rank : int
        Dimension of the invariant subspace.
    threshold : float
        The decision threshold of :func:`count_zero`.
    gap : float
        ``singular_values[rank] / singular_values[rank - 1]`` (``inf`` when
        nothing or everything is invariant).
    rule : str
        The mode of :func:`count_zero` that decided.
    z_scores : ndarray or None
        Singular values in units of their sampling spread (statistical mode).
    """

    basis: np.ndarray
    singular_values: np.ndarray
    rank: int
    threshold: float
    gap: float
    rule: str = "rtol"
    z_scores: Optional[np.ndarray] = None


def invariant_subspace(
    residuals,
    *,
    tol: Optional[float] = None,
    rtol: Optional[float] = None,
    rank: Optional[int] = None,
    null_scale=None,
    null_mean=0.0,
    z_crit: float = 3.0,
) -> InvariantSubspace:
    """Numerical null space of a residual matrix, with singular values as evidence.

    Parameters
    ----------
    residuals : array-like of shape (n_conditions, n_generators)
        ``residuals[c, k]``: the residual of basis generator ``k`` under
        condition ``c``; a generator ``a`` (coefficient vector) is invariant
        when ``residuals @ a == 0``.
    tol, rtol, null_scale, z_crit :
        The decision of :func:`count_zero` on the singular values: absolute
        threshold, relative threshold, or the sampling spread of each
        singular value (a scalar, or one per singular value in ascending
        order).  With none of them (and no ``rank``): ``rtol=1e-6``.
    rank : int, optional
        Force the dimension of the null space (e.g. when it is known).

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
    if tol is None and rtol is None and null_scale is None and rank is None:
        rtol = 1e-6
    decision = count_zero(s, tol=tol, rtol=rtol, null_scale=null_scale, null_mean=null_mean, z_crit=z_crit,
                          n_zero=rank)
    k = decision.n_zero
    return InvariantSubspace(basis=vt[:k].copy(), singular_values=s, rank=k, threshold=decision.threshold,
                             gap=decision.gap, rule=decision.rule, z_scores=decision.z_scores)


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
