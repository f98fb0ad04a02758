"""Predicted against measured Noether charges under SGD (nld.md section 5.2, float64).

Reference levels are the research note's measured values [N]; each test says which row (T0-T7)
of the test matrix it covers.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from varembed.nld import (
    ImplicitRMSProp,
    NoetherTracker,
    find_symmetries,
    predict_discrete,
    predict_modified_equation,
    predict_nld,
    relative_error,
    steady_state,
)
from varembed.nld.closed_forms import steady_angular_update
from varembed.nld.experiment import bn_mlp, gaussian_mixture, train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

D1 = gaussian_mixture(n_samples=4096, random_state=0)


def _run(lr, momentum, wd, steps, eps=1e-12, batch_size=128, data=D1, model=None):
    X, y = data
    model = model if model is not None else bn_mlp(X.shape[1], 24, 5, eps=eps, random_state=0)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    tracker = NoetherTracker(model, opt, find_symmetries(model))
    train(model, opt, X, y, steps, batch_size=batch_size, random_state=1)
    return {h.family.name.split()[0] + ("_bias" if "bias" in h.family.name else ""): h for h in tracker.history()}


@pytest.fixture(scope="module")
def sgd():
    """beta = 0, eta = 0.1, k = 5e-3, 3000 minibatch steps (three relaxation times at least)."""
    return _run(0.1, 0.0, 5e-3, 3000)


@pytest.fixture(scope="module")
def sgd_half():
    """Same with eta halved, to the same time t = 150 (3000 steps)."""
    return _run(0.05, 0.0, 5e-3, 3000)


@pytest.fixture(scope="module")
def momentum():
    """beta = 0.9, eta = 0.05, k = 1e-3, 2000 steps (four relaxation times of r^4)."""
    return _run(0.05, 0.9, 1e-3, 2000)


def _relative_identity(h):
    scale = np.sqrt(np.abs(h.grad_sq) * np.abs(h.charge[:-1]))
    return np.abs(h.identity) / np.maximum(scale, 1e-300)


# ---------------------------------------------------------------- T0: identities along training
def test_identities_every_step(sgd):
    """T0a/b/c: <g, xi> = 0 per minibatch and channel (eps = 1e-12).

    The scale residual is eps-limited (exactly linear in eps, see test_nld_registry): 2.2e-12 at
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
def test_modified_equation_error_is_first_order_in_eta(sgd, sgd_half, source):
    """At fixed t = 150 the continuous error roughly halves when eta halves."""
    h1, h2 = sgd["scale"], sgd_half["scale"]
    e1 = relative_error(predict_modified_equation(h1, source)[:1501], h1.charge[:1501])
    e2 = relative_error(predict_modified_equation(h2, source), h2.charge)
    assert 1.5 < e1 / e2 < 3.0  # first order: ~2 (measured 2.59 with |v|^2, 1.96 with |g|^2); not 4


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


@pytest.fixture(scope="module")
def momentum_full_batch():
    """T3': full batch, beta = 0.9, small eta: coherent gradients (kappa ~ 1)."""
    X, y = D1[0][:512], D1[1][:512]
    model = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9, weight_decay=1e-3)
    tracker = NoetherTracker(model, opt, [f for f in find_symmetries(model) if f.kind == "scale"])
    train(model, opt, X, y, 1000, batch_size=None)
    h = tracker.history()[0]
    return h, predict_nld(h)


def test_nld_closed_form_momentum_full_batch(momentum_full_batch):
    """After the momentum start-up (10 / (1 - beta) steps) the closed form is within 5e-2 (measured 3.3e-2)."""
    h, pred = momentum_full_batch
    assert np.all(pred.coherent) and abs(np.median(pred.kappa) - 1) < 0.1
    rel = np.abs(pred.r2 / h.charge - 1)
    assert rel[100:].max() < 5e-2
    assert np.median(rel) < 2e-2


@pytest.mark.xfail(strict=False, reason="measured 8.0e-2 at n ~ 20: the closed form assumes the terminal velocity "
                   "-g/(1-beta) from step 0, while PyTorch's momentum builds up over ~1/(1-beta) steps (note: 3.8e-2)")
def test_nld_closed_form_momentum_full_batch_whole_run(momentum_full_batch):
    h, pred = momentum_full_batch
    assert relative_error(pred.r2, h.charge) < 5e-2


