"""NoetherRazor as a scikit-learn estimator: layouts, validation, reproducibility, check_estimator."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator

from varembed.razor import HarmonicOscillators, NoetherRazor, make_splits, oracle_generators, transitions


@pytest.fixture(scope="module")
def data():
    return make_splits(HarmonicOscillators(1), n_train=4, n_train_steps=3, n_test=5, n_test_steps=4, seed=0)


def _small(**kw):
    base = dict(n_conserved=2, dt=0.2, hidden=(8,), max_iter=4, n_warmup=2, selection_iter=2, n_symmetry_samples=4,
                eval_symmetry_samples=4, eval_mc_samples=2, random_state=0, n_jobs=1, device="cpu")
    return NoetherRazor(**{**base, **kw})


def test_check_estimator_passes():
    # transition rows of any width: (x_t, x_{t+1}) for an even width, (x_t, x_{t+1}, dt_i) for an odd one;
    # an odd state dimension ends with a Casimir coordinate (see varembed.razor.inputs)
    results = check_estimator(_small(max_iter=2, hidden=(4,), eval_symmetry_samples=2), on_fail=None)
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 35


@pytest.mark.parametrize(
    "X, match, exc",
    [
        (np.zeros((4, 1)), "1 feature", ValueError),
        (np.zeros((2, 1, 2)), "two states", ValueError),
        (np.full((2, 3, 2), np.nan), "NaN", ValueError),
        (np.zeros(5), "2D array", ValueError),
        ([["x", "y"]], "numeric|convert", (TypeError, ValueError)),
    ],
)
def test_bad_input_raises_clear_errors(X, match, exc):
    with pytest.raises(exc, match=match):
        _small().fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_conserved=-1), "n_conserved"),
        (dict(n_conserved=1.5), "n_conserved"),
        (dict(measure="sphere"), "measure"),
        (dict(integrator="leapfrog"), "integrator"),
        (dict(objective="mle"), "objective"),
        (dict(output_var=0.0), "output_var"),
        (dict(dt=0.0), "dt"),
        (dict(hidden=64), "hidden"),
        (dict(hidden=(8, 0)), "hidden"),
        (dict(device="tpu"), "device"),
        (dict(generators=(np.ones((1, 2, 3)), np.zeros((1, 2)))), "generators"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(data, params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _small(**params).fit(data.train)


def test_sklearn_api_clone_params_and_not_fitted(data):
    est = _small(hidden=(8, 8))
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(max_iter=3).max_iter == 3
    with pytest.raises(NotFittedError):
        est.predict(transitions(data.test))
    with pytest.raises(NotFittedError):
        est.conserved_  # noqa: B018


def test_trajectories_and_transition_rows_give_the_same_fit(data):
    a = _small().fit(data.train)
    b = _small().fit(transitions(data.train))
    assert a.n_features_in_ == b.n_features_in_ == 4 and a.n_states_ == 2 and not a.time_column_
    np.testing.assert_allclose(a.predict(data.test).reshape(-1, 2), b.predict(transitions(data.test)))
    assert a.score(data.test) == b.score(transitions(data.test))
    # a time column with the constructor's dt everywhere is the same model again
    rows = transitions(data.train, times=0.2 * np.arange(data.train.shape[1]))
    c = _small().fit(rows)
    assert c.time_column_ and c.n_features_in_ == 5
    np.testing.assert_allclose(c.predict(data.test).reshape(-1, 2), a.predict(transitions(data.test)), atol=1e-10)


def test_fit_is_reproducible_and_scores_are_deterministic_and_pickle(data):
    a = _small().fit(data.train)
    b = _small().fit(data.train)
    np.testing.assert_array_equal(a.rollout(data.test[:, 0], n_steps=3), b.rollout(data.test[:, 0], n_steps=3))
    assert a.score(data.test) == a.score(data.test) == b.score(data.test)
    c = pickle.loads(pickle.dumps(a))
    assert c.score(data.test) == a.score(data.test)
    ev = a.evaluate(data.test)
    assert np.isclose(ev["neg_elbo"], ev["nll"] + ev["kl"]) and np.isclose(a.score(data.test), -ev["neg_elbo"])
    samples = a.score_samples(data.test)
    assert samples.shape == (20,) and np.isclose(samples.mean(), a.score(data.test))
    assert a.n_iter_ == len(a.history_["loss"])
    roll = a.rollout(data.test[:, 0], n_steps=3)
    assert roll.shape == (5, 4, 2)
    np.testing.assert_array_equal(roll[:, 0], data.test[:, 0])
    with pytest.raises(ValueError, match="shape"):
        a.rollout(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="features"):
        a.score(np.zeros((3, 6)))


def test_oracle_arm_keeps_its_generators_fixed(data):
    a0, b0 = oracle_generators(HarmonicOscillators(1))
    est = _small(generators=(a0, b0)).fit(data.train)
    a, b = est.conserved_
    np.testing.assert_allclose(a, a0 / np.linalg.norm(a0), atol=1e-12)
    assert est.selection_ is None and est.learned_symmetries().rank == 1


def test_selection_history_and_map_objective(data):
    est = _small(n_conserved=3).fit(data.train)
    sel = est.selection_
    assert sel["selected"] == sum(t["accepted"] for t in sel["trials"]) == est.module_.conserved.n_conserved \
        if sel["selected"] else est.module_.conserved is None
    assert all(t["accepted"] == (t["z"] > 3.0) for t in sel["trials"])
    assert est.n_iter_ == 2 + 4  # the selected hypothesis's selection steps + final
    m = _small(n_conserved=2, objective="map").fit(data.train)
    assert m.module_.conserved is None or not m.module_.conserved.variational  # MAP: point estimates


def test_grid_search_over_hyperparameters(data):
    grid = GridSearchCV(_small(), {"hidden": [(4,), (8,)]}, cv=2).fit(transitions(data.train))
    assert grid.best_params_["hidden"] in [(4,), (8,)]
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


def test_cuda_request_without_cuda_is_an_error(data):
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA"):
        _small(device="cuda").fit(data.train)


@pytest.mark.gpu
def test_cuda_fit_matches_cpu_statistics(data):
    kw = dict(n_conserved=0, max_iter=20, dtype="float64", target_noise=0.0)
    cpu = _small(**kw).fit(data.train)
    gpu = _small(**kw, device="cuda").fit(data.train)
    np.testing.assert_allclose(gpu.history_["loss"][:3], cpu.history_["loss"][:3], rtol=1e-6)
    np.testing.assert_allclose(gpu.rollout(data.test[:, 0], 2), cpu.rollout(data.test[:, 0], 2), atol=1e-6)
