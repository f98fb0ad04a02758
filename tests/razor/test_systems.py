"""Ground truth of the razor systems: Hamiltonians, gradients, trajectories, conserved subspaces."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from varembed.razor import (
    HarmonicOscillators,
    NBody,
    QuadraticOscillators,
    anisotropic_oscillator,
    coupled_oscillators,
    oracle_generators,
    true_conserved_subspace,
)
from varembed.razor.oracles import euclidean_generators, unitary_generators
from varembed.razor.phase_space import bracket_residual_ratio, quadratic_coordinates


@pytest.mark.parametrize(
    "system, rank",
    [
        (HarmonicOscillators(3, [1.0, 1.7, 2.4]), 3),  # distinct frequencies: the three energies
        (HarmonicOscillators(3), 9),  # equal: u(3)
        (HarmonicOscillators(3, [1.0, 1.0, 1.7]), 5),  # partly degenerate: u(2) + u(1)
        (HarmonicOscillators(2, [1.0, 1.7]), 2),
        (coupled_oscillators(3, coupling=1.0), 3),  # the normal-mode energies
        (anisotropic_oscillator((1.0, 1.7)), 2),
        (NBody(2, 3), 7),  # P_x, P_y, L, the three products of P, the centre-of-mass angular momentum
        (NBody(2, 3, field=0.5), 5),  # L and the u(2) of the centre of mass, which now oscillates
    ],
)
def test_true_conserved_subspace_ranks(system, rank):
    sub = true_conserved_subspace(system)
    assert sub.rank == rank and sub.gap > 1e6


def test_coupled_oscillators_conserve_normal_modes_not_individual_energies():
    system = coupled_oscillators(3, coupling=1.0)
    np.testing.assert_allclose(system.frequencies, [1.0, np.sqrt(2.0), 2.0], atol=1e-12)
    a = np.zeros((1, 6, 6))
    a[0, 0, 0] = a[0, 3, 3] = 1.0  # the first oscillator's own energy
    assert bracket_residual_ratio(a, np.zeros((1, 6)), system.grad, system.initial_conditions(50, seed=0)) > 0.05


@pytest.mark.parametrize("system", [HarmonicOscillators(3), NBody(2, 3)])
def test_paper_oracles_lie_in_the_true_subspace(system):
    a, b = unitary_generators(3) if isinstance(system, HarmonicOscillators) else euclidean_generators(3)
    assert bracket_residual_ratio(a, b, system.grad, system.initial_conditions(200, seed=3)).max() < 1e-13
    coords = quadratic_coordinates(a, b)
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    true = true_conserved_subspace(system)
    np.testing.assert_allclose(np.linalg.norm(coords @ true.basis.T, axis=1), 1.0, atol=1e-10)


def test_oracle_generators_are_the_true_subspace():
    system = HarmonicOscillators(3, [1.0, 1.0, 1.7])
    a, b = oracle_generators(system)
    true = true_conserved_subspace(system)
    assert a.shape == (5, 6, 6)
    assert np.max(subspace_angles(quadratic_coordinates(a, b).T, true.basis.T)) < 1e-8


@pytest.mark.parametrize("system", [NBody(2, 3, softening=0.7), NBody(2, 3, field=0.5), coupled_oscillators(3)])
def test_gradients_match_finite_differences(system):
    x = system.initial_conditions(4, seed=1)
    eps = 1e-6
    fd = np.stack([(system.hamiltonian(x + eps * e) - system.hamiltonian(x - eps * e)) / (2 * eps)
                   for e in np.eye(system.dim)], axis=1)
    np.testing.assert_allclose(system.grad(x), fd, atol=1e-7)


@pytest.mark.parametrize("system", [HarmonicOscillators(2, [1.0, 1.7]), NBody(2, 3, field=0.5)])
def test_trajectories_conserve_energy(system):
    traj = system.trajectories(system.initial_conditions(3, seed=0), 20, 0.2)
    h = system.hamiltonian(traj)
    assert np.max(np.abs(h - h[:, :1])) < 1e-8


def test_oscillator_trajectory_matches_closed_form():
    system = HarmonicOscillators(1, [2.0])
    traj = system.trajectories(np.array([[0.3, -0.7]]), 5, 0.2)[0]
    t = 0.2 * np.arange(6)
    q = 0.3 * np.cos(2 * t) - 0.35 * np.sin(2 * t)
    p = -0.6 * np.sin(2 * t) - 0.7 * np.cos(2 * t)
    np.testing.assert_allclose(traj, np.stack([q, p], axis=1), atol=1e-9)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: HarmonicOscillators(2, [1.0, -1.0]), "positive"),
        (lambda: QuadraticOscillators(np.array([[1.0, 2.0], [0.0, 1.0]])), "symmetric"),
        (lambda: QuadraticOscillators(-np.eye(2)), "positive definite"),
        (lambda: coupled_oscillators(1), "n=1"),
    ],
)
def test_bad_systems_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()
