"""Phase-space pieces shared by Hamiltonian models: symplectic form, Poisson
brackets and conserved quadratic functions.

Phase space is ``x = (q, p)`` in ``R^M`` with ``M = 2 D``, positions first.
Hamilton's equations read ``dx/dt = J grad H(x)`` with
``J = [[0, I_D], [-I_D, 0]]``, and the Poisson bracket is
``{C, H}(x) = grad C(x)^T J grad H(x)`` so that ``dC/dt = {C, H}`` along the
flow of ``H``.

A quadratic function ``C(x) = 1/2 x^T A x + b^T x`` is conserved by ``H``
exactly when ``(A x + b)^T J grad H(x) = 0`` for every ``x``.  That condition
is *linear* in ``(A, b)``, so the conserved quadratics of any Hamiltonian are
the null space of a stacked residual matrix, computed by
:func:`varembed.core.symmetry.invariant_subspace` over the basis of
:func:`varembed.core.symmetry.quadratic_form_basis`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .symmetry import InvariantSubspace, invariant_subspace, quadratic_form_basis

__all__ = [
    "symplectic_matrix",
    "poisson_bracket_residuals",
    "conserved_quadratics",
    "quadratic_coordinates",
    "quadratic_from_coordinates",
    "bracket_residual_ratio",
]


def symplectic_matrix(n_dof: int) -> np.ndarray:
    """The canonical symplectic matrix ``J = [[0, I], [-I, 0]]`` of size ``2 n_dof``."""
    eye = np.eye(n_dof)
    zero = np.zeros((n_dof, n_dof))
    return np.block([[zero, eye], [-eye, zero]])


def _check_states(points) -> np.ndarray:
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] % 2:
        raise ValueError(f"phase-space points must have shape (n_points, 2 D), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("phase-space points contain NaN or inf")
    return x


def poisson_bracket_residuals(grad_h: Callable[[np.ndarray], np.ndarray], points, *, linear: bool = True):
    """Residual matrix ``R[c, k] = {C_k, H}(x_c)`` over the quadratic basis.

    Parameters
    ----------
    grad_h : callable
        ``(n_points, M) -> (n_points, M)``: the gradient of the Hamiltonian.
    points : array-like of shape (n_points, M)
        Phase-space sample points.
    linear : bool, default=True
        Include the linear functions ``b^T x`` in the basis.

    Returns
    -------
    residuals : ndarray of shape (n_points, n_basis)
    basis : list of (A, b, c)
        The basis of :func:`quadratic_form_basis` the columns refer to.
    """
    x = _check_states(points)
    m = x.shape[1]
    flow = np.asarray(grad_h(x), dtype=np.float64) @ symplectic_matrix(m // 2).T  # J grad H
    if flow.shape != x.shape:
        raise ValueError(f"grad_h returned shape {flow.shape}, expected {x.shape}")
    basis = quadratic_form_basis(m, linear=linear)
    cols = [np.einsum("ni,ni->n", x @ a + b, flow) for a, b, _ in basis]  # A symmetric
    return np.stack(cols, axis=1), basis


def conserved_quadratics(grad_h, points, *, linear: bool = True, rtol: float = 1e-8) -> InvariantSubspace:
    """Space of quadratic (and linear) functions that Poisson-commute with ``H``.

    The basis is orthonormal, so the singular values are comparable; the null
    space is returned in the coordinates of :func:`quadratic_form_basis` (see
    :func:`quadratic_coordinates`).

    Parameters
    ----------
    grad_h : callable
        ``(n_points, M) -> (n_points, M)`` gradient of the Hamiltonian.
    points : array-like of shape (n_points, M)
        Sample states; use many more than the number of basis functions.
    linear : bool, default=True
        Include linear functions.
    rtol : float, default=1e-8
        Relative singular-value threshold of the null space.

    Returns
    -------
    InvariantSubspace
        ``basis`` rows are orthonormal coordinate vectors of conserved ``(A, b)``.
    """
    r, _ = poisson_bracket_residuals(grad_h, points, linear=linear)
    return invariant_subspace(r, rtol=rtol)


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


def bracket_residual_ratio(a, b, grad_h, points) -> np.ndarray:
    """Normalised Poisson-bracket residual of quadratic functions against ``H``.

    ``sqrt(E[{C, H}^2]) / sqrt(E|grad C|^2 E|grad H|^2)`` over the points:
    zero for an exactly conserved ``C``, at most one by Cauchy-Schwarz.

    Parameters
    ----------
    a : array-like of shape (K, M, M)
    b : array-like of shape (K, M)
    grad_h : callable
    points : array-like of shape (n_points, M)

    Returns
    -------
    ndarray of shape (K,)
    """
    x = _check_states(points)
    a = np.asarray(a, dtype=np.float64)
    a = 0.5 * (a + np.swapaxes(a, -1, -2))
    gh = np.asarray(grad_h(x), dtype=np.float64)
    flow = gh @ symplectic_matrix(x.shape[1] // 2).T
    gc = np.einsum("kij,nj->kni", a, x) + np.asarray(b, dtype=np.float64)[:, None, :]
    bracket = np.einsum("kni,ni->kn", gc, flow)
    num = np.sqrt(np.mean(bracket**2, axis=1))
    den = np.sqrt(np.mean(np.sum(gc**2, axis=2), axis=1) * np.mean(np.sum(gh**2, axis=1)))
    return num / np.maximum(den, np.finfo(float).tiny)
