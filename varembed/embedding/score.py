"""Data densities for the nonlinear embedding: user models, standardisation, the factory.

Every density used by :class:`~varembed.VariationalEmbedding` offers

* ``log_prob(x)`` and ``score(x)`` -- per point or on leading batch axes,
  differentiable and usable inside :func:`torch.func.vmap` (the diagnostics
  need them); ``score`` may be the only one a user model provides;
* ``log_prob_and_score(x)`` -- the batched, chunked fast path of training
  (no autograd graph; ``log_prob`` part ``None`` for score-only models);
* ``score_norm_sq()`` -- the reference scale ``E_{x~p} |s(x)|^2`` used to
  normalise Euler-Lagrange residuals;
* ``has_log_prob`` / ``has_score`` flags.

:func:`log_prob_with_score` turns a density into a differentiable ``log p``
whose backward pass uses the score (no graph through the centres of a KDE):
memory ``O(B D)`` however many centres there are.  The gradient of the
embedding functional needs only the score, so a score-only model (e.g. a
diffusion model's ``s_theta(x, sigma)`` at a small noise level) can drive the
fit; ``log p`` is then needed only to *report* the objective.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .densities import GaussianDensity
from .gmm import MixtureDensity
from .kde import KernelDensity, resolve_bandwidth, warn_small_bandwidth

__all__ = [
    "UserDensity",
    "StandardizedDensity",
    "batched_log_prob_and_score",
    "log_prob_with_score",
    "make_density",
    "DENSITY_NAMES",
]

DENSITY_NAMES = ("gaussian", "kde", "gmm")


class UserDensity:
    """Adapter for a user's torch density model.

    Parameters
    ----------
    model : object or callable
        An object with ``log_prob(x)`` and/or ``score(x)`` methods taking and
        returning torch tensors (``(..., D) -> (...)`` and ``(..., D) ->
        (..., D)``), or a plain callable taken as ``log_prob``.  A missing
        score is obtained by autograd from ``log_prob``.
    dim : int
    """

    name = "user"

    def __init__(self, model, dim: int):
        self.model = model
        self.dim = int(dim)
        if callable(getattr(model, "log_prob", None)):
            self._log_prob = model.log_prob
        elif not callable(getattr(model, "score", None)) and callable(model):
            self._log_prob = model
        else:
            self._log_prob = None
        self._score = model.score if callable(getattr(model, "score", None)) else None
        if self._log_prob is None and self._score is None:
            raise ValueError("a density object needs a log_prob(x) or a score(x) method, or must be callable")
        self.has_log_prob = self._log_prob is not None
        self.has_score = True

    def to(self, device=None, dtype=None):
        return self

    def log_prob(self, x):
        if self._log_prob is None:
            raise NotImplementedError("this density model provides only a score; log p is unavailable")
        return self._log_prob(x)

    def score(self, x):
        if self._score is not None:
            return self._score(x)
        from torch.func import grad, vmap

        flat = x.reshape(-1, x.shape[-1])
        g = vmap(grad(lambda y: self._log_prob(y).sum()))(flat)
        return g.reshape(x.shape)

    def log_prob_and_score(self, x):
        if self._score is not None:
            with torch.no_grad():
                lp = self._log_prob(x) if self._log_prob is not None else None
                return lp, self._score(x)
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            lp = self._log_prob(xr)
            (g,) = torch.autograd.grad(lp.sum(), xr)
        return lp.detach(), g.detach()

    def score_norm_sq(self):
        return float("nan")


class StandardizedDensity:
    """A data-space density seen in standardised coordinates ``x = mean + scale * u``.

    ``log p_u(u) = log p(mean + scale u) + sum log scale`` and
    ``s_u(u) = scale * s(mean + scale u)``.
    """

    def __init__(self, base, mean: torch.Tensor, scale: torch.Tensor):
        self.base = base
        self.mean = mean
        self.scale = scale
        self.dim = base.dim
        self.name = getattr(base, "name", "user")
        self.has_log_prob = getattr(base, "has_log_prob", True)
        self.has_score = True
        self._logjac = torch.log(scale).sum() if scale.ndim else self.dim * torch.log(scale)
        self._ref = None

    def to(self, device=None, dtype=None):
        return StandardizedDensity(
            self.base.to(device, dtype), self.mean.to(device=device, dtype=dtype), self.scale.to(device=device, dtype=dtype)
        )

    def _raw(self, u):
        return self.mean + self.scale * u

    def log_prob(self, u):
        return self.base.log_prob(self._raw(u)) + self._logjac

    def score(self, u):
        return self.scale * self.base.score(self._raw(u))

    def log_prob_and_score(self, u):
        lp, s = batched_log_prob_and_score(self.base, self._raw(u))
        return (None if lp is None else lp + self._logjac), self.scale * s

    def score_norm_sq(self):
        return float("nan")


@torch.no_grad()
def batched_log_prob_and_score(density, x: torch.Tensor):
    """``(log p, score)`` on a batch through the density's fastest path."""
    fast = getattr(density, "log_prob_and_score", None)
    if fast is not None:
        return fast(x)
    lp = density.log_prob(x) if getattr(density, "has_log_prob", True) else None
    return lp, density.score(x)


