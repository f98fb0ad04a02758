"""Out-of-core linear fits: partial_fit over chunks and fit on a memmap equal the in-memory fit."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from varembed import LinearVariationalEmbedding
from varembed.embedding.moments import StreamingMoments, chunked_moments


def _data(n=3000, dim=12, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(4.0, 0.3, dim)
    return (rng.normal(size=(n, dim)) * scales) @ np.linalg.qr(rng.normal(size=(dim, dim)))[0] + 5.0


def test_streaming_moments_equal_two_pass_moments():
    X = _data()
    m = StreamingMoments(X.shape[1])
    for chunk in np.array_split(X, 17):
        m.update(chunk)
    assert m.n == len(X)
    np.testing.assert_allclose(m.mean, X.mean(0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(m.covariance(), np.cov(X, rowvar=False), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(chunked_moments(X, 100).covariance(), m.covariance(), rtol=1e-11, atol=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        StreamingMoments(3).update(np.ones((1, 3))).covariance()


def test_partial_fit_over_chunks_equals_fit():
    X = _data()
    full = LinearVariationalEmbedding(3, random_state=0).fit(X)
    part = LinearVariationalEmbedding(3, random_state=0)
    for chunk in np.array_split(X, 30):
        part.partial_fit(chunk)
    assert subspace_angles(part.components_.T, full.components_.T).max() <= 1e-10
    np.testing.assert_allclose(part.explained_variance_, full.explained_variance_, rtol=1e-10)
    assert part.noise_variance_ == pytest.approx(full.noise_variance_, rel=1e-10)
    np.testing.assert_allclose(part.transform(X[:50]), full.transform(X[:50]), rtol=1e-8, atol=1e-8)
    assert part.score(X) == pytest.approx(full.score(X), rel=1e-10)
    with pytest.raises(ValueError, match="features"):
        part.partial_fit(np.ones((4, 5)))


def test_fit_on_a_memmap_equals_fit_in_memory(tmp_path):
    X = _data()
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.load(tmp_path / "x.npy", mmap_mode="r")
    a = LinearVariationalEmbedding(2, random_state=0).fit(ro)
    b = LinearVariationalEmbedding(2, random_state=0).fit(X)
    assert subspace_angles(a.components_.T, b.components_.T).max() <= 1e-10


def test_partial_fit_needs_the_gaussian_density():
    assert not hasattr(LinearVariationalEmbedding(2, density="kde"), "partial_fit")
    assert hasattr(LinearVariationalEmbedding(2), "partial_fit")
