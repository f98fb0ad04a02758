"""Which conserved quantities a fitted model reports, and how they compare with the truth.

The posterior means of the ``K`` slots, written in orbit coordinates
(:meth:`ConservedQuantities.posterior_moments`), are stacked into a ``K x p``
matrix ``U`` with SVD ``U = sum_i s_i a_i v_i^T``.  Under the posterior the
``i``-th singular value moves by ``delta s_i = a_i^T delta U v_i``, with
standard deviation ``sqrt(sum_kj a_ik^2 v_ij^2 std_kj^2)``; THE rank rule
(:func:`varembed.core.symmetry.count_zero`, statistical mode) counts a
direction as zero when its singular value lies within ``z_crit`` of those
standard deviations.  Point estimates have no posterior: their spectrum is
read with the rule's scale-free gap mode.  The reported quantities are the
leading right singular vectors ``v_i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.linalg import subspace_angles

from ..core.symmetry import count_zero
from .phase_space import (
    bracket_residual_ratio,
    conserved_quadratics,
    drift_ratio,
    quadratic_bracket,
    quadratic_from_coordinates,
)

__all__ = ["LearnedSymmetries", "true_conserved_subspace", "spectrum_read_out", "lie_closure", "read_out",
           "compare"]


@dataclass(frozen=True)
class LearnedSymmetries:
    """The conserved quantities a model reports.

    Attributes
    ----------
    rank : int
        Number of reported conserved quantities.
    basis : ndarray of shape (rank, p)
        Their orthonormal coordinates (:func:`~varembed.razor.phase_space.quadratic_coordinates`).
    singular_values : ndarray
        Spectrum of the slots' posterior means, descending.
    z_scores : ndarray or None
        Singular values in posterior standard deviations (descending order);
        ``None`` for point estimates.
    rule : str
        The mode of :func:`count_zero` that decided.
    gap : float
        Smallest kept over largest dropped singular value.
    true_dim : int or None
        Dimension of the true conserved subspace (with ``system``).
    parallelness : ndarray of shape (rank,) or None
        ``|P_true v_i|`` of every reported quantity (1 = inside the true subspace).
    principal_angles : ndarray or None
        Degrees between the reported and the true subspaces.
    bracket_residuals : ndarray of shape (rank,) or None
        Normalised ``{C_i, H_true}`` of every reported quantity.
    drift : ndarray of shape (rank,) or None
        Drift ratio of every reported quantity along held-out trajectories
        (:func:`~varembed.razor.phase_space.drift_ratio`).
    """

    rank: int
    basis: np.ndarray
    singular_values: np.ndarray
    z_scores: Optional[np.ndarray]
    rule: str
    gap: float
    true_dim: Optional[int] = None
    parallelness: Optional[np.ndarray] = None
    principal_angles: Optional[np.ndarray] = None
    bracket_residuals: Optional[np.ndarray] = None
    drift: Optional[np.ndarray] = None

    @property
    def max_drift(self) -> float:
        """Largest drift ratio of the reported quantities (``nan`` without trajectories)."""
        return float(np.max(self.drift)) if self.drift is not None and self.drift.size else float("nan")

    @property
    def min_parallelness(self) -> float:
        """Smallest parallelness (``nan`` without a system or with nothing reported)."""
        p = self.parallelness
        return float(np.min(p)) if p is not None and p.size else float("nan")


def true_conserved_subspace(system, *, n_points=None, seed=0):
    """The ground truth: null space of ``{C, H_true}`` over quadratic and linear ``C``.

    Parameters
    ----------
    system : HamiltonianSystem
    n_points : int, optional
        Sample states (default ``4 x`` the number of basis functions).
    seed : int

    Returns
    -------
    InvariantSubspace
    """
    m = system.dim
    n_points = n_points or 4 * (m * (m + 1) // 2 + m)
    points = system.initial_conditions(n_points, q_scale=1.5, p_scale=1.0, seed=seed)
    return conserved_quadratics(system.grad, points)


def spectrum_read_out(mean, std=None, *, z_crit=3.0):
    """Rank and reported basis from slot means ``(K, p)`` and posterior standard deviations.

    Returns
    -------
    rank : int
    basis : ndarray of shape (rank, p)
    singular_values, z_scores : ndarray (descending), z_scores ``None`` without ``std``
    decision : RankDecision
    """
    mean = np.asarray(mean, dtype=np.float64)
    left, s, vt = np.linalg.svd(mean, full_matrices=False)
    if std is None:
        decision = count_zero(s)
        z = None
    else:
        spread = np.sqrt(np.einsum("ki,kj,ij->i", left**2, np.asarray(std, dtype=np.float64) ** 2, vt**2))
        decision = count_zero(s, null_scale=spread[::-1], z_crit=z_crit)  # ascending order, like the values
        z = decision.z_scores[::-1]
    rank = s.size - decision.n_zero
    return rank, vt[:rank], s, z, decision


def compare(basis, system=None, trajectories=None, *, seed=0) -> dict:
    """Parallelness, principal angles, bracket residuals and drift ratios of a reported basis."""
    basis = np.asarray(basis, dtype=np.float64).reshape(-1, np.shape(basis)[-1])
    out = {}
    if system is not None:
        true = true_conserved_subspace(system, seed=seed)
        out["true_dim"] = true.rank
        out["parallelness"] = np.linalg.norm(basis @ true.basis.T, axis=1)
        if basis.shape[0] and true.rank:
            out["principal_angles"] = np.degrees(subspace_angles(basis.T, true.basis.T))
        else:
            out["principal_angles"] = np.array([])
        a, b = quadratic_from_coordinates(basis, system.dim)
        out["bracket_residuals"] = bracket_residual_ratio(a, b, system.grad,
                                                          system.initial_conditions(256, seed=seed + 1))
    if trajectories is not None:
        out["drift"] = drift_ratio(basis, trajectories)
    return out


def lie_closure(basis, m: int, *, scale=0.0, z_crit=3.0, max_rounds=10) -> np.ndarray:
    """Orthonormal basis of the smallest Poisson-bracket-closed space containing ``basis``.

    A model invariant under the flows of ``C_a`` and ``C_b`` is invariant
    under the group they generate, so it conserves ``{C_a, C_b}`` too
    (Poisson's theorem).  Brackets are added until none leaves the span.  A
    bracket's component outside the span counts as a new direction when it
    exceeds ``z_crit`` times the component that the uncertainty of the basis
    alone would produce (``2 * scale``: the bracket of unit quadratics moves by
    about twice the perturbation of either), via THE rank rule in
    statistical mode; exact brackets of exactly commuting quantities are zero.

    Parameters
    ----------
    basis : array-like of shape (r, p)
    m : int
        Phase-space dimension.
    scale : float, default=0.0
        Uncertainty (posterior standard deviation) of the basis directions.
    z_crit : float, default=3.0
    max_rounds : int, default=10

    Returns
    -------
    ndarray of shape (r', p), ``r' >= r``
    """
    span = np.asarray(basis, dtype=np.float64).reshape(-1, m * (m + 1) // 2 + m)
    if span.shape[0]:
        span = np.linalg.svd(span, full_matrices=False)[2][: span.shape[0]]  # orthonormal rows, same span
    null = max(2.0 * float(scale), 1e-8)
    for _ in range(max_rounds):
        if span.shape[0] < 2:
            return span
        i, j = np.triu_indices(span.shape[0], k=1)
        brackets = quadratic_bracket(span[i], span[j], m)
        outside = brackets - (brackets @ span.T) @ span
        _, s, vt = np.linalg.svd(outside, full_matrices=False)
        new = s.size - count_zero(s, null_scale=null, z_crit=z_crit).n_zero
        if new == 0:
            return span
        _, _, vt_all = np.linalg.svd(np.vstack([span, vt[:new]]), full_matrices=False)
        span = vt_all[: span.shape[0] + new]
    return span


def read_out(conserved, system=None, trajectories=None, *, closure=False, z_crit=3.0) -> LearnedSymmetries:
    """The reported conserved quantities of fitted slots (see the module docstring).

    Parameters
    ----------
    conserved : ConservedQuantities
    system : HamiltonianSystem, optional
    trajectories : array-like of shape (n, T + 1, M), optional
        Held-out true trajectories for the drift ratios.
    closure : bool, default=False
        Report the Poisson-bracket closure of the slots' span (:func:`lie_closure`):
        everything a model symmetric under the slots conserves.
    z_crit : float, default=3.0

    Returns
    -------
    LearnedSymmetries
    """
    mean, std = conserved.posterior_moments()
    rank, basis, s, z, decision = spectrum_read_out(mean, std if conserved.variational else None, z_crit=z_crit)
    if closure:
        basis = lie_closure(basis, conserved.dim, scale=float(np.max(std, initial=0.0)), z_crit=z_crit)
        rank = basis.shape[0]
    return LearnedSymmetries(rank=rank, basis=basis, singular_values=s, z_scores=z, rule=decision.rule,
                             gap=decision.gap, **compare(basis, system, trajectories))
