"""Building blocks of the razor model: posterior, symmetrisation, integrators, objective."""

import math

import numpy as np
import pytest
import torch

from varembed.razor import HarmonicOscillators, oracle_generators
from varembed.razor.hnn import SymmetricHNN
from varembed.razor.integrators import integrate
from varembed.razor.model import HamiltonianMLP
from varembed.razor.objective import gaussian_nll
from varembed.razor.posterior import MatrixNormalWeight
from varembed.razor.symmetrisation import ConservedQuantities, hamiltonian_vector_field

F64 = torch.float64


def _randomised_weight(d_in, d_out, seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = MatrixNormalWeight(d_in, d_out, mean_std=0.7, posterior_std=0.3, generator=gen, dtype=F64)
    with torch.no_grad():
        for p in (w.raw_s, w.raw_a, w.log_diag_s, w.log_diag_a):
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=F64))
    return w


def test_matrix_normal_kl_matches_dense_gaussian_kl():
    w = _randomised_weight(3, 4)
    lam = 2.5
    l_s, l_a = w.factors()
    cov = torch.kron(l_a.T @ l_a, l_s @ l_s.T).detach()  # column-major vec(W)
    mu = w.mean.detach().T.reshape(-1)
    d = mu.numel()
    chol = torch.linalg.cholesky(cov)
    logdet = 2.0 * torch.log(torch.diagonal(chol)).sum()
    dense = 0.5 * (lam * torch.trace(cov) + lam * mu @ mu - d - d * math.log(lam) - logdet)
    assert abs(float(w.kl(lam).detach()) - float(dense)) < 1e-10


def test_matrix_normal_samples_have_the_kronecker_covariance():
    w = _randomised_weight(2, 3, seed=1)
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        s = w.sample(200_000, gen)
        l_s, l_a = w.factors()
        cov = torch.kron(l_a.T @ l_a, l_s @ l_s.T)
        vec = s.transpose(1, 2).reshape(s.shape[0], -1)
    np.testing.assert_allclose(vec.mean(0).numpy(), w.mean.detach().T.reshape(-1).numpy(), atol=0.02)
    np.testing.assert_allclose(np.cov(vec.numpy().T), cov.numpy(), atol=0.03 * float(cov.abs().max()))


def test_gaussian_nll_matches_scipy():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    y, mu = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    ref = -np.mean([multivariate_normal(m, 0.3 * np.eye(4)).logpdf(t) for t, m in zip(y, mu)])
    assert abs(float(gaussian_nll(torch.tensor(y), torch.tensor(mu), 0.3)) - ref) < 1e-12


