"""Ground truth of the Noether's Razor systems: data, oracles, conserved subspaces."""

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

from varembed.core.hamiltonian import bracket_residual_ratio, conserved_quadratics, quadratic_coordinates
from varembed.razor import HarmonicOscillators, NBody, make_splits, oracle_generators
from varembed.razor.analysis import analyse_generators, true_conserved_subspace
from varembed.razor.symmetrisation import ConservedQuantities


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_oscillators_have_n_squared_conserved_quadratics(n):
    sub = true_conserved_subspace(HarmonicOscillators(n))
    assert sub.rank == n * n
    assert sub.gap > 1e6


def test_planar_three_body_has_seven_conserved_quadratics():
    # P_x, P_y, L, P_x^2, P_y^2, P_x P_y and the centre-of-mass angular momentum (razor.md 3.6)
    sub = true_conserved_subspace(NBody(2, 3))
    assert sub.rank == 7
    assert sub.gap > 1e6


def test_unequal_frequencies_break_u_n_down_to_the_energies():
    # incommensurate frequencies: only the n individual energies survive
    sub = true_conserved_subspace(HarmonicOscillators(3, frequencies=[1.0, np.sqrt(2.0), np.pi]))
    assert sub.rank == 3


@pytest.mark.parametrize("system", [HarmonicOscillators(3), NBody(2, 3)])
def test_oracle_generators_commute_with_h_and_lie_in_true_subspace(system):
    a, b = oracle_generators(system)
    pts = system.initial_conditions(200, seed=3)
    assert bracket_residual_ratio(a, b, system.grad, pts).max() < 1e-13
    true = true_conserved_subspace(system)
    coords = quadratic_coordinates(a, b)
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(coords @ true.basis.T, axis=1), 1.0, atol=1e-10)


def test_u_n_oracle_spans_the_whole_conserved_subspace():
    system = HarmonicOscillators(3)
    a, b = oracle_generators(system)
    true = true_conserved_subspace(system)
    angles = subspace_angles(quadratic_coordinates(a, b).T, true.basis.T)
    assert angles.shape == (9,) and np.max(angles) < 1e-8


def test_nbody_gradient_matches_finite_differences():
    system = NBody(2, 3, softening=0.7)
    x = system.initial_conditions(4, seed=1)
    eps = 1e-6
    fd = np.stack([(system.hamiltonian(x + eps * e) - system.hamiltonian(x - eps * e)) / (2 * eps)
                   for e in np.eye(system.dim)], axis=1)
    np.testing.assert_allclose(system.grad(x), fd, atol=1e-8)


@pytest.mark.parametrize("system", [HarmonicOscillators(2), NBody(2, 3)])
def test_trajectories_conserve_energy(system):
    traj = system.trajectories(system.initial_conditions(3, seed=0), 20, 0.2)
    h = system.hamiltonian(traj)
    assert np.max(np.abs(h - h[:, :1])) < 1e-8


def test_oscillator_trajectory_matches_closed_form():
    system = HarmonicOscillators(1)
    x0 = np.array([[0.3, -0.7]])
    traj = system.trajectories(x0, 5, 0.2)[0]
    t = 0.2 * np.arange(6)
    q = 0.3 * np.cos(t) - 0.7 * np.sin(t)
    p = -0.3 * np.sin(t) - 0.7 * np.cos(t)
    np.testing.assert_allclose(traj, np.stack([q, p], axis=1), atol=1e-9)


def test_splits_have_the_documented_shapes_and_independent_seeds():
    system = HarmonicOscillators(1)
    sp = make_splits(system, n_train=7, n_train_steps=4, n_test=10, n_test_steps=20, seed=5)
    assert sp.train.shape == (7, 5, 2) and sp.test.shape == (10, 21, 2)
    # the public code reused the training draws (rescaled) for the test set; here they are independent
    ratio = sp.test[:7, 0, 1] / sp.train[:, 0, 1]
    assert np.std(ratio) > 0.1
    assert np.mean(sp.test_moved[:, 0, 0]) > 0.5  # positions shifted by +1
    assert np.std(sp.test_wider[:, 0, 0]) > 2 * np.std(sp.test[:, 0, 0])


def test_so2_oracle_exponential_has_period_one():
    system = HarmonicOscillators(1)
    cq = ConservedQuantities(2, 1, fixed=oracle_generators(system), dtype=torch.float64)
    g = cq.group_elements(torch.tensor([[1.0]], dtype=torch.float64))[0]
    np.testing.assert_allclose(g.numpy(), np.eye(3), atol=1e-12)
    half = cq.group_elements(torch.tensor([[0.5]], dtype=torch.float64))[0].numpy()
    np.testing.assert_allclose(half[:2, :2], -np.eye(2), atol=1e-12)


@pytest.mark.parametrize("system", [HarmonicOscillators(2), NBody(2, 3)])
def test_oracle_flows_preserve_the_true_hamiltonian(system):
    cq = ConservedQuantities(system.dim, 0, fixed=oracle_generators(system), dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    eps = cq.sample_coordinates(1, 8, "ball", gen)[0]
    g = cq.group_elements(eps).numpy()
    x = system.initial_conditions(5, seed=2)
    moved = np.einsum("sij,bj->sbi", g[:, :-1, :-1], x) + g[:, None, :-1, -1]
    np.testing.assert_allclose(system.hamiltonian(moved), np.broadcast_to(system.hamiltonian(x), (8, 5)),
                               atol=1e-10)


def test_analysis_of_exact_generators_plus_a_wrong_one():
    system = HarmonicOscillators(2)
    a, b = oracle_generators(system)
    wrong = np.zeros((1, 4, 4))
    wrong[0, 0, 0] = 1.0  # q_1^2 alone is not conserved
    rep = analyse_generators(np.concatenate([a, 1e-4 * wrong]), np.zeros((5, 4)), system)
    assert rep.rank == 4 and rep.gap > 1e3 and rep.true_dim == 4
    np.testing.assert_allclose(rep.parallelness, 1.0, atol=1e-6)
    assert rep.bracket_residuals[:4].max() < 1e-12 and rep.bracket_residuals[4] > 0.1


def test_conserved_quadratics_rejects_bad_points():
    with pytest.raises(ValueError, match="NaN"):
        conserved_quadratics(HarmonicOscillators(1).grad, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="shape"):
        conserved_quadratics(HarmonicOscillators(1).grad, np.zeros((5, 3)))


def test_rank_estimate_by_largest_gap_and_by_threshold():
    from varembed.razor.analysis import estimate_rank

    s = np.array([5.0, 3.0, 0.4, 0.2, 0.01, 0.009])
    assert estimate_rank(s) == (4, pytest.approx(20.0))
    assert estimate_rank(s, rtol=0.1)[0] == 2
    assert estimate_rank(np.array([2.0, 1.0, 0.0]))[0] == 2  # exact zeros fall below the floor
    assert estimate_rank(np.array([1.0]))[0] == 1
    assert estimate_rank(np.zeros(3))[0] == 0
