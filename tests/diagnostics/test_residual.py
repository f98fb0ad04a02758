"""Euler-Lagrange residual rho_EL (research note §2, T4) and the fast path against the generic core."""

import numpy as np
import pytest
import torch

from varembed import LinearVariationalEmbedding
from varembed.diagnostics import euler_lagrange_residual, noether_current
from varembed.embedding import GaussianPrior, UniformBoxPrior

from .._helpers import MixtureOfIsotropic, StubEmbedding, random_mlp


def _data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    return (rng.normal(size=(n, 5)) * np.array([3.0, 2.0, 1.0, 0.7, 0.5])) @ q.T + rng.normal(size=5)


@pytest.fixture(scope="module")
def pca():
    return LinearVariationalEmbedding(2, continuity=0.05, prior_scale=0.8, random_state=0).fit(_data())


def test_exact_pca_is_stationary(pca):
    res = euler_lagrange_residual(pca, 512, random_state=0)
    assert res.rho <= 1e-10
    # S_ref is the closed form sqrt(tr C^{-1}) of the fitted Gaussian
    assert res.s_ref == pytest.approx(np.sqrt(np.trace(np.linalg.inv(pca.covariance_))), rel=1e-12)


def test_perturbed_pca_is_not_stationary(pca):
    rng = np.random.default_rng(1)
    w = pca.embedding_matrix_ * (1 + 0.01 * rng.choice([-1.0, 1.0], size=pca.embedding_matrix_.shape))
    w_t, b_t = torch.as_tensor(w), torch.as_tensor(pca.mean_)
    stub = StubEmbedding(pca.functional().prior, pca.density_, lambda z: w_t @ z + b_t, pca.continuity)
    res = euler_lagrange_residual(stub, 512, random_state=0)
    assert res.rho >= 1e-3
    # and the residual is exactly the affine closed form  -C^{-1}(phi - mu) + P z / s0^2
    z = torch.as_tensor(res.z)
    p = w @ np.linalg.inv(w.T @ w) - 2 * pca.continuity * w
    expected = -np.linalg.solve(pca.covariance_, (z.numpy() @ w.T).T).T + z.numpy() @ p.T / 0.8**2
    np.testing.assert_allclose(res.residual, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("prior", [GaussianPrior(2, 1.3), UniformBoxPrior(2, 1.0)])
def test_fast_path_equals_generic_core(prior):
    rng = np.random.default_rng(2)
    density = MixtureOfIsotropic(rng.normal(size=(6, 3)), 0.7)
    stub = StubEmbedding(prior, density, random_mlp(2, 3, seed=3), continuity=0.07)
    fast = euler_lagrange_residual(stub, 48, random_state=4)
    slow = euler_lagrange_residual(stub, 48, random_state=4, method="generic")
    np.testing.assert_array_equal(fast.z, slow.z)
    assert fast.rho > 1e-2
    np.testing.assert_allclose(fast.residual, slow.residual, rtol=1e-9, atol=1e-10 * np.abs(slow.residual).max())
    m = rng.normal(size=(3, 3))
    for space, gen in [("data", (m - m.T, rng.normal(size=3))), ("latent", (np.array([[0, 1.0], [-1, 0]]), [0.3, -0.2]))]:
        a = noether_current(stub, gen, space, z=fast.z, s_ref=1.0)
        b = noether_current(stub, gen, space, z=fast.z, s_ref=1.0, method="generic")
        for name in ("current", "divergence", "breaking", "characteristic"):
            x, y = getattr(a, name), getattr(b, name)
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10 * max(np.abs(y).max(), 1.0), err_msg=name)
        # the off-shell identity div j + EL.Q - beta = 0 holds on both paths
        scale = np.abs(a.divergence).max()
        assert np.abs(a.identity_residual).max() <= 1e-9 * scale
        assert np.abs(b.identity_residual).max() <= 1e-9 * scale


def test_bad_inputs(pca):
    with pytest.raises(TypeError, match="functional"):
        euler_lagrange_residual(object())
    with pytest.raises(ValueError, match="not fitted|fit"):
        euler_lagrange_residual(LinearVariationalEmbedding(2))
    with pytest.raises(ValueError, match="method"):
        euler_lagrange_residual(pca, method="exact")
    with pytest.raises(ValueError, match="shape"):
        euler_lagrange_residual(pca, z=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n_samples"):
        euler_lagrange_residual(pca, n_samples=0)
    with pytest.raises(TypeError, match="random_state"):
        euler_lagrange_residual(pca, random_state="seed")
    # a map that forgets z2 is not an immersion: a clear error, not a Cholesky traceback
    w = torch.as_tensor(pca.embedding_matrix_[:, :1])
    flat = StubEmbedding(pca.functional().prior, pca.density_, lambda z: (w @ z[:1]), pca.continuity)
    with pytest.raises(ValueError, match="not an immersion"):
        euler_lagrange_residual(flat, 16, random_state=0)
