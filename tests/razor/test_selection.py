"""The razor selects the symmetry the data have: distinct vs equal frequencies (small CPU runs).

The full ablation (nine systems, learned / MAP / vanilla / oracle) is
``python -m varembed razor --ablation``; these tests check the selection
itself on two oscillators within the CI budget.
"""

import numpy as np
import pytest

from varembed.razor.experiment import run_system


@pytest.fixture(scope="module")
def distinct():
    return run_system("distinct2", arms=("learned", "vanilla"))


@pytest.mark.slow
def test_distinct_frequencies_give_the_two_energies_only(distinct):
    system, splits, (learned, vanilla) = distinct
    sym = learned.symmetries
    assert sym.true_dim == 2
    assert sym.rank == 2, learned.selection
    assert sym.min_parallelness >= 0.95
    assert sym.max_drift <= 1e-2  # conserved along held-out true trajectories, relative to their spread
    # the wrong hypothesis (a mixing generator and its closure) was tried and rejected by the bound
    assert any(not t["accepted"] for t in learned.selection["trials"])


@pytest.mark.slow
def test_the_learned_model_predicts_better_than_vanilla(distinct):
    _, _, (learned, vanilla) = distinct
    for key in ("test", "test_wider", "test_moved"):
        assert learned.test_mse[key] <= vanilla.test_mse[key], key
    assert learned.train["neg_elbo"] < vanilla.train["neg_elbo"]


@pytest.mark.slow
def test_equal_frequencies_give_all_of_u2():
    _, _, (learned,) = run_system("equal2", arms=("learned",))
    sym = learned.symmetries
    assert sym.rank == 4 == sym.true_dim, learned.selection
    assert sym.min_parallelness >= 0.99
    assert np.max(sym.drift) <= 1e-2
