"""Per-point forward-mode derivatives of fields, mapped over batches in chunks.

A *field* is a per-point torch function ``u: R^n -> R^m``.  The helpers here
give its value with its Jacobian (and Hessian) by forward-mode
differentiation, usable inside :func:`torch.func.vmap`, and map per-point
functions over batches in chunks so that memory stays bounded.  They are the
building blocks of :mod:`varembed.core.lagrangian` and of the embedding
diagnostics.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch.func import jacfwd, vmap

__all__ = ["value_and_jacobian", "value_jacobian_hessian", "map_points", "chunked"]


def value_and_jacobian(field: Callable[[torch.Tensor], torch.Tensor]):
    """Per-point ``x -> (u(x), du(x))`` with the Jacobian in forward mode.

    Parameters
    ----------
    field : callable
        Per-point map ``x (n,) -> u (m,)``.

    Returns
    -------
    callable
        ``x -> (u (m,), du (m, n))``, usable inside :func:`torch.func.vmap`.
    """

    def point(x):
        du, u = jacfwd(lambda y: (field(y), field(y)), has_aux=True)(x)
        return u, du

    return point


def value_jacobian_hessian(field: Callable[[torch.Tensor], torch.Tensor]):
    """Per-point ``x -> (u, du, d2u)`` by forward-over-forward differentiation.

    Returns
    -------
    callable
        ``x -> (u (m,), du (m, n), d2u (m, n, n))`` with
        ``d2u[a, i, k] = d^2 u_a / dx_i dx_k``.
    """
    vj = value_and_jacobian(field)

    def jac_with_aux(x):
        u, du = vj(x)
        return du, (u, du)

    def point(x):
        d2u, (u, du) = jacfwd(jac_with_aux, has_aux=True)(x)
        return u, du, d2u

    return point


def map_points(fn, x: torch.Tensor, chunk_size: Optional[int] = 1024):
    """``vmap(fn)`` over the rows of ``x``, in chunks of ``chunk_size`` rows.

    Parameters
    ----------
    fn : callable
        Per-point function returning a tensor or a tuple of tensors.
    x : Tensor of shape (batch, n)
    chunk_size : int or None
        Rows per vmapped call (bounds memory); ``None`` processes all at once.

    Returns
    -------
    Tensor or tuple of Tensors, concatenated along the batch axis.
    """
    return chunked(vmap(fn), x, chunk_size)


def chunked(fn, x: torch.Tensor, chunk_size: Optional[int]):
    """Apply a batched function (tensor or tuple output) to ``x`` in chunks along the batch axis."""
    if chunk_size is None or x.shape[0] <= chunk_size:
        return fn(x)
    parts = [fn(x[i : i + chunk_size]) for i in range(0, x.shape[0], chunk_size)]
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(p, dim=0) for p in zip(*parts))
    return torch.cat(parts, dim=0)
