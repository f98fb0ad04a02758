"""Predicted against measured Noether charges under SGD (nld.md section 5.2, float64).

Rows T0-T5 of the note's test matrix; the recorded runs are the session fixtures of conftest.py.
"""

import warnings

import numpy as np
import pytest
import torch

from varembed.nld import (
    NoetherTracker,
    find_symmetries,
    predict_discrete,
    predict_modified_equation,
    predict_nld,
    relative_error,
    steady_state,
)
from varembed.nld.experiment import bn_mlp, gaussian_mixture, train

from .conftest import D1

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _relative_identity(h):
    scale = np.sqrt(np.abs(h.grad_sq) * np.abs(h.charge[:-1]))
    return np.abs(h.identity) / np.maximum(scale, 1e-300)


# ---------------------------------------------------------------- T0: identities along training
def test_identities_every_step(sgd):
    """T0a/b/c: <g, xi> = 0 per minibatch and channel (eps = 1e-12).

    The scale residual is eps-limited (exactly linear in eps, see test_registry): 2.2e-12 at
    most over 3000 steps as weight decay shrinks r^2 to 0.05, 1.5e-13 median.
    """
    rel = _relative_identity(sgd["scale"])
    assert rel.max() < 5e-12 and np.median(rel) < 1e-12
    assert _relative_identity(sgd["rescale"]).max() < 1e-12
    assert np.abs(sgd["translation"].identity).max() < 1e-13
    assert np.abs(sgd["translation_bias"].identity).max() < 1e-13


# ---------------------------------------------------------------- T1: exact discrete recursions
@pytest.mark.parametrize("kind", ["scale", "rescale", "translation", "translation_bias"])
def test_discrete_recursion_sgd(sgd, kind):
    h = sgd[kind]
    assert relative_error(predict_discrete(h), h.charge) < 1e-11


@pytest.mark.parametrize("kind", ["scale", "rescale", "translation", "translation_bias"])
def test_discrete_recursion_momentum(momentum, kind):
    h = momentum[kind]
    assert relative_error(predict_discrete(h), h.charge) < 1e-11


def test_translation_is_data_free_power_law(sgd):
    """C_n = (1 - eta k)^n C_0 exactly (no dependence on data or batch)."""
    h = sgd["translation"]
    n = np.arange(h.charge.shape[0])[:, None]
    assert relative_error(h.charge[0] * (1 - 0.1 * 5e-3) ** n, h.charge) < 1e-11


# ---------------------------------------------------------------- T2: modified equation, measured source
@pytest.mark.parametrize("kind", ["scale", "rescale", "translation"])
def test_modified_equation_sgd(sgd, kind):
    h = sgd[kind]
    assert relative_error(predict_modified_equation(h), h.charge) < 2e-3
    assert relative_error(predict_modified_equation(h, source="gradient"), h.charge) < 2e-3


@pytest.mark.parametrize("kind", ["scale", "rescale", "translation"])
def test_modified_equation_momentum(momentum, kind):
    h = momentum[kind]
    assert relative_error(predict_modified_equation(h), h.charge) < 2e-3


@pytest.mark.parametrize("source", ["update", "gradient"])
def test_modified_equation_error_shrinks_with_eta(sgd, sgd_half, source):
    """At matched times t <= 75 the continuous error shrinks about in proportion to eta.

    RMS over channels and times (the max over a run is one noisy realisation: at t <= 150 its
    ratio spread 1.7-5.3 over four data seeds).  First order gives 2, second order 4.  Measured
    over four data seeds: 1.75-1.83 with |v|^2, 1.52-1.68 with |g|^2 (a part of the error is
    minibatch noise).
    """
    h1, h2 = sgd["scale"], sgd_half["scale"]
    e1 = ((predict_modified_equation(h1, source) - h1.charge) / h1.charge)[50:751]
    e2 = ((predict_modified_equation(h2, source) - h2.charge) / h2.charge)[::2][50:751]
    ratio = np.sqrt(np.mean(e1**2) / np.mean(e2**2))
    assert 1.3 < ratio < 3.0


def test_gradient_source_refuses_momentum(momentum):
    with pytest.raises(ValueError, match="momentum-free"):
        predict_modified_equation(momentum["scale"], source="gradient")
    with pytest.raises(ValueError, match="source"):
        predict_modified_equation(momentum["scale"], source="velocity")


# ---------------------------------------------------------------- T3: NLD closed form
def test_nld_closed_form_sgd(sgd):
    h = sgd["scale"]
    pred = predict_nld(h)
    assert np.all(pred.coherent)
    assert relative_error(pred.r2, h.charge) < 2e-3


def test_nld_closed_form_flags_incoherent_momentum(momentum):
    """T3'': with minibatch noise and beta = 0.9 the closed form over-predicts and says so."""
    h = momentum["scale"]
    with pytest.warns(UserWarning, match="incoherent"):
        pred = predict_nld(h)
    assert not np.any(pred.coherent)
    ratio = np.median(pred.r2[-1] / h.charge[-1])
    # noise-dominated bound sqrt((1+beta)/(1-beta)) = 4.36; the note measured 4.0-4.45
    assert 2.0 < ratio < np.sqrt(1.9 / 0.1) * 1.05


