"""Build the data density of an estimator from its ``density`` parameter."""

from __future__ import annotations

import numpy as np
import torch

from .bandwidth import resolve_bandwidth, warn_small_bandwidth
from .base import Density
from .gaussian import GaussianDensity
from .kde import GaussianKDE
from .mixture import MixtureDensity
from .user import StandardizedDensity, UserDensity

__all__ = ["make_density", "DENSITY_NAMES", "ppca_gaussian", "GMM_COMPONENTS"]

DENSITY_NAMES = ("gaussian", "kde", "gmm")

#: Components of ``density="gmm"`` (pass a ``GaussianMixture`` to choose otherwise).
GMM_COMPONENTS = 10


def ppca_gaussian(X: np.ndarray, n_components: int):
    """PPCA's Gaussian ``N(mean, U diag(l) U^T + noise (I - U U^T))`` of ``X``, as ``sklearn.decomposition.PCA``.

    ``l``, ``U``: the top ``n_components`` eigenpairs of the unbiased covariance;
    ``noise``: the mean of the other ``min(n, D) - n_components`` eigenvalues
    (floored at ``1e-12 tr(S) / D``).

    Returns
    -------
    mean (D,), cov (D, D), noise : ndarray, ndarray, float
    """
    n, dim = X.shape
    mean = X.mean(0)
    xc = X - mean
    s = xc.T @ xc / max(n - 1, 1)
    s = 0.5 * (s + s.T)
    trace = float(np.trace(s))
    tiny = 1e-12 * trace / dim if trace > 0 else 1.0
    evals, vecs = np.linalg.eigh(s)
    evals, vecs = np.maximum(evals[::-1], tiny), vecs[:, ::-1]
    kept = min(n, dim)
    noise = max(float(evals[n_components:kept].mean()), tiny) if kept > n_components else tiny
    u = vecs[:, :n_components]
    cov = (u * evals[:n_components]) @ u.T + noise * (np.eye(dim) - u @ u.T)
    return mean, 0.5 * (cov + cov.T), noise


def make_density(spec, X: np.ndarray, *, n_components: int, bandwidth, kde_neighbors=None, data_mean, data_scale,
                 random_state, dtype, device):
    """Build the density of the (standardised) data ``X`` from the estimator's ``density``.

    Parameters
    ----------
    spec : {"gaussian", "kde", "gmm"}, GaussianMixture, Density, or object/callable
        See :class:`~varembed.VariationalEmbedding`; a :class:`Density` or a
        user model is defined in data coordinates.
    X : ndarray of shape (n, D)
        Standardised training data.
    data_mean, data_scale : ndarray
        The standardisation (user models are defined in data space).

    Returns
    -------
    density : object
    info : dict
        ``bandwidth`` (the kernel width or noise scale used by ``transform``)
        and ``noise_variance`` where defined.
    """
    from sklearn.base import clone
    from sklearn.mixture import GaussianMixture

    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)  # noqa: E731
    n, dim = X.shape
    if isinstance(spec, str):
        if spec not in DENSITY_NAMES:
            raise ValueError(f"density must be one of {list(DENSITY_NAMES)}, a GaussianMixture or a density object, got {spec!r}")
        if spec == "gaussian":
            mean, cov, noise = ppca_gaussian(X, n_components)
            return (GaussianDensity(as_t(mean), as_t(cov), n_samples=n),
                    {"bandwidth": float(np.sqrt(noise)), "noise_variance": noise})
        if spec == "kde":
            h = resolve_bandwidth(bandwidth, X, intrinsic_dim=n_components)
            warn_small_bandwidth(h, X)
            return GaussianKDE(as_t(X), h, n_neighbors=kde_neighbors), {"bandwidth": h}
        gm = GaussianMixture(n_components=min(GMM_COMPONENTS, n), covariance_type="full", reg_covar=1e-6,
                             random_state=random_state)
        spec = gm
    if isinstance(spec, GaussianMixture):
        gm = clone(spec)
        if gm.random_state is None:
            gm.set_params(random_state=random_state)
        gm.set_params(n_components=min(gm.n_components, n))
        gm.fit(X)
        dens = MixtureDensity.from_sklearn(gm, dtype=dtype, device=device, n_samples=n)
        # transform's noise scale: the median component width
        widths = 1.0 / np.abs(np.asarray(np.diagonal(dens.precision_cholesky.detach().cpu().numpy(), axis1=1, axis2=2)))
        return dens, {"bandwidth": float(np.median(widths))}
    base = spec if isinstance(spec, Density) else UserDensity(spec, dim)
    dens = StandardizedDensity(base, as_t(data_mean), as_t(data_scale))
    h = resolve_bandwidth(bandwidth, X, intrinsic_dim=n_components)
    return dens, {"bandwidth": h}
