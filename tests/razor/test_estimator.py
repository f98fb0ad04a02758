"""NoetherRazor API: input validation, shapes, reproducibility, MAP ablation, CLI."""

import argparse

import numpy as np
import pytest
import torch

from varembed.razor import HarmonicOscillators, NoetherRazor, make_splits, oracle_generators
from varembed.cli import razor as command


@pytest.fixture(scope="module")
def data():
    return make_splits(HarmonicOscillators(1), n_train=4, n_train_steps=3, n_test=5, n_test_steps=4, seed=0)


def _small(**kw):
    kw.setdefault("n_iter", 5)
    return NoetherRazor(hidden=8, n_symmetry_samples=4, random_state=0, **kw)


@pytest.mark.parametrize(
    "traj, dt, match, exc",
    [
        (np.zeros((4, 3)), 0.2, "shape", ValueError),
        (np.zeros((2, 3, 3)), 0.2, "even", ValueError),
        (np.zeros((2, 1, 2)), 0.2, "two states", ValueError),
        (np.full((2, 3, 2), np.nan), 0.2, "NaN", ValueError),
        (np.zeros((2, 3, 2)), 0.0, "dt", ValueError),
        (np.zeros((2, 3, 2)), -1.0, "dt", ValueError),
        (np.zeros((2, 3, 2)), "a", "dt", TypeError),
        ([["x"]], 0.2, "numeric", TypeError),
    ],
)
def test_bad_input_raises_clear_errors(traj, dt, match, exc):
    with pytest.raises(exc, match=match):
        _small(n_conserved=1).fit(traj, dt)


@pytest.mark.parametrize(
    "params, exc",
    [
        (dict(n_conserved=-1), ValueError),
        (dict(n_conserved=1.5), TypeError),
        (dict(measure="sphere"), ValueError),
        (dict(integrator="leapfrog"), ValueError),
        (dict(objective="mle"), ValueError),
        (dict(output_var=0.0), ValueError),
        (dict(device="tpu"), ValueError),
        (dict(generators=(np.ones((1, 2, 3)), np.zeros((1, 2)))), ValueError),
    ],
)
def test_bad_parameters_raise(data, params, exc):
    with pytest.raises(exc):
        _small(**params).fit(data.train, data.dt)


def test_unfitted_and_wrong_width_inputs(data):
    est = _small(n_conserved=1)
    with pytest.raises(RuntimeError, match="not fitted"):
        est.predict(np.zeros((1, 2)))
    est.fit(data.train, data.dt)
    with pytest.raises(ValueError, match="shape"):
        est.predict(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="M = 4"):
        est.score(np.zeros((2, 3, 4)))


def test_cuda_request_without_cuda_is_an_error(data):
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA"):
        _small(device="cuda").fit(data.train, data.dt)


def test_fit_predict_score_shapes_and_reproducibility(data):
    a = _small(n_conserved=1).fit(data.train, data.dt)
    b = _small(n_conserved=1).fit(data.train, data.dt)
    roll = a.predict(data.test[:, 0], n_steps=3)
    assert roll.shape == (5, 4, 2)
    np.testing.assert_array_equal(roll[:, 0], data.test[:, 0])
    np.testing.assert_allclose(roll, b.predict(data.test[:, 0], n_steps=3))
    assert a.score(data.test) == b.score(data.test)
    ev = a.evaluate(data.test)
    assert np.isclose(ev["neg_elbo"], ev["nll"] + ev["kl"]) and np.isclose(a.score(data.test), -ev["neg_elbo"])
    assert len(a.history_["loss"]) == 5
    assert a.conserved_[0].shape == (1, 2, 2)


def test_score_nll_is_consistent_with_the_one_step_error(data):
    # with sigma^2 = 1e-3 the NLL is (M/2) ln(2 pi sigma^2) + E|err|^2 / (2 sigma^2); mse is per coordinate
    est = _small(n_conserved=0, eval_mc_samples=1).fit(data.train, data.dt)
    ev = est.evaluate(data.train, n_mc=1)
    m = 2
    expected = 0.5 * m * np.log(2 * np.pi * 1e-3) + m * ev["mse"] / (2 * 1e-3)
    assert abs(ev["nll"] - expected) < 1e-3 * abs(expected) + 1e-6


def test_oracle_arm_keeps_its_generators_fixed(data):
    a0, b0 = oracle_generators(HarmonicOscillators(1))
    est = _small(generators=(a0, b0), n_iter=3).fit(data.train, data.dt)
    a, b = est.conserved_
    np.testing.assert_allclose(a, a0, atol=1e-6)
    np.testing.assert_allclose(b, b0)


