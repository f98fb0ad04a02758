"""One Lagrangian: training, the diagnostics' functional and the reported objective agree exactly."""

import numpy as np
import pytest
import torch

from varembed import VariationalEmbedding
from varembed.diagnostics import embedding_jet
from varembed.diagnostics._inputs import batched_field_jet
from varembed.embedding.training import TrainingObjective


@pytest.mark.parametrize("smoothness", [0.0, 0.05])
def test_training_objective_equals_diagnostics_functional(smoothness):
    X = np.random.default_rng(0).normal(size=(150, 4)) * [3.0, 1.0, 0.3, 0.2]
    est = VariationalEmbedding(2, hidden=(16, 16), max_iter=40, smoothness=smoothness, init="linear",
                               random_state=0, device="cpu").fit(X)
    module = est.map_.requires_grad_(True)
    params = list(module.parameters())
    z = est.prior_.sample(256, torch.Generator().manual_seed(1))
    functional = est.functional()
    assert functional.smoothness == est.smoothness_ == smoothness

    train = TrainingObjective(module, functional, "exact").mean(z)
    g_train = torch.autograd.grad(train, params)
    diag = functional.mean_value(module, z)  # autograd through the density's own log_prob
    g_diag = torch.autograd.grad(diag, params)
    assert float(abs(train - diag).detach()) <= 1e-12 * abs(float(diag.detach()))
    for a, b in zip(g_train, g_diag):
        assert float((a - b).norm()) <= 1e-12 * max(float(b.norm()), 1e-300)

    # the diagnostics' jet evaluates the same Lagrangian (bending aside: it is first order)
    with torch.no_grad():
        jet = embedding_jet(functional, est.field(), z, log_prob=True, field_jet=batched_field_jet(est))
        first_order = functional.density.log_prob(jet.phi) + functional.lagrangian.geometric(jet.jac)
    torch.testing.assert_close(jet.lagrangian, first_order, rtol=1e-12, atol=0)
    # the reported objective is the training objective on the estimator's fixed held-out sample
    assert np.isfinite(est.objective_)
