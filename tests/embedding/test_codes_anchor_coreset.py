"""The default objective's parts: coreset, codes prior, anchor term, layouts, local transform starts."""

import io
import pickle

import numpy as np
import pytest
import torch

from varembed import VariationalEmbedding
from varembed.embedding.code_prior import CodesPrior
from varembed.embedding.coreset import (MAX_STORED_NUMBERS, StartIndex, choose_coreset, coreset_error,
                                        coreset_size)
from varembed.embedding.densities import GaussianKDE
from varembed.embedding.functional import AnchorTerm
from varembed.embedding.layout import auto_codes

T = dict(dtype=torch.float64)


def _prior(m=40, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return CodesPrior(torch.randn(m, d, generator=g, **T), 0.4)


def test_coreset_size_bounds_the_stored_numbers():
    assert coreset_size("auto", 500, 3, 2) == 500
    assert coreset_size("auto", 10**6, 3, 2) == 20000
    m = coreset_size("auto", 10**6, 784, 2)
    assert m * 786 <= MAX_STORED_NUMBERS < (m + 1) * 786
    assert coreset_size(50, 10**6, 3, 2) == 50
    idx = choose_coreset(1000, 100, 0)
    assert len(np.unique(idx)) == 100 and np.all(np.diff(idx) > 0)


def test_coreset_error_matches_the_spread_of_random_coresets():
    """The formula's relative standard error against 300 independent coresets' KDEs at the same points."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    m, h = 100, 0.3
    core = choose_coreset(3000, m, 1)
    predicted = coreset_error(X, core, torch.as_tensor(X[core]), h, seed=2)
    pts = torch.as_tensor(X[np.setdiff1d(np.arange(3000), core)][:64])
    vals = []
    for s in range(300):
        c = torch.as_tensor(X[choose_coreset(3000, m, 100 + s)])
        vals.append(GaussianKDE(c, h).log_prob(pts).exp())
    vals = torch.stack(vals)
    empirical = float((vals.std(0) / vals.mean(0)).median())
    assert predicted == pytest.approx(empirical, rel=0.25), (predicted, empirical)
    assert coreset_error(X, np.arange(3000), torch.as_tensor(X), h, seed=0) == 0.0


def test_anchor_force_and_explicit_z_gradient_are_the_derivatives_of_its_value():
    prior = _prior()
    g = torch.Generator().manual_seed(1)
    data = torch.randn(40, 3, generator=g, **T)
    anchor = AnchorTerm(0.7, 0.05, data, prior)
    z = torch.randn(9, 2, generator=g, **T)
    phi = torch.randn(9, 3, generator=g, **T).requires_grad_(True)
    (g_phi,) = torch.autograd.grad(anchor.value(z, phi).sum(), phi)
    torch.testing.assert_close(anchor.force(z, phi), g_phi, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(anchor.point_value(z, phi), anchor.value(z, phi), rtol=1e-12, atol=1e-12)
    grad_z = anchor.explicit_grad_z(z, phi.detach())
    eps = 1e-6
    for i in range(2):
        dz = torch.zeros_like(z)
        dz[:, i] = eps
        fd = (anchor.value(z + dz, phi.detach()) - anchor.value(z - dz, phi.detach())) / (2 * eps)
        torch.testing.assert_close(grad_z[:, i], fd, rtol=1e-6, atol=1e-6)


def test_codes_prior_terms_match_its_density_and_local_truncation_with_all_centres():
    prior = _prior()
    z = torch.randn(11, 2, generator=torch.Generator().manual_seed(3), **T).requires_grad_(True)
    nlq, ngrad, hess = prior.neg_log_prob_terms(z.detach())
    lq = prior.log_prob(z)
    (g,) = torch.autograd.grad(lq.sum(), z)
    torch.testing.assert_close(nlq, -lq.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ngrad, -g, rtol=1e-10, atol=1e-10)
    assert torch.all(torch.linalg.eigvalsh(hess) >= -1e-12)
    every = prior.nearest(z.detach(), 40)
    local = prior.neg_log_prob_terms(z.detach(), every)
    for a, b in zip(local, (nlq, ngrad, hess)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    r = prior.responsibilities(z.detach())
    torch.testing.assert_close(r.sum(-1), torch.ones(11, **T))


def test_start_index_returns_the_code_of_the_nearest_coreset_point():
    rng = np.random.default_rng(0)
    pts = torch.as_tensor(rng.normal(size=(50, 30)))
    codes = torch.as_tensor(rng.normal(size=(50, 2)))
    index = StartIndex(pts, codes)
    torch.testing.assert_close(index.starts(pts), codes)
    torch.testing.assert_close(index.starts(pts[[7, 3]] + 1e-3), codes[[7, 3]])


def test_auto_codes_choose_isomap_on_a_roll_and_the_layout_on_clusters():
    from sklearn.datasets import make_blobs, make_swiss_roll

    roll, _ = make_swiss_roll(1000, noise=0.05, random_state=0)  # (600 points short-circuit the graph: rv 0.12)
    codes, kind, rv = auto_codes(roll, 2, seed=0)
    assert kind == "isomap" and rv < 0.05 and codes.shape == (1000, 2)
    blobs, _ = make_blobs(600, n_features=10, centers=6, random_state=0)
    codes, kind, rv = auto_codes(blobs, 2, seed=0)
    assert kind == "neighbors" and rv >= 0.05 and np.all(np.isfinite(codes))


def test_fitted_model_size_does_not_grow_with_n():
    """With max_centres=100 the pickle of a 400- and a 1600-point fit differ by well under 10%."""
    rng = np.random.default_rng(0)
    sizes = []
    for n in (400, 1600):
        X = rng.normal(size=(n, 5))
        emb = VariationalEmbedding(hidden=(16,), max_iter=20, max_centres=100, random_state=0).fit(X)
        assert emb.coreset_.shape == (100, 5) and emb.codes_.shape == (100, 2)
        assert 0 < emb.coreset_error_ < 1
        buf = io.BytesIO()
        pickle.dump(emb, buf)
        sizes.append(buf.tell())
        back = pickle.loads(buf.getvalue())
        assert back.coreset_.data_ptr() == back.density_.centres.data_ptr()  # the coreset is stored once
        np.testing.assert_allclose(back.transform(X[:20]), emb.transform(X[:20]), rtol=1e-10, atol=1e-10)
    assert abs(sizes[1] - sizes[0]) < 0.1 * sizes[0], sizes


def test_longer_training_does_not_lose_the_anchored_layout():
    """The default objective on three separated clusters: the codes keep the clusters apart at 1x and 4x."""
    from sklearn.datasets import make_blobs
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.model_selection import cross_val_score

    X, y = make_blobs(300, n_features=6, centers=3, cluster_std=1.0, random_state=1)
    accs = []
    for budget in (100, 400):
        emb = VariationalEmbedding(hidden=(16,), max_iter=budget, n_iter_no_change=None, random_state=0).fit(X)
        accs.append(cross_val_score(KNeighborsClassifier(10), emb.transform(X), y, cv=3).mean())
    assert min(accs) > 0.95 and accs[1] >= accs[0] - 0.02, accs
