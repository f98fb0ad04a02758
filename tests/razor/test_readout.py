"""Reading the reported conserved quantities: posterior z-scores and the bracket closure."""

import numpy as np

from varembed.razor import HarmonicOscillators
from varembed.razor.oracles import oracle_generators, unitary_generators
from varembed.razor.phase_space import quadratic_coordinates
from varembed.razor.readout import compare, lie_closure, spectrum_read_out


def test_posterior_z_scores_drop_directions_within_their_uncertainty():
    rng = np.random.default_rng(0)
    mean = np.zeros((4, 10))
    mean[0, 0], mean[1, 1] = 1.0, 0.8
    mean[2:] = 0.01 * rng.normal(size=(2, 10))  # switched-off slots, within their posterior spread
    std = np.full((4, 10), 0.02)
    rank, basis, s, z, decision = spectrum_read_out(mean, std)
    assert rank == 2 and decision.rule == "null"
    assert z[0] > 30 and z[-1] < 3
    np.testing.assert_allclose(np.abs(basis), np.eye(10)[:2], atol=1e-3)
    assert spectrum_read_out(mean)[0] == 2  # point estimates: the gap rule


def test_three_generic_u2_directions_close_to_u2_and_commuting_energies_stay():
    coords = quadratic_coordinates(*unitary_generators(2))
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    mix = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))[0][:3] @ coords
    assert lie_closure(mix, 4).shape[0] == 4
    energies = coords[[0, 3]]  # q1^2 + p1^2 and q2^2 + p2^2 Poisson-commute
    assert lie_closure(energies, 4).shape[0] == 2


def test_compare_reports_parallelness_and_drift():
    system = HarmonicOscillators(2, [1.0, 1.7])
    a, b = oracle_generators(system)
    basis = quadratic_coordinates(a, b)
    traj = system.trajectories(system.initial_conditions(10, seed=0), 10, 0.2)
    out = compare(basis, system, traj)
    np.testing.assert_allclose(out["parallelness"], 1.0, atol=1e-10)
    assert out["true_dim"] == 2 and out["drift"].max() < 1e-6 and out["principal_angles"].max() < 1e-5
