"""``python -m varembed nld`` entry points (the lead's CLI calls add_arguments / run)."""

import argparse
import json

import pytest

from varembed.cli import nld as command

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_command_writes_png_and_accurate_predictions(tmp_path):
    parser = command.add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--steps", "60", "--hidden", "8", "--out", str(tmp_path)])
    assert command.run(args) == 0
    assert (tmp_path / "nld_batchnorm.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "nld_batchnorm.json").read_text())
    # the exact recursion is limited only by BatchNorm eps = 1e-5 (O(eps/var) per step)
    assert summary["errors"]["discrete"] < 1e-3
    assert summary["errors"]["modified_equation"] < 2e-3
    assert len(summary["final_charge"]) == 8


def test_command_rejects_bad_steps(tmp_path):
    args = command.add_arguments(argparse.ArgumentParser()).parse_args(["--steps", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="steps"):
        command.run(args)