class _LogProbWithScore(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, density):
        lp, s = batched_log_prob_and_score(density, x.detach())
        ctx.save_for_backward(s)
        if lp is None:
            lp = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
        return lp

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * s, None


def log_prob_with_score(density, x: torch.Tensor) -> torch.Tensor:
    """``log p(x)`` for a batch ``(B, D)`` whose gradient is ``s(x)`` (memory ``O(B D)``).

    For a score-only density the value is zero but the gradient is still the
    score, so the training loss has the right gradient (the score-only
    surrogate ``stopgrad(s) . phi``).
    """
    return _LogProbWithScore.apply(x, density)


# ------------------------------------------------------------------- factory
def _gaussian_density(X: np.ndarray, n_components: int):
    """``N(mean, S + noise I)`` with the PPCA noise floor (mean discarded eigenvalue)."""
    n, dim = X.shape
    mean = X.mean(0)
    xc = X - mean
    s = xc.T @ xc / n
    s = 0.5 * (s + s.T)
    trace = float(np.trace(s))
    tiny = 1e-12 * trace / dim if trace > 0 else 1.0
    evals = np.linalg.eigvalsh(s)[::-1]
    noise = float(evals[n_components:].mean()) if dim > n_components else 0.0
    noise = max(noise, tiny)
    cov = s + noise * np.eye(dim)
    return mean, cov, noise


def make_density(spec, X: np.ndarray, *, n_components: int, bandwidth, n_neighbors, data_mean, data_scale,
                 random_state, dtype, device):
    """Build the density of the (standardised) data ``X`` from the estimator's ``density``.

    Parameters
    ----------
    spec : {"gaussian", "kde", "gmm"}, GaussianMixture, or object/callable
        See :class:`~varembed.VariationalEmbedding`.
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
            mean, cov, noise = _gaussian_density(X, n_components)
            return GaussianDensity(as_t(mean), as_t(cov)), {"bandwidth": float(np.sqrt(noise)), "noise_variance": noise}
        if spec == "kde":
            h = resolve_bandwidth(bandwidth, X, intrinsic_dim=n_components)
            if n_neighbors is not None:
                if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral) or n_neighbors < 1:
                    raise ValueError(f"n_neighbors must be None or a positive integer, got {n_neighbors!r}")
            warn_small_bandwidth(h, X)
            return KernelDensity(as_t(X), h, n_neighbors=n_neighbors), {"bandwidth": h}
        gm = GaussianMixture(n_components=min(10, n), covariance_type="full", reg_covar=1e-6,
                             random_state=random_state)
        spec = gm
    if isinstance(spec, GaussianMixture):
        gm = clone(spec)
        if gm.random_state is None:
            gm.set_params(random_state=random_state)
        gm.set_params(n_components=min(gm.n_components, n))
        gm.fit(X)
        dens = MixtureDensity.from_sklearn(gm, dtype=dtype, device=device)
        # transform's noise scale: the median component width
        widths = 1.0 / np.abs(np.asarray(np.diagonal(dens.precision_cholesky.detach().cpu().numpy(), axis1=1, axis2=2)))
        return dens, {"bandwidth": float(np.median(widths))}
    base = UserDensity(spec, dim)
    dens = StandardizedDensity(base, as_t(data_mean), as_t(data_scale))
    h = resolve_bandwidth(bandwidth, X, intrinsic_dim=n_components)
    return dens, {"bandwidth": h}
