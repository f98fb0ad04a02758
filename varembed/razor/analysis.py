"""Which symmetries were learned: SVD of the learned generators against the truth.

The true conserved quadratics come from the shared core
(:func:`varembed.core.hamiltonian.conserved_quadratics`, the null space of
``{C, H_true}`` over the quadratic basis).  The learned ``(A_k, b_k)`` are
written in the same orthonormal coordinates, stacked into a ``K x p`` matrix and
decomposed: the number of clearly non-zero singular values estimates the
dimension of the learned symmetry algebra, and each leading right singular
vector's projection onto the true subspace measures its parallelness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import subspace_angles

from ..core.hamiltonian import bracket_residual_ratio, conserved_quadratics, quadratic_coordinates

__all__ = [
    "LearnedSymmetries", "true_conserved_subspace", "estimate_rank", "analyse_generators", "identity_alignment",
]


@dataclass(frozen=True)
class LearnedSymmetries:
    """Summary of learned generators.

    Attributes
    ----------
    singular_values : ndarray of shape (min(K, p),)
        Singular values of the stacked coordinates, descending.
    vectors : ndarray of shape (min(K, p), p)
        Right singular vectors (quadratic-basis coordinates).
    rank : int
        Estimated dimension of the learned symmetry algebra (see
        :func:`analyse_generators`).
    gap : float
        ``s_rank / s_{rank+1}`` (``inf`` when every value is counted).
    parallelness : ndarray of shape (rank,) or None
        ``|P_true u|`` of each leading singular vector (1 = inside the true
        conserved subspace).
    principal_angles : ndarray or None
        Principal angles (degrees) between the learned and true subspaces.
    bracket_residuals : ndarray of shape (K,) or None
        Normalised ``{C_k, H_true}`` residual of each learned quantity.
    true_dim : int or None
        Dimension of the true conserved subspace.
    """

    singular_values: np.ndarray
    vectors: np.ndarray
    rank: int
    gap: float
    parallelness: np.ndarray = None
    principal_angles: np.ndarray = None
    bracket_residuals: np.ndarray = None
    true_dim: int = None


def true_conserved_subspace(system, *, n_points=None, linear=True, seed=0):
    """Null space of ``{C, H_true}`` over quadratic (and linear) ``C``.

    Parameters
    ----------
    system : HamiltonianSystem
    n_points : int, optional
        Sample states (default ``4 x`` the number of basis functions).
    linear : bool, default=True
    seed : int

    Returns
    -------
    InvariantSubspace
    """
    m = system.dim
    n_basis = m * (m + 1) // 2 + (m if linear else 0)
    n_points = n_points or 4 * n_basis
    points = system.initial_conditions(n_points, q_scale=1.5, p_scale=1.0, seed=seed)
    return conserved_quadratics(system.grad, points, linear=linear)


def estimate_rank(singular_values, *, rtol=None, floor=1e-3):
    """Rank of a descending spectrum: at its largest ratio gap, or above ``rtol * s_max``.

    With ``rtol=None`` the rank is the ``r`` maximising ``s_r / s_{r+1}``
    among values above ``floor * s_max`` (all of them when no value is below
    the floor and no ratio exceeds the one to the floor); this is scale free
    and does not assume the learned directions have similar norms.

    Returns
    -------
    rank : int
    gap : float
        ``s_rank / s_{rank+1}`` (``inf`` when ``rank`` is the full size).
    """
    s = np.asarray(singular_values, dtype=np.float64)
    if s.size == 0 or s[0] <= 0:
        return 0, float("inf")
    tiny = np.finfo(float).tiny
    if rtol is not None:
        rank = int(np.sum(s > rtol * s[0]))
    else:
        kept = s[s > floor * s[0]]
        if kept.size == s.size and kept.size > 1:
            ratios = kept[:-1] / np.maximum(kept[1:], tiny)
            rank = int(np.argmax(ratios)) + 1
        elif kept.size == s.size:
            rank = 1
        else:
            ratios = np.append(kept[:-1] / kept[1:], kept[-1] / max(s[kept.size], tiny))
            rank = int(np.argmax(ratios)) + 1
    gap = float(s[rank - 1] / max(s[rank], tiny)) if 0 < rank < s.size else float("inf")
    return rank, gap


def analyse_generators(a, b, system=None, *, rtol=None, points=None, seed=0) -> LearnedSymmetries:
    """SVD of learned quadratic generators, compared with ``system`` when given.

    Parameters
    ----------
    a : array-like of shape (K, M, M)
    b : array-like of shape (K, M)
    system : HamiltonianSystem, optional
    rtol : float, optional
        Count singular values above ``rtol * s_max``; default: the largest
        ratio gap (:func:`estimate_rank`).
    points : array-like of shape (n, M), optional
        States for the bracket residuals (default: a sample of the system).
    seed : int

    Returns
    -------
    LearnedSymmetries
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    coords = quadratic_coordinates(a, b)
    _, s, vt = np.linalg.svd(coords, full_matrices=False)
    rank, gap = estimate_rank(s, rtol=rtol)
    if system is None:
        return LearnedSymmetries(s, vt, rank, gap)
    true = true_conserved_subspace(system, seed=seed)
    top = vt[:rank]
    parallel = np.linalg.norm(top @ true.basis.T, axis=1)
    angles = np.degrees(subspace_angles(top.T, true.basis.T)) if rank and true.rank else np.array([])
    if points is None:
        points = system.initial_conditions(256, seed=seed + 1)
    residuals = bracket_residual_ratio(a, b, system.grad, points)
    return LearnedSymmetries(s, vt, rank, gap, parallel, angles, residuals, true.rank)


def identity_alignment(a) -> float:
    """``|cos|`` between ``vec(sym A)`` and ``vec(I)`` (the energy of unit oscillators)."""
    a = np.asarray(a, dtype=np.float64)
    sym = 0.5 * (a + a.T)
    eye = np.eye(a.shape[0])
    return float(abs(np.sum(sym * eye)) / (np.linalg.norm(sym) * np.linalg.norm(eye)))
