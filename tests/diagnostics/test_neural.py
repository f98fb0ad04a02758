"""Diagnostics of fitted VariationalEmbedding maps: the 1-D ring and sinusoid of Figure 1 (research note §3.6, T4-T5).

The ring (100 evenly spaced points, ``endpoint=False``, KDE width 0.1, uniform prior on [-1, 1],
``lam = 1e-2``) has a data-space rotation symmetry; on a stationary map its Noether current is
conserved and, with the natural boundary conditions of the box, vanishes identically.  The sinusoid
has no such symmetry, so the same current is clearly non-zero.
"""

import numpy as np
import pytest
import torch

neural = pytest.importorskip("varembed.embedding.neural")

from varembed.diagnostics import euler_lagrange_residual, find_symmetries, noether_current  # noqa: E402

B = np.array([[0.0, -1.0], [1.0, 0.0]])
Z = np.linspace(-1.0, 1.0, 401)[:, None]
RING_FIT = dict(hidden=(64, 64, 64), max_iter=2000, polish_iter=1000)  # ~65 s on 1 core; max ratio 0.014


def _fit(X, hidden, max_iter, polish_iter):
    return neural.VariationalEmbedding(
        1, prior="uniform", density="kde", bandwidth=0.1, standardize=None, continuity=1e-2,
        hidden=hidden, max_iter=max_iter, batch_size=1024, learning_rate=2e-3, polish_iter=polish_iter,
        init="random", n_iter_no_change=None, random_state=0, device="cpu",
    ).fit(X)


class _Initial:
    """The estimator's map at initialisation, seen through the diagnostics protocol."""

    def __init__(self, est):
        self.est = est

    def functional(self):
        return self.est.functional()

    def field(self):
        return self.est.field(initial=True)


def test_neural_estimator_fast_path_equals_generic():
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, size=(120, 2))
    X = np.c_[u, 0.3 * np.sin(2 * u[:, 0])] + 0.05 * rng.normal(size=(120, 3))
    emb = neural.VariationalEmbedding(2, prior_scale=1.0, hidden=(16,), max_iter=40, random_state=0,
                                      device="cpu").fit(X)
    fast = euler_lagrange_residual(emb, 32, random_state=1)
    slow = euler_lagrange_residual(emb, 32, random_state=1, method="generic")
    np.testing.assert_allclose(fast.residual, slow.residual, rtol=1e-6, atol=1e-7 * np.abs(slow.residual).max())
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    a = noether_current(emb, rotation, "latent", z=fast.z)
    b = noether_current(emb, rotation, "latent", z=fast.z, method="generic")
    np.testing.assert_allclose(a.divergence, b.divergence, rtol=1e-6, atol=1e-7 * np.abs(b.divergence).max())
    # the estimator's own forward-mode jet (the fast path's source of phi, J, H) equals torch.func's
    from varembed.core.fields import map_points, value_jacobian_hessian
    from varembed.diagnostics._inputs import batched_field_jet

    zt = torch.as_tensor(fast.z)
    for mine, ref in zip(batched_field_jet(emb)(zt), map_points(value_jacobian_hessian(emb.field()), zt)):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12 * float(ref.abs().max()))
    report = emb.diagnose(n_samples=256, random_state=0)
    assert report.symmetries["latent"].rank == 1  # isotropic Gaussian prior: latent so(2)
    assert report.rho_el == pytest.approx(
        euler_lagrange_residual(emb, z=report.residual.z).rho, rel=1e-9)
    assert "VariationalEmbedding" in str(report)


@pytest.fixture(scope="module")
def ring():
    th = np.linspace(0, 2 * np.pi, 100, endpoint=False)
    return _fit(np.c_[np.cos(th), np.sin(th)], **RING_FIT)


@pytest.mark.slow
def test_ring_rotation_current_vanishes(ring):
    cur = noether_current(ring, B, "data", z=Z)
    summary = cur.summary()
    assert summary["current_ratio_max"] < 2e-2
    assert summary["current_ratio_median"] < 1e-2
    sym = find_symmetries(ring, "data", "rotations", random_state=0)
    assert sym.rank == 1
    g = sym.symmetries[0].generator.B
    assert np.arccos(min(abs(np.sum(g * B)) / (np.linalg.norm(g) * np.linalg.norm(B)), 1.0)) < 1e-2


