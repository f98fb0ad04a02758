"""Candidate conserved quantities from the transitions."""

import numpy as np
import pytest

from varembed.razor import HarmonicOscillators, NBody, transitions, true_conserved_subspace
from varembed.razor.proposals import conservation_candidates


@pytest.mark.parametrize("system", [HarmonicOscillators(2, [1.0, 1.7]), HarmonicOscillators(2), NBody(2, 3)])
def test_the_first_candidates_span_the_true_subspace_on_noiseless_data(system):
    traj = system.trajectories(system.initial_conditions(30, seed=0), 10, 0.2)
    rows = transitions(traj)
    cand, change = conservation_candidates(rows[:, : system.dim], rows[:, system.dim :])
    true = true_conserved_subspace(system)
    r = true.rank
    np.testing.assert_allclose(np.linalg.norm(cand[:r] @ true.basis.T, axis=1), 1.0, atol=1e-6)
    assert np.all(np.diff(change) >= 0) and change[r] > 1e3 * max(change[r - 1], 1e-12)
    np.testing.assert_allclose(np.linalg.norm(cand, axis=1), 1.0)
