"""Learnable quadratic conserved quantities and the symmetrised Hamiltonian.

Each conserved quantity ``C_k(x) = 1/2 x^T A_k x + b_k^T x`` (``A_k = W_k +
W_k^T``) has the affine Hamiltonian vector field ``J A_k x + J b_k``, whose
flow in augmented coordinates ``(x, 1)`` is the matrix exponential of

    G_k = [[J A_k, J b_k], [0, 0]].

A group element is ``g(eps) = expm(pi sum_k eps_k G_k)``; with the factor
``pi``, ``eps ~ U(-1, 1)`` covers the rotations of ``C = |x|^2`` (``A = 2 I``)
exactly twice, an exact Haar average.  The symmetrised Hamiltonian is the
Monte Carlo orbit average ``H(x) = mean_s F(g(eps_s) x)``.  One draw of the
``S`` group elements is shared by the whole batch and every integrator stage,
so the learned vector field is the exact Hamiltonian field of one function.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConservedQuantities", "symplectic_tensor", "symmetrised_hamiltonian", "hamiltonian_vector_field"]


def symplectic_tensor(dim: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """``J = [[0, I], [-I, 0]]`` as a tensor of size ``dim``."""
    n = dim // 2
    j = torch.zeros(dim, dim, dtype=dtype, device=device)
    j[:n, n:] = torch.eye(n, dtype=dtype, device=device)
    j[n:, :n] = -torch.eye(n, dtype=dtype, device=device)
    return j


class ConservedQuantities(nn.Module):
    """``K`` quadratic conserved quantities, learnable or fixed (oracle).

    Parameters
    ----------
    dim : int
        Phase-space dimension ``M``.
    n_conserved : int
        Number of slots ``K`` (ignored when ``fixed`` is given).
    init_std : float
        Standard deviation of the random initial ``W`` and ``b``.
    fixed : tuple (A, b), optional
        Oracle quantities ``A (K, M, M)`` (symmetric), ``b (K, M)``; they are
        stored as buffers and never trained.
    generator : torch.Generator
    dtype : torch.dtype
    """

    def __init__(self, dim, n_conserved, *, init_std=0.05, fixed=None, generator=None, dtype=torch.float32):
        super().__init__()
        self.dim = int(dim)
        if fixed is not None:
            a, b = (torch.as_tensor(t, dtype=dtype) for t in fixed)
            self.register_buffer("weight", 0.5 * a)
            self.register_buffer("bias", b)
        else:
            k = int(n_conserved)
            w = torch.randn(k, dim, dim, generator=generator, dtype=torch.float64) * init_std
            b = torch.randn(k, dim, generator=generator, dtype=torch.float64) * init_std
            self.weight = nn.Parameter(w.to(dtype))
            self.bias = nn.Parameter(b.to(dtype))
        self.register_buffer("J", symplectic_tensor(dim, dtype=dtype))

    @property
    def n_conserved(self) -> int:
        return self.weight.shape[0]

    def quadratic(self):
        """``(A, b)`` with ``A = W + W^T`` of shape ``(K, M, M)`` and ``b (K, M)``."""
        return self.weight + self.weight.transpose(-1, -2), self.bias

    def generators(self) -> torch.Tensor:
        """Augmented generators ``G_k`` of shape ``(K, M + 1, M + 1)``."""
        a, b = self.quadratic()
        k, m = self.n_conserved, self.dim
        g = torch.zeros(k, m + 1, m + 1, dtype=a.dtype, device=a.device)
        g[:, :m, :m] = self.J @ a
        g[:, :m, m] = b @ self.J.T
        return g

    def sample_coordinates(self, n_mc, n_sym, measure, generator=None) -> torch.Tensor:
        """Group coordinates ``eps`` of shape ``(n_mc, n_sym, K)``.

        ``measure`` is ``"uniform"`` (i.i.d. ``U(-1, 1)``) or ``"ball"``
        (uniform in the unit ball of ``R^K``).
        """
        k = self.n_conserved
        opts = dict(generator=generator, dtype=self.weight.dtype)  # drawn on CPU, then moved
        if measure == "uniform":
            eps = 2.0 * torch.rand(n_mc, n_sym, k, **opts) - 1.0
        else:
            direction = torch.randn(n_mc, n_sym, k, **opts)
            direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            eps = direction * torch.rand(n_mc, n_sym, 1, **opts) ** (1.0 / k)
        return eps.to(self.weight.device)

    def group_elements(self, eps: torch.Tensor) -> torch.Tensor:
        """``expm(pi sum_k eps_k G_k)`` for ``eps (..., K)``, shape ``(..., M + 1, M + 1)``."""
        lie = torch.einsum("...k,kij->...ij", eps, self.generators())
        return torch.linalg.matrix_exp(math.pi * lie)


def symmetrised_hamiltonian(network, weights, x, group=None) -> torch.Tensor:
    """Orbit-averaged Hamiltonian ``mean_s F(g_s x)``.

    Parameters
    ----------
    network : HamiltonianMLP
    weights : list of tensors with leading axis ``R``
    x : Tensor of shape (R, B, M)
    group : Tensor of shape (R, S, M + 1, M + 1), optional
        Group elements; ``None`` means no symmetrisation.

    Returns
    -------
    Tensor of shape (R, B)
    """
    if group is None:
        return network(x, weights)
    m = x.shape[-1]
    moved = torch.einsum("rsij,rbj->rsbi", group[..., :m, :m], x) + group[:, :, None, :m, m]
    r, s, b, _ = moved.shape
    return network(moved.reshape(r, s * b, m), weights).reshape(r, s, b).mean(dim=1)


def hamiltonian_vector_field(network, weights, group, J, *, create_graph=True):
    """The vector field ``x -> J grad H(x)`` of the symmetrised Hamiltonian."""

    def field(x):
        with torch.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_(True)
            h = symmetrised_hamiltonian(network, weights, x, group)
            (g,) = torch.autograd.grad(h.sum(), x, create_graph=create_graph)
        return g @ J.T

    return field
