"""VariationalEmbedding: API, validation, scikit-learn conformance, transform, score, devices."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from varembed import LinearVariationalEmbedding
from varembed._utils.device import resolve_device
from varembed.embedding.neural import VariationalEmbedding

# Tiny and fast: the common checks fit dozens of times.
FAST = dict(hidden=(8,), max_iter=5, batch_size=16, init="random", random_state=0,
            device="cpu")
QUICK = dict(init="linear", prior_scale=1.0)  # skips Isomap where it is not what a test is about

CUDA = [pytest.param("cuda", marks=pytest.mark.gpu)] if torch.cuda.is_available() else [
    pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skip(reason="CUDA not available")])
]


def _blob(n=120, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, n)
    X = np.c_[t, t**2, 0.3 * np.sin(3 * t)][:, :dim] + 0.05 * rng.normal(size=(n, dim))
    return X


def _expected_failed_checks(estimator):
    return {}


@parametrize_with_checks([VariationalEmbedding(**FAST)], expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def test_defaults_fit_and_fitted_attributes():
    X = _blob(80)
    emb = VariationalEmbedding(max_iter=20, random_state=0).fit(X)  # all defaults (Isomap start)
    for attr in ("map_", "prior_", "converged_", "density_", "history_", "objective_", "n_iter_", "device_", "bandwidth_",
                 "noise_variance_", "mean_", "scale_", "initial_objective_"):
        assert hasattr(emb, attr), attr
    assert emb.device_ == torch.device("cpu")
    assert emb.n_iter_ >= 1 and np.isfinite(emb.objective_)
    assert emb.history_[0]["iter"] == 0 and emb.history_[-1]["iter"] >= 1
    assert emb.get_feature_names_out().tolist() == ["variationalembedding0", "variationalembedding1"]


def test_training_improves_objective_and_is_reproducible():
    X = _blob(100)
    a = VariationalEmbedding(hidden=(16, 16), max_iter=150, random_state=1, **QUICK).fit(X)
    b = VariationalEmbedding(hidden=(16, 16), max_iter=150, random_state=1, **QUICK).fit(X)
    assert a.objective_ > a.initial_objective_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_transform_is_samplewise_float64():
    X = _blob(60)
    emb = VariationalEmbedding(hidden=(16, 16), max_iter=100, random_state=0, **QUICK).fit(X)
    Z = emb.transform(X)
    single = np.vstack([emb.transform(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(single, Z, rtol=0, atol=1e-7)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(emb.transform(X[perm]), Z[perm], rtol=0, atol=1e-7)
    s = emb.score_samples(X)
    np.testing.assert_allclose(np.concatenate([emb.score_samples(X[i : i + 1]) for i in range(5)]), s[:5],
                               atol=1e-7)


def test_transform_dtypes_and_inverse_transform():
    X = _blob(60)
    emb = VariationalEmbedding(hidden=(8,), max_iter=30, random_state=0, **QUICK).fit(X)
    assert emb.transform(X).dtype == np.float64
    assert emb.transform(X.astype(np.float32)).dtype == np.float32
    Z = emb.transform(X)
    Xr = emb.inverse_transform(Z)
    assert Xr.shape == X.shape and Xr.dtype == np.float64
    with pytest.raises(ValueError, match="n_components=2"):
        emb.inverse_transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="features"):
        emb.transform(np.zeros((3, 5)))


def test_transform_is_the_posterior_mode():
    """z*(x) minimises |x - phi(z)|^2 / (2 h^2) - log q(z): zero gradient, no better grid point."""
    X = _blob(80)
    emb = VariationalEmbedding(hidden=(16,), max_iter=50, random_state=0, **QUICK).fit(X)
    Z = emb.transform(X)
    xs = torch.as_tensor((X - emb.mean_) / emb.scale_)
    z = torch.as_tensor(Z).requires_grad_(True)
    h2 = emb.noise_variance_  # transform_noise="residual"

    def energy(z):
        return 0.5 * ((xs - emb.map_(z)) ** 2).sum(-1) / h2 + 0.5 * (z**2).sum(-1)

    e = energy(z)  # the prior of this fit is isotropic (init="linear")
    (g,) = torch.autograd.grad(e.sum(), z)
    assert float(g.abs().max()) < 1e-6
    grid = torch.as_tensor(emb.prior_.grid(41))
    with torch.no_grad():
        e_grid = 0.5 * torch.cdist(xs, emb.map_(grid)) ** 2 / h2 + 0.5 * (grid**2).sum(-1)
    assert torch.all(e.detach() <= e_grid.min(1).values + 1e-9)


def test_linear_map_score_equals_linear_estimator():
    """An affine map with the linear solution and noise gives LinearVariationalEmbedding.score exactly."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * [3, 2, 1, 0.5, 0.2] + [1, 2, 3, 4, 5]
    lin = LinearVariationalEmbedding(n_components=2, random_state=0).fit(X)
    emb = VariationalEmbedding(hidden=(), density="gaussian", standardize=None, max_iter=1,
                               random_state=0, **QUICK).fit(X)
    with torch.no_grad():
        emb.map_.weight.copy_(torch.as_tensor(lin.embedding_matrix_))
        emb.map_.bias.copy_(torch.as_tensor(lin.mean_))
    emb.noise_variance_ = lin.noise_variance_
    Xt = rng.normal(size=(50, 5)) * [3, 2, 1, 0.5, 0.2]
    np.testing.assert_allclose(emb.score_samples(Xt), lin.score_samples(Xt), rtol=1e-9, atol=1e-9)
    assert emb.score(Xt) == pytest.approx(lin.score(Xt), rel=1e-10)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(activation="relu"), "twice continuously differentiable"),
        (dict(activation="cosh"), "activation"),
        (dict(bandwidth=0.0), "bandwidth"),
        (dict(bandwidth=-1.0), "bandwidth"),
        (dict(bandwidth="wide"), "bandwidth"),
        (dict(continuity=0.0), "continuity"),
        (dict(continuity=-1.0), "continuity"),
        (dict(smoothness=-1.0), "smoothness"),
        (dict(bending="sampled"), "bending"),
        (dict(smoothness="high"), "smoothness"),
        (dict(prior="laplace"), "prior"),
        (dict(prior_scale=0.0), "prior_scale"),
        (dict(prior_scale=[1.0, 2.0, 3.0]), "prior_scale"),
        (dict(n_components=0), "n_components"),
        (dict(n_components=4), "n_components"),
        (dict(hidden=(0,)), "hidden"),
        (dict(init="pca2"), "init"),
        (dict(init=np.zeros((5, 2))), "rows"),
        (dict(density="histogram"), "density"),
        (dict(density=object()), "log_prob"),
        (dict(device="tpu"), "device"),
        (dict(dtype="int8"), "dtype"),
        (dict(lr_schedule="linear"), "lr_schedule"),
        (dict(standardize="minmax"), "standardize"),
        (dict(transform_noise="tiny"), "transform_noise"),
        (dict(transform_noise=-1.0), "transform_noise"),
    ],
)
def test_bad_parameters_raise_clear_errors(params, match):
    X = _blob(30)
    with pytest.raises((ValueError, TypeError), match=match):
        VariationalEmbedding(**{**FAST, **params}).fit(X)


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        VariationalEmbedding(**{**FAST, "device": "cuda:0"}).fit(_blob(30))
    assert resolve_device("auto") == torch.device("cpu")


