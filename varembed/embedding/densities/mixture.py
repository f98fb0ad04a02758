"""Gaussian-mixture data density, from a fitted :class:`sklearn.mixture.GaussianMixture`."""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import Density

__all__ = ["MixtureDensity"]


class MixtureDensity(Density):
    """``p(x) = sum_k pi_k N(x; mu_k, Sigma_k)`` with closed-form score.

    Built from a fitted scikit-learn ``GaussianMixture`` of any
    ``covariance_type``; stored as full precision Cholesky factors ``L_k``
    (``Sigma_k^{-1} = L_k L_k^T``) so every type is handled the same way.

    Parameters
    ----------
    weights : Tensor of shape (K,)
    means : Tensor of shape (K, D)
    precision_cholesky : Tensor of shape (K, D, D)
    """

    name = "gmm"
    _tensor_attr = "means"
    has_log_prob = True

    def __init__(self, weights, means, precision_cholesky):
        self.weights = weights
        self.means = means
        self.precision_cholesky = precision_cholesky
        self.dim = means.shape[1]
        self._logw = torch.log(weights)
        self._logdet = torch.log(torch.diagonal(precision_cholesky, dim1=-2, dim2=-1)).sum(-1)

    @classmethod
    def from_sklearn(cls, gm, dtype=torch.float64, device="cpu", n_samples=None) -> "MixtureDensity":
        """Convert a fitted ``GaussianMixture`` (``n_samples``: its training-set size, for :meth:`training_sample`)."""
        K, D = gm.means_.shape
        pc = np.asarray(gm.precisions_cholesky_, dtype=np.float64)
        if gm.covariance_type == "full":
            chol = pc
        elif gm.covariance_type == "tied":
            chol = np.broadcast_to(pc, (K, D, D)).copy()
        elif gm.covariance_type == "diag":
            chol = np.stack([np.diag(v) for v in pc])
        else:  # spherical
            chol = np.stack([np.eye(D) * v for v in pc])
        as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)  # noqa: E731
        out = cls(as_t(gm.weights_), as_t(gm.means_), as_t(chol))
        out.n_samples = n_samples
        return out

    def to(self, device=None, dtype=None) -> "MixtureDensity":
        out = MixtureDensity(
            self.weights.to(device=device, dtype=dtype),
            self.means.to(device=device, dtype=dtype),
            self.precision_cholesky.to(device=device, dtype=dtype),
        )
        out.n_samples = getattr(self, "n_samples", None)
        return out

    def _whitened(self, x):
        # y_k = L_k^T (x - mu_k), shape (..., K, D)
        diff = x.unsqueeze(-2) - self.means
        return torch.einsum("...kd,kde->...ke", diff, self.precision_cholesky)

    def _log_components(self, y):
        return self._logw + self._logdet - 0.5 * (y**2).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` over the last axis (vmappable, differentiable)."""
        return torch.logsumexp(self._log_components(self._whitened(x)), -1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``-sum_k r_k(x) Sigma_k^{-1} (x - mu_k)`` (vmappable, differentiable)."""
        y = self._whitened(x)
        r = torch.softmax(self._log_components(y), -1)
        return -torch.einsum("...k,...ke,kde->...d", r, y, self.precision_cholesky)

    @torch.no_grad()
    def log_prob_and_score(self, x: torch.Tensor, chunk: int = 65536):
        """Batched ``(log p, score)`` without autograd."""
        lps, ss = [], []
        for start in range(0, x.shape[0], chunk):
            xc = x[start : start + chunk]
            y = self._whitened(xc)
            logc = self._log_components(y)
            lps.append(torch.logsumexp(logc, -1))
            r = torch.softmax(logc, -1)
            ss.append(-torch.einsum("bk,bke,kde->bd", r, y, self.precision_cholesky))
        return torch.cat(lps), torch.cat(ss)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw a component by weight, then ``mu_k + L_k^{-T} eps``."""
        w = self.weights.detach().cpu().double()
        comp = torch.multinomial(w, int(n), replacement=True, generator=generator)
        eps = torch.randn(int(n), self.dim, 1, generator=generator, dtype=torch.float64)
        lt = self.precision_cholesky.detach().cpu().double()[comp].transpose(-1, -2)
        x = self.means.detach().cpu().double()[comp] + torch.linalg.solve_triangular(lt, eps, upper=True).squeeze(-1)
        return x.to(dtype=self.dtype, device=self.device)
