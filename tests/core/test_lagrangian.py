"""Off-shell identities of the variational core on a random smooth embedding (research note §2-3, T1).

These hold for *any* map, so they test the autodiff plumbing of
:mod:`varembed.core.lagrangian` against independently coded expressions.
"""

import numpy as np
import pytest
import torch
from torch.func import jacfwd, vmap

from varembed.core.lagrangian import Generator, euler_lagrange, field_jet, noether_current
from varembed.embedding import EmbeddingFunctional, GaussianPrior
from varembed.embedding.functional import half_logdet_gram

from .._helpers import MixtureOfIsotropic, random_mlp

LAM = 0.07


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(3)
    density = MixtureOfIsotropic(rng.normal(size=(4, 3)), 0.8, weights=[1.0, 2.0, 0.5, 1.5])
    prior = GaussianPrior(2, 1.3)
    functional = EmbeddingFunctional(prior, density, LAM)
    field = random_mlp(2, 3, seed=1)
    z = torch.as_tensor(rng.normal(size=(16, 2)))
    return functional, field, z


def _energy_momentum(functional, field):
    """Per-point ``T(z) = q [(1 - L) I - 2 lam G]`` coded from its definition."""

    def tensor(z):
        jac = jacfwd(field)(z)
        phi = field(z)
        gram = jac.T @ jac
        lag = functional.density.log_prob(phi) + half_logdet_gram(jac) - LAM * torch.trace(gram)
        q = torch.exp(functional.prior.log_prob(z))
        return q * ((1 - lag) * torch.eye(2, dtype=z.dtype) - 2 * LAM * gram), (q, lag, jac)

    return tensor


def _divergence_rows(fn):
    """``z -> sum_i d fn(z)[i, ...] / dz_i`` for a matrix- or vector-valued per-point fn."""

    def div(z):
        d_out, aux = jacfwd(fn, has_aux=True)(z)
        return torch.einsum("ii...->...", d_out.movedim(-1, 1)), aux

    return div


def test_tangential_identity(setup):
    # J^T EL = -div T - (grad q) L
    functional, field, z = setup
    el = euler_lagrange(functional.lagrangian_density, field, z)
    div_t, (q, lag, jac) = vmap(_divergence_rows(_energy_momentum(functional, field)))(z)
    grad_q = q.unsqueeze(-1) * functional.prior.grad_log_prob(z)
    lhs = (jac.transpose(-1, -2) @ el.unsqueeze(-1)).squeeze(-1)
    rhs = -div_t - grad_q * lag.unsqueeze(-1)
    assert torch.abs(lhs).max() > 1e-3  # a non-stationary map: the identity is not 0 = 0
    assert torch.abs(lhs - rhs).max() <= 1e-9 * torch.abs(lhs).max()


def test_data_isometry_current_identity(setup):
    # j = q P^T (B phi + c) coded directly; div j - (q s.eta - EL.eta) = 0
    functional, field, z = setup
    rng = np.random.default_rng(4)
    m = rng.normal(size=(3, 3))
    bmat, c = torch.as_tensor(m - m.T), torch.as_tensor(rng.normal(size=3))

    def current(zp):
        jac = jacfwd(field)(zp)
        q = torch.exp(functional.prior.log_prob(zp))
        return q * functional.stress(jac).T @ (bmat @ field(zp) + c), q

    div_j, _ = vmap(_divergence_rows(current))(z)
    el = euler_lagrange(functional.lagrangian_density, field, z)
    phi = field_jet(field, z).u
    eta = phi @ bmat.T + c
    q = torch.exp(functional.prior.log_prob(z))
    source = q * (functional.density.score(phi) * eta).sum(-1)
    residual = div_j - (source - (el * eta).sum(-1))
    assert torch.abs(div_j).max() > 1e-3
    assert torch.abs(residual).max() <= 1e-9 * torch.abs(div_j).max()
    # the core's current, divergence and breaking agree with the hand-coded ones
    core = noether_current(functional.lagrangian_density, field, Generator(vertical=lambda x, u: bmat @ u + c), z)
    assert torch.abs(core.divergence - div_j).max() <= 1e-9 * torch.abs(div_j).max()
    assert torch.abs(core.breaking - source).max() <= 1e-9 * torch.abs(source).max()
    assert torch.abs(core.identity_residual).max() <= 1e-9 * torch.abs(div_j).max()


def test_latent_rotation_current_identity(setup):
    # isotropic Gaussian q: div(T A z) + EL . (J A z) = 0 for every map
    functional, field, z = setup
    amat = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    tensor = _energy_momentum(functional, field)

    def current(zp):
        t, aux = tensor(zp)
        return t @ (amat @ zp), aux

    div_j, (_, _, jac) = vmap(_divergence_rows(current))(z)
    el = euler_lagrange(functional.lagrangian_density, field, z)
    jaz = (jac @ (z @ amat.T).unsqueeze(-1)).squeeze(-1)
    assert torch.abs(div_j).max() > 1e-3
    assert torch.abs(div_j + (el * jaz).sum(-1)).max() <= 1e-9 * torch.abs(div_j).max()
    # the core's horizontal-generator current is -T A z with zero breaking
    core = noether_current(functional.lagrangian_density, field, Generator(horizontal=lambda x: amat @ x), z)
    assert torch.abs(core.divergence + div_j).max() <= 1e-9 * torch.abs(div_j).max()
    assert torch.abs(core.breaking).max() <= 1e-12


def test_el_of_affine_map_closed_form():
    # affine phi = W z + b, Gaussian p = N(mu, C), Gaussian q = N(0, s0^2):
    # EL / q = -C^{-1}(W z + b - mu) + (W G^{-1} - 2 lam W) z / s0^2
    from varembed.embedding import GaussianDensity

    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 4))
    cov, mu = torch.as_tensor(a @ a.T + np.eye(4)), torch.as_tensor(rng.normal(size=4))
    w, b = torch.as_tensor(rng.normal(size=(4, 2))), torch.as_tensor(rng.normal(size=4))
    s0 = 0.8
    functional = EmbeddingFunctional(GaussianPrior(2, s0), GaussianDensity(mu, cov), LAM)
    z = torch.as_tensor(rng.normal(size=(8, 2)))
    el = euler_lagrange(functional.lagrangian_density, lambda zz: w @ zz + b, z)
    q = torch.exp(functional.prior.log_prob(z)).unsqueeze(-1)
    phi = z @ w.T + b
    p = w @ torch.linalg.inv(w.T @ w) - 2 * LAM * w
    expected = -(phi - mu) @ torch.linalg.inv(cov) + z @ p.T / s0**2
    np.testing.assert_allclose((el / q).numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
