"""Latent-space helpers of the nonlinear embedding: per-axis Gaussian prior, initial codes.

:class:`AxisGaussianPrior` is ``N(0, diag(scales^2))``.  It has the interface
of :class:`~varembed.embedding.priors.GaussianPrior` (``name = "gaussian"``)
plus ``variances``; with unequal scales the latent rotation symmetry is
broken (only axis reflections remain).

Initial codes (``init="isomap"`` or an array) start the map at a given
parameterisation: the map is first regressed onto ``x_i ~ phi(z_i)`` by
least squares, then the variational objective takes over.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .priors import GaussianPrior

__all__ = ["AxisGaussianPrior", "isomap_codes", "fit_map_to_codes"]


class AxisGaussianPrior(GaussianPrior):
    """Gaussian prior with per-axis standard deviations ``N(0, diag(scales^2))``.

    Parameters
    ----------
    scales : array-like of shape (d,)

    Attributes
    ----------
    scale : float
        Root-mean-square scale (what isotropic code paths use).
    variance : float
        Mean per-coordinate variance.
    variances : ndarray of shape (d,)
    """

    name = "gaussian"

    def __init__(self, scales):
        scales = np.asarray(scales, dtype=np.float64).ravel()
        self.scales = scales
        self.variances = scales**2
        super().__init__(len(scales), float(np.sqrt(np.mean(self.variances))))

    @property
    def variance(self) -> float:
        return float(np.mean(self.variances))

    def _var(self, z):
        return torch.as_tensor(self.variances, dtype=z.dtype, device=z.device)

    def log_prob(self, z):
        return -0.5 * (z**2 / self._var(z)).sum(-1) - 0.5 * float(np.sum(np.log(2 * math.pi * self.variances)))

    def grad_log_prob(self, z):
        return -z / self._var(z)

    def sample(self, n, generator, dtype=torch.float64, device="cpu"):
        z = torch.randn(n, self.dim, generator=generator, dtype=dtype, device=generator.device)
        return (z * torch.as_tensor(self.scales, dtype=dtype, device=generator.device)).to(device)

    def entropy_term(self) -> float:
        return float(-0.5 * np.sum(np.log(2 * math.pi * self.variances) + 1.0))

    def grid(self, n_per_axis):
        axes = [np.linspace(-3 * s, 3 * s, n_per_axis) for s in self.scales]
        return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, self.dim)


def axis_scales(prior) -> np.ndarray:
    """Per-axis scales of any prior (``(d,)``)."""
    return np.asarray(getattr(prior, "scales", np.full(prior.dim, prior.scale)), dtype=np.float64)


def prior_inverse_variances(prior, z: torch.Tensor) -> torch.Tensor:
    """``-diag grad^2 log q`` as a ``(d,)`` tensor (zero for the box)."""
    if prior.name != "gaussian":
        return torch.zeros(prior.dim, dtype=z.dtype, device=z.device)
    return torch.as_tensor(1.0 / axis_scales(prior) ** 2, dtype=z.dtype, device=z.device)


def isomap_codes(X: np.ndarray, n_components: int, n_neighbors: int = 10, max_points: int = 3000, seed: int = 0):
    """Isomap coordinates (geodesic MDS on a kNN graph) of ``X``.

    For more than ``max_points`` samples, Isomap is fitted on a fixed random
    subset and the rest are placed by its out-of-sample ``transform``.  A
    disconnected neighbour graph is made connected by raising the number of
    neighbours.

    Returns
    -------
    ndarray of shape (n, n_components), centred.
    """
    import warnings

    from sklearn.manifold import Isomap

    n = X.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, max_points), replace=False))
    k = min(max(2, n_neighbors), len(idx) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = Isomap(n_neighbors=k, n_components=n_components, eigen_solver="dense" if len(idx) <= 500 else "auto")
        iso.fit(X[idx])
        codes = iso.transform(X) if len(idx) < n else iso.embedding_
    codes = np.asarray(codes, dtype=np.float64)
    return codes - codes.mean(0)


def fit_map_to_codes(module, Z: torch.Tensor, X: torch.Tensor, *, n_steps: int, batch_size: int,
                     learning_rate: float, generator: torch.Generator):
    """Least-squares regression ``min E |phi(z_i) - x_i|^2`` with Adam (cosine decay)."""
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=learning_rate, fused=Z.device.type == "cuda")
    n = Z.shape[0]
    for step in range(n_steps):
        for g in opt.param_groups:
            g["lr"] = learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / max(1, n_steps))))
        idx = torch.randint(0, n, (min(batch_size, n),), generator=generator, device=generator.device).to(Z.device)
        opt.zero_grad(set_to_none=True)
        loss = ((module(Z[idx]) - X[idx]) ** 2).sum(-1).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(((module(Z) - X) ** 2).sum(-1).mean())