def test_map_ablation_has_no_posterior_variance_in_the_loss(data):
    # the MAP loss is deterministic given the symmetry draw: with K = 0 it does not depend on the seed
    e1 = _small(n_conserved=0, objective="map", n_iter=1, target_noise=0.0).fit(data.train, data.dt)
    e2 = _small(n_conserved=0, objective="map", n_iter=1, target_noise=0.0, n_mc_samples=3).fit(data.train, data.dt)
    assert e1.history_["loss"][0] == pytest.approx(e2.history_["loss"][0], rel=1e-6)


def test_learned_symmetries_requires_slots(data):
    est = _small(n_conserved=0).fit(data.train, data.dt)
    with pytest.raises(ValueError, match="no conserved"):
        est.learned_symmetries()


def test_command_line_runs_a_tiny_comparison(tmp_path, capsys):
    parser = command.add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--system", "nharm1", "--n-iter", "3", "--n-test", "3", "--hidden", "8",
                              "--out", str(tmp_path)])
    assert command.run(args) == 0
    out = capsys.readouterr().out
    for arm in ("vanilla", "oracle", "learned", "map"):
        assert arm in out
    assert (tmp_path / "razor_nharm1_singular_values.png").stat().st_size > 1000
    assert (tmp_path / "razor_nharm1.json").exists()


@pytest.mark.gpu
def test_cuda_fit_matches_cpu_statistics(data):
    # same seed, same float64 arithmetic: CUDA and CPU fits agree to rounding
    kw = dict(n_conserved=1, n_iter=20, dtype="float64", target_noise=0.0)
    cpu = _small(**kw).fit(data.train, data.dt)
    gpu = _small(**kw, device="cuda").fit(data.train, data.dt)
    np.testing.assert_allclose(gpu.history_["loss"][:3], cpu.history_["loss"][:3], rtol=1e-6)
    np.testing.assert_allclose(gpu.predict(data.test[:, 0], 2), cpu.predict(data.test[:, 0], 2), atol=1e-6)


def test_warmup_keeps_the_discovered_conserved_quantities_and_restarts_the_network(data):
    # with lr_conserved = 0 the slots cannot move, so after the warm-up they must equal the initial draw;
    # a rebuilt (not carried-over) slot would be a fresh, different random draw
    kw = dict(n_conserved=2, n_iter=2, lr_conserved=0.0, lr=1e-12)  # nothing moves, so only draws differ
    plain = _small(**kw).fit(data.train, data.dt)
    warm = _small(**kw, n_warmup=3).fit(data.train, data.dt)
    np.testing.assert_array_equal(warm.conserved_[0], plain.conserved_[0])
    assert len(warm.history_["loss"]) == 5 and len(plain.history_["loss"]) == 2
    # without a restart both networks would be the same first draw; the restarted one is a new draw
    w_plain = plain.module_.network.layers[0].mean.detach()
    w_warm = warm.module_.network.layers[0].mean.detach()
    assert not torch.allclose(w_plain, w_warm, atol=1e-3)
    # arms without learnable quantities ignore the warm-up
    assert len(_small(n_conserved=0, n_iter=2, n_warmup=3).fit(data.train, data.dt).history_["loss"]) == 2
    with pytest.raises(ValueError, match="n_warmup"):
        _small(n_warmup=-1).fit(data.train, data.dt)


def test_evaluate_averages_chunks_of_the_fixed_seed_stream(data):
    # 12 samples = a chunk of 8 then one of 4 drawn from the same seeded stream, weighted by size
    from varembed.razor.objective import negative_elbo
    from varembed.razor.training import transitions

    est = _small(n_conserved=1).fit(data.train, data.dt)
    x, y = transitions(data.train, est.module_.J.dtype, est.device_)
    gen = torch.Generator().manual_seed(2024)
    parts = [
        negative_elbo(est.module_, x, y, est.dt_, est.n_transitions_, n_mc=r, n_sym=est.eval_symmetry_samples,
                      generator=gen, create_graph=False)
        for r in (8, 4)
    ]
    expected = (8 * float(parts[0].nll) + 4 * float(parts[1].nll)) / 12
    ev = est.evaluate(data.train, n_mc=12)
    assert ev["nll"] == pytest.approx(expected, rel=1e-6)
    assert ev["kl"] == pytest.approx(float(parts[0].kl.detach()), rel=1e-6)
