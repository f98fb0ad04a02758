"""The razor selects the symmetry the data have: distinct vs equal frequencies (small CPU runs).

The full ablation (nine systems, learned / MAP / vanilla / oracle) is
``python -m varembed razor --ablation``; these tests check the selection
itself on two oscillators within the CI budget.
"""

import numpy as np
import pytest

from varembed.razor.experiment import run_system

#: Shorter than the ablation presets (400 + 300 steps) to keep CI cheap; the same budgets as the
#: gallery example.  Measured margins at these budgets: accepted spans at z >= 32, the wrong
#: 14-dimensional span at z <= -47, learned MSE 2-11x below vanilla's on the three test sets, drift <= 4e-4.
FAST = dict(selection_iter=250, max_iter=150, n_test=30)


@pytest.fixture(scope="module")
def distinct():
    return run_system("distinct2", arms=("learned", "vanilla"), overrides=FAST)


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
    _, _, (learned,) = run_system("equal2", arms=("learned",), overrides=FAST)
    sym = learned.symmetries
    assert sym.rank == 4 == sym.true_dim, learned.selection
    assert sym.min_parallelness >= 0.99
    assert np.max(sym.drift) <= 1e-2
