"""The likelihood (forward-KL) objective of an affine embedding: projection pursuit by maximum likelihood.

The tube model of ``score`` is ``x = W z + b + eps`` with ``z ~ q`` and
``eps ~ N(0, sigma^2)`` in the ``D - d`` directions normal to the plane.
Write ``W = V A`` (``V`` orthonormal).  If the latent prior is the one the
data density itself induces -- the marginal ``m_V`` of ``p`` on the plane,
pulled back by ``A`` -- the log-likelihood of a sample is

    log m_V(V^T (x - b)) - |x_perp|^2 / (2 sigma^2) - (D - d)/2 log(2 pi sigma^2),

and with the maximum-likelihood ``b`` (the data mean) and ``sigma^2`` (the
mean squared normal residual) the mean training log-likelihood is

    l(V) = E_data[log m_V(V^T (x - b))] - (D - d)/2 (1 + log(2 pi sigma^2(V))),

a function of the subspace ``span V`` only (``A`` is a gauge).  Its first
term is minus the cross-entropy of the projected data with the projected
density -- the entropy index of projection pursuit (Huber 1985; Jones and
Sibson 1987) -- so ``l`` prefers planes whose projection is far from
Gaussian (clusters) over planes of large variance, unlike the embedding
functional ``F``, which prefers the plane whose *slice* of ``p`` holds the
most mass.  For a Gaussian density ``l`` is PPCA's likelihood: PCA again.

The marginals are closed-form for a Gaussian KDE (the KDE of the projected
centres, same bandwidth), a Gaussian mixture (projected means and
covariances) and a Gaussian.
"""

from __future__ import annotations

import math

import torch

from .densities import GaussianDensity, GaussianKDE, MixtureDensity

__all__ = ["marginal_density", "ProjectedLikelihood", "LIKELIHOOD_DENSITIES"]

#: Density families with closed-form marginals on a plane.
LIKELIHOOD_DENSITIES = (GaussianKDE, MixtureDensity, GaussianDensity)


def _precision_cholesky(cov: torch.Tensor) -> torch.Tensor:
    """Upper factors ``L`` with ``cov^{-1} = L L^T`` (scikit-learn's convention), batched."""
    chol = torch.linalg.cholesky(cov)
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device).expand(cov.shape)
    return torch.linalg.solve_triangular(chol, eye, upper=False).transpose(-1, -2)


def marginal_density(density, frame: torch.Tensor, offset: torch.Tensor):
    """The density of ``frame^T (x - offset)`` for ``x ~ density``: a density on ``R^d``.

    Parameters
    ----------
    density : GaussianKDE, MixtureDensity or GaussianDensity
    frame : Tensor (D, d)
        Orthonormal columns (any full-rank ``(D, d)`` matrix for the mixture
        and the Gaussian).
    offset : Tensor (D,)

    Raises
    ------
    TypeError
        For other density families (no closed-form marginal).
    """
    if isinstance(density, GaussianKDE):
        return GaussianKDE((density.centres - offset) @ frame, density.bandwidth)
    if isinstance(density, MixtureDensity):
        b = torch.linalg.solve(density.precision_cholesky, frame.expand(density.means.shape[:1] + frame.shape))
        # Sigma_k = L_k^{-T} L_k^{-1}  ->  V^T Sigma_k V = (L_k^{-1} V)^T (L_k^{-1} V)
        cov = b.transpose(-1, -2) @ b
        return MixtureDensity(density.weights, (density.means - offset) @ frame, _precision_cholesky(cov))
    if isinstance(density, GaussianDensity):
        return GaussianDensity((density.mean - offset) @ frame, frame.T @ density.cov @ frame)
    raise TypeError(
        "objective='likelihood' needs a density with closed-form marginals (density='kde', 'gmm', "
        f"'gaussian' or a GaussianMixture), got {type(density).__name__}"
    )


