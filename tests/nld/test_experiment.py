"""The demo experiment: regimes, overrides, the random policy and the progress bar."""

import numpy as np
import pytest
import torch

from varembed.nld.experiment import REGIMES, bn_mlp, gaussian_mixture, run_batchnorm_experiment, train


def test_seeds_follow_the_one_random_policy():
    """Same random_state, same data and weights; a torch.Generator is threaded through as it is."""
    a, b = gaussian_mixture(64, random_state=3), gaussian_mixture(64, random_state=3)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], gaussian_mixture(64, random_state=4)[0])
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(bn_mlp(4, 3, 2, random_state=g1)[0].weight, bn_mlp(4, 3, 2, random_state=g2)[0].weight)


def test_train_shows_a_progress_bar_only_when_asked(capsys):
    X, y = gaussian_mixture(64, random_state=0)
    model = bn_mlp(32, 4, 5)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    train(model, opt, X, y, 3, batch_size=16)
    assert capsys.readouterr().err == ""
    losses = train(model, opt, X, y, 3, batch_size=16, progress="coherent: SGD")
    err = capsys.readouterr().err
    assert "coherent: SGD" in err and "/3" in err and losses.shape == (3,) and np.all(np.isfinite(losses))


def test_overrides_make_a_custom_run_and_bad_settings_are_refused():
    res = run_batchnorm_experiment("coherent", steps=3, hidden=4, batch_size=None)
    assert res.regime == "custom" and "batch_size=None" in res.description
    assert res.params["batch_size"] is None and res.params["lr"] == REGIMES["coherent"][1]["lr"]
    assert res.history.charge.shape == (4, 4) and res.losses.shape == (3,)
    assert res.symmetry.families[0].kind == "scale"
    with pytest.raises(TypeError, match="unknown settings"):
        run_batchnorm_experiment("coherent", steps=3, nesterov=True)
    with pytest.raises(ValueError, match="regime"):
        run_batchnorm_experiment("chaotic", steps=3)
    with pytest.raises(ValueError, match="steps"):
        run_batchnorm_experiment("noisy", steps=0)
