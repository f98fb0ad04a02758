"""Maximising the affine functional for any density: Stiefel Adam, restarts, L-BFGS polish, gauge.

:func:`fit_affine` runs, from each start ``(W_0, b_0)``:

1. **Riemannian Adam** (:class:`~varembed.embedding.stiefel.StiefelAdam`) on
   ``W = V A`` with the frame ``V`` on ``St(D, d)`` and ``A`` (``d x d``)
   and ``b`` Euclidean, on fresh Monte-Carlo batches ``z ~ q`` drawn from
   the restart's private CPU generator (moved to the device afterwards, so a
   CPU and a CUDA fit see the same batches), cosine learning-rate decay.
   The frame carries the orientation of the sheet, ``A`` its shape and scale:
   the steps of ``V`` are in radians whatever the units of the data.
2. The quadrature value ``F`` on the prior's fixed point set
   (``prior.quadrature``) ranks the restarts; the best one is **polished**
   by full-batch L-BFGS (strong Wolfe) in the ambient coordinates ``(W, b)``
   on the same quadrature, with the exact gradient of
   :class:`~varembed.embedding.affine.AffineFunctional`.  For an isotropic
   Gaussian prior the objective is invariant under ``W -> W R`` (``R`` in
   ``O(d)``, up to the quadrature's own anisotropy), so the Hessian is
   singular along ``d (d - 1) / 2`` gauge directions; L-BFGS needs no
   inverse Hessian and its quasi-Newton model stays bounded there (the
   gradient has no component along them), so no constraint is needed.
3. The **gauge** is fixed afterwards by :func:`gauge_fix`.

The residual ``rho_aff`` (:func:`~varembed.embedding.affine.affine_residual`)
is evaluated on the polish's quadrature (it is covariant under the gauge
rotation, so it does not change when the latent frame is rotated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .._utils.schedule import cosine_factor
from .affine import AffineFunctional, affine_residual
from .stiefel import StiefelAdam, qr_retraction

__all__ = ["AffineFit", "fit_affine", "gauge_fix", "initial_maps", "make_lbfgs", "FINAL_LR"]

#: The cosine schedule ends at this fraction of the learning rate.
FINAL_LR = 1e-2


@dataclass
class AffineFit:
    """Result of :func:`fit_affine` (tensors on the fit's device).

    Attributes
    ----------
    weight, bias : Tensor
        Polished ``W`` (D, d) and ``b`` (D,), before the gauge fix.
    value : float
        Quadrature ``F`` after the polish.
    residual : float
        ``rho_aff`` on the quadrature.
    restart_values : list of float
        Quadrature ``F`` of every restart after its Adam stage.
    best_restart : int
    n_iter : int
        Adam steps over all restarts plus L-BFGS evaluations.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    value: float
    residual: float
    restart_values: list = field(default_factory=list)
    best_restart: int = 0
    n_iter: int = 0


def _adam(functional, prior, weight, bias, generator, *, n_steps, batch_size, lr, lr_euclidean):
    frame = qr_retraction(torch.zeros_like(weight), weight)
    shape = frame.T @ weight
    bias = bias.clone()
    opt = StiefelAdam(frame, [shape, bias], lr=lr, lr_euclidean=lr_euclidean)
    for step in range(n_steps):
        z = prior.sample(batch_size, generator, dtype=weight.dtype).to(weight.device)
        _, g_w, g_b = functional.value_and_grad(frame @ shape, bias, z)
        opt.step(-(g_w @ shape.T), [-(frame.T @ g_w), -g_b], scale=cosine_factor(step, n_steps, floor=FINAL_LR))
    return frame @ shape, bias


def make_lbfgs(params, max_iter: int, tol_grad: float) -> torch.optim.LBFGS:
    """The polish's L-BFGS: strong Wolfe, stops on ``max |grad| <= tol_grad``, a zero step or ``max_iter``."""
    return torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, max_eval=int(1.25 * max_iter) + 1,
                             tolerance_grad=tol_grad, tolerance_change=0.0, history_size=30,
                             line_search_fn="strong_wolfe")


def _polish(functional, weight, bias, zq, wq, max_iter, tol_grad):
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    opt = make_lbfgs([w, b], max_iter, tol_grad)
    count = [0]

    def closure():
        count[0] += 1
        with torch.no_grad():
            try:
                value, g_w, g_b = functional.value_and_grad(w, b, zq, wq)
            except torch.linalg.LinAlgError:  # a trial step through a singular W
                w.grad, b.grad = torch.zeros_like(w), torch.zeros_like(b)
                return torch.tensor(math.inf, dtype=w.dtype, device=w.device)
        w.grad, b.grad = -g_w.contiguous(), -g_b.contiguous()
        return -value

    opt.step(closure)
    return w.detach(), b.detach(), count[0]


