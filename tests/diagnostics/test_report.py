"""diagnose(): the report object, its Ward identities, str/to_dict/plot, and the estimator shortcut."""

import json

import numpy as np
import pytest
import torch

from varembed import LinearVariationalEmbedding
from varembed.diagnostics import DiagnosticsReport, diagnose, euler_lagrange_residual, find_symmetries
from varembed.embedding import UniformBoxPrior

from .._helpers import StubEmbedding
from .test_symmetries import LAM, _kde, _ring, _ring_solution


def _data(d_extra=3, seed=0, n=800):
    rng = np.random.default_rng(seed)
    scales = np.array([3.0, 2.0, 1.0, 0.6, 0.4][: 2 + d_extra])
    return rng.normal(size=(n, scales.size)) * scales


@pytest.fixture(scope="module")
def report():
    emb = LinearVariationalEmbedding(2, continuity=0.05, random_state=0).fit(_data())
    return emb, emb.diagnose(n_samples=8192, random_state=0, tol=1e-6)  # exact symmetry decisions


def test_report_numbers(report):
    emb, rep = report
    assert isinstance(rep, DiagnosticsReport)
    assert rep.rho_el <= 1e-10
    # same latent sample, same numbers as the stand-alone function
    alone = euler_lagrange_residual(emb, z=rep.residual.z)
    assert alone.rho == pytest.approx(rep.rho_el, rel=1e-6, abs=1e-16)
    # Ward identities of an exact solution: zero up to Monte Carlo noise (n = 8192)
    w = rep.ward
    tr_g = float(np.sum(emb.scales_**2))
    assert w.virial_rhs == pytest.approx(-2 + 2 * 0.05 * tr_g, rel=0.05)
    assert w.virial_error < 0.05 and w.translation < 0.05 and w.latent_affine < 0.05 and w.rotation_charge < 0.05
    # latent so(2) found and its current conserved
    assert rep.symmetries["latent"].rank == 1
    assert rep.symmetries["latent"].symmetries[0].current.divergence_ratio < 1e-8
    # PPCA's density is isotropic in the 3 discarded directions: exactly one data rotation (the
    # so(2) of that subspace fixing the mean) is a symmetry, and it leaves the principal plane alone
    data = rep.symmetries["data"]
    assert data.rank == 1 and data.gap > 1e6
    B = data.symmetries[0].generator.B
    assert np.abs(B @ emb.components_.T).max() < 1e-8 and np.abs(B @ emb.mean_).max() < 1e-8


def test_statistical_symmetries_of_the_ppca_density(report):
    """Statistically, the exact symmetry is found, and perhaps more of so(3) of PPCA's isotropic discarded
    subspace (the mean's offset there, which breaks the rest, is of the order of its sampling noise at 800
    points); a rotation of the principal plane (variances 9 and 4) is never reported."""
    emb, _ = report
    for seed in range(3):
        search = find_symmetries(emb, "data", random_state=seed)
        assert search.rule == "null" and 1 <= search.rank <= 3 and search.z_scores[search.rank] > 3
        for sym in search:
            assert np.abs(sym.generator.B @ emb.components_.T).max() < 0.1 and sym.z_score <= 3


def test_report_outputs(report):
    _, rep = report
    text = str(rep)
    assert "rho_EL" in text and "virial" in text and "latent space" in text
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["rho_el"] == rep.rho_el and d["symmetries"]["latent"]["rank"] == 1
    assert d["data_dim"] == 5 and d["latent_dim"] == 2
    fig = rep.plot()
    assert len(fig.axes) >= 2


def test_plot_d1_and_errors():
    stub = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(_ring()), _ring_solution(), LAM)
    rep = diagnose(stub, n_samples=256, random_state=0)
    assert rep.symmetries["data"].rank == 1
    # the ring solution with the continuum ridge radius 0.995 (§4.4): small residual; a wrong radius is not
    assert rep.rho_el < 1e-3
    off = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(_ring()), _ring_solution(0.95), LAM)
    assert diagnose(off, n_samples=256, random_state=0, spaces=()).rho_el > 1e-2
    assert len(rep.plot().axes) == 2
    # natural boundary condition |phi'(+-1)| = 1/sqrt(2 lam): exact for the ring solution; a curve of
    # speed v violates it by |1/v - 2 lam v| / (1/v + 2 lam v) (= 1/3 for v = 5)
    assert rep.boundary < 1e-12
    slow = StubEmbedding(UniformBoxPrior(1, 1.0), _kde(_ring()), _ring_solution(speed=5.0), LAM)
    assert diagnose(slow, n_samples=64, random_state=0, spaces=()).boundary == pytest.approx(1 / 3, rel=1e-10)
    assert "boundary" in str(rep)
    with pytest.raises(ValueError, match="symmetry index"):
        rep.plot(symmetry=5)
    emb3 = LinearVariationalEmbedding(3, random_state=0).fit(_data())
    with pytest.raises(ValueError, match="d <= 2"):
        emb3.diagnose(n_samples=64, random_state=0).plot()
    with pytest.raises(ValueError, match="spaces"):
        diagnose(emb3, spaces=("phase",))


def test_verdict_flips_between_a_solution_and_an_unconverged_map(report):
    emb, rep = report
    assert rep.verdicts[0].startswith("stationary: yes") and "Ward identities: hold" in rep.verdicts[1]
    assert str(rep).splitlines()[1].startswith("  * stationary: yes")
    # the same functional at a map that is not its optimum: the PCA frame, scaled by 1.5
    w = torch.as_tensor(1.5 * emb.embedding_matrix_)
    b = torch.as_tensor(emb.mean_)
    off = StubEmbedding(emb.prior_, emb.density_, lambda z: w @ z + b, emb.continuity)
    bad = diagnose(off, n_samples=4096, random_state=0)
    assert bad.verdicts[0].startswith("stationary: NO") and bad.rho_el > 0.05
    assert "violated" in bad.verdicts[1]
