"""Tears and folds: constructed embeddings of a flat sheet."""

import numpy as np
import pytest

from varembed.diagnostics.defects import neighbourhood_defects


@pytest.fixture(scope="module")
def sheet():
    t = np.random.default_rng(0).uniform(0, 1, (500, 2))
    return t, np.c_[t, np.zeros(500)]


def test_an_isometric_embedding_has_no_defects(sheet):
    t, X = sheet
    res = neighbourhood_defects(X, 3.0 * t)
    assert len(res.tears) == 0 and len(res.folds) == 0 and res.describe() == "no tears; no folds"


def test_a_cut_sheet_has_tears_only_across_the_cut(sheet):
    t, X = sheet
    Z = t.copy()
    Z[t[:, 0] > 0.5, 0] += 2.0
    res = neighbourhood_defects(X, Z)
    assert len(res.tears) > 0 and len(res.folds) == 0
    side = t[:, 0] > 0.5
    assert np.all(side[res.tears[:, 0]] != side[res.tears[:, 1]])  # every tear crosses the cut
    assert "tears" in res.describe()


def test_a_folded_sheet_has_folds_only(sheet):
    t, X = sheet
    Z = t.copy()
    Z[:, 0] = np.where(t[:, 0] > 0.5, 1.0 - t[:, 0], t[:, 0])  # the right half laid onto the left
    res = neighbourhood_defects(X, Z)
    assert len(res.tears) == 0 and res.fold_fraction > 0.1
    with pytest.raises(ValueError, match="same number of rows"):
        neighbourhood_defects(X, Z[:10])
