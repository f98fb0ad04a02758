"""Latent priors ``q(z)`` of the embedding functional.

Both priors are isotropic: a Gaussian ``N(0, prior_scale^2 I_d)`` and the uniform
box ``[-prior_scale, prior_scale]^d``.  All methods accept tensors with any
leading batch shape (so they also work per point inside :func:`torch.func.vmap`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["GaussianPrior", "UniformBoxPrior", "make_prior", "PRIORS"]


class GaussianPrior:
    """Isotropic Gaussian prior ``N(0, scale^2 I_d)``.

    Parameters
    ----------
    dim : int
        Latent dimension ``d``.
    scale : float
        Standard deviation ``sigma_0``.
    """

    name = "gaussian"

    def __init__(self, dim: int, scale: float = 1.0):
        self.dim = int(dim)
        self.scale = float(scale)

    @property
    def variance(self) -> float:
        """Per-coordinate variance ``E[z_i^2]``."""
        return self.scale**2

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z)``, summed over the last axis."""
        return -0.5 * (z**2).sum(-1) / self.variance - 0.5 * self.dim * math.log(
            2 * math.pi * self.variance
        )

    def grad_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``grad_z log q(z) = -z / sigma_0^2``."""
        return -z / self.variance

    def sample(self, n: int, generator: torch.Generator, dtype=torch.float64, device="cpu"):
        """Draw ``n`` samples with a private generator."""
        z = torch.randn(n, self.dim, generator=generator, dtype=dtype, device=generator.device)
        return (self.scale * z).to(device)

    def entropy_term(self) -> float:
        """``E_q log q = -(d/2)(log(2 pi sigma_0^2) + 1)``."""
        return -0.5 * self.dim * (math.log(2 * math.pi * self.variance) + 1.0)

    def grid(self, n_per_axis: int) -> np.ndarray:
        """A deterministic latent grid covering +-3 standard deviations."""
        axis = np.linspace(-3 * self.scale, 3 * self.scale, n_per_axis)
        return np.stack(np.meshgrid(*[axis] * self.dim, indexing="ij"), -1).reshape(-1, self.dim)


class UniformBoxPrior:
    """Uniform prior on the box ``[-L, L]^d`` with ``L = scale``.

    Inside the box ``grad log q = 0``; the box faces carry the natural boundary
    conditions of the Euler-Lagrange equations.  Within affine maps this prior
    acts exactly like a Gaussian prior of variance ``L^2 / 3``.
    """

    name = "uniform"

    def __init__(self, dim: int, scale: float = 1.0):
        self.dim = int(dim)
        self.scale = float(scale)

    @property
    def variance(self) -> float:
        """Per-coordinate variance ``L^2 / 3``."""
        return self.scale**2 / 3.0

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z) = -d log(2L)`` inside the box (the box is not checked)."""
        return torch.zeros_like(z[..., 0]) - self.dim * math.log(2 * self.scale)

    def grad_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Zero inside the box."""
        return torch.zeros_like(z)

    def sample(self, n: int, generator: torch.Generator, dtype=torch.float64, device="cpu"):
        """Draw ``n`` samples with a private generator."""
        u = torch.rand(n, self.dim, generator=generator, dtype=dtype, device=generator.device)
        return (self.scale * (2 * u - 1)).to(device)

    def entropy_term(self) -> float:
        """``E_q log q = -d log(2L)``."""
        return -self.dim * math.log(2 * self.scale)

    def grid(self, n_per_axis: int) -> np.ndarray:
        """A deterministic latent grid covering the box."""
        axis = np.linspace(-self.scale, self.scale, n_per_axis)
        return np.stack(np.meshgrid(*[axis] * self.dim, indexing="ij"), -1).reshape(-1, self.dim)


PRIORS = {"gaussian": GaussianPrior, "uniform": UniformBoxPrior}


def make_prior(name: str, dim: int, scale: float):
    """Build a prior by name (``"gaussian"`` or ``"uniform"``)."""
    if not isinstance(name, str) or name not in PRIORS:
        raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {name!r}")
    return PRIORS[name](dim, scale)
