"""LinearVariationalEmbedding: the exact PCA special case and its closed forms."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from varembed import LinearVariationalEmbedding


def _spectrum_data(n=400, dim=12, seed=0, decay=0.5):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return (rng.standard_normal((n, dim)) * np.exp(-decay * np.arange(dim))) @ q.T + rng.normal(size=dim)


def _top_eigenvalues(cov, d):
    return np.sort(np.linalg.eigvalsh(cov))[::-1][:d]


@pytest.mark.parametrize("d", [1, 3, 5])
def test_matches_sklearn_pca(d):
    X = _spectrum_data()
    n = X.shape[0]
    emb = LinearVariationalEmbedding(d, random_state=0).fit(X)
    pca = PCA(d, svd_solver="full").fit(X)
    assert subspace_angles(emb.components_.T, pca.components_.T).max() < 1e-6
    # same axes, same order, same sign convention
    np.testing.assert_allclose(emb.components_, pca.components_, atol=1e-7)
    np.testing.assert_allclose(emb.scales_**2, _top_eigenvalues(emb.covariance_, d), rtol=1e-8)
    # the fitted density is PPCA's: principal variances and noise variance as PCA's (ddof = 1)
    np.testing.assert_allclose(emb.explained_variance_, pca.explained_variance_, rtol=1e-8)
    assert emb.noise_variance_ == pytest.approx(pca.noise_variance_, rel=1e-8)
    # transform = whitened principal components
    z_pca = PCA(d, whiten=True, svd_solver="full").fit(X).transform(X)
    np.testing.assert_allclose(emb.transform(X), z_pca, rtol=1e-6, atol=1e-9 * np.abs(z_pca).max())
    # score = PPCA's log-likelihood, on the training data and held out
    X_new = _spectrum_data(seed=11)[:200]
    assert emb.score(X) == pytest.approx(pca.score(X), rel=1e-10, abs=1e-10)
    assert emb.score(X_new) == pytest.approx(pca.score(X_new), rel=1e-10, abs=1e-10)
    assert n > 0


@pytest.mark.parametrize("prior_scale,lam", [(1.0, 0.0), (1.0, 0.05), (0.7, 0.3), (2.0, 1e-3)])
def test_continuity_shrinkage_and_closed_form_objective(prior_scale, lam):
    X = _spectrum_data(seed=1)
    d = 3
    emb = LinearVariationalEmbedding(d, prior_scale=prior_scale, continuity=lam, random_state=1).fit(X)
    lk = np.sort(np.linalg.eigvalsh(emb.covariance_))[::-1]
    np.testing.assert_allclose(emb.scales_**2, lk[:d] / (prior_scale**2 + 2 * lam * lk[:d]), rtol=1e-8)
    dim = X.shape[1]
    f_star = (
        -0.5 * dim * np.log(2 * np.pi)
        - 0.5 * np.log(lk[d:]).sum()
        - 0.5 * np.log(prior_scale**2 + 2 * lam * lk[:d]).sum()
        - 0.5 * d
    )
    assert abs(emb.objective_ - f_star) < 1e-8
    pca = PCA(d).fit(X)
    assert subspace_angles(emb.components_.T, pca.components_.T).max() < 1e-6


def test_objective_is_a_maximum():
    """Perturbing the fitted W in any direction lowers the exactly evaluated F."""
    import torch

    X = _spectrum_data(seed=2)
    emb = LinearVariationalEmbedding(2, continuity=0.1, random_state=0).fit(X)
    functional = emb.functional()
    w = torch.as_tensor(emb.embedding_matrix_)
    b = torch.as_tensor(emb.mean_)
    rng = np.random.default_rng(0)
    for _ in range(5):
        dw = torch.as_tensor(rng.normal(size=w.shape)) * 1e-3
        assert float(functional.affine_gaussian(w + dw, b)) < emb.objective_
        db = torch.as_tensor(rng.normal(size=b.shape)) * 1e-3
        assert float(functional.affine_gaussian(w, b + db)) < emb.objective_


def test_uniform_box_acts_like_gaussian_of_variance_L2_over_3():
    X = _spectrum_data(seed=3)
    half_width = 1.7
    box = LinearVariationalEmbedding(2, prior="uniform", prior_scale=half_width, continuity=0.02,
                                     random_state=0).fit(X)
    gauss = LinearVariationalEmbedding(2, prior_scale=half_width / np.sqrt(3), continuity=0.02,
                                       random_state=0).fit(X)
    np.testing.assert_allclose(box.scales_, gauss.scales_, rtol=1e-10)
    np.testing.assert_allclose(box.components_, gauss.components_, atol=1e-9)
    assert box.objective_ == pytest.approx(gauss.objective_, abs=1e-9)
    # and not like a Gaussian of variance L^2
    wrong = LinearVariationalEmbedding(2, prior_scale=half_width, continuity=0.02, random_state=0).fit(X)
    assert not np.allclose(box.scales_, wrong.scales_, rtol=1e-3)


def test_ill_conditioned_covariance_condition_1e10():
    rng = np.random.default_rng(4)
    dim = 30
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    X = (rng.standard_normal((3000, dim)) * np.logspace(0, -5, dim)) @ q.T  # covariance cond 1e10
    s = np.cov(X.T, bias=True)
    assert np.linalg.cond(s) > 1e9
    for d in (2, 6):
        emb = LinearVariationalEmbedding(d, random_state=0).fit(X)
        pca = PCA(d, svd_solver="full").fit(X)
        assert subspace_angles(emb.components_.T, pca.components_.T).max() < 1e-6
        assert emb.n_iter_ < 200


def test_rank_deficient_digits_match_pca():
    X = load_digits().data  # several pixels have zero variance
    assert (X.std(0) == 0).any()
    for d in (2, 10):
        emb = LinearVariationalEmbedding(d, random_state=0).fit(X)
        pca = PCA(d, svd_solver="full").fit(X)
        assert subspace_angles(emb.components_.T, pca.components_.T).max() < 1e-6
        np.testing.assert_allclose(emb.components_, pca.components_, atol=1e-6)


def test_initial_point_from_random_state_only():
    import torch

    X = _spectrum_data(seed=5)
    np.random.seed(123)
    torch.manual_seed(123)
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state().clone()
    a = LinearVariationalEmbedding(2, random_state=7).fit(X)
    b = LinearVariationalEmbedding(2, random_state=np.random.RandomState(7)).fit(X)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_transform_inverse_transform_round_trip_on_subspace():
    X = _spectrum_data(seed=6)
    emb = LinearVariationalEmbedding(4, random_state=0).fit(X)
    Z = emb.transform(X)
    np.testing.assert_allclose(emb.transform(emb.inverse_transform(Z)), Z, atol=1e-10)
    # reconstruction equals PCA's reconstruction
    pca = PCA(4).fit(X)
    np.testing.assert_allclose(emb.inverse_transform(Z), pca.inverse_transform(pca.transform(X)), atol=1e-8)


def test_score_is_the_exact_tube_model():
    """x = W z + b + noise normal to the plane: Gaussian N(b, var W W^T + noise (I - P)) for a Gaussian prior."""
    from scipy.stats import multivariate_normal

    X = _spectrum_data(seed=7)
    dim = X.shape[1]
    emb = LinearVariationalEmbedding(3, prior_scale=1.3, continuity=0.1, random_state=0).fit(X)
    w, u = emb.embedding_matrix_, emb.components_.T
    cov = 1.3**2 * w @ w.T + emb.noise_variance_ * (np.eye(dim) - u @ u.T)
    ref = multivariate_normal(emb.mean_, cov).logpdf(X[:50])
    np.testing.assert_allclose(emb.score_samples(X[:50]), ref, rtol=1e-10)
    # uniform box: flat density on the box's image in the plane, times the normal Gaussian
    box = LinearVariationalEmbedding(3, prior="uniform", prior_scale=2.0, random_state=0).fit(X)
    z = box.transform(X[:50])
    inside = np.all(np.abs(z) <= 2.0, axis=1)
    resid = ((X[:50] - box.inverse_transform(z)) ** 2).sum(1)
    w = box.embedding_matrix_
    ref = (-3 * np.log(4.0) - 0.5 * np.linalg.slogdet(w.T @ w)[1] - 0.5 * resid / box.noise_variance_
           - 0.5 * (dim - 3) * np.log(2 * np.pi * box.noise_variance_))
    assert inside.sum() > 10
    np.testing.assert_allclose(box.score_samples(X[:50])[inside], ref[inside], rtol=1e-10)


def test_closed_form_grassmann_derivatives_match_autodiff():
    import torch

    from varembed.embedding.linear import _grassmann_cost

    rng = np.random.default_rng(8)
    a = rng.normal(size=(7, 7))
    cov = a @ a.T + 0.1 * np.eye(7)
    cost, egrad, ehess = _grassmann_cost(cov, 0.8, 0.05)
    frame = torch.as_tensor(np.linalg.qr(rng.normal(size=(7, 3)))[0]).requires_grad_(True)
    direction = torch.as_tensor(rng.normal(size=(7, 3)))
    (g_auto,) = torch.autograd.grad(cost(frame), frame, create_graph=True)
    (h_auto,) = torch.autograd.grad((g_auto * direction).sum(), frame)
    torch.testing.assert_close(egrad(frame.detach()), g_auto.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ehess(frame.detach(), direction), h_auto, rtol=1e-10, atol=1e-10)