def test_pickle_roundtrip_and_cuda_pickle_maps_to_cpu():
    X = _blob(50)
    emb = VariationalEmbedding(**{**FAST, "max_iter": 20}).fit(X)
    again = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(again.transform(X), emb.transform(X))
    # A pickle made on a GPU machine records device_ = cuda; without CUDA it loads on the CPU.
    state = emb.__getstate__()
    state["device_"] = "cuda:0"
    if not torch.cuda.is_available():
        restored = VariationalEmbedding.__new__(VariationalEmbedding)
        with pytest.warns(UserWarning, match="loaded on the CPU"):
            restored.__setstate__(state)
        assert restored.device_ == torch.device("cpu")
        np.testing.assert_array_equal(restored.transform(X), emb.transform(X))


def test_functional_and_field_for_diagnostics():
    from torch.func import jacfwd, vmap

    X = _blob(60)
    emb = VariationalEmbedding(hidden=(16,), max_iter=30, random_state=0, **QUICK).fit(X)
    fun, field = emb.functional(), emb.field()
    z = torch.randn(7, 2, dtype=torch.float64)
    phi = vmap(field)(z)
    jac = vmap(jacfwd(field))(z)
    jet = emb.map_.jet(z)
    np.testing.assert_allclose(phi.numpy(), jet.value.numpy(), atol=1e-12)
    np.testing.assert_allclose(jac.numpy(), jet.jacobian.numpy(), atol=1e-12)
    # per-point Lagrangian density and its gradients work under vmap
    from torch.func import grad

    lag = vmap(fun.lagrangian_density)(z, phi, jac)
    assert torch.isfinite(lag).all()
    dens = fun.density
    s = vmap(dens.score)(phi)
    np.testing.assert_allclose(s.numpy(), vmap(grad(dens.log_prob))(phi).numpy(), atol=1e-8)
    assert np.isfinite(dens.score_norm_sq()) and dens.score_norm_sq() > 0
    init_field = emb.field(initial=True)
    assert not torch.allclose(vmap(init_field)(z), phi)


