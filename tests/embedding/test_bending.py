"""The bending (smoothness) energy: exact second-order jet vs the one-row Hutchinson estimate."""

import itertools

import numpy as np
import pytest
import torch

from varembed.embedding.functional import EmbeddingFunctional
from varembed.embedding.maps.jets import second_order_pairs
from varembed.embedding.maps import SmoothMLPMap
from varembed.embedding.neural import VariationalEmbedding
from varembed.embedding.priors import GaussianPrior
from varembed.embedding.training import TrainingObjective


def EmbeddingObjective(module, prior, density, lam, smoothness=0.0, bending="exact"):  # noqa: N802
    return TrainingObjective(module, EmbeddingFunctional(prior, density, lam, 1e-10, smoothness=smoothness), bending)


def _map(d=3, D=5):
    gen = torch.Generator().manual_seed(0)
    module = SmoothMLPMap(d, D, (16, 16), "tanh", generator=gen, dtype=torch.float64, random_residual=True)
    z = torch.randn(7, d, generator=gen, dtype=torch.float64)
    return module, z, gen


def _full_hessian(module, z):
    jet = module.jet(z, order=2)
    n, dim, d = jet.jacobian.shape
    hess = torch.zeros(n, dim, d, d, dtype=z.dtype)
    for k, (i, j) in enumerate(second_order_pairs(d)):
        hess[:, :, i, j] = hess[:, :, j, i] = jet.hessian[:, :, k]
    return jet, hess


def test_mixed_jet_is_the_contracted_hessian():
    module, z, gen = _map()
    jet, hess = _full_hessian(module, z)
    v, w = (torch.randn(7, 3, generator=gen, dtype=torch.float64) for _ in range(2))
    mixed = module.mixed_jet(z, v, w)
    torch.testing.assert_close(mixed.value, jet.value, rtol=0, atol=1e-14)
    torch.testing.assert_close(mixed.jacobian, jet.jacobian, rtol=0, atol=1e-14)
    torch.testing.assert_close(mixed.hessian[..., 0], torch.einsum("bdij,bi,bj->bd", hess, v, w), rtol=1e-12, atol=1e-13)


def test_hutchinson_bending_is_unbiased_exactly():
    """Averaged over all sign vectors v, w the estimate equals sum_ij |d_i d_j phi|^2 (an identity)."""
    module, z, _ = _map()
    _, hess = _full_hessian(module, z)
    signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=3)), dtype=torch.float64)
    est = torch.stack([(module.mixed_jet(z, a.expand(7, 3), b.expand(7, 3)).hessian ** 2).sum((1, 2))
                       for a in signs for b in signs]).mean(0)
    torch.testing.assert_close(est, (hess**2).sum((1, 2, 3)), rtol=1e-12, atol=0)
    # and the objective's exact bending term is the same quantity
    obj = EmbeddingObjective(module, GaussianPrior(3), _Normal(), 0.1, smoothness=1.0)
    no_bend = EmbeddingObjective(module, GaussianPrior(3), _Normal(), 0.1, smoothness=0.0)
    torch.testing.assert_close(no_bend.pointwise(z) - obj.pointwise(z), est, rtol=1e-10, atol=0)


class _Normal:
    def log_prob_and_score(self, x):
        return -0.5 * (x**2).sum(-1), -x


def test_hutchinson_gradient_matches_exact_on_average():
    """Mean of many stochastic gradients of the objective = the exact gradient (within MC error)."""
    module, z, gen = _map()
    exact = EmbeddingObjective(module, GaussianPrior(3), _Normal(), 0.1, smoothness=1.0)
    hutch = EmbeddingObjective(module, GaussianPrior(3), _Normal(), 0.1, smoothness=1.0, bending="hutchinson")
    params = list(module.parameters())
    g_exact = torch.autograd.grad(exact.mean(z), params)
    draws = []
    for _ in range(400):
        dirs = hutch.bending_directions(z.shape[0], gen, z.dtype, z.device)
        draws.append(torch.cat([g.flatten() for g in torch.autograd.grad(hutch.mean(z, directions=dirs), params)]))
    draws = torch.stack(draws)
    mean, sem = draws.mean(0), draws.std(0) / np.sqrt(draws.shape[0])
    flat = torch.cat([g.flatten() for g in g_exact])
    assert float(((mean - flat).abs() / (5 * sem + 1e-12)).max()) < 1.0


def test_estimator_bending_auto_and_training():
    """smoothness="auto" is 0.1 above d = 3 and trains with the Hutchinson estimate there."""
    X = np.random.default_rng(0).normal(size=(120, 6))
    kw = dict(hidden=(8,), max_iter=20, random_state=0, init="linear")
    auto = VariationalEmbedding(4, **kw).fit(X)
    exact = VariationalEmbedding(4, smoothness=0.1, bending="exact", **kw).fit(X)
    same = VariationalEmbedding(4, smoothness=0.1, bending="hutchinson", **kw).fit(X)
    assert auto.smoothness_ == 0.1 and np.isfinite(auto.objective_) and np.isfinite(exact.objective_)
    np.testing.assert_allclose(same.transform(X[:5]), auto.transform(X[:5]))
    assert not np.allclose(auto.transform(X[:5]), exact.transform(X[:5]))
    assert VariationalEmbedding(2, hidden=(8,), max_iter=5, random_state=0).fit(X).smoothness_ == 0.0


@pytest.mark.gpu
def test_hutchinson_on_cuda_matches_cpu():
    """The mixed jet on CUDA equals the CPU one; a d = 4 fit on CUDA trains with it (auto settings).

    (Fits are not compared: the estimator draws its Monte-Carlo samples from a generator on
    its own device, so CPU and CUDA fits see different samples.)"""
    import copy

    module, z, gen = _map()
    v, w = (torch.randn(7, 3, generator=gen, dtype=torch.float64) for _ in range(2))
    ref = module.mixed_jet(z, v, w)
    on_gpu = copy.deepcopy(module).to("cuda").mixed_jet(z.cuda(), v.cuda(), w.cuda())
    torch.testing.assert_close(on_gpu.hessian.cpu(), ref.hessian, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(on_gpu.jacobian.cpu(), ref.jacobian, rtol=1e-10, atol=1e-12)
    X = np.random.default_rng(0).normal(size=(150, 6))
    fit = VariationalEmbedding(4, device="cuda", hidden=(8,), max_iter=20, random_state=0, dtype="float64").fit(X)
    assert fit.smoothness_ == 0.1 and fit.device_.type == "cuda" and np.isfinite(fit.objective_)
    Z = fit.transform(X[:20])
    assert Z.shape == (20, 4) and np.all(np.isfinite(Z))
