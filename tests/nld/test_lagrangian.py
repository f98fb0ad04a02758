"""The learning-rule Lagrangian on the variational core: modified equation, charges, KSB."""

import math

import pytest
import torch
from torch import nn

from varembed._utils.random import torch_generator
from varembed.nld import (
    LearningRule,
    find_symmetries,
    kinetic_symmetry_breaking,
    modified_equation_residual,
    noether_charge,
)
from varembed.nld.experiment import bn_mlp

DT = torch.float64


def _times(n=7):
    return torch.linspace(0.05, 1.5, n, dtype=DT)


def _quadratic(a):
    return lambda q: 0.5 * a * (q * q).sum()


def _exact_path(rule, a, q0):
    """Decaying solution of m q'' + mu q' + (a + k) q = 0."""
    m, mu, w = rule.mass, rule.friction, a + rule.weight_decay
    lam = (-mu + math.sqrt(mu * mu - 4 * m * w)) / (2 * m)
    return (lambda t: q0 * torch.exp(lam * t[0])), lam


def test_rule_mass_friction_from_sgd():
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    rule = LearningRule.from_optimizer(opt)
    assert rule.mass == pytest.approx(0.05 * 1.9 / 2)
    assert rule.friction == pytest.approx(0.1)
    assert rule.tau == pytest.approx(0.05 * 1.9 / 0.2)
    assert rule.weight_decay == 1e-3


@pytest.mark.parametrize(
    "make",
    [
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
        lambda p: torch.optim.Adam(p, lr=1e-3),
        lambda p: torch.optim.Adagrad(p, lr=1e-3),
    ],
)
def test_unmodelled_optimisers_are_refused(make):
    opt = make(nn.Linear(3, 2).parameters())
    with pytest.raises(TypeError, match="not modelled|cannot be modelled"):
        LearningRule.from_optimizer(opt)


def test_adam_as_frozen_metric_warns():
    opt = torch.optim.Adam(nn.Linear(3, 2).parameters(), lr=1e-3)
    with pytest.warns(UserWarning, match="frozen"):
        rule = LearningRule.from_optimizer(opt, allow_frozen_metric=True)
    assert rule.lr == 1e-3 and rule.momentum == 0.0


@pytest.mark.parametrize("kw", [dict(lr=0.0), dict(lr=0.1, momentum=1.0), dict(lr=0.1, weight_decay=-1.0)])
def test_rule_validation(kw):
    with pytest.raises(ValueError):
        LearningRule(**kw)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_modified_equation_vanishes_on_exact_solution(momentum):
    rule = LearningRule(lr=0.1, momentum=momentum, weight_decay=0.05)
    q0 = torch.tensor([1.0, -2.0, 0.5], dtype=DT)
    path, _ = _exact_path(rule, 0.5, q0)
    res = modified_equation_residual(rule, _quadratic(0.5), path, _times())
    assert res.abs().max().item() < 1e-13


def test_gradient_flow_misses_exactly_the_inertia_term():
    """On the gradient-flow path the residual is the mass term m q'' (KSB's origin)."""
    rule = LearningRule(lr=0.1, weight_decay=0.1)
    a, q0 = 1.0, torch.tensor([1.0, 2.0], dtype=DT)
    c = (a + rule.weight_decay) / rule.friction
    t = _times()
    res = modified_equation_residual(rule, _quadratic(a), lambda s: q0 * torch.exp(-c * s[0]), t)
    expected = rule.mass * c**2 * q0[None] * torch.exp(-c * t)[:, None]
    assert torch.allclose(res, expected, rtol=1e-12, atol=1e-14)


def _wiggly(t):
    s = t[0]
    return torch.stack([torch.cos(2 * s) + s, torch.sin(s) * s, 0.3 - s**2])


def test_charge_and_kinetic_breaking_euclidean():
    rule = LearningRule(lr=0.2, momentum=0.3, weight_decay=0.05)
    t = _times()
    jet = torch.func.vmap(torch.func.jacfwd(_wiggly))(t[:, None])[..., 0]
    q = torch.func.vmap(_wiggly)(t[:, None])
    # scale generator xi = q: J = m <q', q>, dT = m |q'|^2
    out = noether_charge(rule, lambda u: u, _wiggly, t)
    assert torch.allclose(out.charge, rule.mass * (jet * q).sum(1), rtol=1e-13)
    ksb = kinetic_symmetry_breaking(rule, lambda u: u, _wiggly, t)
    assert torch.allclose(ksb, rule.mass * (jet * jet).sum(1), rtol=1e-13)
    # the source adds potential breaking by weight decay: -k <q, xi>
    assert torch.allclose(out.source, ksb - rule.weight_decay * (q * q).sum(1), rtol=1e-12)
    # translation and rotation are isometries: no kinetic breaking
    ones = kinetic_symmetry_breaking(rule, lambda u: torch.ones_like(u), _wiggly, t)
    omega = torch.tensor([[0.0, 1.0, -2.0], [-1.0, 0.0, 0.5], [2.0, -0.5, 0.0]], dtype=DT)
    rot = kinetic_symmetry_breaking(rule, lambda u: omega @ u, _wiggly, t)
    assert ones.abs().max() < 1e-15 and rot.abs().max() < 1e-13
    # off-shell Noether identity of the core (time factor e^{t/tau} removed)
    assert (out.current.identity_residual * torch.exp(-t / rule.tau)).abs().max() < 1e-13


