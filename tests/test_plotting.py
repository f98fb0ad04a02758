"""Figures explain themselves: every panel has labelled axes, a title and a colour key (figure objects, not pixels)."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from varembed import LinearVariationalEmbedding  # noqa: E402
from varembed.diagnostics.defects import neighbourhood_defects  # noqa: E402
from varembed.plotting import plot_demo, plot_embedding, plot_singular_values  # noqa: E402


def _keys(fig):
    """Colour bars (extra axes with a label) and legends of a figure."""
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    return legends, bars


def _check_panels(fig):
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    for ax in panels:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title(), ax
        if hasattr(ax, "get_zlabel"):
            assert ax.get_zlabel()
    return panels


@pytest.mark.parametrize("classes", [True, False])
def test_demo_figure_has_keys_and_labels(tmp_path, classes):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * [3, 2, 1, 0.5]
    color = rng.integers(0, 5, 300) if classes else X[:, 0]
    emb = LinearVariationalEmbedding(2, random_state=0).fit(X)
    defects = neighbourhood_defects(X, emb.transform(X))
    fig = plot_demo(emb, X, color, tmp_path / "demo.png", color_label="label", defects=defects)
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    assert len(_check_panels(fig)) == 2
    legends, bars = _keys(fig)
    if classes:
        assert len(legends) == 2 and [t.get_text() for t in legends[1].get_texts()][:5] == ["0", "1", "2", "3", "4"]
        assert legends[0].get_title().get_text() == "label"
    else:
        assert len(bars) == 2 and all(b.get_ylabel() == "label" for b in bars)


def test_tears_are_drawn_and_keyed():
    t = np.random.default_rng(0).uniform(0, 1, (300, 2))
    Z = t.copy()
    Z[t[:, 0] > 0.5, 0] += 2.0
    fig = Figure()
    ax = plot_embedding(Z, color=t[:, 0], ax=fig.add_subplot(), defects=neighbourhood_defects(np.c_[t, 0 * t], Z))
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert any(lab.startswith("tear") for lab in labels)
    _check_panels(fig)


def test_singular_value_plot_has_rank_marker():
    fig = Figure()
    ax = plot_singular_values([1e-12, 0.3, 0.5], ax=fig.add_subplot(), rank=1)
    assert ax.get_ylabel() and ax.get_legend() is not None
