"""The non-Gaussian fits of :class:`~varembed.LinearVariationalEmbedding`, as plain functions.

:func:`fit_linear` builds the data density, the starting frames and the
quadrature, runs the optimiser of the chosen objective
(:func:`~varembed.embedding.affine_fit.fit_affine` for the functional,
:func:`~varembed.embedding.pursuit.fit_pursuit` for the likelihood), fixes
the latent gauge and returns the fitted attributes as a dict.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .affine import AffineFunctional
from .affine_fit import fit_affine, gauge_fix, initial_maps
from .code_prior import DensityPrior
from .densities import GaussianKDE, StandardizedDensity, make_density
from .frames import initial_frames
from .maps import SmoothMLPMap
from .pursuit import ProjectedLikelihood, fit_pursuit, marginal_density

__all__ = ["fit_linear", "marginal_bandwidth", "score_scale", "POLISH_POINTS", "POLISH_POINTS_1D", "FLOOR_RTOL"]

#: Quadrature points of the polish (d = 1, d >= 2), as the nonlinear estimator's.
POLISH_POINTS_1D, POLISH_POINTS = 512, 2304
#: Floor of the noise variance, relative to ``tr(S) / D``.
FLOOR_RTOL = 1e-12


def score_scale(density) -> float:
    """``S_ref = sqrt(E_p |s|^2)`` of the density (closed form or Monte Carlo), 1 if unavailable."""
    try:
        value = float(density.score_norm_sq())
    except (NotImplementedError, AttributeError):
        return 1.0
    return float(np.sqrt(value)) if np.isfinite(value) and value > 0 else 1.0


def marginal_bandwidth(bandwidth, X: np.ndarray, n_components: int):
    """``bandwidth="auto"`` of the likelihood objective: Scott's width in the ``d`` dimensions of the marginal.

    ``h = n^(-1/(d+4)) sigma`` (``sigma`` the root-mean-square standard
    deviation of the data), without the ``"auto"`` rule's nearest-neighbour
    floor: the projected KDE lives in ``d`` dimensions, where the samples are
    dense, so the floor that keeps a ``D``-dimensional KDE from breaking into
    beads would only blur the projection.  Other values are passed on.
    """
    if not (isinstance(bandwidth, str) and bandwidth == "auto"):
        return bandwidth
    sigma = float(np.sqrt(max(np.mean(X.var(axis=0)), np.finfo(float).tiny)))
    return float(X.shape[0] ** (-1.0 / (n_components + 4)) * sigma)


def _unwrapped(density):
    """A user :class:`Density` seen through the identity standardisation is the density itself."""
    if isinstance(density, StandardizedDensity) and bool((density.mean == 0).all()) and bool((density.scale == 1).all()):
        return density.base
    return density


def fit_linear(est, X: np.ndarray, prior, lam: float, seeds, dtype, device) -> dict:
    """Fit ``est``'s density and maximise its objective over affine maps; the fitted attributes.

    Parameters
    ----------
    est : LinearVariationalEmbedding
        Read for its parameters only.
    X : ndarray (n, D), float64
    prior : GaussianPrior or UniformBoxPrior
    lam : float
    seeds : list of int
        ``n_restarts + 1`` independent seeds (density, then one per restart).
    dtype, device : where the fit runs.
    """
    n_samples, n_features = X.shape
    d = prior.dim
    likelihood = est.objective == "likelihood"
    with warnings.catch_warnings():
        if likelihood:  # the bead warning is about the D-dimensional KDE; the likelihood uses its d-dim marginal
            warnings.filterwarnings("ignore", message="the KDE bandwidth", category=UserWarning)
        density, info = make_density(
            est.density, X, n_components=d, bandwidth=marginal_bandwidth(est.bandwidth, X, d) if likelihood
            else est.bandwidth, kde_neighbors=est.kde_neighbors, data_mean=np.zeros(n_features),
            data_scale=np.ones(n_features), random_state=seeds[0], dtype=dtype, device=device)
    density = _unwrapped(density)
    as_t = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    mean = X.mean(axis=0)
    s = (X - mean).T @ (X - mean) / (n_samples - 1)
    s = 0.5 * (s + s.T)
    gens = [torch.Generator().manual_seed(int(k)) for k in seeds[1:]]
    # starting frames on the CPU in float64 (the same frames, signs included, whatever the device)
    frames = [f.to(dtype=dtype, device=device) for f in
              initial_frames(torch.as_tensor(X), torch.as_tensor(s), d, int(est.n_restarts), gens)]
    run = dict(n_steps=int(est.max_iter), batch_size=int(est.batch_size), lr=float(est.learning_rate),
               polish_iter=int(est.max_iter), verbose=est.verbose)
    if likelihood:
        out = _likelihood(density, as_t(X), frames, gens, prior, float(est.tol), run)
    else:
        zq, wq = (as_t(a) for a in prior.quadrature(POLISH_POINTS_1D if d == 1 else POLISH_POINTS))
        fit = fit_affine(AffineFunctional(density, lam), prior, initial_maps(frames, as_t(s), as_t(mean), prior.variance,
                                                                            lam), gens, (zq, wq),
                         data_scale=float(np.sqrt(np.mean(np.diag(s)))) or 1.0, tol=float(est.tol),
                         s_ref=score_scale(density), **run)
        components, scales, rotation = gauge_fix(fit.weight, prior)
        out = dict(components=components, scales=scales, rotation=None if prior.name == "gaussian" else rotation,
                   weight=(components.T * scales) @ rotation, bias=fit.bias, value=fit.value, residual=fit.residual,
                   values=fit.restart_values, best=fit.best_restart, n_iter=fit.n_iter, prior=prior)
    comp = out["components"].cpu().numpy()
    b = out["bias"].cpu().numpy()
    resid = (X - b) - ((X - b) @ comp.T) @ comp
    tiny = FLOOR_RTOL * float(np.trace(s)) / n_features if np.trace(s) > 0 else 1.0
    normal = n_features - d
    rotation = out["rotation"]
    return dict(
        components_=comp, scales_=out["scales"].cpu().numpy(), embedding_matrix_=out["weight"].cpu().numpy(),
        _rotation=None if rotation is None else rotation.cpu().numpy(), mean_=b, covariance_=s,
        explained_variance_=np.einsum("kd,de,ke->k", comp, s, comp),
        noise_variance_=max(float((resid**2).sum()) / (n_samples * normal), tiny) if normal else tiny,
        bandwidth_=float(info["bandwidth"]), objective_=float(out["value"]), affine_residual_=float(out["residual"]),
        restart_objectives_=[float(v) for v in out["values"]], best_restart_=int(out["best"]),
        n_iter_=int(out["n_iter"]), dtype_=dtype, device_=device, prior_=out["prior"], density_=density,
        map_=SmoothMLPMap(d, n_features, (), weight=out["weight"], bias=out["bias"], dtype=dtype,
                          device=device).requires_grad_(False),
    )


def _likelihood(density, X, frames, gens, prior, tol, run):
    """Projection pursuit by maximum likelihood; the latent prior is the code density (RMS scale ``prior.scale``)."""
    likelihood = ProjectedLikelihood(density, X, prior.dim)
    frame, value, grad_norm, values, best, n_iter = fit_pursuit(likelihood, frames, gens, tol=tol, **run)
    # gauge: principal axes of the projected data, largest entry of each axis positive, RMS code scale prior.scale
    ritz, rot = torch.linalg.eigh(frame.T @ likelihood.cov @ frame)
    frame = (frame @ rot).flip(-1)
    idx = torch.argmax(frame.abs(), dim=0)
    frame = frame * torch.sign(frame[idx, torch.arange(frame.shape[1])])
    scale = float(ritz.clamp_min(1e-300).mean().sqrt()) / prior.scale
    bias = likelihood.mean
    if isinstance(density, GaussianKDE):
        code_density = GaussianKDE((density.centres - bias) @ frame / scale, density.bandwidth / scale)
    else:
        code_density = marginal_density(density, frame / scale, bias)
    return dict(components=frame.T, scales=torch.full((prior.dim,), scale, dtype=frame.dtype, device=frame.device),
                rotation=None, weight=frame * scale, bias=bias, value=value, residual=grad_norm, values=values,
                best=best, n_iter=n_iter, prior=DensityPrior(code_density))
