"""Symmetry discovery (research note §3.2-3.4): invariant generator subspaces with evidence."""

import math

import numpy as np
import pytest
import torch

from varembed.diagnostics import find_symmetries
from varembed.embedding import GaussianPrior, UniformBoxPrior

from varembed.embedding.densities import GaussianKDE as KernelDensity
from varembed.embedding.priors import GaussianPrior as _GP


def AxisGaussianPrior(scales):  # noqa: N802 - per-axis Gaussian prior
    return _GP(len(scales), scales)

from .._helpers import MixtureOfIsotropic, StubEmbedding, random_mlp

LAM = 1e-2
B_Z = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # rotation about the z-axis


def _kde(points, bandwidth=0.1):
    return KernelDensity(torch.as_tensor(points), bandwidth)


def _ring(n=100):
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[np.cos(th), np.sin(th), np.zeros(n)]


def _sinusoid(n=100):
    t = np.linspace(0, 2 * np.pi, n)
    return np.c_[t - np.pi, np.sin(t), np.zeros(n)]


def _ring_solution(radius=0.995, speed=None):
    """The exact 1-D ring optimum of §4.4: constant speed 1/sqrt(2 lam) along the ridge (by default)."""
    w = (1.0 / math.sqrt(2 * LAM) if speed is None else speed) / radius
    return lambda z: radius * torch.stack([torch.cos(w * z[0]), torch.sin(w * z[0]), 0 * z[0]])


def _angle(found, true):
    cos = abs(np.sum(found * true)) / (np.linalg.norm(found) * np.linalg.norm(true))
    return float(np.arccos(min(cos, 1.0)))


@pytest.mark.parametrize("d", [2, 3])
def test_isotropic_gaussian_prior_has_latent_so_d(d):
    stub = StubEmbedding(GaussianPrior(d, 1.5), MixtureOfIsotropic(np.zeros((1, 4)), 1.0), random_mlp(d, 4))
    sym = find_symmetries(stub, "latent", "rotations", random_state=0)
    assert sym.rank == d * (d - 1) // 2 == sym.n_candidates
    # rotations + translations: the translations are broken
    iso = find_symmetries(stub, "latent", "isometries", random_state=0)
    assert iso.rank == d * (d - 1) // 2
    assert iso.singular_values[iso.rank] > 1e-2
    for s in iso:
        assert np.abs(s.generator.b).max() < 1e-10
        # rotations are exact symmetries: no breaking; the current satisfies the off-shell identity
        assert s.current.breaking_ratio < 1e-10
        assert np.abs(s.current.identity_residual).max() < 1e-9 * max(np.abs(s.current.divergence).max(), 1e-300)


@pytest.mark.parametrize("prior", [AxisGaussianPrior([1.0, 2.0]), AxisGaussianPrior([0.5, 1.0, 3.0]),
                                   UniformBoxPrior(2, 1.0), UniformBoxPrior(1, 1.0)])
def test_anisotropic_priors_have_no_latent_isometry(prior):
    stub = StubEmbedding(prior, MixtureOfIsotropic(np.zeros((1, 4)), 1.0), random_mlp(prior.dim, 4))
    sym = find_symmetries(stub, "latent", "isometries", random_state=0)
    assert sym.rank == 0
    assert sym.singular_values.min() > 1e-2


def test_ring_has_exactly_one_data_rotation():
    stub = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(_ring()), _ring_solution(), LAM)
    for kind in ("rotations", "isometries"):
        sym = find_symmetries(stub, "data", kind, random_state=0)
        assert sym.rank == 1
        assert sym.gap > 1e6  # clear evidence
        s = sym.symmetries[0]
        assert _angle(s.generator.B, B_Z) < 1e-2
        assert np.linalg.norm(s.generator.c) < 1e-6
        # its current on the exact ring solution vanishes (d = 1, natural boundary conditions)
        assert s.current.current_ratio.max() < 1e-8
    assert find_symmetries(stub, "data", "translations", random_state=0).rank == 0


def test_sinusoid_has_no_data_isometry():
    stub = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(_sinusoid()), _ring_solution(), LAM)
    sym = find_symmetries(stub, "data", "isometries", random_state=0)
    assert sym.rank == 0
    assert sym.singular_values.min() > 1e-2


def test_high_dimensional_ring_is_found_in_the_principal_subspace():
    # the ring in a random plane of R^12: candidates act in the principal subspace of the fitted map
    rng = np.random.default_rng(0)
    frame, _ = np.linalg.qr(rng.normal(size=(12, 3)))
    centres = _ring() @ frame.T
    f3 = _ring_solution()
    frame_t = torch.as_tensor(frame)
    e3 = torch.tensor([0.0, 0.0, 0.05], dtype=torch.float64)

    def wavy(z):  # a non-planar map (spans 3 dimensions) on the planar ring density
        return frame_t @ (f3(z) + e3 * torch.sin(20 * z[0]))

    stub = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(centres), wavy, LAM)
    sym = find_symmetries(stub, "data", "rotations", max_dim=8, random_state=0)
    assert sym.subspace.shape == (12, 3) and sym.n_candidates == 3
    assert sym.rank == 1
    assert _angle(sym.symmetries[0].generator.B, frame @ B_Z @ frame.T) < 1e-2


def test_bad_arguments():
    stub = StubEmbedding(GaussianPrior(2, 1.0), MixtureOfIsotropic(np.zeros((1, 3)), 1.0), random_mlp(2, 3))
    with pytest.raises(ValueError, match="space"):
        find_symmetries(stub, "phase")
    with pytest.raises(ValueError, match="kind"):
        find_symmetries(stub, "data", "scalings")
    with pytest.raises(ValueError, match="tol"):
        find_symmetries(stub, "data", tol=-1.0)
    with pytest.raises(ValueError, match="samples"):
        find_symmetries(stub, "data", samples=np.zeros((5, 4)))