def test_frozen_metric_breaks_scale_by_the_metric():
    g = torch.tensor([1.0, 4.0, 0.25], dtype=DT)
    rule = LearningRule(lr=0.1, metric=g)
    t = _times()
    jet = torch.func.vmap(torch.func.jacfwd(_wiggly))(t[:, None])[..., 0]
    ksb = kinetic_symmetry_breaking(rule, lambda u: u, _wiggly, t)
    assert torch.allclose(ksb, rule.mass * (g * jet * jet).sum(1), rtol=1e-13)
    out = noether_charge(rule, lambda u: torch.ones_like(u), _wiggly, t)
    # the translation charge becomes G-weighted: m <G q', 1>
    assert torch.allclose(out.charge, rule.mass * (g * jet).sum(1), rtol=1e-13)


def test_nld_balance_holds_on_shell():
    """dJ/dt + J/tau = dT - <grad V, xi> on a solution of the modified equation."""
    rule = LearningRule(lr=0.1, momentum=0.5, weight_decay=0.05)
    a, q0 = 0.5, torch.tensor([1.0, -0.5], dtype=DT)
    path, lam = _exact_path(rule, a, q0)
    t = _times()
    out = noether_charge(rule, lambda u: u, path, t, loss=_quadratic(a))
    assert out.balance.abs().max() < 1e-13
    # and the charge itself is m <q', q> = m lam |q|^2
    q2 = (q0 * q0).sum() * torch.exp(2 * lam * t)
    assert torch.allclose(out.charge, rule.mass * lam * q2, rtol=1e-12)


def test_network_generator_on_the_core():
    """The registry's flattened scale generator gives dT = m sum_A |q'_A|^2 on a network path."""
    model = bn_mlp(6, 4, 3, random_state=0)
    fam = [f for f in find_symmetries(model) if f.kind == "scale"][0]
    xi, names = fam.flat_generator(model)
    q0 = torch.cat([p.detach().flatten() for p in model.parameters()])
    w = torch.randn(q0.shape, dtype=DT, generator=torch_generator(1))
    rule = LearningRule(lr=0.05, momentum=0.9)
    ksb = kinetic_symmetry_breaking(rule, xi, lambda t: q0 + t[0] * w, _times(3))
    n_w = model[0].weight.numel()
    assert names[0] == "0.weight"
    expected = rule.mass * (w[:n_w] ** 2).sum()
    assert torch.allclose(ksb, expected.expand(3), rtol=1e-13)


@pytest.mark.parametrize("lr", [0.1, 0.05])
def test_iterates_solve_the_modified_equation_to_second_order(lr):
    """GD iterates on f = a q^2 / 2 lie on q0 e^{lam t}, lam = log(1 - eta a) / eta.

    Along that exact interpolant the modified equation (eta/2) q'' + q' + a q leaves
    eta^2 a^3 q / 6 + O(eta^3), while gradient flow q' + a q leaves -eta a^2 q / 2: the mass term is
    the first-order learning-rate correction.
    """
    a, q0 = 1.5, torch.tensor([1.0, -2.0], dtype=DT)
    lam = math.log(1 - lr * a) / lr
    path = lambda t: q0 * torch.exp(lam * t[0])  # noqa: E731
    n = torch.arange(0, 6, dtype=DT)
    iterates = q0[None] * (1 - lr * a) ** n[:, None]
    assert torch.allclose(torch.func.vmap(path)((lr * n)[:, None]), iterates, rtol=1e-13)
    t = lr * n[1:]
    q = iterates[1:]
    res = modified_equation_residual(LearningRule(lr=lr), _quadratic(a), path, t)
    flow = (lam + a) * q  # gradient-flow residual q' + a q along the same path
    assert torch.allclose(flow, -lr * a**2 / 2 * q, rtol=lr * a)
    second = lr**2 * a**3 / 6
    assert torch.allclose(res, second * q, rtol=2 * lr * a)
