"""Lagrangian field theory on a batch of points, by automatic differentiation.

A *field* ``u: R^n -> R^m`` (the embedding phi of latent z, or a trajectory
theta(t)) and a *Lagrangian density* ``L(x, u, du)`` (a scalar for one point,
``du`` the ``m x n`` Jacobian) define the action ``S[u] = int L dx``.  This
module computes, for any such pair and without hand derivations:

* the Euler-Lagrange expression ``EL_a = dL/du_a - sum_i D_i (dL/d(du)_{ai})``
  (the variational derivative ``delta S / delta u``), with the total
  derivatives ``D_i`` taken by forward-mode differentiation over the
  forward-mode Jacobian of the field (never one reverse pass per output);
* the Noether current of an infinitesimal generator ``x -> x + eps xi(x)``,
  ``u -> u + eps eta(x, u)``:  ``j_i = sum_a pi_{ai} Q_a + L xi_i - K_i`` with the
  characteristic ``Q = eta - du xi`` and an optional divergence term ``K``;
* its divergence and the explicit breaking term
  ``beta = pr v(L) + L div xi - div K`` so that the off-shell Noether identity

      div j = -EL . Q + beta

  holds for *every* field, stationary or not.  On a solution (``EL = 0``) the
  current is conserved exactly when the generator is a symmetry (``beta = 0``).

All functions take per-point callables and map them over the batch with
:func:`torch.func.vmap`, in chunks so that memory stays bounded.  They work on
CPU or GPU tensors and in any floating dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch.func import grad, jacfwd, jvp, vmap

from .fields import chunked as _chunked
from .fields import value_and_jacobian as _value_and_jacobian

__all__ = [
    "Generator",
    "NoetherCurrent",
    "FieldJet",
    "field_jet",
    "euler_lagrange",
    "noether_current",
]

Field = Callable[[torch.Tensor], torch.Tensor]
Density = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Generator:
    """An infinitesimal point transformation of independent and dependent variables.

    Parameters
    ----------
    vertical : callable, optional
        ``eta(x, u) -> (m,)``: the change of the dependent variable.  ``None``
        means zero.
    horizontal : callable, optional
        ``xi(x) -> (n,)``: the change of the independent variable.  ``None``
        means zero (a purely vertical transformation).
    divergence_term : callable, optional
        ``K(x, u, du) -> (n,)`` when the transformation changes ``L`` by the
        total divergence ``div K`` (a divergence symmetry).  ``None`` means zero.
    """

    vertical: Optional[Callable] = None
    horizontal: Optional[Callable] = None
    divergence_term: Optional[Callable] = None


@dataclass(frozen=True)
class FieldJet:
    """Value and first derivatives of a field on a batch of points.

    Attributes
    ----------
    u : Tensor of shape (batch, m)
    du : Tensor of shape (batch, m, n)
    """

    u: torch.Tensor
    du: torch.Tensor


@dataclass(frozen=True)
class NoetherCurrent:
    """Noether current of a generator on a batch of points.

    Attributes
    ----------
    current : Tensor of shape (batch, n)
        ``j_i = pi_{ai} Q_a + L xi_i - K_i``.
    divergence : Tensor of shape (batch,)
        ``div_x j`` (total divergence along the field).
    breaking : Tensor of shape (batch,)
        Explicit breaking ``pr v(L) + L div xi - div K``; zero for a symmetry.
    characteristic : Tensor of shape (batch, m)
        ``Q = eta - du xi``.
    euler_lagrange : Tensor of shape (batch, m)
        The Euler-Lagrange expression at the same points.
    """

    current: torch.Tensor
    divergence: torch.Tensor
    breaking: torch.Tensor
    characteristic: torch.Tensor
    euler_lagrange: torch.Tensor

    @property
    def identity_residual(self) -> torch.Tensor:
        """Residual of the off-shell identity, ``div j + EL*Q - breaking``; zero for every field."""
        return (
            self.divergence
            + (self.euler_lagrange * self.characteristic).sum(-1)
            - self.breaking
        )


def field_jet(field: Field, x: torch.Tensor, chunk_size: Optional[int] = 4096) -> FieldJet:
    """Evaluate a field and its forward-mode Jacobian on a batch.

    Parameters
    ----------
    field : callable
        Per-point map ``x (n,) -> u (m,)`` built from torch operations.
    x : Tensor of shape (batch, n)
    chunk_size : int or None
        Points processed per vmapped call.

    Returns
    -------
    FieldJet
    """
    u, du = _chunked(vmap(_value_and_jacobian(field)), x, chunk_size)
    return FieldJet(u=u, du=du)


def _momentum_fn(lagrangian: Density, field: Field):
    """Per-point ``x -> pi(x) = dL/d(du)`` evaluated along the field."""
    value_and_jac = _value_and_jacobian(field)

    def pi(x):
        u, du = value_and_jac(x)
        return grad(lagrangian, argnums=2)(x, u, du)

    return pi


def _el_single(lagrangian: Density, field: Field):
    value_and_jac = _value_and_jacobian(field)
    pi = _momentum_fn(lagrangian, field)

    def el(x):
        u, du = value_and_jac(x)
        dl_du = grad(lagrangian, argnums=1)(x, u, du)
        dpi = jacfwd(pi)(x)  # (m, n, n): d pi_{ai} / d x_k
        div_pi = torch.diagonal(dpi, dim1=-2, dim2=-1).sum(-1)
        return dl_du - div_pi

    return el


def euler_lagrange(
    lagrangian: Density,
    field: Field,
    x: torch.Tensor,
    chunk_size: Optional[int] = 1024,
) -> torch.Tensor:
    """Euler-Lagrange expression ``delta S / delta u`` at a batch of points.

    ``EL_a(x) = dL/du_a - sum_i D_i [dL/d(du)_{ai}]`` with ``D_i`` the total
    derivative along the field.  Second derivatives of the field are obtained by
    forward-over-forward differentiation.

    Parameters
    ----------
    lagrangian : callable
        Per-point density ``L(x (n,), u (m,), du (m, n)) -> scalar``.
    field : callable
        Per-point field ``x (n,) -> u (m,)``; must be twice differentiable.
    x : Tensor of shape (batch, n)
    chunk_size : int or None
        Points per vmapped call (bounds memory).

    Returns
    -------
    Tensor of shape (batch, m)
    """
    return _chunked(vmap(_el_single(lagrangian, field)), x, chunk_size)


def _zeros_like_x(x):
    return torch.zeros_like(x)


def noether_current(
    lagrangian: Density,
    field: Field,
    generator: Generator,
    x: torch.Tensor,
    chunk_size: Optional[int] = 1024,
) -> NoetherCurrent:
    """Noether current of ``generator``, its divergence and the breaking term.

    Parameters
    ----------
    lagrangian : callable
        Per-point density ``L(x, u, du) -> scalar``.
    field : callable
        Per-point field ``x -> u``.
    generator : Generator
        Vertical part ``eta(x, u)``, horizontal part ``xi(x)`` and optional
        divergence term ``K(x, u, du)``.
    x : Tensor of shape (batch, n)
    chunk_size : int or None

    Returns
    -------
    NoetherCurrent
        With ``divergence + EL . Q - breaking == 0`` up to round-off for any
        field (see :attr:`NoetherCurrent.identity_residual`).
    """
    value_and_jac = _value_and_jacobian(field)
    xi_fn = generator.horizontal or _zeros_like_x

    def eta_fn(x_, u_):
        if generator.vertical is None:
            return torch.zeros_like(u_)
        return generator.vertical(x_, u_)

    def k_fn(x_, u_, du_):
        if generator.divergence_term is None:
            return torch.zeros_like(x_)
        return generator.divergence_term(x_, u_, du_)

    def current_single(x_):
        u, du = value_and_jac(x_)
        xi = xi_fn(x_)
        q = eta_fn(x_, u) - du @ xi
        pi = grad(lagrangian, argnums=2)(x_, u, du)
        lag = lagrangian(x_, u, du)
        j = (pi * q.unsqueeze(-1)).sum(0) + lag * xi - k_fn(x_, u, du)
        return j, (j, q)

    def eta_along(x_):
        return eta_fn(x_, field(x_))

    def k_along(x_):
        u, du = value_and_jac(x_)
        return k_fn(x_, u, du)

    def point(x_):
        dj, (j, q) = jacfwd(current_single, has_aux=True)(x_)
        div_j = torch.diagonal(dj).sum()
        u, du = value_and_jac(x_)
        xi = xi_fn(x_)
        eta = eta_fn(x_, u)
        d_eta = jacfwd(eta_along)(x_)  # (m, n): D_i eta_a
        d_xi = jacfwd(xi_fn)(x_)  # (n, n): D_i xi_k
        eta1 = d_eta - du @ d_xi  # prolongation: D_i eta_a - du_{ak} D_i xi_k
        lag, dlag = jvp(lagrangian, (x_, u, du), (xi, eta, eta1))
        div_k = torch.diagonal(jacfwd(k_along)(x_)).sum()
        breaking = dlag + lag * torch.diagonal(d_xi).sum() - div_k
        el = _el_single(lagrangian, field)(x_)
        return j, div_j, breaking, q, el

    j, div_j, breaking, q, el = _chunked(vmap(point), x, chunk_size)
    return NoetherCurrent(
        current=j, divergence=div_j, breaking=breaking, characteristic=q, euler_lagrange=el
    )
