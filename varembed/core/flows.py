"""Residual matrices for affine flows: which generators leave a density invariant.

A density ``p`` on ``R^n`` with gradient field ``g = grad log p`` is invariant
under the flow of the vector field ``v(x) = A x + b`` exactly when the Lie
derivative of the density form vanishes,

    g(x) . (A x + b) + tr A = 0   for every x,

a condition linear in ``(A, b)``.  Stacking it over sample points ``x_c`` and a
basis of candidate generators ``(A_k, b_k)`` gives the residual matrix whose
null space :func:`varembed.core.symmetry.invariant_subspace` returns.  The same
matrix with the unit normal of a boundary in place of ``g`` (and no trace term)
tests whether a flow is tangent to that boundary.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["affine_flow_residuals", "affine_generator_basis"]


def affine_generator_basis(linear: Optional[np.ndarray], shift: Optional[np.ndarray], n: int):
    """Join linear parts and translations into one list of affine generators.

    Parameters
    ----------
    linear : ndarray of shape (p, n, n) or None
        Linear parts ``A_k`` (their translations are zero).
    shift : ndarray of shape (r, n) or None
        Translations ``b_k`` (their linear parts are zero).
    n : int
        Dimension of the space.

    Returns
    -------
    a : ndarray of shape (p + r, n, n)
    b : ndarray of shape (p + r, n)
    """
    lin = np.zeros((0, n, n)) if linear is None else np.asarray(linear, dtype=np.float64).reshape(-1, n, n)
    sh = np.zeros((0, n)) if shift is None else np.asarray(shift, dtype=np.float64).reshape(-1, n)
    a = np.concatenate([lin, np.zeros((sh.shape[0], n, n))])
    b = np.concatenate([np.zeros((lin.shape[0], n)), sh])
    return a, b


def affine_flow_residuals(
    gradient,
    points,
    linear: np.ndarray,
    shift: np.ndarray,
    *,
    trace: bool = True,
    normalise: bool = True,
    column_scales=None,
    return_scales: bool = False,
):
    """The residual matrix ``g(x_c) * (A_k x_c + b_k) [+ tr A_k]`` over points and generators.

    Parameters
    ----------
    gradient : array-like of shape (n_points, n)
        ``g(x_c)``: the score ``grad log p`` (or a boundary normal).
    points : array-like of shape (n_points, n)
        The points ``x_c``.
    linear : ndarray of shape (n_generators, n, n)
        Linear parts ``A_k``.
    shift : ndarray of shape (n_generators, n)
        Translation parts ``b_k``.
    trace : bool, default=True
        Add ``tr A_k`` (the divergence of the flow): the invariance condition
        of a density.  ``False`` for a tangency condition.
    normalise : bool, default=True
        Divide column ``k`` by the root mean square of ``|A_k x + b_k|`` over
        the points, and the whole matrix by ``sqrt(n_points)`` times the root
        mean square of ``|g|``, so that singular values are dimensionless and
        at most about 1 (``1`` = the flow is as aligned with ``g`` as it can be).
        A null vector ``v`` of the normalised matrix is the generator
        ``sum_k (v_k / scale_k) (A_k, b_k)``.
    column_scales : array-like of shape (n_generators,), optional
        Use these column scales instead of the ones of ``points`` (to stack
        blocks of conditions that must share one coefficient vector).
    return_scales : bool, default=False
        Also return the column scales.

    Returns
    -------
    residuals : ndarray of shape (n_points, n_generators)
    scales : ndarray of shape (n_generators,)
        Only with ``return_scales=True`` (ones without normalisation).
    """
    g = np.asarray(gradient, dtype=np.float64)
    x = np.asarray(points, dtype=np.float64)
    a = np.asarray(linear, dtype=np.float64)
    b = np.asarray(shift, dtype=np.float64)
    if g.ndim != 2 or x.shape != g.shape:
        raise ValueError(f"gradient and points must both have shape (n_points, n); got {g.shape} and {x.shape}")
    n = x.shape[1]
    if a.ndim != 3 or a.shape[1:] != (n, n) or b.shape != (a.shape[0], n):
        raise ValueError(
            f"generators must have linear parts (p, {n}, {n}) and shifts (p, {n}); got {a.shape} and {b.shape}"
        )
    flows = np.einsum("kij,cj->cki", a, x) + b[None]  # (c, k, n)
    res = np.einsum("ci,cki->ck", g, flows)
    if trace:
        res = res + np.trace(a, axis1=1, axis2=2)[None]
    col = np.ones(a.shape[0])
    if normalise and res.size:
        if column_scales is None:
            col = np.sqrt(np.mean(np.sum(flows**2, -1), 0))
            col = np.where(col > 0, col, 1.0)
        else:
            col = np.asarray(column_scales, dtype=np.float64)
        g_rms = float(np.sqrt(np.mean(np.sum(g**2, -1))))
        res = res / col[None] / (max(g_rms, np.finfo(float).tiny) * np.sqrt(x.shape[0]))
    return (res, col) if return_scales else res
