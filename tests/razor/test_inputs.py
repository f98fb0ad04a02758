"""Transition layouts of the estimator."""

import numpy as np
import pytest

from varembed.razor import transitions
from varembed.razor.inputs import check_hidden, is_trajectory_array, split_rows


def test_transitions_pair_consecutive_states_trajectory_by_trajectory():
    traj = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    rows = transitions(traj)
    np.testing.assert_array_equal(rows, [[0, 1, 2, 3], [2, 3, 4, 5], [6, 7, 8, 9], [8, 9, 10, 11]])
    timed = transitions(traj, times=[0.0, 0.1, 0.3])
    np.testing.assert_allclose(timed[:, -1], [0.1, 0.2, 0.1, 0.2])
    x, y, dt = split_rows(timed)
    np.testing.assert_array_equal(x, rows[:, :2])
    np.testing.assert_array_equal(y, rows[:, 2:])
    np.testing.assert_allclose(dt, timed[:, -1])
    assert split_rows(rows)[2] is None


def test_layout_detection_and_errors():
    assert is_trajectory_array(np.zeros((2, 3, 4))) and not is_trajectory_array(np.zeros((2, 3)))
    assert is_trajectory_array([[[0.0, 1.0]] * 2] * 2)
    with pytest.raises(ValueError, match="two states"):
        transitions(np.zeros((2, 1, 2)))
    with pytest.raises(ValueError, match="times"):
        transitions(np.zeros((2, 3, 2)), times=[0.0, 1.0])
    with pytest.raises(ValueError, match="cannot"):
        split_rows(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="hidden"):
        check_hidden((8, 0))
    assert check_hidden([4, 5]) == (4, 5)
