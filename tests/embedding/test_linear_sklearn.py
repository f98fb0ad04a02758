"""LinearVariationalEmbedding as a scikit-learn estimator: conformance, pipelines, bad input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from varembed import LinearVariationalEmbedding


@parametrize_with_checks([
    LinearVariationalEmbedding(n_components=1, random_state=0),
    LinearVariationalEmbedding(n_components=1, density="kde", max_iter=30, n_restarts=2, random_state=0),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(seed=0, n=200, dim=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)) * np.linspace(3, 0.3, dim)


def test_gridsearch_selects_true_dimension():
    rng = np.random.default_rng(0)
    n, dim, k = 600, 20, 3
    basis, _ = np.linalg.qr(rng.standard_normal((dim, k)))
    X = (rng.standard_normal((n, k)) * [6.0, 4.0, 3.0]) @ basis.T + 0.5 * rng.standard_normal((n, dim))
    search = GridSearchCV(LinearVariationalEmbedding(random_state=0), {"n_components": range(1, 8)})
    search.fit(X)
    assert search.best_params_["n_components"] == 3


def test_pipeline_set_output_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_data(), columns=[f"f{i}" for i in range(6)])
    pipe = make_pipeline(StandardScaler(), LinearVariationalEmbedding(2, random_state=0))
    pipe.set_output(transform="pandas")
    out = pipe.fit_transform(X)
    assert list(out.columns) == ["linearvariationalembedding0", "linearvariationalembedding1"]
    emb = LinearVariationalEmbedding(2, random_state=0).fit(X)
    assert list(emb.feature_names_in_) == list(X.columns)
    assert list(emb.get_feature_names_out()) == ["linearvariationalembedding0", "linearvariationalembedding1"]


def test_pickle_round_trip_identical():
    X = _data(1)
    emb = LinearVariationalEmbedding(3, continuity=0.1, random_state=0).fit(X)
    clone = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(clone.transform(X), emb.transform(X))
    np.testing.assert_array_equal(clone.inverse_transform(emb.transform(X)), emb.inverse_transform(emb.transform(X)))
    assert clone.score(X) == emb.score(X)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [0.0, 1.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.ones((1, 3)), "1 sample"),
        (np.array([[1 + 1j, 2], [3, 4j], [1, 1]]), "[Cc]omplex"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object), "[Ss]tring|convert|could not"),
    ],
)
def test_bad_training_data(X, match):
    with pytest.raises(ValueError, match=match):
        LinearVariationalEmbedding(1).fit(X)


def test_sparse_rejected_with_type_error():
    with pytest.raises(TypeError, match="[Ss]parse"):
        LinearVariationalEmbedding(1).fit(sp.random(20, 5, density=0.5, format="csr", random_state=0))


@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"n_components": 0}, ValueError, "n_components"),
        ({"n_components": 7}, ValueError, "n_components=7 must be <= n_features=6"),
        ({"n_components": 1.5}, TypeError, "n_components"),
        ({"continuity": -0.1}, ValueError, "continuity"),
        ({"continuity": np.nan}, ValueError, "continuity"),
        ({"prior_scale": 0.0}, ValueError, "prior_scale"),
        ({"prior_scale": -1.0}, ValueError, "prior_scale"),
        ({"prior": "laplace"}, ValueError, "prior"),
        ({"solver": "newton"}, ValueError, "solver"),
        ({"max_iter": 0}, ValueError, "max_iter"),
    ],
)
def test_bad_parameters(params, exc, match):
    with pytest.raises(exc, match=match):
        LinearVariationalEmbedding(**params).fit(_data())


def test_wrong_widths_after_fit():
    emb = LinearVariationalEmbedding(2, random_state=0).fit(_data())
    with pytest.raises(ValueError, match="features"):
        emb.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="n_components=2"):
        emb.inverse_transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        emb.inverse_transform(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        emb.transform(np.full((2, 6), np.nan))
