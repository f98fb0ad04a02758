"""The verdicts say in words where each predictor works, and flip where its assumption fails."""

import numpy as np
import pytest
import torch

from varembed.nld import NoetherTracker, assess, find_symmetries
from varembed.nld.experiment import bn_mlp, train

from .conftest import D1


def test_closed_form_verdict_flips_between_coherent_and_noisy_runs(sgd, momentum):
    """beta = 0 (kappa = 1): the closed form holds; beta = 0.9 with minibatch noise: it fails, and says why."""
    coherent, noisy = assess(sgd["scale"]), assess(momentum["scale"])
    held, failed = coherent.verdict("NLD closed form"), noisy.verdict("NLD closed form")
    assert held.status == "holds" and "assumption of coherent gradients holds" in held.reason
    assert "median kappa = 1.00" in held.reason and held.error < 2e-3
    assert failed.status == "fails" and "coherent gradients (kappa ~ 1) fails here" in failed.reason
    assert "momentum buffer" in failed.reason and failed.error > 1.0
    k_med = float(np.nanmedian(noisy.kappa))
    assert k_med < 0.2 and f"median kappa = {k_med:.2f}" in failed.reason
    # the other two predictors hold in both runs (eps = 1e-12: the recursion is round-off exact)
    for a in (coherent, noisy):
        assert a.verdict("exact recursion").status == "holds" and "round-off" in a.verdict("exact recursion").reason
        assert a.verdict("modified equation").status == "holds" and a.errors["modified equation"] < 2e-3
    assert f"({100 * failed.error:.0f}%)" in failed.line() and f"{held.error:.1e}" in held.line()


def test_recursion_verdict_names_the_batchnorm_eps():
    """eps = 1e-5 breaks the scale symmetry at O(eps/var): the recursion is then 'approximate', and says why."""
    X, y = D1[0][:1024], D1[1][:1024]
    verdicts = {}
    for eps in (1e-12, 1e-5):
        model = bn_mlp(32, 8, 5, eps=eps, random_state=0)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-3)
        tracker = NoetherTracker(model, opt, [f for f in find_symmetries(model) if f.kind == "scale"])
        train(model, opt, X, y, 30, batch_size=128, random_state=1)
        verdicts[eps] = assess(tracker.history()[0])
    exact, broken = verdicts[1e-12].verdict("exact recursion"), verdicts[1e-5].verdict("exact recursion")
    assert exact.status == "holds" and exact.error < 1e-11
    assert broken.status == "approximate" and 1e-8 < broken.error < 1e-3
    assert "BatchNorm eps=1e-05" in broken.reason and "in proportion to eps" in broken.reason
    assert 1e-7 < verdicts[1e-5].violation < 1e-3 and verdicts[1e-12].violation < 1e-10


def test_line_wraps_without_splitting_equalities(momentum):
    line = assess(momentum["scale"]).verdict("NLD closed form").line(width=60)
    assert all(len(row) <= 60 for row in line.splitlines()) and len(line.splitlines()) > 2
    assert "kappa =" in line and not any(row.rstrip().endswith("=") for row in line.splitlines())
    with pytest.raises(KeyError, match="no verdict"):
        assess(momentum["translation"]).verdict("NLD closed form")


@pytest.mark.parametrize("err, kappa, beta, status, phrase", [
    (0.58, 1.24, 0.9, "fails", "drops the inertia term"),  # digits, full batch, eta = 0.05: measured 58%
    (0.10, 1.00, 0.9, "approximate", "terminal velocity"),
    (0.01, 1.00, 0.9, "holds", "coherent gradients holds"),
    (2.20, 0.08, 0.9, "fails", "momentum buffer"),
    (0.90, 0.30, 0.0, "fails", "not the gradient"),
])
def test_closed_form_verdict_rules(err, kappa, beta, status, phrase):
    from varembed.nld.verdicts import _closed_form

    v = _closed_form(err, np.full((10, 3), kappa), beta, 0.5)
    assert v.status == status and phrase in v.reason and v.error == err


def test_format_error():
    from varembed.nld.verdicts import format_error

    assert [format_error(e) for e in (1.23e-4, 0.048, 0.58, 2.226)] == ["1.2e-04", "0.048 (4.8%)", "0.58 (58%)",
                                                                         "2.2 (223%)"]
