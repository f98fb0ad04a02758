"""Data densities ``p(x)`` of the embedding functional.

A density exposes ``log_prob(x)`` and ``score(x) = grad_x log p(x)`` on tensors
with leading batch axes.  The gradient of the embedding functional needs only
the score, so a user-supplied score model can replace ``log_prob``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["GaussianDensity"]


class GaussianDensity:
    """Multivariate normal density ``N(mean, cov)``.

    Parameters
    ----------
    mean : Tensor of shape (D,)
    cov : Tensor of shape (D, D)
        Symmetric positive definite.

    Attributes
    ----------
    cholesky_ : Tensor of shape (D, D)
        Lower Cholesky factor of ``cov``.
    """

    name = "gaussian"

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor):
        self.mean = mean
        self.cov = cov
        self.dim = mean.shape[-1]
        chol, info = torch.linalg.cholesky_ex(cov)
        if int(info) != 0:
            raise ValueError("the covariance of the Gaussian density is not positive definite")
        self.cholesky_ = chol
        self.half_logdet = torch.log(torch.diagonal(chol)).sum()

    def _whiten(self, x: torch.Tensor) -> torch.Tensor:
        diff = (x - self.mean).unsqueeze(-1)
        chol = self.cholesky_.expand(diff.shape[:-2] + self.cholesky_.shape)
        return torch.linalg.solve_triangular(chol, diff, upper=False).squeeze(-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log N(x; mean, cov)`` over the last axis."""
        w = self._whiten(x)
        return -0.5 * (w**2).sum(-1) - self.half_logdet - 0.5 * self.dim * math.log(2 * math.pi)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``-cov^{-1} (x - mean)``."""
        diff = (x - self.mean).unsqueeze(-1)
        return -torch.cholesky_solve(diff, self.cholesky_.expand(diff.shape[:-2] + self.cholesky_.shape)).squeeze(-1)

    def precision_quadratic(self, w: torch.Tensor) -> torch.Tensor:
        """``tr(w^T cov^{-1} w)`` for a ``(D, k)`` matrix ``w``."""
        y = torch.linalg.solve_triangular(self.cholesky_, w, upper=False)
        return (y**2).sum()

    def score_norm_sq(self) -> float:
        """Reference scale ``E_{x~p} |s(x)|^2 = tr(cov^{-1})``."""
        eye = torch.eye(self.dim, dtype=self.cov.dtype, device=self.cov.device)
        return float(self.precision_quadratic(eye))
