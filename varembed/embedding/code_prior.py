"""A latent prior given by a density on ``R^d``: the code density of a likelihood fit.

:class:`DensityPrior` wraps any :class:`~varembed.embedding.densities.Density`
of dimension ``d`` (the marginal of the data density on the fitted plane,
in latent coordinates) in the prior interface the estimators, the tube
model and the diagnostics use: ``log_prob``, ``grad_log_prob``, ``sample``,
``quadrature``, ``clamp``, ``start_points`` and the second moments.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["DensityPrior"]

#: Fixed-seed draws behind ``quadrature``, ``start_points`` and the moments.
_MOMENT_SAMPLES, _START_POINTS = 4096, 512


class DensityPrior:
    """Latent prior ``q = density`` (a density on ``R^d``).

    Parameters
    ----------
    density : Density
        With ``log_prob``, ``score`` and ``sample`` on ``(..., d)`` tensors.

    Attributes
    ----------
    dim : int
    scales, variances : ndarray of shape (dim,)
        Per-axis standard deviations and variances (Monte Carlo, fixed seed).
    scale, variance : float
        Root-mean-square scale and mean variance.
    """

    name = "density"
    isotropic = False

    def __init__(self, density):
        self.density = density
        self.dim = int(density.dim)
        z = self._draws(_MOMENT_SAMPLES, 0).double().cpu().numpy()
        self.variances = np.maximum(z.var(0), 1e-300)
        self.scales = np.sqrt(self.variances)
        self.variance = float(np.mean(self.variances))
        self.scale = float(np.sqrt(self.variance))

    def _draws(self, n, seed):
        return self.density.sample(int(n), torch.Generator().manual_seed(int(seed)))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z)`` over the last axis."""
        return self.density.log_prob(z)

    def grad_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``grad log q(z)``: the density's score."""
        return self.density.score(z)

    def inverse_variances(self, like: torch.Tensor) -> torch.Tensor:
        """``1 / variances`` (the Gaussian approximation of posterior-mode searches)."""
        return torch.as_tensor(1.0 / self.variances, dtype=like.dtype, device=like.device)

    def sample(self, n: int, generator: torch.Generator, dtype=torch.float64, device="cpu"):
        """Draw ``n`` samples with a private generator."""
        return self.density.sample(int(n), generator).to(dtype=dtype, device=device)

    def quadrature(self, n_points: int, seed: int = 0):
        """``n_points`` fixed-seed draws with equal weights (no tensor rule exists for a general density)."""
        z = self._draws(n_points, seed).double().cpu().numpy()
        return z, np.full(z.shape[0], 1.0 / z.shape[0])

    def clamp(self, z: torch.Tensor) -> torch.Tensor:
        """The identity: the support is all of ``R^d``."""
        return z

    def start_points(self) -> np.ndarray:
        """Fixed-seed draws as candidate codes."""
        return self._draws(_START_POINTS, 1).double().cpu().numpy()

    def __repr__(self) -> str:
        return f"DensityPrior({self.density!r})"
