"""Matrix-normal variational posterior of a weight matrix.

``W = M + L_s E L_a`` with ``E`` i.i.d. standard normal, ``L_s`` (out x out)
and ``L_a`` (in x in) lower triangular with positive diagonals, so that
``Cov(vec W) = (L_a^T L_a) kron (L_s L_s^T)``.  The prior is
``N(0, lambda^-1 I)`` and the KL divergence has the closed form

    KL = 1/2 [ lambda |L_s|_F^2 |L_a|_F^2 + lambda |M|_F^2 - d - d ln lambda
               - 2 d_in sum ln diag L_s - 2 d_out sum ln diag L_a ],

with ``d = d_out d_in`` (no log-determinant routine involved).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MatrixNormalWeight"]


def _triangular(raw: torch.Tensor, log_diag: torch.Tensor) -> torch.Tensor:
    return torch.tril(raw, diagonal=-1) + torch.diag_embed(log_diag.exp())


class MatrixNormalWeight(nn.Module):
    """A ``(d_out, d_in)`` weight matrix with a matrix-normal posterior.

    Parameters
    ----------
    d_in, d_out : int
    mean_std : float
        Standard deviation of the N(0, mean_std^2) initial posterior mean.
    posterior_std : float
        Initial per-weight posterior standard deviation (both factors start
        at ``sqrt(posterior_std) I``).
    generator : torch.Generator
        Source of the initial means.
    """

    def __init__(self, d_in, d_out, *, mean_std, posterior_std, generator, dtype=torch.float32):
        super().__init__()
        self.d_in, self.d_out = int(d_in), int(d_out)
        mean = torch.randn(d_out, d_in, generator=generator, dtype=torch.float64) * mean_std
        self.mean = nn.Parameter(mean.to(dtype))
        log_root = 0.5 * math.log(posterior_std)
        self.raw_s = nn.Parameter(torch.zeros(d_out, d_out, dtype=dtype))
        self.log_diag_s = nn.Parameter(torch.full((d_out,), log_root, dtype=dtype))
        self.raw_a = nn.Parameter(torch.zeros(d_in, d_in, dtype=dtype))
        self.log_diag_a = nn.Parameter(torch.full((d_in,), log_root, dtype=dtype))

    def factors(self):
        """The lower-triangular factors ``(L_s, L_a)``."""
        return _triangular(self.raw_s, self.log_diag_s), _triangular(self.raw_a, self.log_diag_a)

    def sample(self, n_samples: int, generator=None) -> torch.Tensor:
        """Reparameterised samples of shape ``(n_samples, d_out, d_in)``."""
        l_s, l_a = self.factors()
        # drawn on the generator's device (CPU) and moved, so a CPU generator drives a GPU model
        eps = torch.randn(n_samples, self.d_out, self.d_in, generator=generator, dtype=self.mean.dtype)
        eps = eps.to(self.mean.device)
        return self.mean + l_s @ eps @ l_a

    def kl(self, prior_precision: float = 1.0) -> torch.Tensor:
        """Closed-form ``KL(q || N(0, prior_precision^-1 I))``."""
        lam = float(prior_precision)
        l_s, l_a = self.factors()
        d = self.d_in * self.d_out
        trace = (l_s**2).sum() * (l_a**2).sum()
        logdet = 2.0 * (self.d_in * self.log_diag_s.sum() + self.d_out * self.log_diag_a.sum())
        return 0.5 * (lam * trace + lam * (self.mean**2).sum() - d - d * math.log(lam) - logdet)

    def log_prior(self, prior_precision: float = 1.0) -> torch.Tensor:
        """Gaussian log prior of the posterior mean (up to a constant), for MAP."""
        return -0.5 * float(prior_precision) * (self.mean**2).sum()