class ProjectedLikelihood:
    """``l(V)`` and its Euclidean gradient in ``V`` on the training data (see the module docstring).

    Parameters
    ----------
    density : GaussianKDE or MixtureDensity or GaussianDensity
    X : Tensor (n, D)
        Training data on the density's device and dtype.
    n_components : int
    max_elements : int, default=2**22
        Largest number of query-centre pairs of the KDE held at once.
    """

    def __init__(self, density, X: torch.Tensor, n_components: int, max_elements: int = 2**22):
        if not isinstance(density, LIKELIHOOD_DENSITIES):
            marginal_density(density, None, None)  # raises the TypeError
        self.density = density
        self.mean = X.mean(0)
        self.data = X - self.mean
        self.cov = self.data.T @ self.data / X.shape[0]
        self.trace = float(torch.trace(self.cov))
        self.d = int(n_components)
        self.max_elements = int(max_elements)

    def normal_variance(self, frame: torch.Tensor) -> torch.Tensor:
        """``sigma^2(V)``: mean squared residual per normal direction (floored at ``1e-12 tr S / D``)."""
        dim = self.data.shape[1]
        rest = self.trace - torch.trace(frame.T @ self.cov @ frame)
        return (rest / max(dim - self.d, 1)).clamp_min(1e-12 * self.trace / dim + 1e-300)

    def _normal_term(self, frame):
        normal = self.data.shape[1] - self.d
        if normal == 0:
            return torch.zeros((), dtype=frame.dtype, device=frame.device), torch.zeros_like(frame)
        var = self.normal_variance(frame)
        value = -0.5 * normal * (1.0 + torch.log(2 * math.pi * var))
        # d/dV of -(normal/2) log(rest / normal) = normal S V / rest
        return value, (self.cov @ frame) / var

    def value_and_grad(self, frame: torch.Tensor, index=None):
        """``(l, dl/dV)`` with the data term averaged over ``data[index]`` (all points by default)."""
        queries = self.data if index is None else self.data[index]
        if isinstance(self.density, GaussianKDE):
            lp, grad = self._kde_term(frame, queries)
        else:
            lp, grad = self._autograd_term(frame, queries)
        normal, g_normal = self._normal_term(frame)
        return lp + normal, grad + g_normal

    def _kde_term(self, frame, queries):
        """Closed-form value and gradient of ``mean_i log m_V(y_i)``, chunked over queries."""
        h2 = self.density.bandwidth**2
        centres = (self.density.centres - self.mean) @ frame
        n_centres, n_queries, d = centres.shape[0], queries.shape[0], frame.shape[1]
        const = -math.log(n_centres) - 0.5 * d * math.log(2 * math.pi * h2)
        chunk = max(1, self.max_elements // max(n_centres, 1))
        half_sq = (-0.5 / h2) * (centres**2).sum(-1)
        scaled_t = (centres / h2).T
        total = torch.zeros((), dtype=frame.dtype, device=frame.device)
        g_centres = torch.zeros_like(centres)
        g_frame = torch.zeros_like(frame)
        for start in range(0, n_queries, chunk):
            xq = queries[start : start + chunk]
            y = xq @ frame
            logits = torch.addmm(half_sq, y, scaled_t)  # up to the per-query -|y|^2 / (2 h^2)
            top = logits.max(-1, keepdim=True).values
            w = logits.sub_(top).exp_()
            mass = w.sum(-1, keepdim=True)
            total = total + ((top + mass.log()).sum() - 0.5 * (y**2).sum() / h2 + const * y.shape[0]) / n_queries
            w.div_(mass * n_queries)
            g_y = (w @ centres - y * w.sum(-1, keepdim=True)) / h2  # d/dy_i of mean log m
            g_centres += (w.T @ y - centres * w.sum(0)[:, None]) / h2
            g_frame += xq.T @ g_y
        g_frame += (self.density.centres - self.mean).T @ g_centres
        return total, g_frame

    def _autograd_term(self, frame, queries):
        with torch.enable_grad():
            f = frame.detach().requires_grad_(True)
            value = marginal_density(self.density, f, self.mean).log_prob(queries @ f).mean()
            (grad,) = torch.autograd.grad(value, f)
        return value.detach(), grad


def fit_pursuit(likelihood: ProjectedLikelihood, frames, generators, *, n_steps: int, batch_size: int, lr: float,
                polish_iter: int, tol: float, verbose: int = 0):
    """Maximise ``l(V)`` from several frames: Stiefel Adam on data minibatches, then L-BFGS on all data.

    The Adam stage draws ``batch_size`` query points per step (the centres of
    the marginal are always all of them) with the frame's private generator;
    the restarts are ranked by ``l`` on all data and the best is polished by
    L-BFGS on ``M`` with ``V = qf(M)`` (a smooth chart of the Stiefel
    manifold; ``l`` depends on ``span V`` only).

    Returns
    -------
    frame : Tensor (D, d)
    value : float
        ``l`` on all data after the polish.
    grad_norm : float
        Norm of the Riemannian gradient of ``l`` at ``frame`` (dimensionless).
    values : list of float
        ``l`` of every restart after its Adam stage.
    best : int
    n_iter : int
    """
    from .._utils.schedule import cosine_factor
    from .affine_fit import FINAL_LR, make_lbfgs
    from .stiefel import StiefelAdam, qr_retraction, tangent_projection

    n = likelihood.data.shape[0]
    ends, values = [], []
    for k, (frame0, gen) in enumerate(zip(frames, generators)):
        frame = frame0.clone()
        opt = StiefelAdam(frame, lr=lr)
        for step in range(n_steps):
            idx = torch.randint(0, n, (min(batch_size, n),), generator=gen).to(frame.device)
            _, grad = likelihood.value_and_grad(frame, idx)
            opt.step(-grad, scale=cosine_factor(step, n_steps, floor=FINAL_LR))
        ends.append(frame)
        values.append(float(likelihood.value_and_grad(frame)[0]))
        if verbose:
            print(f"[LinearVariationalEmbedding] restart {k}: log-likelihood {values[-1]:.6f} after {n_steps} Adam steps")
    best = max(range(len(values)), key=lambda i: values[i])
    frame, n_iter = ends[best], n_steps * len(frames)
    if polish_iter > 0:
        chart = frame.clone().requires_grad_(True)
        opt = make_lbfgs([chart], polish_iter, tol)
        count = [0]

        def closure():
            count[0] += 1
            with torch.enable_grad():
                v = qr_retraction(torch.zeros_like(chart), chart)
                value, grad = likelihood.value_and_grad(v.detach())
                (g_chart,) = torch.autograd.grad(v, chart, grad_outputs=-grad)
            chart.grad = g_chart.contiguous()
            return -value

        opt.step(closure)
        frame, n_iter = qr_retraction(torch.zeros_like(frame), chart.detach()), n_iter + count[0]
    value, grad = likelihood.value_and_grad(frame)
    return frame, float(value), float(tangent_projection(frame, grad).norm()), values, best, n_iter
