"""The one rank rule (count_zero) and invariant subspaces on constructed spectra."""

import numpy as np
import pytest

from varembed.core.symmetry import count_zero, invariant_subspace


def test_tolerance_modes_count_values_at_or_below_threshold():
    s = [1e-12, 3e-9, 0.2, 1.0]
    assert count_zero(s, tol=1e-8).n_zero == 2
    assert count_zero(s, rtol=1e-10).n_zero == 1
    assert count_zero(s, n_zero=3).n_zero == 3


def test_gap_rule_finds_the_largest_ratio_and_is_scale_free():
    s = np.array([2e-5, 3e-5, 0.4, 0.5, 0.9])
    for scale in (1e-6, 1.0, 1e6):
        d = count_zero(s * scale)
        assert d.n_zero == 2 and d.rule == "gap"
        assert d.gap == pytest.approx(0.4 / 3e-5)
    # nothing small: no zero at all when every value is above the floor and the spectrum is flat
    assert count_zero([0.5, 0.6, 0.7, 0.8]).n_zero == 0


def test_null_rule_keeps_values_consistent_with_sampling_noise():
    s = np.array([0.01, 0.02, 0.03, 0.5])
    d = count_zero(s, null_scale=0.01, z_crit=3.0)
    assert d.n_zero == 3 and d.rule == "null"
    np.testing.assert_allclose(d.z_scores, s / 0.01)
    # per-value spreads: the second value is many of its own standard errors away
    assert count_zero(s, null_scale=[0.01, 0.001, 0.01, 0.01]).n_zero == 1


def test_invariant_subspace_null_space_of_a_known_matrix():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    r = rng.normal(size=(40, 3)) @ basis[:, 2:].T  # columns 0, 1 of the basis are in the null space
    sub = invariant_subspace(r, tol=1e-10)
    assert sub.rank == 2
    angles = np.linalg.svd(sub.basis @ basis[:, :2])[1]
    np.testing.assert_allclose(angles, 1.0, atol=1e-10)
    noisy = r + 1e-3 * rng.normal(size=r.shape) / np.sqrt(40)
    assert invariant_subspace(noisy, null_scale=1e-3).rank == 2
    assert invariant_subspace(noisy, tol=1e-10).rank == 0
