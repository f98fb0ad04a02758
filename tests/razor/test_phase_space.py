"""Poisson matrix, brackets, conserved quadratics, bracket closure and drift ratios."""

import numpy as np
import pytest
import torch

from varembed.razor import HarmonicOscillators
from varembed.razor.oracles import unitary_generators
from varembed.razor.phase_space import (
    bracket_residual_ratio,
    conserved_quadratics,
    drift_ratio,
    poisson_matrix,
    poisson_tensor,
    quadratic_bracket,
    quadratic_coordinates,
    quadratic_from_coordinates,
    quadratic_values,
)


def test_poisson_matrix_is_canonical_for_even_and_has_a_casimir_for_odd_dimension():
    j = poisson_matrix(4)
    np.testing.assert_array_equal(j, [[0, 0, 1, 0], [0, 0, 0, 1], [-1, 0, 0, 0], [0, -1, 0, 0]])
    j5 = poisson_matrix(5)
    np.testing.assert_array_equal(j5[:4, :4], j)
    assert not j5[4].any() and not j5[:, 4].any()  # the last coordinate never moves
    np.testing.assert_array_equal(poisson_tensor(5).numpy(), j5)  # one definition for numpy and torch
    assert poisson_tensor(3, dtype=torch.float32).dtype == torch.float32


def test_coordinates_round_trip_and_values():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(3, 14))
    a, b = quadratic_from_coordinates(c, 4)
    np.testing.assert_allclose(quadratic_coordinates(a, b), c, atol=1e-12)
    x = rng.normal(size=(5, 4))
    expected = 0.5 * np.einsum("ni,kij,nj->kn", x, a, x) + b @ x.T
    np.testing.assert_allclose(quadratic_values(c, x), expected, atol=1e-12)


def test_quadratic_bracket_matches_the_pointwise_bracket():
    rng = np.random.default_rng(1)
    ca, cb = rng.normal(size=(2, 14)), rng.normal(size=(2, 14))
    x = rng.normal(size=(6, 4))
    a1, b1 = quadratic_from_coordinates(ca, 4)
    a2, b2 = quadratic_from_coordinates(cb, 4)
    j = poisson_matrix(4)
    pointwise = np.einsum("kni,ij,knj->kn", np.einsum("kij,nj->kni", a1, x) + b1[:, None],
                          j, np.einsum("kij,nj->kni", a2, x) + b2[:, None])
    constant = np.einsum("ki,ij,kj->k", b1, j, b2)[:, None]
    np.testing.assert_allclose(quadratic_values(quadratic_bracket(ca, cb, 4), x), pointwise - constant,
                               atol=1e-10)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_unit_oscillators_conserve_u_n(n):
    system = HarmonicOscillators(n)
    sub = conserved_quadratics(system.grad, system.initial_conditions(100, seed=0))
    assert sub.rank == n * n and sub.gap > 1e6


def test_drift_ratio_is_zero_for_energies_and_large_for_a_wrong_quantity():
    system = HarmonicOscillators(2, [1.0, 1.7])
    traj = system.trajectories(system.initial_conditions(20, seed=0), 30, 0.2)
    energies = quadratic_coordinates(np.array([np.diag([1.0, 0, 1, 0]), np.diag([0, 1.7**2, 0, 1.0])]))
    energies = np.concatenate([energies, np.zeros((2, 4))], axis=1)
    assert drift_ratio(energies, traj).max() < 1e-8
    cross = quadratic_coordinates(unitary_generators(2)[0][1:3], np.zeros((2, 4)))  # q1 p2 - q2 p1, q1 q2 + p1 p2
    assert drift_ratio(cross, traj).min() > 0.2


def test_bracket_residual_ratio_separates_conserved_from_broken():
    system = HarmonicOscillators(2, [1.0, 1.7])
    a, b = unitary_generators(2)
    ratio = bracket_residual_ratio(a, b, system.grad, system.initial_conditions(200, seed=0))
    assert ratio[0] < 1e-12 and ratio[1] > 0.05 and ratio[2] > 0.05


def test_conserved_quadratics_rejects_bad_points():
    with pytest.raises(ValueError, match="NaN"):
        conserved_quadratics(HarmonicOscillators(1).grad, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="shape"):
        conserved_quadratics(HarmonicOscillators(1).grad, np.zeros(5))
