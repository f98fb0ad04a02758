"""The gallery's figure check (docs/figure_check.py, run on every example by the docs build)."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from figure_check import figure_problems  # noqa: E402


def test_unlabelled_and_unkeyed_figures_are_reported_and_good_ones_pass():
    fig, ax = plt.subplots()
    pts = ax.scatter(np.arange(5), np.arange(5), c=np.arange(5))
    assert set(figure_problems(fig)) == {"axes '' lacks axis labels", "no legend or colour bar"}
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    assert figure_problems(fig) == ["no legend or colour bar"]
    fig.colorbar(pts, ax=ax, label="value")
    assert figure_problems(fig) == []
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], label="line")
    ax2.set_xlabel("t")
    ax2.set_ylabel("f")
    ax2.legend()
    assert figure_problems(fig2) == []
    plt.close("all")
