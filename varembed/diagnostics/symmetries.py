"""Discovery of the continuous symmetries of a fitted objective.

The objective ``F = E_q[log p(phi) + 1/2 log det G - lam tr G]`` has two
kinds of isometry symmetries (research note §3):

* **data space**: ``eta(x) = B x + c`` (``B`` antisymmetric) is a symmetry iff
  the data density is invariant, ``s(x) . (B x + c) = 0`` for all ``x``
  (the geometric terms are invariant for every ``p``);
* **latent space**: ``xi(z) = A z + b`` is a symmetry iff the prior is
  invariant: ``grad log q . xi = 0`` where ``q`` is smooth and, for a uniform
  box, ``xi`` tangent to its faces.

Both conditions are linear in the generator, so the symmetries are the null
space (SVD) of a residual matrix stacked over sample points
(:func:`varembed.core.flows.affine_flow_residuals`,
:func:`varembed.core.symmetry.invariant_subspace`), with the singular values as
evidence.  Each generator found is then checked on the fitted map: the
divergence of its Noether current.

A density estimated from ``n`` samples is never exactly symmetric: the sample
breaks a true symmetry at order ``1/sqrt(n)`` (and a KDE also by its
roughness at the scale of the bandwidth).  So by default (``tol=None``) the
data-space decision is statistical, a randomisation test: if the data's
distribution is invariant under the flow of a candidate ``B``, moving every
data point along its orbit by an independent random angle gives another
sample of the same distribution; the density refitted on such samples
(``Density.refit``) shows how large the candidate's residual is for an
exactly invariant distribution estimated the same way.  A candidate is a
symmetry when its residual is at most ``z_crit`` standard deviations above
those -- a symmetry the data do not reject -- and its z-score is reported with
it.  ``tol=...`` keeps the exact mode.  The latent prior is known exactly, so
latent symmetries are always decided exactly.

In data space with more than ``max_dim`` dimensions the candidates are the
isometries of the principal subspace of the fitted manifold (its numerical
rank, at most ``max_dim`` dimensions; so(784) alone has 306 936 generators).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Optional

import numpy as np
import torch

from ..core.fields import map_points
from ..core.flows import affine_flow_residuals, affine_generator_basis
from ..core.symmetry import InvariantSubspace, antisymmetric_basis, invariant_subspace, translation_basis
from ._inputs import (
    batched_field_jet, box_faces, density_samples, latent_points, reference_score_scale, resolve_estimator,
    torch_generator,
)
from .currents import CurrentField, current_from_jet
from .generators import SPACES, DataIsometry, LatentIsometry
from .jet import embedding_jet, score_and_log_prob
from .moment_test import moment_test

__all__ = ["Symmetry", "SymmetrySearch", "find_symmetries", "KINDS"]

KINDS = ("rotations", "translations", "isometries")


@dataclass(frozen=True)
class Symmetry:
    """One discovered generator with its evidence and its current on the fit.

    Attributes
    ----------
    generator : DataIsometry or LatentIsometry
        Unit Frobenius norm of (matrix, shift).
    singular_value : float
        Its (normalised) residual singular value: 0 for an exact symmetry.
    current : CurrentField or None
        Its Noether current on latent samples of the fitted map.
    z_score : float or None
        The singular value in units of its sampling spread (statistical mode).
    """

    generator: object
    singular_value: float
    current: Optional[CurrentField] = None
    z_score: Optional[float] = None

    def describe(self) -> str:
        """A short human-readable description of the generator."""
        mat, shift = self.generator.matrix, self.generator.shift
        parts = []
        if np.abs(mat).max() > 1e-12:
            ev = np.linalg.eigvals(mat)
            freq = np.sort(np.abs(ev.imag))[::-1][::2]
            i, j = np.unravel_index(np.argmax(np.abs(mat)), mat.shape)
            parts.append(f"rotation (|w|={freq[0]:.3g}, main plane {min(i, j)}-{max(i, j)})")
        if np.abs(shift).max() > 1e-12:
            parts.append(f"translation (|c|={np.linalg.norm(shift):.3g}, main axis {int(np.argmax(np.abs(shift)))})")
        return " + ".join(parts) or "zero"


@dataclass(frozen=True)
class SymmetrySearch:
    """Result of :func:`find_symmetries`.

    Attributes
    ----------
    space : {"data", "latent"}
    kind : {"rotations", "translations", "isometries"}
    symmetries : list of Symmetry
    singular_values : ndarray
        All singular values of the normalised residual matrix, increasing.
    rank : int
        Number of symmetries found (``len(symmetries)``).
    gap : float
        First non-zero singular value over the last zero one (``inf`` if none
        or all are symmetries).
    tol : float or None
        Exact-mode threshold (``None`` in the statistical mode).
    n_candidates : int
        Size of the candidate basis.
    subspace : ndarray of shape (D, k) or None
        The principal subspace of the fitted manifold that the data-space
        candidates act in (``None``: all of ``R^D``).
    rule : str
        How the rank was decided (``"null"``: statistical, ``"tol"``: exact).
    z_scores : ndarray or None
        Statistical mode: for each tested candidate (smallest singular value
        first, up to the first rejected one), its residual in standard
        deviations above the residuals of densities refitted on data moved
        randomly along its orbits (an exactly invariant sample).
    null_scale : ndarray or None
        Those standard deviations.
    z_crit : float
    """

    space: str
    kind: str
    symmetries: list
    singular_values: np.ndarray
    rank: int
    gap: float
    tol: Optional[float]
    n_candidates: int
    subspace: Optional[np.ndarray] = dc_field(default=None, repr=False)
    rule: str = "tol"
    z_scores: Optional[np.ndarray] = dc_field(default=None, repr=False)
    null_scale: Optional[np.ndarray] = dc_field(default=None, repr=False)
    z_crit: float = 3.0

    def __len__(self) -> int:
        return self.rank

    def __iter__(self):
        return iter(self.symmetries)


def _basis(kind: str, n: int):
    linear = antisymmetric_basis(n) if kind in ("rotations", "isometries") else None
    shift = translation_basis(n) if kind in ("translations", "isometries") else None
    return affine_generator_basis(linear, shift, n)


def _manifold_subspace(phi: np.ndarray, max_dim: int, gen: torch.Generator) -> np.ndarray:
    """Orthonormal principal directions of the fitted manifold's points (numerical rank, at most ``max_dim``).

    A randomised range finder (``max_dim + 8`` Gaussian probes from the
    private generator, two power iterations) on the centred points, then the
    SVD of the small projected matrix: ``O(n D max_dim)`` instead of a full
    ``D x D`` eigenproblem.
    """
    xc = phi - phi.mean(0)
    k = min(max_dim + 8, *xc.shape)
    probe = torch.randn(xc.shape[1], k, generator=gen, dtype=torch.float64).numpy()
    basis, _ = np.linalg.qr(xc @ probe)
    for _ in range(2):
        basis, _ = np.linalg.qr(xc.T @ basis)
        basis, _ = np.linalg.qr(xc @ basis)
    _, sv, vt = np.linalg.svd(basis.T @ xc, full_matrices=False)
    top = max(float(sv[0]), np.finfo(float).tiny) if sv.size else 1.0
    rank = int(np.sum(sv > 1e-7 * top))
    return np.ascontiguousarray(vt[: max(1, min(rank, max_dim))].T)


def _data_residuals(density, phi, kind, samples, n_samples, max_dim, gen):
    if samples is None:
        x = density_samples(density, n_samples, gen)
        if x is None:  # a density that cannot be sampled: jitter the fitted manifold
            spread = float(torch.sqrt(((phi - phi.mean(0)) ** 2).sum(-1).mean()))
            idx = torch.randint(0, phi.shape[0], (n_samples,), generator=gen)
            x = phi[idx] + 0.1 * spread * torch.randn(n_samples, phi.shape[1], generator=gen, dtype=phi.dtype).to(phi)
    else:
        x = torch.as_tensor(np.asarray(samples, dtype=np.float64)).to(device=phi.device, dtype=phi.dtype)
        if x.ndim != 2 or x.shape[1] != phi.shape[1]:
            raise ValueError(f"samples must have shape (n, {phi.shape[1]}), got {tuple(x.shape)}")
    _, s = score_and_log_prob(density, x, False, 1024)
    xn, sn = x.detach().cpu().numpy(), s.detach().cpu().numpy()
    basis_u = None
    if xn.shape[1] > max_dim:
        basis_u = _manifold_subspace(phi.detach().cpu().numpy(), max_dim, gen)
        xn, sn = xn @ basis_u, sn @ basis_u
    a, b = _basis(kind, xn.shape[1])
    res, scales = affine_flow_residuals(sn, xn, a, b, trace=True, return_scales=True)
    return res, a / scales[:, None, None], b / scales[:, None], basis_u


def _latent_residuals(functional, kind, n_samples, gen):
    prior = functional.prior
    a, b = _basis(kind, prior.dim)
    z = prior.sample(n_samples, gen)
    g = prior.grad_log_prob(z)
    interior, scales = affine_flow_residuals(g.numpy(), z.numpy(), a, b, trace=True, return_scales=True)
    rows = [interior]
    if getattr(prior, "name", None) == "uniform":  # flows must be tangent to the faces of the box
        zf, normal = box_faces(prior, n_samples, gen)
        rows.append(affine_flow_residuals(normal.numpy(), zf.numpy(), a, b, trace=False, column_scales=scales))
    # a null vector v of the normalised matrix is the generator sum_k v_k (A_k, b_k) / scale_k
    return np.vstack(rows), a / scales[:, None, None], b / scales[:, None]


def find_symmetries(estimator, space: str = "data", kind: str = "rotations", tol=None, *,
                    n_samples: int = 2048, samples=None, max_dim: int = 8, measure: bool = True,
                    z=None, n_current_samples: int = 1024, random_state=None, s_ref=None,
                    jet=None, n_null: int = 19, z_crit: float = 3.0) -> SymmetrySearch:
    """Symmetry generators of the fitted objective, with evidence and conservation.

    Parameters
    ----------
    estimator : fitted embedding estimator
        Offers ``functional()`` and ``field()``.
    space : {"data", "latent"}, default="data"
        ``"data"``: isometries of the data density (in the coordinates of
        ``functional()``); ``"latent"``: isometries of the prior.
    kind : {"rotations", "translations", "isometries"}, default="rotations"
        Candidates: ``so(n)``, translations, or both (``B x + c``).
    tol : float or None, default=None
        ``None``: the statistical decision (data space; see the module
        docstring); a float: exact mode, singular values of the normalised
        residual matrix (dimensionless, at most about 1) at or below ``tol``
        count as symmetries (latent space: ``1e-6`` when ``None``).
    n_samples : int, default=2048
        Sample points of the density (data) or prior (latent) for the residuals.
    samples : array-like of shape (n, D), optional
        Data-space sample points to use instead of draws from the density.
    max_dim : int, default=8
        Above this data dimension the candidates act in the principal
        subspace of the fitted manifold's points ``phi(z)`` (numerical rank,
        at most ``max_dim`` dimensions).
    measure : bool, default=True
        Measure the Noether current of each generator found on the fitted map.
    z : array-like of shape (n, d), optional
        Latent points for the currents (default: ``n_current_samples`` prior draws).
    n_current_samples : int, default=1024
    random_state : int, Generator or None
        Seeds all sampling (private generators).
    s_ref : float, optional
        Reference score scale for the current measures.
    jet : EmbeddingJet, optional
        A precomputed jet of the fitted map (reused for the manifold's points
        and the currents; latent currents need it with ``log_p``).
    n_null : int, default=19
        Refits of the density on data moved along a candidate's orbits per
        tested candidate (statistical mode).
    z_crit : float, default=3.0
        A residual more than ``z_crit`` standard deviations above what an exactly
        invariant sample gives rejects the symmetry (statistical mode).

    Returns
    -------
    SymmetrySearch
    """
    if space not in SPACES:
        raise ValueError(f"space must be one of {list(SPACES)}, got {space!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if tol is not None and not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be None or a finite number >= 0, got {tol!r}")
    if isinstance(n_null, bool) or not isinstance(n_null, int) or n_null < 2:
        raise ValueError(f"n_null must be an integer >= 2, got {n_null!r}")
    if isinstance(max_dim, bool) or not isinstance(max_dim, int) or max_dim < 1:
        raise ValueError(f"max_dim must be a positive integer, got {max_dim!r}")
    functional, field = resolve_estimator(estimator)
    gen = torch_generator(random_state)
    if space == "data":
        if jet is not None:
            phi = jet.phi
        else:
            zs = latent_points(functional, None, int(n_samples), gen)
            fj = batched_field_jet(estimator)
            phi = map_points(field, zs) if fj is None else fj(zs)[0]
        res, a, b, basis_u = _data_residuals(functional.density, phi, kind, samples, int(n_samples), max_dim, gen)
    else:
        res, a, b = _latent_residuals(functional, kind, int(n_samples), gen)
        basis_u = None
    n_cand = a.shape[0]
    if n_cand == 0:
        return SymmetrySearch(space, kind, [], np.zeros(0), 0, float("inf"), tol, 0, basis_u)
    n_zero = 0
    statistical = tol is None and space == "data" and samples is None and kind == "rotations"
    null, z_tested = None, None
    if statistical:
        try:
            data = functional.density.training_sample(gen)
        except (NotImplementedError, AttributeError):  # nothing to test against: exact mode on the density
            statistical = False
    if statistical:
        xd = data.detach().cpu().double().numpy()
        if basis_u is not None:
            xd = xd @ basis_u
        xd = xd / max(float(np.sqrt(np.mean(np.sum(xd**2, -1)))), 1e-300)
        a0, b0 = _basis(kind, xd.shape[1])
        sv, vt, n_zero, z_tested, null = moment_test(xd, a0, b0, int(n_null), float(z_crit), gen)
        sub = InvariantSubspace(basis=vt[:n_zero].copy(), singular_values=sv, rank=n_zero, threshold=float(z_crit),
                                gap=float(sv[n_zero] / max(sv[n_zero - 1], 1e-300)) if 0 < n_zero < sv.size
                                else float("inf"), rule="null")
        a, b = a0, b0  # moment-test directions refer to the unscaled candidate basis
    else:
        sub = invariant_subspace(res, tol=1e-6 if tol is None else tol)
    gens = []
    for coef in sub.basis:
        mat, shift = np.tensordot(coef, a, 1), coef @ b
        size = np.sqrt(np.sum(mat**2) + np.sum(shift**2))
        mat, shift = mat / size, shift / size  # unit Frobenius norm of (B, c)
        if space == "data":
            if basis_u is not None:
                mat, shift = basis_u @ mat @ basis_u.T, basis_u @ shift
            gens.append(DataIsometry(0.5 * (mat - mat.T), shift))
        else:
            gens.append(LatentIsometry(0.5 * (mat - mat.T), shift))
    currents = [None] * len(gens)
    if measure and gens:
        if jet is None:
            zt = latent_points(functional, z, n_current_samples, gen)
            jet = embedding_jet(functional, field, zt, log_prob=(space == "latent"),
                                field_jet=batched_field_jet(estimator))
        if s_ref is None:
            s_ref = reference_score_scale(functional.density)
        currents = [current_from_jet(g, jet, s_ref) for g in gens]
    zs = z_tested if z_tested is not None else [None] * sub.rank
    syms = [Symmetry(g, float(sv), c, None if zz is None else float(zz))
            for g, sv, c, zz in zip(gens, sub.singular_values[: sub.rank], currents, zs)]
    return SymmetrySearch(space, kind, syms, sub.singular_values, sub.rank, sub.gap,
                          None if statistical else (1e-6 if tol is None else float(tol)), n_cand, basis_u,
                          rule="null" if statistical else sub.rule, z_scores=z_tested, null_scale=null,
                          z_crit=float(z_crit))
