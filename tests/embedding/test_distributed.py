"""Data-parallel training with torch.distributed (gloo, two CPU processes).

The check: two ranks with 64 latent samples each end with identical parameters (every
step is the same on both), and their fit agrees with single-process fits of the same
total batch (128) within Monte-Carlo noise -- its objective lies within three standard
deviations of the objectives of three single-process fits with different random streams,
and its codes correlate with theirs as closely as theirs correlate with one another.
"""

import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from varembed import VariationalEmbedding

SETTINGS = dict(hidden=(16,), max_iter=80, init="linear", prior_scale=1.0, n_iter_no_change=None,
                device="cpu", learning_rate=3e-3)


def _data():
    t = np.random.default_rng(0).uniform(-1, 1, 200)
    return np.c_[t, t**2, 0.3 * np.sin(3 * t)] + 0.03 * np.random.default_rng(1).normal(size=(200, 3))


def _worker(rank, world_size, path, out):
    dist.init_process_group("gloo", init_method=f"file://{path}", rank=rank, world_size=world_size)
    try:
        est = VariationalEmbedding(distributed=True, batch_size=64, random_state=0, **SETTINGS).fit(_data())
        flat = torch.cat([p.reshape(-1) for p in est.map_.parameters()]).numpy()
        np.savez(f"{out}_{rank}.npz", params=flat, objective=est.objective_, codes=est.transform(_data()))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_ranks_agree_with_a_single_process_fit(tmp_path):
    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), out), nprocs=2, join=True)
    r0, r1 = (np.load(f"{out}_{r}.npz") for r in (0, 1))
    np.testing.assert_array_equal(r0["params"], r1["params"])
    singles = [VariationalEmbedding(batch_size=128, random_state=s, **SETTINGS).fit(_data()) for s in (0, 1, 2)]
    objs = np.array([e.objective_ for e in singles])
    spread = max(float(objs.std(ddof=1)), 1e-3 * abs(float(objs.mean())))
    assert abs(float(r0["objective"]) - objs.mean()) <= 3 * spread + 1e-3 * abs(float(objs.mean()))

    def corr(a, b):  # codes agree up to the latent gauge: compare distance matrices
        from scipy.spatial.distance import pdist

        return np.corrcoef(pdist(a), pdist(b))[0, 1]

    codes = [e.transform(_data()) for e in singles]
    between_singles = min(corr(codes[i], codes[j]) for i in range(3) for j in range(i + 1, 3))
    assert min(corr(r0["codes"], c) for c in codes) >= between_singles - 0.02


def test_distributed_without_a_process_group_is_a_clear_error():
    with pytest.raises(RuntimeError, match="init_process_group"):
        VariationalEmbedding(distributed=True, max_iter=2, hidden=(4,), init="linear", device="cpu").fit(_data())
