"""THE embedding Lagrangian: one definition for training, diagnostics, inference.

For a latent prior ``q``, a data density ``p`` with score ``s``, the
continuity weight ``lam`` and the bending weight ``mu``, a smooth map
``phi: R^d -> R^D`` with Jacobian ``J`` and pull-back metric ``G = J^T J`` is
scored by

    F[phi] = E_q[ L ],   L = log p(phi) + 1/2 log det G - lam tr G - mu sum_ij |d_i d_j phi|^2
                             + beta sum_i r_i(z) log N(x_i; phi(z), sigma^2 I),

a field theory over the ``d`` latent coordinates with Lagrangian density
``q L``.  Maximising ``F`` (with ``mu = 0``) is minimising
``KL(q || p(phi) sqrt(det G)) + lam E_q tr G``.  The conjugate momentum
(stress) is ``q P`` with ``P = dL/dJ = J G^{-1} - 2 lam J``.  The last term is
the *anchor* (:class:`AnchorTerm`, ``beta > 0``): with the codes prior ``q`` (a
KDE of initial codes ``c_i``, responsibilities ``r_i(z)``) it is the
complete-data log-likelihood of the noisy-manifold model ``x = phi(z) + e``
with every point's code observed, blurred by the prior's kernel -- a
latent-conditional KDE of the data next to the marginal one ``log p``.  It
pulls each latent region towards its own data points, so the optimum no
longer packs the map into the highest-density set; its force on the map is
``beta (xbar(z) - phi(z)) / sigma^2`` with ``xbar(z) = sum_i r_i(z) x_i``.

:class:`EmbeddingLagrangian` holds the pointwise pieces -- the log-det-Gram
with its one jitter and failure policy, the stress and its divergence, the
bending term -- on batches of jets; :class:`EmbeddingFunctional` binds them
to a prior and a density.  The training loop, the diagnostics, the L-BFGS
polish and the reported objective all evaluate these same functions.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "AnchorTerm",
    "EmbeddingLagrangian",
    "EmbeddingFunctional",
    "half_logdet_gram",
    "jitter_for",
    "LOGDET_FAILURE",
]

#: ``1/2 log det G`` assigned where the Cholesky factorisation of ``G`` fails (a
#: rank-deficient Jacobian) during training: finite, far below any immersion.
LOGDET_FAILURE = -1e3


def jitter_for(dtype: torch.dtype) -> float:
    """Diagonal jitter of ``G``: ``1e-10`` in float64, ``1e-5`` in float32 (keeps folded maps finite)."""
    return 1e-10 if dtype == torch.float64 else 1e-5


def gram_cholesky(jac: torch.Tensor, jitter: float = 0.0):
    """Cholesky factor of ``G + jitter I`` and a mask of the points where it exists.

    Returns
    -------
    chol : Tensor (..., d, d)
    ok : bool Tensor (...)
    """
    gram = jac.transpose(-1, -2) @ jac
    if jitter:
        gram = gram + jitter * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    chol, info = torch.linalg.cholesky_ex(gram)
    return chol, info == 0


def half_logdet_gram(jac: torch.Tensor, jitter: float = 0.0) -> torch.Tensor:
    """``1/2 log det(J^T J + jitter I)`` over leading batch axes; :data:`LOGDET_FAILURE` where singular.

    The replacement is unconditional (``torch.where``): testing for failures
    on the host would synchronise with a GPU at every training step.
    """
    chol, ok = gram_cholesky(jac, jitter)
    value = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    return torch.where(ok, value, torch.full_like(value, LOGDET_FAILURE))


def _pair_weights(d: int, like: torch.Tensor) -> torch.Tensor:
    from .maps.jets import second_order_pairs

    return torch.tensor([1.0 if i == j else 2.0 for i, j in second_order_pairs(d)], dtype=like.dtype,
                        device=like.device)


class EmbeddingLagrangian:
    """Pointwise pieces of ``L`` on batches of jets.

    Parameters
    ----------
    continuity : float
        ``lam >= 0``.
    smoothness : float, default=0.0
        ``mu >= 0``, weight of the bending energy ``sum_ij |d_i d_j phi|^2``.
    jitter : float, default=0.0
        Added to the diagonal of ``G`` before every factorisation.
    """

    def __init__(self, continuity: float, smoothness: float = 0.0, jitter: float = 0.0):
        self.continuity = float(continuity)
        self.smoothness = float(smoothness)
        self.jitter = float(jitter)

    def geometric(self, jac: torch.Tensor) -> torch.Tensor:
        """``1/2 log det G - lam tr G`` per point."""
        return half_logdet_gram(jac, self.jitter) - self.continuity * (jac**2).sum((-1, -2))

    def bending(self, hessian: torch.Tensor, packed: str = "pairs") -> torch.Tensor:
        """Bending energy per point from second derivatives.

        ``packed="pairs"``: ``(B, D, d (d + 1) / 2)`` in the order of
        :func:`~varembed.embedding.maps.jets.second_order_pairs` (off-diagonal
        pairs count twice); ``"full"``: ``(B, D, d, d)``; ``"mixed"``: one
        Hutchinson row ``(B, D, 1)`` with ``E |d^2 phi[v, w]|^2`` the energy.
        """
        if packed == "full":
            return (hessian**2).sum((-3, -2, -1))
        if packed == "mixed":
            return (hessian**2).sum((-2, -1))
        d = int(round((math.sqrt(8 * hessian.shape[-1] + 1) - 1) / 2))
        return ((hessian**2).sum(-2) * _pair_weights(d, hessian)).sum(-1)

    def value(self, log_p: torch.Tensor, jac: torch.Tensor, hessian=None, packed: str = "pairs") -> torch.Tensor:
        """``L = log p + 1/2 log det G - lam tr G - mu |d^2 phi|^2`` per point (bending only if ``mu > 0``)."""
        out = log_p + self.geometric(jac)
        if self.smoothness > 0:
            if hessian is None:
                raise ValueError("the bending term needs second derivatives of the map")
            out = out - self.smoothness * self.bending(hessian, packed)
        return out

    def stress(self, jac: torch.Tensor) -> torch.Tensor:
        """``P = J (G + jitter I)^{-1} - 2 lam J``, shape ``(..., D, d)``; ``nan`` where ``G`` is singular."""
        chol, ok = gram_cholesky(jac, self.jitter)
        jg = torch.cholesky_solve(jac.transpose(-1, -2), chol).transpose(-1, -2)
        jg = torch.where(ok[..., None, None], jg, torch.full_like(jg, float("nan")))
        return jg - 2 * self.continuity * jac

    def stress_jet(self, jac: torch.Tensor, hess: torch.Tensor):
        """Stress, its divergence, the geometric Lagrangian and its gradient from ``(J, H)``.

        With ``G = J^T J + jitter I`` and ``dG_k = H_k^T J + J^T H_k``
        (``H_k = dJ / dz_k``): ``d_k P = H_k G^{-1} - J G^{-1} dG_k G^{-1} - 2 lam H_k``
        and ``d_k g = 1/2 tr(G^{-1} dG_k) - lam tr dG_k`` for
        ``g = 1/2 log det G - lam tr G``.  Plain batched algebra, ``O(n D d^3)``.

        Parameters
        ----------
        jac : Tensor (n, D, d)
        hess : Tensor (n, D, d, d)
            ``hess[:, a, i, k] = d^2 phi_a / dz_i dz_k``.

        Returns
        -------
        stress (n, D, d), div_stress (n, D), geometric (n,), grad_geometric (n, d) : Tensors
            ``nan`` rows where ``G`` is singular.
        """
        chol, ok = gram_cholesky(jac, self.jitter)
        eye = torch.eye(jac.shape[-1], dtype=jac.dtype, device=jac.device)
        ginv = torch.cholesky_solve(eye.expand(chol.shape), chol)
        ginv = torch.where(ok[:, None, None], ginv, torch.full_like(ginv, float("nan")))
        jg = jac @ ginv
        lam = self.continuity
        stress = jg - 2 * lam * jac
        half = torch.einsum("nbjk,nbl->njlk", hess, jac)
        d_gram = half + half.transpose(1, 2)
        div_stress = (
            torch.einsum("naji,nji->na", hess, ginv)
            - torch.einsum("naj,njli,nli->na", jg, d_gram, ginv)
            - 2 * lam * torch.diagonal(hess, dim1=-2, dim2=-1).sum(-1)
        )
        logdet = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        geometric = torch.where(ok, logdet, torch.full_like(logdet, float("nan"))) - lam * (jac**2).sum((-1, -2))
        grad_geometric = 0.5 * torch.einsum("njl,nljk->nk", ginv, d_gram) - lam * torch.einsum("njjk->nk", d_gram)
        return stress, div_stress, geometric, grad_geometric


class AnchorTerm:
    """``beta sum_i r_i(z) log N(x_i; phi(z), sigma^2 I)``: the latent-conditional data term.

    Parameters
    ----------
    weight : float
        ``beta >= 0``.
    noise_variance : float
        ``sigma^2``.
    data : Tensor of shape (m, D)
        The points ``x_i`` whose codes are the prior's centres (model coordinates).
    prior : CodesPrior
        Gives the responsibilities ``r_i(z)``.
    """

    def __init__(self, weight: float, noise_variance: float, data: torch.Tensor, prior):
        self.weight, self.noise_variance = float(weight), float(noise_variance)
        self.data, self.prior = data, prior
        self._sq = (data**2).sum(-1)

    def _moments(self, z: torch.Tensor, chunk: int = 1024):
        """``xbar(z) = sum_i r_i x_i`` and ``sum_i r_i |x_i|^2`` per row (chunked over rows)."""
        means, seconds = [], []
        for i in range(0, z.shape[0], chunk):
            r = self.prior.responsibilities(z[i : i + chunk])
            means.append(r @ self.data.to(r))
            seconds.append(r @ self._sq.to(r))
        return torch.cat(means), torch.cat(seconds)

    def _from_moments(self, xbar, second, phi):
        """``-beta (|phi - xbar|^2 + spread) / (2 sigma^2) + const`` with ``|phi - xbar|^2 + spread =
        |phi|^2 - 2 phi . xbar + sum_i r_i |x_i|^2``."""
        quad = (phi**2).sum(-1) - 2.0 * (phi * xbar).sum(-1) + second
        return -self.weight * (0.5 * quad / self.noise_variance
                               + 0.5 * phi.shape[-1] * math.log(2 * math.pi * self.noise_variance))

    def value(self, z: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """The term per point (differentiable in ``phi``; the responsibilities held fixed)."""
        with torch.no_grad():
            xbar, second = self._moments(z)
        return self._from_moments(xbar, second, phi)

    @torch.no_grad()
    def force(self, z: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """``d/dphi`` of the term: ``beta (xbar(z) - phi) / sigma^2``, shape ``(n, D)``."""
        return self.weight * (self._moments(z)[0] - phi) / self.noise_variance

    def point_value(self, z: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """The term, differentiable in ``z`` and ``phi`` (any batch shape; ``torch.func``-safe, unchunked)."""
        r = self.prior.responsibilities(z)
        return self._from_moments(r @ self.data.to(r), r @ self._sq.to(r), phi)

    def explicit_grad_z(self, z: torch.Tensor, phi: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """``d/dz`` of the term at fixed ``phi`` (through the responsibilities), shape ``(n, d)``."""
        parts = []
        for i in range(0, z.shape[0], chunk):
            with torch.enable_grad():
                zc = z[i : i + chunk].detach().requires_grad_(True)
                (g,) = torch.autograd.grad(self.point_value(zc, phi[i : i + chunk].detach()).sum(), zc)
            parts.append(g)
        return torch.cat(parts) if parts else torch.zeros_like(z)


class EmbeddingFunctional:
    """``F[phi] = E_q[L]`` for a prior, a data density and the Lagrangian's weights.

    Parameters
    ----------
    prior : GaussianPrior or UniformBoxPrior
        Latent prior ``q``.
    density : Density
        Data density with ``log_prob(x)`` and ``score(x)``.
    continuity : float
        The continuity weight ``lam >= 0``.
    jitter : float, default=0.0
        Diagonal jitter in the Cholesky factor of ``G``.
    smoothness : float, default=0.0
        Bending weight ``mu``: part of the objective a fit solved.
    anchor : AnchorTerm, optional
        The latent-conditional data term (with the codes prior).
    dtype, device : torch dtype and device, optional
        Where the map lives (a fitted estimator sets them); diagnostics put
        their latent points there.  ``None``: the density's.
    """

    def __init__(self, prior, density, continuity: float = 0.0, jitter: float = 0.0, *, smoothness: float = 0.0,
                 anchor=None, dtype=None, device=None):
        self.prior = prior
        self.density = density
        self.anchor = anchor
        self.lagrangian = EmbeddingLagrangian(continuity, smoothness, jitter)
        self.dtype = dtype if dtype is not None else getattr(density, "dtype", torch.float64)
        self.device = torch.device(device) if device is not None else getattr(density, "device", torch.device("cpu"))

    @property
    def continuity(self) -> float:
        return self.lagrangian.continuity

    @property
    def smoothness(self) -> float:
        return self.lagrangian.smoothness

    @property
    def jitter(self) -> float:
        return self.lagrangian.jitter

    # ----------------------------------------------------------- pointwise L
    def pointwise(self, phi: torch.Tensor, jac: torch.Tensor) -> torch.Tensor:
        """``L(phi, J)`` without the bending and anchor terms, shapes ``(..., D)`` and ``(..., D, d)``."""
        return self.density.log_prob(phi) + self.lagrangian.geometric(jac)

    def lagrangian_density(self, z: torch.Tensor, phi: torch.Tensor, jac: torch.Tensor) -> torch.Tensor:
        """``q(z) L(z, phi, J)`` for one point (the anchor included): the first-order density for
        :mod:`varembed.core.lagrangian`."""
        value = self.pointwise(phi, jac)
        if self.anchor is not None:
            value = value + self.anchor.point_value(z, phi)
        return torch.exp(self.prior.log_prob(z)) * value

    def stress(self, jac: torch.Tensor) -> torch.Tensor:
        """``P = J G^{-1} - 2 lam J`` (see :meth:`EmbeddingLagrangian.stress`)."""
        return self.lagrangian.stress(jac)

    def mean_value(self, module, z: torch.Tensor, weights=None) -> torch.Tensor:
        """``E L`` (bending included) of a map with a forward-mode ``jet`` on latent points, differentiable.

        ``log p`` goes through the density's own ``log_prob`` (autograd
        through the density), so this is an independent evaluation of what
        training computes with the score surrogate.
        """
        jet = module.jet(z, order=2 if self.smoothness > 0 else 1)
        f = self.lagrangian.value(self.density.log_prob(jet.value), jet.jacobian, jet.hessian)
        if self.anchor is not None:
            f = f + self.anchor.value(z, jet.value)
        return f.mean() if weights is None else (f * weights).sum()

    # ------------------------------------------------------- affine closed form
    def affine_gaussian(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Exact ``F`` for ``phi(z) = W z + b`` and a Gaussian density.

        ``E_q log p(Wz + b) = log p(b) - 1/2 tr(W^T C^{-1} W Sigma_q)`` with
        ``Sigma_q`` the prior's covariance (``L^2/3`` per axis for a box).

        Parameters
        ----------
        weight : Tensor of shape (D, d)
        bias : Tensor of shape (D,)
        """
        dens = self.density
        scaled = weight * torch.as_tensor(self.prior.variances, dtype=weight.dtype, device=weight.device).sqrt()
        return (
            dens.log_prob(bias)
            - 0.5 * dens.precision_quadratic(scaled)
            + half_logdet_gram(weight, self.jitter)
            - self.continuity * (weight**2).sum()
        )
