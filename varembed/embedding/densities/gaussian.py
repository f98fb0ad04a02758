"""Multivariate normal data density ``N(mean, cov)``."""

from __future__ import annotations

import math

import torch

from .base import Density

__all__ = ["GaussianDensity"]


class GaussianDensity(Density):
    """Multivariate normal density ``N(mean, cov)``.

    Every evaluation is one triangular solve with all points of a batch as
    right-hand sides (``O(B D^2)``; the factor is never expanded over the batch).

    Parameters
    ----------
    mean : Tensor of shape (D,)
    cov : Tensor of shape (D, D)
        Symmetric positive definite.
    n_samples : int, optional
        Size of the sample the density was estimated from (for :meth:`training_sample`).

    Attributes
    ----------
    cholesky_ : Tensor of shape (D, D)
        Lower Cholesky factor of ``cov``.
    """

    name = "gaussian"

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor, *, n_samples=None):
        self.mean = mean
        self.cov = cov
        self.n_samples = n_samples
        self.dim = int(mean.shape[-1])
        chol, info = torch.linalg.cholesky_ex(cov)
        if int(info) != 0:
            raise ValueError("the covariance of the Gaussian density is not positive definite")
        self.cholesky_ = chol
        self.half_logdet = torch.log(torch.diagonal(chol)).sum()

    def to(self, device=None, dtype=None) -> "GaussianDensity":
        return GaussianDensity(self.mean.to(device=device, dtype=dtype), self.cov.to(device=device, dtype=dtype),
                               n_samples=self.n_samples)

    def _columns(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean).reshape(-1, self.dim).T  # (D, B)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log N(x; mean, cov)`` over the last axis."""
        w = torch.linalg.solve_triangular(self.cholesky_, self._columns(x), upper=False)
        quad = (w**2).sum(0).reshape(x.shape[:-1])
        return -0.5 * quad - self.half_logdet - 0.5 * self.dim * math.log(2 * math.pi)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``-cov^{-1} (x - mean)``."""
        return -torch.cholesky_solve(self._columns(x), self.cholesky_).T.reshape(x.shape)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(int(n), self.dim, generator=generator, dtype=torch.float64)
        chol = self.cholesky_.detach().cpu().double()
        return (self.mean.detach().cpu().double() + eps @ chol.T).to(dtype=self.dtype, device=self.device)

    def precision_quadratic(self, w: torch.Tensor) -> torch.Tensor:
        """``tr(w^T cov^{-1} w)`` for a ``(D, k)`` matrix ``w``."""
        y = torch.linalg.solve_triangular(self.cholesky_, w, upper=False)
        return (y**2).sum()

    def score_norm_sq(self, n_samples=None, seed=None) -> float:
        """``E_{x~p} |s(x)|^2 = tr(cov^{-1})`` in closed form."""
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        return float(self.precision_quadratic(eye))