# ---------------------------------------------------------------- T4: steady state
def test_steady_state_angular_update_and_radius(sgd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = steady_state(sgd["scale"], window=500)
    assert ss.angle_predicted == pytest.approx(np.sqrt(2 * 0.1 * 5e-3))
    assert abs(ss.angle_measured / ss.angle_predicted - 1) < 0.10
    assert np.median(np.abs(ss.r2_measured / ss.r2_predicted - 1)) < 0.05


def test_steady_state_angular_update_with_momentum(momentum):
    """sqrt(2 eta k / (1 + beta)) holds whatever the noise (the note measured 0.0076 vs 0.0073)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = steady_state(momentum["scale"], window=500)
    assert ss.angle_predicted == pytest.approx(np.sqrt(2 * 0.05 * 1e-3 / 1.9))
    assert abs(ss.angle_measured / ss.angle_predicted - 1) < 0.10


# ---------------------------------------------------------------- T5: KSB proportional to eta
def test_kinetic_symmetry_breaking_scales_with_eta():
    """No weight decay, full batch, fixed t = 1: the norm drift is linear in eta."""
    X, y = D1[0][:512], D1[1][:512]
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


# ---------------------------------------------------------------- T6: implicit RMSProp
def test_implicit_rmsprop_shadow_is_exact():
    X, y = D1
    a = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
    b = copy.deepcopy(a)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1, weight_decay=5e-3)
    opt_b = ImplicitRMSProp(b, find_symmetries(b), lr=0.1, weight_decay=5e-3)
    g = torch.Generator().manual_seed(3)
    worst = 0.0
    for _ in range(500):
        idx = torch.randint(0, X.shape[0], (128,), generator=g)
        la = nn.functional.cross_entropy(a(X[idx]), y[idx])
        lb = nn.functional.cross_entropy(b(X[idx]), y[idx])
        worst = max(worst, abs(la.item() - lb.item()))
        for opt, loss in ((opt_a, la), (opt_b, lb)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert worst < 1e-12
    r2 = (a[0].weight.detach() ** 2).sum(1)
    assert torch.max(torch.abs(opt_b.radius_sq[0] / r2 - 1)) < 1e-11
    # the shadow keeps unit-norm directions equal to SGD's
    w_hat = a[0].weight.detach() / torch.sqrt(r2)[:, None]
    assert torch.max(torch.abs(w_hat - b[0].weight.detach())) < 1e-12


# ---------------------------------------------------------------- T7: metric-induced breaking
def test_adam_breaks_the_euclidean_translation_charge():
    X, y = D1
    drift = {}
    for name, make in (("adam", lambda p: torch.optim.Adam(p, lr=1e-3)), ("sgd", lambda p: torch.optim.SGD(p, lr=0.1))):
        model = bn_mlp(32, 24, 5, eps=1e-12, random_state=0)
        opt = make(model.parameters())
        fams = [f for f in find_symmetries(model) if f.kind == "translation"]
        tracker = NoetherTracker(model, opt, fams)
        train(model, opt, X, y, 200, batch_size=128, random_state=1)
        h = tracker.history()[0]
        drift[name] = np.max(np.abs(h.charge - h.charge[0]))
        if name == "adam":
            with pytest.raises(TypeError, match="Adam cannot be modelled"):
                predict_discrete(h)
    assert drift["sgd"] < 1e-13
    assert drift["adam"] > 1e6 * max(drift["sgd"], 1e-16)
    assert drift["adam"] > 1e-2


def test_steady_angle_formula_with_momentum():
    assert steady_angular_update(0.05, 0.9, 1e-3) == pytest.approx(np.sqrt(2 * 0.05 * 1e-3 / 1.9))


def test_closed_form_is_a_groupwise_rmsprop(sgd):
    """V1-Eq.17 against Eq.18: r^2 = sqrt(scale * G) with G RMSProp's EMA of |g_hat|^2."""
    from varembed.nld.closed_forms import bernoulli_r2, rmsprop_equivalent

    h = sgd["scale"]
    ghat = h.charge[:-1] * h.grad_sq
    eq = rmsprop_equivalent(h.charge[0], 0.1, 0.0, 5e-3)
    assert eq.rho == pytest.approx(1 - 4 * 0.1 * 5e-3) and eq.lr == pytest.approx(np.sqrt(2 * 0.1 * 5e-3))
    G = [eq.second_moment_0]
    for g2 in ghat:  # discrete RMSProp second moment
        G.append(eq.rho * G[-1] + (1 - eq.rho) * g2)
    via_rmsprop = np.sqrt(eq.scale * np.array(G))
    closed = bernoulli_r2(h.charge[0], ghat, 0.1, 0.0, 5e-3)
    # equal up to the discretisation of the exponential (1 - x vs e^{-x}, x = 4 eta k = 2e-3)
    assert relative_error(via_rmsprop, closed) < 2e-3
    assert relative_error(via_rmsprop, h.charge) < 2e-3
