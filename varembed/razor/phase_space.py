"""Phase space of the razor: the Poisson matrix, brackets and conserved quadratic functions.

A state is ``x = (q, p[, c])`` in ``R^M``: ``D = M // 2`` positions, then their
``D`` momenta, and for odd ``M`` one trailing *Casimir* coordinate ``c`` (a
parameter of the trajectory that every Hamiltonian flow keeps fixed, such as a
per-trajectory frequency; ``H`` may depend on it).  Hamilton's equations read
``dx/dt = J grad H(x)`` with the Poisson matrix ``J = [[0, I_D, 0], [-I_D, 0,
0], [0, 0, 0]]`` (the canonical symplectic matrix for even ``M``), and the
Poisson bracket is ``{C, H}(x) = grad C(x)^T J grad H(x)``, so ``dC/dt = {C,
H}`` along the flow of ``H``.

A quadratic function ``C(x) = 1/2 x^T A x + b^T x`` is conserved by ``H``
exactly when ``grad H(x) . J (A x + b) = 0`` for every ``x``: the tangency
residual of the affine flow ``x -> J (A x + b)`` against the gradient field
``grad H`` (:func:`varembed.core.flows.affine_flow_residuals` with
``trace=False``).  The condition is linear in ``(A, b)``, so the conserved
quadratics of any Hamiltonian are the null space of a stacked residual matrix
(:func:`varembed.core.symmetry.invariant_subspace`) over the orthonormal basis
of :func:`varembed.core.symmetry.quadratic_form_basis`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..core.flows import affine_flow_residuals
from ..core.symmetry import InvariantSubspace, invariant_subspace, quadratic_form_basis

__all__ = [
    "poisson_matrix",
    "poisson_tensor",
    "poisson_bracket_residuals",
    "conserved_quadratics",
    "quadratic_coordinates",
    "quadratic_from_coordinates",
    "quadratic_values",
    "quadratic_bracket",
    "bracket_residual_ratio",
    "drift_ratio",
]


def poisson_matrix(dim: int) -> np.ndarray:
    """THE Poisson matrix ``J`` of ``R^dim`` (canonical pairs first, a Casimir last for odd ``dim``)."""
    dim = int(dim)
    n = dim // 2
    j = np.zeros((dim, dim))
    j[:n, n : 2 * n] = np.eye(n)
    j[n : 2 * n, :n] = -np.eye(n)
    return j


def poisson_tensor(dim: int, *, dtype=torch.float64, device=None) -> torch.Tensor:
    """:func:`poisson_matrix` as a tensor (the same definition, so numpy and torch agree)."""
    return torch.as_tensor(poisson_matrix(dim), dtype=dtype, device=device)


def _check_states(points) -> np.ndarray:
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"phase-space points must have shape (n_points, M), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("phase-space points contain NaN or inf")
    return x


def _basis_arrays(m: int, linear: bool):
    basis = quadratic_form_basis(m, linear=linear)
    return np.array([a for a, _, _ in basis]), np.array([b for _, b, _ in basis])


def poisson_bracket_residuals(grad_h: Callable[[np.ndarray], np.ndarray], points, *, linear: bool = True):
    """Residual matrix ``R[c, k] = {C_k, H}(x_c)`` over the orthonormal quadratic basis (up to sign).

    Parameters
    ----------
    grad_h : callable
        ``(n_points, M) -> (n_points, M)``: the gradient of the Hamiltonian.
    points : array-like of shape (n_points, M)
    linear : bool, default=True
        Include the linear functions ``b^T x`` in the basis.

    Returns
    -------
    ndarray of shape (n_points, n_basis)
    """
    x = _check_states(points)
    m = x.shape[1]
    grad = np.asarray(grad_h(x), dtype=np.float64)
    if grad.shape != x.shape:
        raise ValueError(f"grad_h returned shape {grad.shape}, expected {x.shape}")
    a, b = _basis_arrays(m, linear)
    j = poisson_matrix(m)
    return affine_flow_residuals(grad, x, j @ a, b @ j.T, trace=False, normalise=False)


def conserved_quadratics(grad_h, points, *, linear: bool = True, rtol: float = 1e-8) -> InvariantSubspace:
    """Space of quadratic (and linear) functions that Poisson-commute with ``H``.

    Parameters
    ----------
    grad_h : callable
        ``(n_points, M) -> (n_points, M)`` gradient of the Hamiltonian.
    points : array-like of shape (n_points, M)
        Sample states; use many more than the number of basis functions.
    linear : bool, default=True
    rtol : float, default=1e-8
        Relative singular-value threshold of the (exact, noiseless) null space.

    Returns
    -------
    InvariantSubspace
        ``basis`` rows are orthonormal coordinate vectors (:func:`quadratic_coordinates`).
    """
    return invariant_subspace(poisson_bracket_residuals(grad_h, points, linear=linear), rtol=rtol)


def quadratic_coordinates(a, b=None) -> np.ndarray:
    """Coordinates of ``C = 1/2 x^T A x + b^T x`` in the orthonormal quadratic basis.

    Parameters
    ----------
    a : array-like of shape (..., M, M)
        Quadratic parts (only the symmetric part matters).
    b : array-like of shape (..., M), optional
        Linear parts; ``None`` drops them (basis without linear terms).

    Returns
    -------
    ndarray of shape (..., M (M + 1) / 2 [+ M])
    """
    a = np.asarray(a, dtype=np.float64)
    m = a.shape[-1]
    sym = 0.5 * (a + np.swapaxes(a, -1, -2))
    iu = np.triu_indices(m)
    scale = np.where(iu[0] == iu[1], 1.0, np.sqrt(2.0))  # Frobenius-orthonormal basis
    coords = sym[..., iu[0], iu[1]] * scale
    if b is None:
        return coords
    return np.concatenate([coords, np.asarray(b, dtype=np.float64)], axis=-1)


def quadratic_from_coordinates(coords, m: int, *, linear: bool = True):
    """Inverse of :func:`quadratic_coordinates`: ``coords -> (A, b)``."""
    c = np.asarray(coords, dtype=np.float64)
    n_quad = m * (m + 1) // 2
    iu = np.triu_indices(m)
    scale = np.where(iu[0] == iu[1], 1.0, 1.0 / np.sqrt(2.0))
    a = np.zeros(c.shape[:-1] + (m, m))
    a[..., iu[0], iu[1]] = c[..., :n_quad] * scale
    a = a + np.swapaxes(a, -1, -2) - a * np.eye(m)  # mirror, diagonal once
    b = c[..., n_quad:] if linear else np.zeros(c.shape[:-1] + (m,))
    return a, b


def quadratic_values(coords, states) -> np.ndarray:
    """``C_k(x) = 1/2 x^T A_k x + b_k^T x`` for coordinate rows ``coords (K, p)`` and states ``(..., M)``.

    Returns
    -------
    ndarray of shape (K, ...)
    """
    x = np.asarray(states, dtype=np.float64)
    a, b = quadratic_from_coordinates(np.atleast_2d(coords), x.shape[-1])
    return 0.5 * np.einsum("...i,kij,...j->k...", x, a, x) + np.einsum("ki,...i->k...", b, x)


def quadratic_bracket(coords_a, coords_b, m: int) -> np.ndarray:
    """Coordinates of the Poisson brackets ``{C_a, C_b}`` of quadratics (constants dropped).

    ``{C_a, C_b} = (A_a x + b_a)^T J (A_b x + b_b)`` has quadratic part
    ``A_a J A_b - A_b J A_a`` and linear part ``A_a J b_b - A_b J b_a``.

    Parameters
    ----------
    coords_a, coords_b : array-like of shape (K, p)
    m : int
        Phase-space dimension.

    Returns
    -------
    ndarray of shape (K, p)
    """
    a1, b1 = quadratic_from_coordinates(coords_a, m)
    a2, b2 = quadratic_from_coordinates(coords_b, m)
    j = poisson_matrix(m)
    a = a1 @ j @ a2 - a2 @ j @ a1
    b = np.einsum("kij,kj->ki", a1 @ j, b2) - np.einsum("kij,kj->ki", a2 @ j, b1)
    return quadratic_coordinates(a, b)


def bracket_residual_ratio(a, b, grad_h, points) -> np.ndarray:
    """Normalised Poisson-bracket residual of quadratic functions against ``H``.

    ``sqrt(E[{C, H}^2]) / sqrt(E|grad C|^2 E|grad H|^2)`` over the points:
    zero for an exactly conserved ``C``, at most one by Cauchy-Schwarz.

    Returns
    -------
    ndarray of shape (K,)
    """
    x = _check_states(points)
    a = np.asarray(a, dtype=np.float64)
    a = 0.5 * (a + np.swapaxes(a, -1, -2))
    gh = np.asarray(grad_h(x), dtype=np.float64)
    flow = gh @ poisson_matrix(x.shape[1]).T
    gc = np.einsum("kij,nj->kni", a, x) + np.asarray(b, dtype=np.float64)[:, None, :]
    bracket = np.einsum("kni,ni->kn", gc, flow)
    num = np.sqrt(np.mean(bracket**2, axis=1))
    den = np.sqrt(np.mean(np.sum(gc**2, axis=2), axis=1) * np.mean(np.sum(gh**2, axis=1)))
    return num / np.maximum(den, np.finfo(float).tiny)


def drift_ratio(coords, trajectories) -> np.ndarray:
    """How well quadratic functions are conserved along trajectories, relative to their spread.

    For each ``C_k``: the mean over trajectories of the standard deviation of
    ``C_k`` over time, divided by the standard deviation across trajectories
    of its time average.  ``0`` for an exactly conserved quantity; of order
    one for a quantity that changes along trajectories as much as it differs
    between them.

    Parameters
    ----------
    coords : array-like of shape (K, p)
        Quadratic coordinates (:func:`quadratic_coordinates`).
    trajectories : array-like of shape (n_trajectories, T + 1, M)

    Returns
    -------
    ndarray of shape (K,)
    """
    values = quadratic_values(coords, trajectories)  # (K, n, T + 1)
    along = values.std(axis=2).mean(axis=1)
    across = values.mean(axis=2).std(axis=1)
    return along / np.maximum(across, np.finfo(float).tiny)