def fit_affine(functional: AffineFunctional, prior, starts, generators, quadrature, *, n_steps: int,
               batch_size: int, lr: float, data_scale: float, polish_iter: int, tol: float, s_ref: float,
               verbose: int = 0) -> AffineFit:
    """Maximise ``F(W, b)`` from several starts; polish the best (see the module docstring).

    Parameters
    ----------
    functional : AffineFunctional
    prior : GaussianPrior or UniformBoxPrior
    starts : list of (Tensor (D, d), Tensor (D,))
        Initial ``(W, b)`` on the fit's device and dtype.
    generators : list of torch.Generator
        One private CPU generator per start (its Monte-Carlo batches).
    quadrature : (Tensor (n, d), Tensor (n,))
        Fixed points and weights (ranking of restarts, polish, residual).
    n_steps, batch_size, lr : Adam steps, latent batch and frame step size per restart.
    data_scale : float
        Units of ``A`` and ``b``: their Adam step is ``lr * data_scale``.
    polish_iter : int
        L-BFGS iterations (0: no polish).
    tol : float
        L-BFGS stops once every gradient entry is below ``tol * s_ref`` (scaled as ``rho_aff``).
    s_ref : float
        Score scale of ``rho_aff``.
    """
    zq, wq = quadrature
    values, fits = [], []
    for k, ((w0, b0), gen) in enumerate(zip(starts, generators)):
        try:
            w, b = _adam(functional, prior, w0, b0, gen, n_steps=n_steps, batch_size=batch_size, lr=lr,
                         lr_euclidean=lr * data_scale)
            value = float(functional.value_and_grad(w, b, zq, wq)[0])
        except torch.linalg.LinAlgError:  # the sheet collapsed (W lost rank): drop this restart
            w, b, value = w0, b0, -math.inf
        values.append(value)
        fits.append((w, b))
        if verbose:
            print(f"[LinearVariationalEmbedding] restart {k}: F = {value:.6f} after {n_steps} Adam steps")
    best = max(range(len(values)), key=lambda i: values[i] if not math.isnan(values[i]) else -math.inf)
    weight, bias = fits[best]
    n_iter = n_steps * len(starts)
    has_value = not math.isnan(values[best])
    if polish_iter > 0 and has_value:
        sig_min = min(1.0, float(min(prior.variances)) ** 0.5)
        weight, bias, n_eval = _polish(functional, weight, bias, zq, wq, polish_iter, tol * s_ref * sig_min)
        n_iter += n_eval
    value, g_w, g_b = functional.value_and_grad(weight, bias, zq, wq)
    residual = affine_residual(g_w, g_b, prior.variances, s_ref)
    if verbose:
        print(f"[LinearVariationalEmbedding] best restart {best}: polished F = {float(value):.8f}, "
              f"rho_aff = {residual:.2e}")
    return AffineFit(weight, bias, float(value), residual, values, best, n_iter)


def gauge_fix(weight: torch.Tensor, prior):
    """The latent gauge of an affine map: ``(components (d, D), scales (d,), rotation (d, d))``.

    ``W = components^T diag(scales) rotation`` with orthonormal ``components``
    (rows: principal axes of ``W W^T`` by decreasing scale, largest entry of
    each row positive, scikit-learn's convention) from the SVD ``W = U S R^T``.
    For an isotropic Gaussian prior any latent rotation is a symmetry and the
    new latent frame is the principal one (``rotation = I``); otherwise only
    signed permutations are, ``rotation = R^T`` up to the axis signs, and the
    fitted map keeps its latent frame.
    """
    u, s, rt = torch.linalg.svd(weight, full_matrices=False)
    idx = torch.argmax(u.abs(), dim=0)
    signs = torch.sign(u[idx, torch.arange(u.shape[1], device=u.device)])
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    u = u * signs
    rt = rt * signs[:, None]
    isotropic = getattr(prior, "name", "") == "gaussian" and bool(getattr(prior, "isotropic", False))
    rotation = torch.eye(u.shape[1], dtype=u.dtype, device=u.device) if isotropic else rt
    return u.T, s, rotation




def initial_maps(frames, cov, mean, prior_variance: float, continuity: float):
    """Starts ``[(W, b), ...]`` on the given frames with the Gaussian solution's scales.

    Every start has ``b`` at the data mean and ``W = V K^{1/2} (v I + 2 lam K)^{-1/2}``
    with ``K = V^T S V`` diagonalised: the exact optimum for a Gaussian
    density when ``V`` is the principal frame.

    Parameters
    ----------
    frames : list of Tensor (D, d)
    cov : Tensor (D, D)
        Sample covariance of the data.
    mean : Tensor (D,)
    prior_variance, continuity : float
    """
    floor = 1e-12 * float(torch.trace(cov)) / cov.shape[0] + 1e-300
    starts = []
    for frame in frames:
        ritz, rot = torch.linalg.eigh(frame.T @ cov @ frame)
        ritz = ritz.clamp_min(floor)
        scales = (ritz / (prior_variance + 2.0 * continuity * ritz)).sqrt()
        starts.append(((frame @ rot) * scales, mean.clone()))
    return starts
