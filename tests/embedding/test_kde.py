"""Densities built from samples: KDE (chunked, truncated), GMM, user models, bandwidth rules."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch.func import grad, vmap

from varembed.embedding.densities import MixtureDensity
from varembed.embedding.densities import GaussianKDE as KernelDensity, median_nn_distance, resolve_bandwidth
from varembed.embedding.densities import (
    StandardizedDensity,
    UserDensity,
    log_prob_with_score,
    make_density,
)


def _data(n=300, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)) * [2.0, 1.0, 0.5][:dim]


def test_kde_matches_sklearn_kernel_density():
    from sklearn.neighbors import KernelDensity as SkKDE

    X = _data()
    h = 0.4
    kde = KernelDensity(torch.as_tensor(X), h)
    q = _data(50, seed=1)
    ref = SkKDE(bandwidth=h).fit(X).score_samples(q)
    got = kde.log_prob(torch.as_tensor(q)).numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    lp, _ = kde.log_prob_and_score(torch.as_tensor(q))
    np.testing.assert_allclose(lp.numpy(), ref, rtol=0, atol=1e-10)


def test_kde_score_is_gradient_and_vmappable():
    X = torch.as_tensor(_data())
    kde = KernelDensity(X, 0.3)
    q = torch.as_tensor(_data(20, seed=2))
    auto = vmap(grad(kde.log_prob))(q)
    np.testing.assert_allclose(vmap(kde.score)(q).numpy(), auto.numpy(), atol=1e-10)
    _, fast = kde.log_prob_and_score(q)
    np.testing.assert_allclose(fast.numpy(), auto.numpy(), atol=1e-10)


def test_kde_chunking_does_not_change_results():
    X = torch.as_tensor(_data(500))
    q = torch.as_tensor(_data(97, seed=3))
    a = KernelDensity(X, 0.3).log_prob_and_score(q)
    b = KernelDensity(X, 0.3, max_elements=700).log_prob_and_score(q)  # one query per chunk
    for u, v in zip(a, b):
        np.testing.assert_allclose(u.numpy(), v.numpy(), atol=1e-12)


def test_kde_truncation_approximates_full_sum():
    X = torch.as_tensor(_data(2000))
    q = torch.as_tensor(_data(64, seed=4))
    full_lp, full_s = KernelDensity(X, 0.2).log_prob_and_score(q)
    lp, s = KernelDensity(X, 0.2, n_neighbors=200).log_prob_and_score(q)
    assert torch.all(lp <= full_lp + 1e-12)  # a truncated sum is a lower bound
    # 200 of 2000 centres: the dropped terms are far in units of the bandwidth
    np.testing.assert_allclose(lp.numpy(), full_lp.numpy(), atol=2e-3)
    rel = (s - full_s).norm(dim=-1) / full_s.norm(dim=-1).clamp_min(1.0)
    assert float(rel.max()) < 2e-2


def test_kde_large_memory_bounded():
    # 50 000 x 64 centres: a chunked evaluation of a batch never holds more
    # than max_elements distances (2^22 -> 32 MiB in float64).
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(50_000, 64, generator=gen, dtype=torch.float64)
    kde = KernelDensity(X, 1.0)
    q = torch.randn(128, 64, generator=gen, dtype=torch.float64)
    lp, s = kde.log_prob_and_score(q)
    assert lp.shape == (128,) and s.shape == (128, 64)
    assert torch.isfinite(lp).all() and torch.isfinite(s).all()


def test_log_prob_with_score_gradient():
    X = torch.as_tensor(_data())
    kde = KernelDensity(X, 0.3)
    q = torch.as_tensor(_data(10, seed=5)).requires_grad_(True)
    lp = log_prob_with_score(kde, q)
    lp.sum().backward()
    np.testing.assert_allclose(lp.detach().numpy(), kde.log_prob(q.detach()).numpy(), atol=1e-12)
    np.testing.assert_allclose(q.grad.numpy(), kde.score(q.detach()).numpy(), atol=1e-10)


def test_bandwidth_rules_and_errors():
    X = _data(1000, 2)
    sigma = math.sqrt(np.mean(X.var(0)))
    assert resolve_bandwidth("scott", X) == pytest.approx(1000 ** (-1 / 6) * sigma)
    assert resolve_bandwidth("silverman", X) == pytest.approx((1000 * 4 / 4) ** (-1 / 6) * sigma)
    assert resolve_bandwidth(0.25, X) == 0.25
    # "auto": Scott in low dimension (with the intrinsic dimension in the exponent), the
    # 5th-neighbour distance in high dimension
    assert resolve_bandwidth("auto", X) == pytest.approx(resolve_bandwidth("scott", X))
    assert resolve_bandwidth("auto", X, intrinsic_dim=1) == pytest.approx(1000 ** (-1 / 5) * sigma)
    assert resolve_bandwidth("auto", X, intrinsic_dim=1) < resolve_bandwidth("scott", X)
    Xh = np.random.default_rng(0).normal(size=(500, 64))
    from varembed.embedding.densities import kth_nn_distance

    assert resolve_bandwidth("auto", Xh, intrinsic_dim=2) == pytest.approx(kth_nn_distance(Xh, 5))
    assert resolve_bandwidth("auto", Xh) > 2 * resolve_bandwidth("scott", Xh)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="bandwidth"):
            resolve_bandwidth(bad, X)
    with pytest.raises(ValueError, match="bandwidth"):
        resolve_bandwidth("wide", X)


def test_small_bandwidth_warns():
    X = _data(200, 2)
    med = median_nn_distance(X)
    with pytest.warns(UserWarning, match="nearest-neighbour"):
        make_density("kde", X, n_components=1, bandwidth=0.5 * med, kde_neighbors=None,
                     data_mean=np.zeros(2), data_scale=np.ones(2), random_state=0,
                     dtype=torch.float64, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_density("kde", X, n_components=1, bandwidth=3 * med, kde_neighbors=None,
                     data_mean=np.zeros(2), data_scale=np.ones(2), random_state=0,
                     dtype=torch.float64, device="cpu")


@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_gmm_density_matches_sklearn(cov):
    from sklearn.mixture import GaussianMixture

    X = _data(400)
    gm = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
    dens = MixtureDensity.from_sklearn(gm)
    q = _data(30, seed=6)
    np.testing.assert_allclose(dens.log_prob(torch.as_tensor(q)).numpy(), gm.score_samples(q), atol=1e-9)
    qt = torch.as_tensor(q)
    auto = vmap(grad(dens.log_prob))(qt)
    np.testing.assert_allclose(dens.score(qt).numpy(), auto.numpy(), atol=1e-9)
    lp, s = dens.log_prob_and_score(qt)
    np.testing.assert_allclose(s.numpy(), auto.numpy(), atol=1e-9)
    assert np.isfinite(dens.score_norm_sq())


def test_user_density_log_prob_only_and_standardisation():
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)

    def log_prob(x):
        return -0.5 * ((x - mean) ** 2).sum(-1) - math.log(2 * math.pi)

    user = UserDensity(log_prob, 2)
    assert user.has_log_prob
    x = torch.randn(5, 2, dtype=torch.float64)
    np.testing.assert_allclose(user.score(x).numpy(), (mean - x).numpy(), atol=1e-12)
    lp, s = user.log_prob_and_score(x)
    np.testing.assert_allclose(s.numpy(), (mean - x).numpy(), atol=1e-12)
    # standardised view u = (x - m) / c: log p_u = log p(m + c u) + D log c, s_u = c s
    m = torch.tensor([0.5, 0.5], dtype=torch.float64)
    c = torch.tensor([2.0, 2.0], dtype=torch.float64)
    std = StandardizedDensity(user, m, c)
    u = torch.randn(4, 2, dtype=torch.float64)
    np.testing.assert_allclose(std.log_prob(u).numpy(), (log_prob(m + c * u) + 2 * math.log(2.0)).numpy())
    np.testing.assert_allclose(std.score(u).numpy(), (c * (mean - (m + c * u))).numpy(), atol=1e-12)
    auto = vmap(grad(std.log_prob))(u)
    np.testing.assert_allclose(std.score(u).numpy(), auto.numpy(), atol=1e-12)


def test_user_density_score_only():
    class ScoreModel:
        def score(self, x):
            return -x

    user = UserDensity(ScoreModel(), 3)
    assert not user.has_log_prob
    lp, s = user.log_prob_and_score(torch.ones(2, 3, dtype=torch.float64))
    assert lp is None and torch.equal(s, -torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(NotImplementedError):
        user.log_prob(torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="log_prob"):
        UserDensity(object(), 3)
