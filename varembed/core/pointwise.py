"""Per-point forward-mode derivatives of fields, mapped over batches in chunks.

Public, documented entry points to the forward-mode building blocks that
:mod:`varembed.core.lagrangian` uses internally, for modules that need the jet
of a field without a Lagrangian (e.g. the fast embedding diagnostics).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch.func import jacfwd, vmap

from .lagrangian import _chunked, _value_and_jacobian

__all__ = ["value_and_jacobian", "value_jacobian_hessian", "map_points"]


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
    return _value_and_jacobian(field)


def value_jacobian_hessian(field: Callable[[torch.Tensor], torch.Tensor]):
    """Per-point ``x -> (u, du, d2u)`` by forward-over-forward differentiation.

    Returns
    -------
    callable
        ``x -> (u (m,), du (m, n), d2u (m, n, n))`` with
        ``d2u[a, i, k] = d^2 u_a / dx_i dx_k``.
    """
    vj = _value_and_jacobian(field)

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
    return _chunked(vmap(fn), x, chunk_size)
