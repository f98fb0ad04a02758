"""``python -m varembed razor`` and the report it prints: verdict first, legend, strict JSON, figure."""

import argparse
import json

import numpy as np
import pytest

from varembed.cli import razor as command
from varembed.cli._common import CLIError
from varembed.razor.experiment import ArmResult
from varembed.razor.readout import LearnedSymmetries
from varembed.razor.report import LEGEND, format_table, plot_selection, verdict

TINY = ["--selection-iter", "2", "--max-iter", "2", "--n-test", "2", "--n-train", "3",
        "--hidden", "8", "--n-conserved", "2"]


def _parse(argv):
    return command.add_arguments(argparse.ArgumentParser()).parse_args(argv)


def test_command_prints_the_verdict_first_then_table_and_legend_and_writes_strict_json(tmp_path, capsys):
    args = _parse(["--system", "distinct2", "--arms", "learned,vanilla", "--quiet", "--out", str(tmp_path), *TINY])
    assert command.run(args) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("Noether's Razor report")
    assert out[start + 1].startswith("distinct2 / learned: rank ")
    assert any(line.startswith("distinct2    vanilla") for line in out)
    assert any("3x wider" in line for line in out) and any("shifted by +1" in line for line in out)
    text = (tmp_path / "razor_distinct2.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    rows = json.loads(text)
    assert [r["arm"] for r in rows] == ["learned", "vanilla"] and rows[0]["true_rank"] == 2
    assert (tmp_path / "razor_distinct2_selection.png").stat().st_size > 1000


def test_command_defaults_and_errors(tmp_path):
    args = _parse([])
    assert args.out == "varembed_razor" and args.verbose and args.system == "distinct3"
    with pytest.raises(CLIError, match="unknown arms"):
        command.run(_parse(["--arms", "oracle,bogus", "--out", str(tmp_path)]))
    with pytest.raises(CLIError, match="unknown system"):
        command.run(_parse(["--system", "nharm7", "--out", str(tmp_path)]))
    with pytest.raises(CLIError, match="--max-iter"):
        command.run(_parse(["--max-iter", "0", "--out", str(tmp_path)]))


def _result(rank, true_dim=1):
    sym = LearnedSymmetries(rank=rank, basis=np.eye(5)[:rank], singular_values=np.array([1.0, 1e-3][: max(rank, 1)]),
                            z_scores=None, rule="gap", gap=10.0, true_dim=true_dim,
                            parallelness=np.ones(rank), drift=np.full(rank, 2e-3))
    train = {"neg_elbo": 1.0, "nll": 0.5, "kl": 0.5, "mse": 1e-3}
    mse = {"train": 1e-3, "test": 1e-3, "test_wider": 1e-2, "test_moved": 2e-3}
    return ArmResult("nharm1", "learned", train, mse, 1.0, sym, true_dim)


def test_report_pieces(tmp_path):
    r = _result(1)
    assert verdict(r) == ("nharm1 / learned: rank 1 = true rank 1; every reported quantity inside the true "
                          "subspace to parallelness 1.0000 and conserved to 2.0e-03 of its spread on held-out "
                          "trajectories")
    assert "!= true rank 2" in verdict(_result(1, true_dim=2))
    assert "nharm1" in format_table([r]) and "moved" in LEGEND
    r.selection = {"trials": [{"candidate": 0, "n_symmetries": 1, "z": 12.0, "improvement": 3.0, "accepted": True}]}
    path = plot_selection([r], str(tmp_path / "one.png"), title="one bar")  # the legend must not hide the bar
    assert (tmp_path / "one.png").stat().st_size > 1000 and path.endswith("one.png")
