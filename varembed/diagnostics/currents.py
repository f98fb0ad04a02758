"""Noether currents of data-space and latent isometries on a fitted embedding.

For the Lagrangian density ``q L`` with stress ``q P`` and a generator
``phi -> phi + eps eta(phi)``, ``z -> z + eps xi(z)`` (characteristic
``Q = eta - J xi``) the current is

    j = q (P^T Q + L xi),

and for every map, stationary or not,

    div_z j = -EL . Q + beta,   beta = q L grad log q . xi + q s . eta
                                      + q tr(P^T (B J - J A)) + q L tr A.

For isometries the trace terms vanish, so a data isometry is broken only by
``q s . eta`` (``p`` not invariant) and a latent one only by ``grad q . xi``
(``q`` not invariant).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

import numpy as np
import torch

from ..core.lagrangian import Generator
from ..core.lagrangian import noether_current as core_noether_current
from ._inputs import batched_field_jet, prepare, reference_score_scale
from .generators import DataIsometry, as_generator
from .jet import EmbeddingJet, embedding_jet

__all__ = ["CurrentField", "noether_current", "affine_current"]

METHODS = ("fast", "generic")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x) ** 2))) if np.size(x) else 0.0


@dataclass(frozen=True)
class CurrentField:
    """A Noether current on latent sample points, with its conservation measures.

    Attributes
    ----------
    generator : DataIsometry or LatentIsometry
    z : ndarray (n, d)
    current : ndarray (n, d)
        ``j``.
    divergence : ndarray (n,)
        ``div_z j`` (measured by differentiation).
    breaking : ndarray (n,)
        Explicit breaking ``beta`` (zero for a symmetry of the objective).
    characteristic : ndarray (n, D)
        ``Q = eta - J xi``.
    identity_residual : ndarray (n,)
        ``div j + EL . Q - beta``: zero for every map (checks the numerics).
    divergence_ratio : float
        ``rms(div j) / rms(q S_ref |Q|)``: 0 for a conserved current.
    breaking_ratio : float
        ``rms(beta) / rms(q S_ref |Q|)``.
    current_ratio : ndarray (n,)
        ``|j| / (q (|J G^-1|_F + 2 lam |J|_F) |Q| + q |L| |xi|)`` pointwise: the
        current against the sum of the magnitudes of its parts.  For ``d = 1``
        with natural boundary conditions a conserved current vanishes.
    current_scale : ndarray (n,)
        The denominator of ``current_ratio``; ``nu_j = max |j| / max current_scale``
        is the research note's normalised current (§3.6, T5).
    s_ref : float
    """

    generator: object
    z: np.ndarray
    current: np.ndarray
    divergence: np.ndarray
    breaking: np.ndarray
    characteristic: np.ndarray
    identity_residual: np.ndarray
    divergence_ratio: float
    breaking_ratio: float
    current_ratio: np.ndarray = dc_field(repr=False)
    current_scale: np.ndarray = dc_field(repr=False, default=None)
    s_ref: float = float("nan")

    @property
    def space(self) -> str:
        """``"data"`` or ``"latent"``."""
        return self.generator.space

    def summary(self) -> dict:
        """Scalar conservation measures (plain floats)."""
        return {
            "divergence_ratio": float(self.divergence_ratio),
            "breaking_ratio": float(self.breaking_ratio),
            "current_ratio_max": float(np.max(self.current_ratio)),
            "current_ratio_median": float(np.median(self.current_ratio)),
            "nu_j": float(np.max(np.linalg.norm(self.current, axis=-1)) / max(np.max(self.current_scale), 1e-300)),
            "current_rms": _rms(np.linalg.norm(self.current, axis=-1)),
            "identity_residual_max": float(np.max(np.abs(self.identity_residual))),
        }


def _parts(generator, jet: EmbeddingJet):
    t = dict(dtype=jet.z.dtype, device=jet.z.device)
    dim_d, dim_l = jet.phi.shape[-1], jet.z.shape[-1]
    if isinstance(generator, DataIsometry):
        bmat, c = torch.as_tensor(generator.B, **t), torch.as_tensor(generator.c, **t)
        amat, b = torch.zeros(dim_l, dim_l, **t), torch.zeros(dim_l, **t)
    else:
        amat, b = torch.as_tensor(generator.A, **t), torch.as_tensor(generator.b, **t)
        bmat, c = torch.zeros(dim_d, dim_d, **t), torch.zeros(dim_d, **t)
    return bmat, c, amat, b


def affine_current(jet: EmbeddingJet, bmat, c, amat, b):
    """Current, divergence, breaking and characteristic of an affine generator from a jet.

    ``eta(x) = B x + c`` in data space and ``xi(z) = A z + b`` in latent space
    (any matrices; antisymmetry is not assumed).  Latent parts need ``jet.log_p``.

    Returns
    -------
    current (n, d), divergence (n,), breaking (n,), characteristic (n, D) : Tensors
    """
    q, gl, P, J, H = jet.q, jet.grad_log_q, jet.stress, jet.jac, jet.hess
    eta = jet.phi @ bmat.T + c
    xi = jet.z @ amat.T + b
    char = eta - (J @ xi.unsqueeze(-1)).squeeze(-1)
    pt_eta = (P.transpose(-1, -2) @ eta.unsqueeze(-1)).squeeze(-1)  # (n, d)
    ptj = P.transpose(-1, -2) @ J  # (n, d, d)
    tr_bj = torch.einsum("nai,ab,nbi->n", P, bmat, J)  # tr(P^T B J)
    tr_ja = torch.einsum("nai,nak,ki->n", P, J, amat)  # tr(P^T J A)
    tr_a = torch.trace(amat)
    latent = bool(amat.abs().max() > 0 or b.abs().max() > 0)
    lag = jet.lagrangian if latent else torch.zeros_like(q)
    current = q.unsqueeze(-1) * (pt_eta - (ptj @ xi.unsqueeze(-1)).squeeze(-1) + lag.unsqueeze(-1) * xi)
    term_eta = (gl * pt_eta).sum(-1) + (jet.div_stress * eta).sum(-1) + tr_bj
    d_ptj = torch.einsum("na,nak->nk", jet.div_stress, J) + torch.einsum("nai,naik->nk", P, H)
    term_xi = (gl * (ptj @ xi.unsqueeze(-1)).squeeze(-1)).sum(-1) + (d_ptj * xi).sum(-1) + tr_ja
    grad_l = (J.transpose(-1, -2) @ jet.score.unsqueeze(-1)).squeeze(-1) + jet.grad_geometric
    term_l = lag * ((gl * xi).sum(-1) + tr_a) + (xi * grad_l).sum(-1)
    divergence = q * (term_eta - term_xi + term_l)
    breaking = q * (lag * (gl * xi).sum(-1) + (jet.score * eta).sum(-1) + tr_bj - tr_ja + lag * tr_a)
    return current, divergence, breaking, char


def _generic(functional, field, generator, z):
    t = dict(dtype=z.dtype, device=z.device)
    if isinstance(generator, DataIsometry):
        bmat, c = torch.as_tensor(generator.B, **t), torch.as_tensor(generator.c, **t)
        gen = Generator(vertical=lambda x, u: bmat @ u + c)
    else:
        amat, b = torch.as_tensor(generator.A, **t), torch.as_tensor(generator.b, **t)
        gen = Generator(horizontal=lambda x: amat @ x + b)
    res = core_noether_current(functional.lagrangian_density, field, gen, z)
    return res.current, res.divergence, res.breaking, res.characteristic, res.euler_lagrange


def current_from_jet(generator, jet: EmbeddingJet, s_ref: float) -> CurrentField:
    """:class:`CurrentField` of a validated isometry from a precomputed jet."""
    current, div, brk, char = affine_current(jet, *_parts(generator, jet))
    el = jet.euler_lagrange
    return _package(generator, jet, current, div, brk, char, el, s_ref)


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _package(generator, jet, current, div, brk, char, el, s_ref) -> CurrentField:
    to = _to_numpy
    identity = div + (el * char).sum(-1) - brk
    q = to(jet.q)
    char_norm = np.linalg.norm(to(char), axis=-1)
    scale = _rms(q * s_ref * char_norm)
    J = jet.jac
    jg = jet.stress + 2 * jet.continuity * J  # J (G + jitter)^{-1}
    p_mag = to(torch.linalg.norm(jg, dim=(-2, -1)) + 2 * jet.continuity * torch.linalg.norm(J, dim=(-2, -1)))
    if isinstance(generator, DataIsometry) or jet.log_p is None:
        l_term = 0.0
    else:
        xi = to(jet.z) @ generator.A.T + generator.b
        l_term = np.abs(to(jet.lagrangian)) * np.linalg.norm(xi, axis=-1)
    denom = q * (p_mag * char_norm + l_term)
    jn = np.linalg.norm(to(current), axis=-1)
    ratio = np.where(denom > 0, jn / np.where(denom > 0, denom, 1.0), 0.0)
    tiny = np.finfo(float).tiny
    return CurrentField(
        generator=generator, z=to(jet.z), current=to(current), divergence=to(div), breaking=to(brk),
        characteristic=to(char), identity_residual=to(identity),
        divergence_ratio=_rms(to(div)) / max(scale, tiny), breaking_ratio=_rms(to(brk)) / max(scale, tiny),
        current_ratio=ratio, current_scale=denom, s_ref=float(s_ref),
    )


def noether_current(estimator, generator, space: str = "data", z=None, *, n_samples: int = 1024,
                    random_state=None, method: str = "fast", s_ref=None, chunk_size=1024) -> CurrentField:
    """Noether current of a data-space or latent isometry on the fitted map.

    Parameters
    ----------
    estimator : fitted embedding estimator
        Offers ``functional()`` and ``field()``.
    generator : ndarray, tuple or isometry
        ``space="data"``: ``B`` (``D x D`` antisymmetric) or ``(B, c)``;
        ``space="latent"``: ``A`` (``d x d`` antisymmetric) or ``(A, b)``.
        Data-space generators act in the coordinates of ``functional()`` (the
        standardised coordinates of estimators that standardise).
    space : {"data", "latent"}, default="data"
    z : array-like of shape (n, d), optional
        Latent points; by default ``n_samples`` draws from the prior.
    n_samples : int, default=1024
    random_state : int, Generator or None
        Seeds the latent sample (private generator).
    method : {"fast", "generic"}, default="fast"
        ``"fast"``: from the embedding jet (the density is evaluated, never
        differentiated); ``"generic"``: the core's autodiff Noether current of
        ``q L`` (slower, the reference).
    s_ref : float, optional
        Reference score scale; computed from the density by default.
    chunk_size : int or None

    Returns
    -------
    CurrentField
    """
    functional, field, zt = prepare(estimator, method, METHODS, z, n_samples, random_state)
    dim_d = int(field(zt[0]).shape[-1])
    gen = as_generator(generator, space, dim_d, functional.prior.dim)
    if s_ref is None:
        s_ref = reference_score_scale(functional.density)
    jet = embedding_jet(functional, field, zt, log_prob=(space == "latent"), chunk_size=chunk_size,
                        field_jet=batched_field_jet(estimator) if method == "fast" else None)
    if method == "fast":
        return current_from_jet(gen, jet, s_ref)
    current, div, brk, char, el = _generic(functional, field, gen, zt)
    return _package(gen, jet, current, div, brk, char, el, s_ref)
