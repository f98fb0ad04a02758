"""The variational network: posterior, MLP, symmetrised vector field, integrators, objective."""

import math

import numpy as np
import torch

from varembed.razor import HarmonicOscillators
from varembed.razor.hnn import SymmetricHNN
from varembed.razor.integrators import integrate
from varembed.razor.model import HamiltonianMLP
from varembed.razor.objective import gaussian_nll, per_transition_nll
from varembed.razor.posterior import MatrixNormalWeight
from varembed.razor.symmetrisation import hamiltonian_vector_field

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
    logdet = 2.0 * torch.log(torch.diagonal(torch.linalg.cholesky(cov))).sum()
    dense = 0.5 * (lam * torch.trace(cov) + lam * mu @ mu - d - d * math.log(lam) - logdet)
    assert abs(float(w.kl(lam).detach()) - float(dense)) < 1e-10


def test_matrix_normal_samples_have_the_kronecker_covariance():
    w = _randomised_weight(2, 3, seed=1)
    with torch.no_grad():
        s = w.sample(200_000, torch.Generator().manual_seed(7))
        l_s, l_a = w.factors()
        cov = torch.kron(l_a.T @ l_a, l_s @ l_s.T)
        vec = s.transpose(1, 2).reshape(s.shape[0], -1)
    np.testing.assert_allclose(vec.mean(0).numpy(), w.mean.detach().T.reshape(-1).numpy(), atol=0.02)
    np.testing.assert_allclose(np.cov(vec.numpy().T), cov.numpy(), atol=0.03 * float(cov.abs().max()))


def test_gaussian_nll_matches_scipy():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    y, mu = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    ref = [-multivariate_normal(m, 0.3 * np.eye(4)).logpdf(t) for t, m in zip(y, mu)]
    np.testing.assert_allclose(per_transition_nll(torch.tensor(y), torch.tensor(mu), 0.3).numpy(), ref, atol=1e-12)
    assert abs(float(gaussian_nll(torch.tensor(y), torch.tensor(mu), 0.3)) - np.mean(ref)) < 1e-12


def test_hidden_widths_define_the_layers():
    net = HamiltonianMLP(4, (8, 5, 3), 1.0, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert [tuple(layer.mean.shape) for layer in net.layers] == [(8, 4), (5, 8), (3, 5), (1, 3)]


def test_vector_field_is_the_symplectic_gradient():
    net = HamiltonianMLP(4, (16, 16), 1.0, generator=torch.Generator().manual_seed(0), dtype=F64)
    hnn = SymmetricHNN(net, None)
    w = net.mean_weights()
    x = torch.randn(1, 3, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    f = hamiltonian_vector_field(net, w, None, hnn.J, create_graph=False)(x)
    eps = 1e-6
    g = torch.stack([(hnn.hamiltonian(x + eps * e, w, None) - hnn.hamiltonian(x - eps * e, w, None)) / (2 * eps)
                     for e in torch.eye(4, dtype=F64)], dim=-1)
    expected = torch.cat([g[..., 2:], -g[..., :2]], dim=-1)  # J grad H = (dH/dp, -dH/dq)
    np.testing.assert_allclose(f.detach().numpy(), expected.detach().numpy(), atol=1e-8)


def test_rk4_is_fifth_order_locally_and_euler_second_and_steps_may_differ_per_row():
    system = HarmonicOscillators(1)
    x0 = torch.tensor([[[0.4, -0.9]]], dtype=F64)

    def field(x):
        return torch.as_tensor(system.vector_field(x.numpy()))

    exact = lambda h: torch.tensor(system.trajectories(x0[0].numpy(), 1, h)[:, -1])  # noqa: E731
    for method, order in (("rk4", 5), ("euler", 2)):
        errs = [float((integrate(field, x0, h, 1, method)[0] - exact(h)).norm()) for h in (0.2, 0.1)]
        assert abs(math.log2(errs[0] / errs[1]) - order) < 0.3
    two = torch.cat([x0, x0], dim=1)
    out = integrate(field, two, torch.tensor([[0.2], [-0.2]], dtype=F64), 4, "rk4")
    np.testing.assert_allclose(out[0, 0].numpy(), system.trajectories(x0[0].numpy(), 1, 0.2)[0, -1], atol=1e-6)
    back = system.trajectories(out[0, 1][None].numpy(), 1, 0.2)[0, -1]  # -dt integrates backwards
    np.testing.assert_allclose(back, x0[0, 0].numpy(), atol=1e-6)
