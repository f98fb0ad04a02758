"""Latent priors ``q(z)`` of the embedding functional.

* :class:`GaussianPrior` -- ``N(0, diag(scales^2))``; isotropic when all
  scales are equal (then any latent rotation is a symmetry of the objective;
  with unequal scales only axis reflections are);
* :class:`UniformBoxPrior` -- uniform on the box ``[-L, L]^d``; its faces carry
  the natural boundary conditions of the Euler-Lagrange equations.  Within
  affine maps it acts exactly like a Gaussian of variance ``L^2 / 3``.

Every method accepts tensors with leading batch axes (so also single points
inside :func:`torch.func.vmap`).  Each prior also provides its deterministic
point sets: :meth:`quadrature` (weights summing to one, for the L-BFGS polish)
and :meth:`start_points` (candidate latent codes of the posterior-mode
``transform``).  To add a prior, implement the same methods.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import norm

__all__ = ["GaussianPrior", "UniformBoxPrior", "make_prior", "PRIORS"]

#: Grid points per axis of :meth:`start_points` for d = 1, 2, 3 (beyond: Sobol points).
_GRID_PER_AXIS = {1: 64, 2: 24, 3: 10}
#: Sobol points of :meth:`start_points` above d = 3.
_N_SOBOL_STARTS = 512


def _sobol_uniform(d: int, n: int, seed: int = 0, clip: float = 1e-6) -> np.ndarray:
    engine = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)
    return np.clip(engine.draw(n).double().numpy(), clip, 1 - clip)


class _Prior:
    """Shared point sets; subclasses define ``dim``, ``quantile(u)`` and ``grid(n_per_axis)``."""

    name = "prior"
    dim: int

    def quadrature(self, n_points: int, seed: int = 0):
        """A fixed quadrature set ``(z (n, d), weights (n,))`` with weights summing to 1.

        ``d <= 2``: a tensor-product rule with about ``n_points`` nodes
        (:meth:`_rule_1d` per axis); ``d >= 3``: a scrambled Sobol set mapped
        through the prior's quantile function, equal weights.
        """
        d = self.dim
        if d <= 2:
            m = max(4, int(round(n_points ** (1.0 / d))))
            nodes, w = self._rule_1d(m)
            grids = np.meshgrid(*[nodes[:, i] for i in range(d)], indexing="ij")
            wgrid = np.meshgrid(*[w] * d, indexing="ij")
            z = np.stack([g.ravel() for g in grids], -1)
            weights = np.prod(np.stack([g.ravel() for g in wgrid], -1), -1)
        else:
            z = self.quantile(_sobol_uniform(d, n_points, seed))
            weights = np.full(n_points, 1.0 / n_points)
        return z, weights

    def clamp(self, z: torch.Tensor) -> torch.Tensor:
        """Project latent points onto the prior's support (the identity for a Gaussian)."""
        return z

    def start_points(self) -> np.ndarray:
        """Deterministic candidate codes: a grid for ``d <= 3``, Sobol points in the prior otherwise."""
        if self.dim in _GRID_PER_AXIS:
            return self.grid(_GRID_PER_AXIS[self.dim])
        return self.quantile(_sobol_uniform(self.dim, _N_SOBOL_STARTS, clip=1e-4))


