"""``python -m varembed nld``: output folder, strict JSON, progress, verdicts, bad input."""

import argparse
import json

import pytest

from varembed.cli import CLIError
from varembed.cli import nld as command

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _args(*argv):
    return command.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def _strict(text):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_default_run_writes_into_a_named_folder_with_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert command.run(_args("--steps", "40", "--hidden", "4", "--quiet")) == 0
    out, err = capsys.readouterr()
    assert err == ""  # --quiet: no progress bar
    assert sorted(p.name for p in tmp_path.iterdir()) == ["varembed_nld"]  # nothing in the working directory
    folder = tmp_path / "varembed_nld"
    assert (folder / "nld_batchnorm.png").stat().st_size > 20_000
    summary = _strict((folder / "nld_batchnorm.json").read_text())["regimes"]
    assert sorted(summary) == ["coherent", "noisy"]
    # both regimes: the exact recursion is limited only by BatchNorm eps = 1e-5 (O(eps/var) per step)
    for regime in summary.values():
        assert regime["verdicts"]["exact recursion"]["error"] < 1e-3
        assert regime["verdicts"]["exact recursion"]["status"] == "approximate"
        assert "eps=1e-05" in regime["verdicts"]["exact recursion"]["reason"]
        assert regime["verdicts"]["modified equation"]["status"] == "holds"
        assert regime["charge_balance"]["source_gain"] == pytest.approx(2.0)
        assert len(regime["final_charge"]) == 4
    # the closed form holds without momentum and fails with noisy momentum, and the text says why
    assert summary["coherent"]["verdicts"]["NLD closed form"]["status"] == "holds"
    assert summary["noisy"]["verdicts"]["NLD closed form"]["status"] == "fails"
    first = out.split("Terms:")[0]  # the verdicts come first
    assert "NLD closed form" in first and "fails: its assumption of coherent gradients" in first
    assert "holds: its assumption of coherent gradients holds" in first
    assert "Terms:" in out and "docs/nld.rst" in out and "kappa" in out
    assert f"wrote {folder.name}/nld_batchnorm.json" in out.replace(str(tmp_path) + "/", "")


def test_progress_is_on_by_default():
    """The bar itself is tested with the training loop (tests/nld/test_experiment.py)."""
    assert _args().verbose is True and _args("--quiet").verbose is False
    assert _args().out == "varembed_nld"


def test_overrides_need_one_regime_and_bad_input_is_refused(tmp_path):
    with pytest.raises(CLIError, match="--regime coherent or --regime noisy"):
        command.run(_args("--lr", "0.01", "--out", str(tmp_path)))
    with pytest.raises(CLIError, match="steps"):
        command.run(_args("--steps", "0", "--out", str(tmp_path)))
    with pytest.raises(CLIError, match="batch-size"):
        command.run(_args("--regime", "noisy", "--batch-size", "-1", "--out", str(tmp_path)))
    (tmp_path / "file").write_text("x")
    with pytest.raises(CLIError, match="is a file"):
        command.run(_args("--steps", "1", "--out", str(tmp_path / "file")))


def test_help_says_what_the_command_shows():
    from varembed.cli import build_parser

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["nld"]
    text = sub.format_help()
    for phrase in ("exact recursion", "modified equation", "NLD closed form", "coherent", "noisy", "--quiet",
                   "--out", "nld_batchnorm.png", "docs/nld.rst"):
        assert phrase in text
