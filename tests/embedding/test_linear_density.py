"""LinearVariationalEmbedding for non-Gaussian densities: Stiefel optimiser, closed forms, planted planes."""

import warnings

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA

from varembed import LinearVariationalEmbedding
from varembed.embedding.affine import AffineFunctional, affine_residual_gaussian
from varembed.embedding.densities import GaussianDensity, GaussianKDE
from varembed.embedding.functional import EmbeddingFunctional
from varembed.embedding.priors import GaussianPrior
from varembed.embedding.pursuit import ProjectedLikelihood, marginal_density
from varembed.embedding.stiefel import StiefelAdam, qr_retraction, random_frame, tangent_projection


def planted(n=2000, seed=0):
    """4 clusters (+-1.5, +-1.5), per-axis variance 0.3, in a random plane of R^10; noise variance 3 elsewhere."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.5, 1.5], [1.5, -1.5], [-1.5, 1.5], [-1.5, -1.5]])
    xp = centres[rng.integers(0, 4, n)] + np.sqrt(0.3) * rng.standard_normal((n, 2))
    q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    return np.hstack([xp, np.sqrt(3.0) * rng.standard_normal((n, 8))]) @ q.T, q[:, :2]


def mixture_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(3, 5)) * 3
    return means[rng.integers(0, 3, n)] + rng.normal(size=(n, 5)) * [1.5, 1.0, 0.7, 0.5, 0.3]


def angle(a, b):
    return float(subspace_angles(np.asarray(a), np.asarray(b)).max())


# ------------------------------------------------------------------ Stiefel geometry and Adam
def test_stiefel_primitives():
    gen = torch.Generator().manual_seed(0)
    frame = random_frame(7, 3, gen)
    torch.testing.assert_close(frame.T @ frame, torch.eye(3, dtype=torch.float64), atol=1e-14, rtol=0)
    xi = tangent_projection(frame, torch.randn(7, 3, generator=gen, dtype=torch.float64))
    sym = frame.T @ xi
    torch.testing.assert_close(sym + sym.T, torch.zeros(3, 3, dtype=torch.float64), atol=1e-14, rtol=0)
    new = qr_retraction(frame, 0.3 * xi)
    torch.testing.assert_close(new.T @ new, torch.eye(3, dtype=torch.float64), atol=1e-14, rtol=0)
    # first-order retraction: R(t xi) = V + t xi + O(t^2)
    t = 1e-6
    torch.testing.assert_close((qr_retraction(frame, t * xi) - frame) / t, xi, atol=1e-5, rtol=0)


def test_stiefel_adam_finds_the_top_eigenvectors():
    """Maximise tr(V^T M V) (Brockett): the optimum spans the top-d eigenvectors of M."""
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    m = torch.as_tensor(q @ np.diag(np.arange(8, 0, -1.0)) @ q.T)
    frame = random_frame(8, 2, torch.Generator().manual_seed(3))
    opt = StiefelAdam(frame, lr=0.05)
    for step in range(400):
        opt.step(-2 * m @ frame, scale=1.0 - step / 400)
    assert angle(frame, q[:, :2]) < 1e-4
    torch.testing.assert_close(frame.T @ frame, torch.eye(2, dtype=torch.float64), atol=1e-12, rtol=0)


# ------------------------------------------------------------------ the affine functional
@pytest.mark.parametrize("kind", ["kde", "gaussian"])
def test_affine_gradient_is_autograd_of_the_functional(kind):
    """Closed-form (W, b) gradient = autograd of EmbeddingFunctional.mean_value (log p through autograd)."""
    from varembed.embedding.maps import SmoothMLPMap

    X = torch.as_tensor(mixture_data(200))
    dens = GaussianKDE(X, 1.2) if kind == "kde" else GaussianDensity(X.mean(0), torch.cov(X.T))
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w = torch.randn(5, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    b = X.mean(0) + 0.3
    value, g_w, g_b = AffineFunctional(dens, 0.07).value_and_grad(w, b, z)
    module = SmoothMLPMap(2, 5, (), weight=w.clone(), bias=b.clone())
    ref = EmbeddingFunctional(GaussianPrior(2), dens, 0.07).mean_value(module, z)
    ref.backward()
    assert float(value) == pytest.approx(ref.item(), rel=1e-12)
    torch.testing.assert_close(g_w, module.weight.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(g_b, module.bias.grad, rtol=1e-9, atol=1e-12)


def test_torch_path_on_a_gaussian_density_is_pca_with_the_quadrature_scales():
    """A Gaussian passed as a Density takes the Stiefel path: PCA's subspace, scales l_k / c.

    The polish quadrature is symmetric with E[z z^T] = c I (c < 1 for the
    quantile midpoint rule), so its optimum is W = U_d diag(sqrt(l_k / c)).
    """
    X = mixture_data(500, seed=2)
    mean, cov = X.mean(0), np.cov(X.T)
    dens = GaussianDensity(torch.as_tensor(mean), torch.as_tensor(cov))
    emb = LinearVariationalEmbedding(2, density=dens, max_iter=200, n_restarts=2, random_state=0).fit(X)
    pca = PCA(2).fit(X)
    assert angle(emb.components_.T, pca.components_.T) < 1e-7
    z, w = GaussianPrior(2).quadrature(2304)
    c = float((w * z[:, 0] ** 2).sum())
    np.testing.assert_allclose(emb.scales_**2, pca.explained_variance_ / c, rtol=1e-7)
    np.testing.assert_allclose(emb.mean_, mean, atol=1e-8)
    assert emb.affine_residual_ < 1e-8


def test_gaussian_affine_residual_closed_form():
    X = mixture_data(300)
    emb = LinearVariationalEmbedding(2, continuity=0.05, random_state=0).fit(X)
    assert emb.affine_residual_ < 1e-10
    w = torch.as_tensor(emb.embedding_matrix_)
    b, c = torch.as_tensor(emb.mean_), torch.as_tensor(emb.covariance_)
    moved = affine_residual_gaussian(w * 1.01, b, b, c, [1.0, 1.0], 0.05)
    assert moved > 1e-3


@pytest.mark.parametrize("density", ["kde", "gmm"])
def test_polished_fit_is_stationary_in_the_affine_class(density):
    """rho_aff <= 1e-6 after the polish (recomputed here on the same quadrature, in the gauge-fixed frame)."""
    X = mixture_data()
    emb = LinearVariationalEmbedding(2, density=density, max_iter=150, n_restarts=2, random_state=0).fit(X)
    assert emb.affine_residual_ <= 1e-6
    z, wq = (torch.as_tensor(a) for a in emb.prior_.quadrature(2304))
    value, _, _ = AffineFunctional(emb.density_, 0.0).value_and_grad(
        torch.as_tensor(emb.embedding_matrix_), torch.as_tensor(emb.mean_), z, wq)
    # the gauge rotation changes the quadrature value only at the quadrature's own anisotropy
    assert float(value) == pytest.approx(emb.objective_, abs=1e-3)
    report = emb.diagnose(n_samples=256, spaces=())
    assert report.affine_residual == emb.affine_residual_
    assert "affine class" in str(report) and report.to_dict()["affine_residual"] <= 1e-6


@pytest.mark.filterwarnings("ignore:the KDE bandwidth")
def test_planted_functional_residual_and_the_plane_is_not_its_optimum():
    """The paper's functional (Gaussian prior, KDE) is stationary after the polish, and prefers a noise sheet."""
    X, plane = planted(1000)
    emb = LinearVariationalEmbedding(2, density="kde", bandwidth=0.5, max_iter=150, n_restarts=2,
                                     random_state=0).fit(X)
    assert emb.affine_residual_ <= 1e-6
    assert angle(emb.components_.T, plane) > 0.5


