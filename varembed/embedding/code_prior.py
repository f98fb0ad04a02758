"""A latent prior given by a density on ``R^d``: the code density of a likelihood fit.

:class:`DensityPrior` wraps any :class:`~varembed.embedding.densities.Density`
of dimension ``d`` (the marginal of the data density on the fitted plane,
in latent coordinates) in the prior interface the estimators, the tube
model and the diagnostics use: ``log_prob``, ``grad_log_prob``, ``sample``,
``quadrature``, ``clamp``, ``start_points`` and the second moments.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["DensityPrior", "CodesPrior"]

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

    def _own(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` in the density's dtype and device (callers may hold another precision)."""
        dtype, device = getattr(self.density, "dtype", z.dtype), getattr(self.density, "device", z.device)
        return z.to(dtype=dtype, device=device)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z)`` over the last axis (in ``z``'s dtype)."""
        return self.density.log_prob(self._own(z)).to(z)

    def grad_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``grad log q(z)``: the density's score (in ``z``'s dtype)."""
        return self.density.score(self._own(z)).to(z)

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


#: Codes used as candidate starts of the posterior-mode search (a fixed subsample).
_MAX_CODE_STARTS = 1024


class CodesPrior(DensityPrior):
    """The codes prior: a Gaussian KDE of initial codes, ``q(z) = (1/m) sum_i N(z; c_i, tau^2 I)``.

    With codes from a layout of the data (Isomap, a neighbour embedding) the
    prior has the latent law of the data: the map then needs to transport
    nothing, so it neither stretches tails (Gaussian prior) nor fills the gaps
    between clusters.  Its responsibilities ``r_i(z)`` key the anchor term of
    the objective (:class:`~varembed.embedding.functional.AnchorTerm`).

    Parameters
    ----------
    codes : Tensor of shape (m, d)
        The centres ``c_i`` (one per coreset point).
    bandwidth : float
        ``tau``.
    """

    name = "codes"

    def __init__(self, codes: torch.Tensor, bandwidth: float):
        from .densities import GaussianKDE

        super().__init__(GaussianKDE(codes, float(bandwidth)))

    @property
    def codes(self) -> torch.Tensor:
        return self.density.centres

    @property
    def bandwidth(self) -> float:
        return self.density.bandwidth

    def responsibilities(self, z: torch.Tensor) -> torch.Tensor:
        """``r_i(z) = N(z; c_i, tau^2) / sum_j N(z; c_j, tau^2)``, shape ``(n, m)``."""
        return torch.softmax(self.density._logits(self._own(z)), -1).to(z)

    def nearest(self, z: torch.Tensor, k: int, chunk: int = 4096) -> torch.Tensor:
        """Indices ``(n, k)`` of the ``k`` codes nearest each row of ``z`` (chunked)."""
        k = min(int(k), self.codes.shape[0])
        if z.shape[0] == 0:
            return torch.zeros((0, k), dtype=torch.long, device=z.device)
        return torch.cat([self.density.nearest_centres(self._own(z[i : i + chunk]), k)
                          for i in range(0, z.shape[0], chunk)]).to(z.device)

    def neg_log_prob_terms(self, z: torch.Tensor, neighbours=None):
        """``(-log q, -grad log q, PSD part of -hess log q)`` on a batch ``(n, d)``: the posterior-mode search's terms.

        ``-hess log q = I / tau^2 - Cov_r(c) / tau^4`` with ``Cov_r`` the
        responsibility-weighted covariance of the centres; its negative
        eigenvalues (between modes) are clipped so Gauss-Newton stays a descent.
        ``neighbours`` (``(n, k)`` indices, :meth:`nearest`) truncates the
        mixture to those centres per row (a local search; ``-log q`` is then an
        upper bound).
        """
        c, tau2, m = self.codes.to(z), self.bandwidth**2, self.codes.shape[0]
        const = math.log(m) + 0.5 * self.dim * math.log(2 * math.pi * tau2)
        if neighbours is None:  # every centre: (n, m) logits by one matmul
            logits = self.density._logits(self._own(z)).to(z)
            r = torch.softmax(logits, -1)
            mean = r @ c
            second = (r @ (c.unsqueeze(-1) * c.unsqueeze(-2)).reshape(m, -1)).reshape(-1, self.dim, self.dim)
        else:
            local = c[neighbours]  # (n, k, d)
            logits = -0.5 * ((z.unsqueeze(1) - local) ** 2).sum(-1) / tau2
            r = torch.softmax(logits, -1)
            mean = (r.unsqueeze(-1) * local).sum(1)
            second = torch.einsum("nk,nki,nkj->nij", r, local, local)
        cov = second - mean.unsqueeze(-1) * mean.unsqueeze(-2)
        eye = torch.eye(self.dim, dtype=z.dtype, device=z.device)
        evals, evecs = torch.linalg.eigh(eye / tau2 - cov / tau2**2)
        hess = evecs @ torch.diag_embed(evals.clamp_min(0.0)) @ evecs.transpose(-1, -2)
        return const - torch.logsumexp(logits, -1), (z - mean) / tau2, hess

    def start_points(self) -> np.ndarray:
        """A fixed subsample of the codes."""
        c = self.codes.detach().cpu().double().numpy()
        idx = np.random.default_rng(0).choice(c.shape[0], size=min(_MAX_CODE_STARTS, c.shape[0]), replace=False)
        return c[np.sort(idx)]

    def __repr__(self) -> str:
        return f"CodesPrior(m={self.codes.shape[0]}, d={self.dim}, bandwidth={self.bandwidth:.3g})"