@pytest.mark.slow
def test_fit_reduces_el_residual(ring):
    after = euler_lagrange_residual(ring, z=Z)
    before = euler_lagrange_residual(_Initial(ring), z=Z)
    assert after.rho <= 0.2 * before.rho


@pytest.mark.slow
def test_sinusoid_rotation_current_is_not_conserved():
    t = np.linspace(0, 2 * np.pi, 100)
    est = _fit(np.c_[t, np.sin(t)], hidden=(32, 32), max_iter=300, polish_iter=50)
    cur = noether_current(est, B, "data", z=Z)
    assert cur.summary()["current_ratio_max"] > 0.03
    assert find_symmetries(est, "data", "rotations", random_state=0).rank == 0


@pytest.mark.gpu
def test_diagnose_on_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    X = np.c_[rng.uniform(-1, 1, size=(200, 2)), 0.05 * rng.normal(size=(200, 2))]
    # isotropic prior (prior_scale=1.0; the default "auto" prior is axis-scaled, without rotations)
    kw = dict(hidden=(16,), max_iter=20, random_state=0, dtype="float64", prior_scale=1.0)
    cpu = neural.VariationalEmbedding(2, device="cpu", **kw).fit(X)
    gpu = neural.VariationalEmbedding(2, device="cuda", **kw).fit(X)
    gpu.map_.load_state_dict({k: v.to("cuda") for k, v in cpu.map_.state_dict().items()})
    z = np.random.default_rng(1).normal(size=(64, 2))
    a, b = euler_lagrange_residual(cpu, z=z), euler_lagrange_residual(gpu, z=z)
    np.testing.assert_allclose(b.residual, a.residual, rtol=1e-8, atol=1e-10 * np.abs(a.residual).max())
    rep_cpu, rep_gpu = (e.diagnose(n_samples=256, random_state=0) for e in (cpu, gpu))
    assert rep_gpu.symmetries["latent"].rank == rep_cpu.symmetries["latent"].rank == 1
    np.testing.assert_allclose(rep_gpu.rho_el, rep_cpu.rho_el, rtol=1e-6)


def test_diagnostics_follow_the_estimator_dtype():
    """Latent points take the fitted map's dtype/device (a float32 fit used to get float64 points
    and a dtype-mismatch error from torch; on CUDA the same bug put them on the CPU)."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.uniform(-1, 1, size=(200, 2)), 0.05 * rng.normal(size=(200, 2))]
    kw = dict(hidden=(16,), max_iter=20, random_state=0, prior_scale=1.0)
    f32 = neural.VariationalEmbedding(2, dtype="float32", **kw).fit(X)
    f64 = neural.VariationalEmbedding(2, dtype="float64", **kw).fit(X)
    f64.map_.load_state_dict({k: v.double() for k, v in f32.map_.state_dict().items()})
    z = np.random.default_rng(1).normal(size=(32, 2))
    a, b = euler_lagrange_residual(f32, z=z), euler_lagrange_residual(f64, z=z)
    assert a.residual.dtype == np.float32
    np.testing.assert_allclose(a.residual, b.residual, rtol=1e-3, atol=1e-3 * np.abs(b.residual).max())
    assert f32.diagnose(n_samples=128, random_state=0).symmetries["latent"].rank == 1


def test_report_flags_the_bending_penalty():
    """Above d = 3 the default fit carries a bending penalty the diagnosed functional lacks: the
    report says so (and records it), a fit without it does not."""
    X = np.random.default_rng(0).normal(size=(150, 6))
    kw = dict(hidden=(8,), max_iter=10, random_state=0)
    bent = neural.VariationalEmbedding(4, **kw).fit(X).diagnose(n_samples=128, spaces=(), random_state=0)
    flat = neural.VariationalEmbedding(4, smoothness=0.0, **kw).fit(X).diagnose(n_samples=128, spaces=(), random_state=0)
    assert bent.smoothness == 0.1 and bent.to_dict()["smoothness"] == 0.1 and "bending penalty" in str(bent)
    assert flat.smoothness == 0.0 and "bending penalty" not in str(flat)