class GaussianPrior(_Prior):
    """Gaussian prior ``N(0, diag(scales^2))``.

    Parameters
    ----------
    dim : int
        Latent dimension ``d``.
    scale : float or array-like of shape (dim,), default=1.0
        Standard deviation ``sigma_0`` (one for every axis, or per axis).

    Attributes
    ----------
    scales : ndarray of shape (dim,)
    scale : float
        Root-mean-square of the scales.
    variances : ndarray of shape (dim,)
    isotropic : bool
        All scales equal (latent rotations are symmetries).
    """

    name = "gaussian"

    def __init__(self, dim: int, scale=1.0):
        self.dim = int(dim)
        scales = np.broadcast_to(np.asarray(scale, dtype=np.float64), (self.dim,)).copy()
        if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
            raise ValueError(f"prior scales must be positive and finite, got {scale!r}")
        self.scales = scales
        self.variances = scales**2
        self.scale = float(np.sqrt(np.mean(self.variances)))
        self.isotropic = bool(np.allclose(scales, scales[0]))
        self._log_norm = -0.5 * float(np.sum(np.log(2 * math.pi * self.variances)))

    @property
    def variance(self) -> float:
        """Mean per-coordinate variance ``E[z_i^2]``."""
        return float(np.mean(self.variances))

    def inverse_variances(self, like: torch.Tensor) -> torch.Tensor:
        """``-diag grad^2 log q`` as a ``(d,)`` tensor of ``like``'s dtype and device."""
        return torch.as_tensor(1.0 / self.variances, dtype=like.dtype, device=like.device)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z)``, summed over the last axis."""
        return -0.5 * (z**2 * self.inverse_variances(z)).sum(-1) + self._log_norm

    def grad_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``grad_z log q(z) = -z / sigma_0^2`` (per axis)."""
        return -z * self.inverse_variances(z)

    def sample(self, n: int, generator: torch.Generator, dtype=torch.float64, device="cpu"):
        """Draw ``n`` samples with a private generator (on the generator's device, then moved)."""
        z = torch.randn(n, self.dim, generator=generator, dtype=dtype, device=generator.device)
        return (z * torch.as_tensor(self.scales, dtype=dtype, device=generator.device)).to(device)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Map uniform ``(n, d)`` points in ``(0, 1)^d`` through the prior's quantile function."""
        return norm.ppf(u) * self.scales

    def _rule_1d(self, m: int):
        """Equal-weight Gaussian quantile midpoints per axis: nodes ``(m, d)``, weights ``(m,)``."""
        nodes = norm.ppf((np.arange(m) + 0.5) / m)
        return nodes[:, None] * self.scales, np.full(m, 1.0 / m)

    def grid(self, n_per_axis: int) -> np.ndarray:
        """A deterministic latent grid covering +-3 standard deviations per axis."""
        axes = [np.linspace(-3 * s, 3 * s, n_per_axis) for s in self.scales]
        return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, self.dim)


class UniformBoxPrior(_Prior):
    """Uniform prior on the box ``[-L, L]^d`` with ``L = scale``.

    Inside the box ``grad log q = 0``; the box faces carry the natural boundary
    conditions of the Euler-Lagrange equations.
    """

    name = "uniform"
    isotropic = False  # only signed permutations of the axes are symmetries

    def __init__(self, dim: int, scale: float = 1.0):
        self.dim = int(dim)
        self.scale = float(scale)
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"the half-width of the box must be positive, got {scale!r}")
        self.scales = np.full(self.dim, self.scale)

    @property
    def variance(self) -> float:
        """Per-coordinate variance ``L^2 / 3``."""
        return self.scale**2 / 3.0

    @property
    def variances(self):
        """Per-axis variances ``L^2 / 3`` (the Gaussian of equal covariance, for affine maps)."""
        return np.full(self.dim, self.variance)

    def inverse_variances(self, like: torch.Tensor) -> torch.Tensor:
        """Zero: the log density is flat inside the box."""
        return torch.zeros(self.dim, dtype=like.dtype, device=like.device)

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Map uniform ``(n, d)`` points in ``(0, 1)^d`` into the box."""
        return (2 * u - 1) * self.scale

    def _rule_1d(self, m: int):
        """Gauss-Legendre nodes ``(m, d)`` and weights ``(m,)`` on ``[-L, L]``."""
        nodes, w = np.polynomial.legendre.leggauss(m)
        return np.repeat(nodes[:, None] * self.scale, self.dim, 1), w / w.sum()

    def clamp(self, z: torch.Tensor) -> torch.Tensor:
        """Project latent points onto the box."""
        return z.clamp(-self.scale, self.scale)

    def grid(self, n_per_axis: int) -> np.ndarray:
        """A deterministic latent grid covering the box."""
        axis = np.linspace(-self.scale, self.scale, n_per_axis)
        return np.stack(np.meshgrid(*[axis] * self.dim, indexing="ij"), -1).reshape(-1, self.dim)


PRIORS = {"gaussian": GaussianPrior, "uniform": UniformBoxPrior}


def make_prior(name: str, dim: int, scale=1.0):
    """Build a prior by name (``"gaussian"`` or ``"uniform"``)."""
    if not isinstance(name, str) or name not in PRIORS:
        raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {name!r}")
    return PRIORS[name](dim, scale)
