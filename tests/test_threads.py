"""Thread policy: small problems run on one thread, the caller's setting is restored."""

import numpy as np
import pytest
import torch

from varembed import LinearVariationalEmbedding, VariationalEmbedding
from varembed._utils.threads import SMALL_WORK, resolve_n_jobs, torch_threads


def test_resolution_rules():
    assert resolve_n_jobs(None, work=1e6) == 1
    assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(3) == 3
    assert resolve_n_jobs(-1) >= 1 and resolve_n_jobs(None, work=10 * SMALL_WORK) == resolve_n_jobs(-1)
    with pytest.raises(ValueError, match="n_jobs=0"):
        resolve_n_jobs(0)
    with pytest.raises(TypeError):
        resolve_n_jobs(1.5)


def test_fit_and_transform_use_the_chosen_count_and_restore_the_callers():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    seen = []
    est = VariationalEmbedding(hidden=(8,), max_iter=10, init="linear", random_state=0,
                               callback=lambda it, obj, e: seen.append(torch.get_num_threads()) and False)
    X = np.random.default_rng(0).normal(size=(60, 3))
    est.fit(X)
    assert seen and set(seen) == {1}  # a small problem: one thread during training
    assert torch.get_num_threads() == before
    with torch_threads(2):
        assert torch.get_num_threads() == 2
        assert all(pool["num_threads"] <= 2 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    LinearVariationalEmbedding(2, n_jobs=1).fit(X).transform(X)
    assert torch.get_num_threads() == before
