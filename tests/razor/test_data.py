"""Train / test splits of the razor experiments."""

import numpy as np

from varembed.razor import HarmonicOscillators, make_splits


def test_splits_have_the_documented_shapes_and_independent_seeds():
    sp = make_splits(HarmonicOscillators(1), n_train=7, n_train_steps=4, n_test=10, n_test_steps=20, seed=5)
    assert sp.train.shape == (7, 5, 2) and sp.test.shape == (10, 21, 2)
    # the public code reused the training draws (rescaled) for the test set; here they are independent
    assert np.std(sp.test[:7, 0, 1] / sp.train[:, 0, 1]) > 0.1
    assert np.mean(sp.test_moved[:, 0, 0]) > 0.5  # positions shifted by +1
    assert np.std(sp.test_wider[:, 0, 0]) > 2 * np.std(sp.test[:, 0, 0])
    assert set(sp.tests()) == {"test", "test_wider", "test_moved"}