def test_nld_closed_form_momentum_full_batch(momentum_full_batch):
    """After the momentum start-up (10 / (1 - beta) steps) the closed form is within 5e-2 (measured 2.2e-2).

    Gradients are coherent (median kappa 0.92; 23 of 24 channels above 0.5, one oscillating
    channel at 0.33, whose r^2 the closed form still follows).
    """
    h = momentum_full_batch
    with pytest.warns(UserWarning, match="1/24 groups"):
        pred = predict_nld(h)
    assert np.mean(pred.coherent) > 0.9 and abs(np.median(pred.kappa) - 1) < 0.1
    rel = np.abs(pred.r2 / h.charge - 1)
    assert rel[100:].max() < 5e-2
    assert np.median(rel) < 2e-2


def test_nld_closed_form_momentum_full_batch_whole_run(momentum_full_batch):
    """Whole run within 5e-2 (measured 3.7e-2; note: 3.8e-2), the worst error in the momentum start-up.

    The closed form assumes the terminal velocity -g/(1-beta) from step 0, while PyTorch's momentum
    builds up over ~1/(1-beta) steps.
    """
    h = momentum_full_batch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rel = np.abs(predict_nld(h).r2 / h.charge - 1)
    assert rel.max() < 5e-2
    assert np.argmax(rel.max(1)) < 100 and rel[:100].max() > 1.3 * rel[100:].max()


# ---------------------------------------------------------------- T4: steady state
def test_steady_state_angular_update_and_radius(sgd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = steady_state(sgd["scale"], window=500)
    assert ss.angle_predicted == pytest.approx(np.sqrt(2 * 0.1 * 5e-3))
    assert ss.relaxation_steps == pytest.approx(1 / (4 * 0.1 * 5e-3))
    assert abs(ss.angle_measured / ss.angle_predicted - 1) < 0.10
    assert np.median(np.abs(ss.r2_measured / ss.r2_predicted - 1)) < 0.05


def test_steady_state_angular_update_with_momentum(momentum):
    """sqrt(2 eta k / (1 + beta)) holds whatever the noise (the note measured 0.0076 vs 0.0073)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = steady_state(momentum["scale"], window=500)
    assert ss.angle_predicted == pytest.approx(np.sqrt(2 * 0.05 * 1e-3 / 1.9))
    assert abs(ss.angle_measured / ss.angle_predicted - 1) < 0.10


def test_steady_state_warns_before_equilibrium_and_needs_weight_decay(momentum_full_batch):
    with pytest.warns(UserWarning, match="relaxation times"):
        steady_state(momentum_full_batch, window=100)  # 1000 steps < 3 (1 - beta) / (4 eta k) = 15000
    X, y = D1[0][:256], D1[1][:256]
    model = bn_mlp(32, 4, 5, eps=1e-12)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    tracker = NoetherTracker(model, opt, [f for f in find_symmetries(model) if f.kind == "scale"])
    train(model, opt, X, y, 3, batch_size=64)
    with pytest.raises(ValueError, match="weight decay"):
        steady_state(tracker.history()[0])


# ---------------------------------------------------------------- T5: KSB proportional to eta
def test_kinetic_symmetry_breaking_scales_with_eta():
    """No weight decay, full batch, fixed t = 1: the norm drift is linear in eta (measured ratio 10.005)."""
    X, y = D1[0][:256], D1[1][:256]
    drift = {}
    for lr, steps in ((1e-3, 1000), (1e-2, 100)):
        model = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        fams = [f for f in find_symmetries(model) if f.kind == "scale"]
        tracker = NoetherTracker(model, opt, fams)
        train(model, opt, X, y, steps, batch_size=None)
        h = tracker.history()[0]
        drift[lr] = np.mean(h.charge[-1] / h.charge[0] - 1)
        assert np.all(h.charge[-1] > h.charge[0])  # centrifugal growth
    assert abs(drift[1e-2] / drift[1e-3] - 10) < 1


# ---------------------------------------------------------------- what cannot be predicted
def test_predictors_refuse_what_they_cannot_model():
    X, Y = gaussian_mixture(n_samples=512, random_state=0)
    model = bn_mlp(32, 8, 5, eps=1e-12)
    fams = find_symmetries(model)
    # Nesterov momentum: recorded, but not predicted
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    tracker = NoetherTracker(model, opt, fams)
    train(model, opt, X, Y, 5, batch_size=64)
    h = tracker.history()[0]
    assert h.charge.shape == (6, 8) and h.rule is None
    for predict in (predict_discrete, predict_modified_equation, predict_nld):
        with pytest.raises(TypeError, match="nesterov"):
            predict(h)
    # a learning-rate schedule makes constant-rule predictions stale
    model = bn_mlp(32, 8, 5, eps=1e-12)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    tracker = NoetherTracker(model, opt, fams)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(4):
        train(model, opt, X, Y, 1, batch_size=64)
        sched.step()
    with pytest.raises(TypeError, match="schedule"):
        predict_discrete(tracker.history()[0])
    # the NLD closed form is for scale groups only
    model = bn_mlp(32, 8, 5, eps=1e-12)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    tracker = NoetherTracker(model, opt, fams)
    train(model, opt, X, Y, 3, batch_size=64)
    translation = [h for h in tracker.history() if h.family.kind == "translation"][0]
    with pytest.raises(ValueError, match="scale"):
        predict_nld(translation)
    with pytest.raises(TypeError, match="ChargeHistory"):
        predict_discrete("history")
