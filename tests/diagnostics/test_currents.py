"""Noether currents of data-space rotations: the closed form of research note §3.2 (T5)."""

import numpy as np
import pytest
import torch

from varembed.diagnostics import DataIsometry, LatentIsometry, find_symmetries, noether_current
from varembed.embedding import GaussianDensity, GaussianPrior

from .._helpers import StubEmbedding

B12 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # B x = (-x2, x1, 0)


def _pca_stub(a1, a2, b=0.3):
    """D = 3, d = 2, lam = 0, q = N(0, I), p = N(0, diag(a1, a2, b)), W = [sqrt(a1) e1, sqrt(a2) e2]."""
    cov = torch.diag(torch.tensor([a1, a2, b], dtype=torch.float64))
    density = GaussianDensity(torch.zeros(3, dtype=torch.float64), cov)
    w = torch.tensor([[np.sqrt(a1), 0.0], [0.0, np.sqrt(a2)], [0.0, 0.0]], dtype=torch.float64)
    return StubEmbedding(GaussianPrior(2, 1.0), density, lambda z: w @ z, continuity=0.0)


def _q(z):
    return np.exp(-0.5 * (z**2).sum(-1)) / (2 * np.pi)


def test_symmetric_data_gives_divergence_free_nonzero_current():
    a = 2.0
    cur = noether_current(_pca_stub(a, a), B12, "data", n_samples=256, random_state=0)
    z, q = cur.z, _q(cur.z)
    norm = np.linalg.norm(q * z[:, 0] * z[:, 1])
    assert np.linalg.norm(cur.divergence) / norm <= 1e-8
    # j = q M z with M = [[0, -sqrt(a2/a1)], [sqrt(a1/a2), 0]] = [[0, -1], [1, 0]]
    expected = q[:, None] * (z @ np.array([[0.0, -1.0], [1.0, 0.0]]).T)
    np.testing.assert_allclose(cur.current, expected, rtol=1e-10, atol=1e-14)
    assert np.linalg.norm(cur.current, axis=-1).max() > 0.05  # clearly non-zero
    assert cur.divergence_ratio <= 1e-8 and cur.breaking_ratio <= 1e-8


def test_broken_symmetry_has_the_closed_form_source():
    a1, a2 = 4.0, 1.0
    cur = noether_current(_pca_stub(a1, a2), B12, "data", n_samples=256, random_state=0)
    z, q = cur.z, _q(cur.z)
    expected_div = -1.5 * q * z[:, 0] * z[:, 1]
    assert np.linalg.norm(cur.divergence - expected_div) <= 1e-8 * np.linalg.norm(expected_div)
    m = np.array([[0.0, -np.sqrt(a2 / a1)], [np.sqrt(a1 / a2), 0.0]])
    np.testing.assert_allclose(cur.current, q[:, None] * (z @ m.T), rtol=1e-10, atol=1e-14)
    # on-shell the divergence is the explicit breaking q s . B phi
    np.testing.assert_allclose(cur.breaking, expected_div, rtol=1e-9, atol=1e-14)
    assert cur.breaking_ratio > 0.1


def test_symmetry_search_on_the_closed_form():
    sym = find_symmetries(_pca_stub(2.0, 2.0), "data", "rotations", random_state=0)
    assert sym.rank == 1
    g = sym.symmetries[0].generator.B
    cos = abs(np.sum(g * B12)) / (np.linalg.norm(g) * np.linalg.norm(B12))
    assert np.arccos(min(cos, 1.0)) < 1e-6
    assert sym.symmetries[0].current.divergence_ratio < 1e-8
    assert find_symmetries(_pca_stub(4.0, 1.0), "data", "rotations", random_state=0).rank == 0


def test_generator_validation():
    stub = _pca_stub(2.0, 1.0)
    with pytest.raises(ValueError, match="antisymmetric"):
        noether_current(stub, np.eye(3), "data")
    with pytest.raises(ValueError, match="shape"):
        noether_current(stub, np.zeros((2, 2)), "data")
    with pytest.raises(ValueError, match="shape"):
        noether_current(stub, (B12, np.zeros(2)), "data")
    with pytest.raises(ValueError, match="space"):
        noether_current(stub, B12, "phase")
    with pytest.raises(ValueError, match="latent-space generator"):
        noether_current(stub, LatentIsometry.make(np.array([[0.0, 1.0], [-1.0, 0.0]])), "data")
    with pytest.raises(TypeError, match="matrix"):
        noether_current(stub, {"B": B12}, "data")
    # an isometry object is accepted as is
    cur = noether_current(stub, DataIsometry.make(B12), "data", n_samples=8, random_state=0)
    assert cur.current.shape == (8, 2)
