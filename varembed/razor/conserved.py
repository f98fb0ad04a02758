"""Quadratic conserved quantities: slots, their posterior and the group they generate.

Slot ``k`` holds the coordinates ``eta_k`` (in the orthonormal quadratic basis
of :func:`varembed.razor.phase_space.quadratic_coordinates`) of ``C_k(x) =
1/2 x^T A_k x + b_k^T x``.  Its Hamiltonian vector field ``J (A_k x + b_k)`` is
affine, so its flow is the matrix exponential of the augmented generator

    G_k = [[J A_k, J b_k], [0, 0]]          acting on (x, 1).

A group element is ``g(eps) = expm(sum_k eps_k G_k)``.  With the ``full``
measure the slots are *directions*: ``G_k`` is built from the unit vector
``eta_k / |eta_k|`` and ``eps ~ N(0, L^2 I_K)`` with a large extent ``L``, so
the angle of every compact (rotation-like) direction is a wrapped normal of
standard deviation of several radians, whose Fourier coefficients decay like
``exp(-k^2 s^2 / 2)``: the orbit average is the Haar average, an exact
invariance that a wrong symmetry cannot be compensated for.  The ``ball``
measure of the public code (``expm(pi sum eps_k G_k)``, ``eps`` uniform in the
unit ball, unnormalised slots) averages over orbits whose extent is the slot
norm; a partial average is a *smoothing* of the prior over Hamiltonians,
which the bound rewards along any direction for a smooth target (measured in
the user guide), so it cannot tell a symmetry from a smoothing.

The slots are either fixed (an oracle), a point estimate (type-II maximum
likelihood, the paper's choice) or carry a mean-field Gaussian posterior
``q(eta_k) = N(mu_k, diag s_k^2)`` with an automatic-relevance-determination
prior ``N(0, alpha_k^{-1} I)`` per slot, ``alpha_k`` set to its optimum
``p / sum_j (mu_kj^2 + s_kj^2)``; the KL divergence at that optimum,

    KL_k = p/2 ln( mean_j (mu_kj^2 + s_kj^2) ) - 1/2 sum_j ln s_kj^2,

is scale free and zero exactly when ``mu_k = 0``: a slot the data do not
need costs nothing only when it is switched off, so the bound prunes it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..core.symmetry import quadratic_form_basis
from .phase_space import poisson_matrix, quadratic_coordinates, quadratic_from_coordinates

__all__ = ["MEASURES", "POSTERIORS", "ConservedQuantities", "augmented_basis"]

MEASURES = ("full", "ball")
POSTERIORS = ("ard", "point")
_MIN_LOG_STD = -12.0


def augmented_basis(dim: int) -> np.ndarray:
    """Augmented generators ``G_j`` of the orthonormal quadratic basis, shape ``(p, M + 1, M + 1)``."""
    j = poisson_matrix(dim)
    out = []
    for a, b, _ in quadratic_form_basis(dim, linear=True):
        g = np.zeros((dim + 1, dim + 1))
        g[:dim, :dim] = j @ a
        g[:dim, dim] = j @ b
        out.append(g)
    return np.array(out)


class ConservedQuantities(nn.Module):
    """``K`` quadratic conserved quantities: fixed, a point estimate, or with an ARD posterior.

    Parameters
    ----------
    dim : int
        Phase-space dimension ``M``.
    n_conserved : int
        Number of slots ``K`` (ignored when ``fixed`` is given).
    posterior : {"ard", "point"}, default="ard"
        ``"ard"``: mean-field Gaussian posterior with the ARD prior (see the
        module docstring); ``"point"``: point estimates without a prior.
    init_std : float, default=0.05
        Standard deviation of the random initial means (and the initial
        posterior standard deviation).
    fixed : tuple (A, b), optional
        Oracle quantities ``A (K, M, M)``, ``b (K, M)``, never trained.
    measure : {"full", "ball"}, default="full"
    extent : float, default=12.0
        Standard deviation ``L`` of the group coordinates of the ``full`` measure.
    initial : array-like of shape (K, p), optional
        Initial means (e.g. candidate directions); default random.
    generator : torch.Generator
    dtype : torch.dtype
    """

    def __init__(self, dim, n_conserved, *, posterior="ard", init_std=0.05, fixed=None, measure="full",
                 extent=12.0, initial=None, generator=None, dtype=torch.float64):
        super().__init__()
        self.dim = int(dim)
        self.measure = measure
        self.extent = float(extent)
        self.register_buffer("basis", torch.as_tensor(augmented_basis(self.dim), dtype=dtype))
        p = self.basis.shape[0]
        if fixed is not None:
            coords = quadratic_coordinates(*fixed)
            self.register_buffer("mean", torch.as_tensor(coords, dtype=dtype))
            self.posterior = "fixed"
        else:
            k = int(n_conserved)
            mean = torch.randn(k, p, generator=generator, dtype=torch.float64) * init_std
            if initial is not None:
                mean = torch.as_tensor(np.asarray(initial, dtype=np.float64).reshape(k, p))
            self.mean = nn.Parameter(mean.to(dtype))
            self.posterior = posterior
            if posterior == "ard":
                log_std = math.log(max(init_std, 1e-6))
                self.log_std = nn.Parameter(torch.full((k, p), log_std, dtype=dtype))

    @property
    def n_conserved(self) -> int:
        return self.mean.shape[0]

    @property
    def variational(self) -> bool:
        return self.posterior == "ard"

    def std(self) -> torch.Tensor:
        """Posterior standard deviations ``(K, p)`` (zeros for fixed or point slots)."""
        if not self.variational:
            return torch.zeros_like(self.mean)
        return self.log_std.clamp_min(_MIN_LOG_STD).exp()

    def sample(self, n_samples: int, generator=None, *, mean=False) -> torch.Tensor:
        """Coordinates ``(n_samples, K, p)``: posterior draws, or the mean repeated."""
        mu = self.mean.expand(n_samples, *self.mean.shape)
        if mean or not self.variational:
            return mu
        noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        return mu + self.std() * noise

    def coordinates(self, n_mc, n_sym, generator=None) -> torch.Tensor:
        """Group coordinates ``eps`` of shape ``(n_mc, n_sym, K)`` from the measure."""
        k = self.n_conserved
        opts = dict(generator=generator, dtype=self.mean.dtype)  # drawn on CPU, then moved
        if self.measure == "full":
            eps = self.extent * torch.randn(n_mc, n_sym, k, **opts)
        else:
            direction = torch.randn(n_mc, n_sym, k, **opts)
            direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            eps = math.pi * direction * torch.rand(n_mc, n_sym, 1, **opts) ** (1.0 / k)
        return eps.to(self.mean.device)

    def directions(self, coords: torch.Tensor) -> torch.Tensor:
        """The coordinates the flows use: unit vectors (``full``) or as they are (``ball``)."""
        if self.measure == "full":
            return coords / coords.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return coords

    def group_elements(self, coords: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """``expm(sum_k eps_k G_k)`` for slot coordinates ``(R, K, p)`` and ``eps (R, S, K)``.

        Returns
        -------
        Tensor of shape (R, S, M + 1, M + 1)
        """
        lie = torch.einsum("rsk,rkj,jab->rsab", eps, self.directions(coords), self.basis)
        return torch.linalg.matrix_exp(lie)

    def posterior_moments(self):
        """Means and standard deviations of the flows' coordinates, ``(K, p)`` each, as float64 NumPy.

        For the ``full`` measure both are divided by the mean's norm (the
        first-order posterior of the unit direction).
        """
        mean = self.mean.detach().double()
        std = self.std().detach().double()
        if self.measure == "full":
            norm = mean.norm(dim=-1, keepdim=True).clamp_min(1e-300)
            mean, std = mean / norm, std / norm
        return mean.cpu().numpy(), std.cpu().numpy()

    def quadratic(self):
        """``(A (K, M, M), b (K, M))`` of the posterior means, as float64 NumPy."""
        mean, _ = self.posterior_moments()
        return quadratic_from_coordinates(mean, self.dim)

    def kl(self) -> torch.Tensor:
        """``KL(q(eta) || p(eta | alpha*))`` summed over slots (zero for fixed or point slots)."""
        if not self.variational:
            return self.mean.new_zeros(())
        log_var = 2.0 * self.log_std.clamp_min(_MIN_LOG_STD)
        p = self.mean.shape[1]
        second = (self.mean**2 + log_var.exp()).mean(dim=1)
        return (0.5 * p * torch.log(second) - 0.5 * log_var.sum(dim=1)).sum()