@pytest.mark.parametrize("density", ["gaussian", "gmm", "kde"])
def test_densities_train(density):
    X = _blob(120)
    emb = VariationalEmbedding(density=density, hidden=(16,), max_iter=60, random_state=0, **QUICK).fit(X)
    assert np.isfinite(emb.objective_) and emb.objective_ >= emb.initial_objective_ - 1e-6
    assert np.isfinite(emb.score(X))


def test_user_score_only_density_trains():
    """A score-only model (e.g. a diffusion model's score) drives the fit; log p is not needed."""

    class StandardNormalScore:
        def score(self, x):
            return -x

    X = np.random.default_rng(0).normal(size=(100, 3))
    emb = VariationalEmbedding(density=StandardNormalScore(), hidden=(8,), max_iter=50, standardize=None,
                               bandwidth=0.5, random_state=0).fit(X)
    assert np.isnan(emb.objective_)
    assert emb.transform(X).shape == (100, 2)


def test_kde_truncation_trains_like_the_full_sum():
    X = _blob(200)
    full = VariationalEmbedding(hidden=(8,), max_iter=30, random_state=0, **QUICK).fit(X)
    cut = VariationalEmbedding(kde_neighbors=50, hidden=(8,), max_iter=30, random_state=0, **QUICK).fit(X)
    assert cut.density_.n_neighbors == 50 and full.density_.n_neighbors is None
    # the reported objective uses the truncated sum (a lower bound of log p); 50 of 200 centres lose little
    assert cut.objective_ <= full.objective_ + 1e-3
    assert abs(cut.objective_ - full.objective_) < 0.05 * abs(full.objective_)


def test_smoothness_and_polish_run():
    X = _blob(100)
    emb = VariationalEmbedding(smoothness=1e-2, polish_iter=10, hidden=(8,), max_iter=30, random_state=0,
                               **QUICK).fit(X)
    assert emb.history_[-1].get("stage") == "polish"
    # L-BFGS on the fixed quadrature never makes its own objective worse, and the held-out value follows
    assert emb.history_[-1]["objective"] >= emb.history_[-2]["objective"] - 1e-3


def test_verbose_progress(capsys):
    X = _blob(40)
    VariationalEmbedding(**{**FAST, "verbose": 1, "max_iter": 10}).fit(X)
    out = capsys.readouterr()
    assert "VariationalEmbedding" in out.out + out.err


@pytest.mark.parametrize("device", ["cpu"] + CUDA)
def test_devices(device):
    X = _blob(80)
    emb = VariationalEmbedding(hidden=(16,), max_iter=30, random_state=0, device=device, **QUICK).fit(X)
    assert emb.device_.type == device
    Z = emb.transform(X)
    assert Z.dtype == np.float64 and np.all(np.isfinite(Z))
    assert emb.inverse_transform(Z).dtype == np.float64
    assert np.all(np.isfinite(emb.score_samples(X))) and np.isfinite(emb.score(X))
    emb2 = pickle.loads(pickle.dumps(emb))
    np.testing.assert_allclose(emb2.transform(X), Z, atol=1e-5)


def test_init_isomap_and_array():
    X = _blob(120)
    emb = VariationalEmbedding(init="isomap", prior_scale="auto", hidden=(16,), max_iter=30, random_state=0).fit(X)
    assert emb.prior_.dim == 2 and hasattr(emb.prior_, "scales")
    # given codes fix the prior's aspect (prior_scale="auto"): per-axis scales 4:1 as the codes' spread
    codes = np.random.default_rng(0).normal(size=(120, 2)) * [2.0, 0.5]
    given = VariationalEmbedding(init=codes, hidden=(16,), max_iter=10, random_state=0).fit(X)
    ratio = given.prior_.scales[0] / given.prior_.scales[1]
    assert ratio == pytest.approx(codes[:, 0].std() / codes[:, 1].std(), rel=1e-9)