def _network(dim=4, seed=0):
    return HamiltonianMLP(dim, 16, 2, 1.0, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_vector_field_is_symplectic_gradient():
    net = _network()
    hnn = SymmetricHNN(net, None)
    w = net.mean_weights()
    x = torch.randn(1, 3, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    f = hamiltonian_vector_field(net, w, None, hnn.J, create_graph=False)(x)
    eps = 1e-6
    grads = []
    for e in torch.eye(4, dtype=F64):
        grads.append((hnn.hamiltonian(x + eps * e, w, None) - hnn.hamiltonian(x - eps * e, w, None)) / (2 * eps))
    g = torch.stack(grads, dim=-1)
    expected = torch.cat([g[..., 2:], -g[..., :2]], dim=-1)  # J grad H = (dH/dp, -dH/dq)
    np.testing.assert_allclose(f.detach().numpy(), expected.detach().numpy(), atol=1e-8)


@torch.no_grad()
def test_symmetrised_hamiltonian_is_nearly_invariant_under_the_oracle_group():
    # the ball measure on u(2) coordinates is not exactly Haar (razor.md 1.6), so invariance is
    # approximate: the orbit average removes most of F's variation along the orbit, more with more samples
    system = HarmonicOscillators(2)
    net = _network()
    cq = ConservedQuantities(4, 0, fixed=oracle_generators(system), dtype=F64)
    hnn = SymmetricHNN(net, cq, "ball")
    w = net.mean_weights()
    x = torch.tensor(system.initial_conditions(50, seed=0))[None]
    g = cq.group_elements(cq.sample_coordinates(1, 1, "ball", torch.Generator().manual_seed(9)))[0, 0]
    gx = (x @ g[:4, :4].T) + g[:4, 4]
    raw = float((hnn.hamiltonian(gx, w, None) - hnn.hamiltonian(x, w, None)).pow(2).mean().sqrt())
    errors = []
    for s in (4, 1024):
        gen = torch.Generator().manual_seed(s)
        grp1 = cq.group_elements(cq.sample_coordinates(1, s, "ball", gen))
        grp2 = cq.group_elements(cq.sample_coordinates(1, s, "ball", gen))
        errors.append(float((hnn.hamiltonian(gx, w, grp1) - hnn.hamiltonian(x, w, grp2)).pow(2).mean().sqrt()))
    assert errors[1] < errors[0] / 2
    assert errors[1] < 0.25 * raw


def test_so2_orbit_average_is_exactly_rotation_invariant_with_uniform_measure():
    # eps ~ U(-1, 1) with A = 2 I covers the circle twice: a stratified grid makes the average exact
    system = HarmonicOscillators(1)
    net = HamiltonianMLP(2, 16, 2, 2.0, generator=torch.Generator().manual_seed(0), dtype=F64)
    cq = ConservedQuantities(2, 0, fixed=oracle_generators(system), dtype=F64)
    grid = torch.linspace(-1, 1, 513, dtype=F64)[:-1].reshape(1, -1, 1)
    grp = cq.group_elements(grid)
    hnn = SymmetricHNN(net, cq, "uniform")
    r = torch.tensor([[[0.8, 0.0], [0.0, 0.8], [-0.8 * math.sqrt(0.5), 0.8 * math.sqrt(0.5)]]], dtype=F64)
    h = hnn.hamiltonian(r, net.mean_weights(), grp)[0]
    assert float(h.max() - h.min()) < 1e-10


def test_rk4_is_fifth_order_locally_and_euler_second():
    system = HarmonicOscillators(1)
    x0 = torch.tensor([[[0.4, -0.9]]], dtype=F64)

    def field(x):
        return torch.as_tensor(system.vector_field(x.numpy()))

    exact = lambda h: torch.tensor(system.trajectories(x0[0].numpy(), 1, h)[:, -1])
    for method, order in (("rk4", 5), ("euler", 2)):
        errs = [float((integrate(field, x0, h, 1, method)[0] - exact(h)).norm()) for h in (0.2, 0.1)]
        assert abs(math.log2(errs[0] / errs[1]) - order) < 0.3


def test_conserved_generators_have_the_augmented_affine_form():
    cq = ConservedQuantities(4, 3, init_std=0.5, generator=torch.Generator().manual_seed(0), dtype=F64)
    a, b = cq.quadratic()
    g = cq.generators()
    x = torch.randn(4, dtype=F64)
    j = cq.J
    # G (x, 1) = (J grad C(x), 0) with grad C = A x + b
    lhs = g @ torch.cat([x, torch.ones(1, dtype=F64)])
    rhs = (a @ x + b) @ j.T
    np.testing.assert_allclose(lhs[:, :4].detach().numpy(), rhs.detach().numpy(), atol=1e-12)
    assert torch.all(lhs[:, 4] == 0)
    assert torch.allclose(a, a.transpose(1, 2))


def test_ball_measure_is_inside_unit_ball_and_uniform_in_radius():
    cq = ConservedQuantities(4, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    eps = cq.sample_coordinates(2, 20000, "ball", torch.Generator().manual_seed(1))
    r = eps.norm(dim=-1)
    assert float(r.max()) <= 1.0
    # P(|eps| <= 1/2) = (1/2)^K for the uniform ball
    assert abs(float((r <= 0.5).double().mean()) - 0.125) < 0.01
