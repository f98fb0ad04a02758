"""Oracle conserved quantities: the paper's U(n) and SE(2) generators, and the exact ground truth.

``C(x) = 1/2 x^T A x + b^T x``; positive factors are irrelevant (only the
generated group matters).  The ablation's oracle arm uses
:func:`oracle_generators`, the orthonormal basis of the true conserved
subspace (the null space of ``{C, H_true}``), which covers every system.
"""

from __future__ import annotations

import numpy as np

from .phase_space import quadratic_from_coordinates
from .readout import true_conserved_subspace

__all__ = ["unitary_generators", "euclidean_generators", "oracle_generators"]


def _sym(m, i, j, value):
    m[i, j] += value
    m[j, i] += value


def unitary_generators(n: int):
    """The ``n^2`` generators of ``u(n)`` on ``x = (q, p)`` in ``R^{2n}`` (unit frequencies).

    ``i = j``: ``q_i^2 + p_i^2``; ``i < j``: ``q_i p_j - q_j p_i``;
    ``i > j``: ``q_i q_j + p_i p_j``.  For ``n = 1`` this is SO(2).

    Returns
    -------
    A : ndarray of shape (n^2, 2n, 2n)
    b : ndarray of shape (n^2, 2n)
    """
    m = 2 * n
    mats = []
    for i in range(n):
        for j in range(n):
            a = np.zeros((m, m))
            if i == j:
                a[i, i] = a[n + i, n + i] = 2.0
            elif i < j:
                _sym(a, i, n + j, 1.0)
                _sym(a, j, n + i, -1.0)
            else:
                _sym(a, i, j, 1.0)
                _sym(a, n + i, n + j, 1.0)
            mats.append(a)
    return np.array(mats), np.zeros((n * n, m))


def euclidean_generators(n_bodies: int):
    """SE(2) of a planar n-body system: total momenta ``P_x, P_y`` and angular momentum ``L``.

    Returns
    -------
    A : ndarray of shape (3, 4 n_bodies, 4 n_bodies)
    b : ndarray of shape (3, 4 n_bodies)
    """
    n_dof = 2 * n_bodies
    m = 2 * n_dof
    a = np.zeros((3, m, m))
    b = np.zeros((3, m))
    for body in range(n_bodies):
        qx, qy = 2 * body, 2 * body + 1
        b[0, n_dof + qx] = 1.0
        b[1, n_dof + qy] = 1.0
        _sym(a[2], qx, n_dof + qy, 1.0)  # L = sum q_x p_y - q_y p_x
        _sym(a[2], qy, n_dof + qx, -1.0)
    return a, b


def oracle_generators(system):
    """The exact conserved quadratics of ``system`` as ``(A, b)`` (orthonormal coordinates)."""
    basis = true_conserved_subspace(system).basis
    return quadratic_from_coordinates(basis, system.dim)