# ------------------------------------------------------------------ the likelihood objective
def test_kde_marginal_is_the_projected_kde():
    X = torch.as_tensor(mixture_data(100))
    frame = random_frame(5, 2, torch.Generator().manual_seed(0))
    marg = marginal_density(GaussianKDE(X, 0.8), frame, X.mean(0))
    # Monte Carlo of the projection of KDE draws vs the marginal's own draws: same first two moments
    y = (GaussianKDE(X, 0.8).sample(20000, torch.Generator().manual_seed(1)) - X.mean(0)) @ frame
    ym = marg.sample(20000, torch.Generator().manual_seed(2))
    torch.testing.assert_close(y.mean(0), ym.mean(0), atol=0.05, rtol=0)
    torch.testing.assert_close(torch.cov(y.T), torch.cov(ym.T), atol=0.15, rtol=0.02)


def test_likelihood_gradient_matches_autograd():
    X = torch.as_tensor(mixture_data(150))
    dens = GaussianKDE(X, 0.9)
    lik = ProjectedLikelihood(dens, X, 2, max_elements=4000)  # several chunks
    frame = random_frame(5, 2, torch.Generator().manual_seed(4))
    value, grad = lik.value_and_grad(frame)
    f = frame.clone().requires_grad_(True)
    ref = marginal_density(dens, f, lik.mean).log_prob(lik.data @ f).mean() + lik._normal_term(f)[0]
    (g_ref,) = torch.autograd.grad(ref, f)
    assert float(value) == pytest.approx(float(ref.detach()), rel=1e-12)
    torch.testing.assert_close(grad, g_ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("density", ["kde", "gmm"])
def test_likelihood_finds_the_planted_cluster_plane(density):
    """Acceptance: the cluster plane within 0.05 rad (PCA: near pi/2); score on the training data = objective_."""
    X, plane = planted(2000)
    emb = LinearVariationalEmbedding(2, density=density, objective="likelihood", max_iter=100, n_restarts=2,
                                     random_state=0).fit(X)
    assert angle(emb.components_.T, plane) <= 0.05
    assert angle(PCA(2).fit(X).components_.T, plane) > 1.3
    assert emb.score(X) == pytest.approx(emb.objective_, rel=1e-10)
    assert emb.affine_residual_ < 1e-6
    codes = emb.transform(X)
    assert float(np.mean(codes.var(0))) == pytest.approx(1.0, rel=1e-8)  # RMS code variance = prior_scale^2
    np.testing.assert_allclose(emb.transform(emb.inverse_transform(codes)), codes, atol=1e-10)


def test_gaussian_density_gives_pca_for_both_objectives():
    X = mixture_data(300)
    a = LinearVariationalEmbedding(2, random_state=0).fit(X)
    b = LinearVariationalEmbedding(2, objective="likelihood", random_state=0).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.score(X) == b.score(X)


# ------------------------------------------------------------------ the estimator API
def test_tube_score_transform_and_reproducibility_of_a_kde_fit():
    X = mixture_data(300)
    np.random.seed(0)
    torch.manual_seed(0)
    np_state, torch_state = np.random.get_state()[1].copy(), torch.random.get_rng_state().clone()
    emb = LinearVariationalEmbedding(2, density="kde", max_iter=60, n_restarts=2, random_state=3).fit(X)
    again = LinearVariationalEmbedding(2, density="kde", max_iter=60, n_restarts=2, random_state=3).fit(X)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(emb.embedding_matrix_, again.embedding_matrix_)
    w, u = emb.embedding_matrix_, emb.components_.T
    np.testing.assert_allclose(w.T @ w, np.diag(emb.scales_**2), atol=1e-10)  # principal latent axes
    cov = w @ w.T + emb.noise_variance_ * (np.eye(5) - u @ u.T)
    np.testing.assert_allclose(emb.score_samples(X[:20]), multivariate_normal(emb.mean_, cov).logpdf(X[:20]),
                               rtol=1e-10)
    np.testing.assert_allclose(emb.transform(X), (X - emb.mean_) @ np.linalg.pinv(w).T, atol=1e-10)


@pytest.mark.parametrize("params", [dict(objective="likelihood"), dict(prior="uniform", prior_scale=1.5)])
def test_pickle_and_round_trip(params):
    import pickle

    X = mixture_data(200)
    emb = LinearVariationalEmbedding(2, density="kde", max_iter=40, n_restarts=2, random_state=0, **params).fit(X)
    clone = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(clone.transform(X), emb.transform(X))
    assert clone.score(X) == emb.score(X)
    codes = emb.transform(X)
    np.testing.assert_allclose(emb.transform(emb.inverse_transform(codes)), codes, atol=1e-10)
    w = emb.embedding_matrix_
    np.testing.assert_allclose(codes, (X - emb.mean_) @ np.linalg.pinv(w).T, atol=1e-10)


def test_bandwidth_and_density_grid_search():
    from sklearn.model_selection import GridSearchCV

    X, _ = planted(600, seed=1)
    grid = GridSearchCV(LinearVariationalEmbedding(2, objective="likelihood", max_iter=40, n_restarts=2,
                                                   random_state=0),
                        {"density": ["gaussian", "kde"], "bandwidth": [0.4, 1.5]}, cv=3)
    grid.fit(X)
    assert grid.best_params_["density"] == "kde"  # the clusters are a better likelihood than PPCA's Gaussian


@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"objective": "kl"}, ValueError, "objective"),
        ({"n_restarts": 0}, ValueError, "n_restarts"),
        ({"density": "kde", "bandwidth": -1.0}, ValueError, "bandwidth"),
        ({"density": "parzen"}, ValueError, "density"),
        ({"density": "kde", "device": "tpu"}, ValueError, "device"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"density": lambda x: -(x**2).sum(-1), "objective": "likelihood"}, TypeError, "closed-form marginals"),
    ],
)
def test_bad_parameters(params, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            LinearVariationalEmbedding(2, **{"max_iter": 5, "n_restarts": 1, **params}).fit(mixture_data(50))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_request_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        LinearVariationalEmbedding(2, density="kde", device="cuda").fit(mixture_data(50))


@pytest.mark.gpu
@pytest.mark.parametrize("objective", ["functional", "likelihood"])
def test_cuda_fit_gives_the_cpu_subspace(objective):
    """The same fit on CUDA (float64, same Monte-Carlo batches): the same subspace within 1e-4 rad."""
    X, _ = planted(2000)
    kw = dict(density="kde", objective=objective, bandwidth=0.5, random_state=0)
    cpu = LinearVariationalEmbedding(2, device="cpu", **kw).fit(X)
    gpu = LinearVariationalEmbedding(2, device="cuda", **kw).fit(X)
    assert gpu.device_.type == "cuda"
    assert angle(cpu.components_.T, gpu.components_.T) <= 1e-4
    assert gpu.objective_ == pytest.approx(cpu.objective_, abs=1e-6)
