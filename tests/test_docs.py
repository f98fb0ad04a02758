"""The documentation builds with warnings as errors (examples at their reduced size).

No wall-clock limit: on a loaded machine the build is slow, not wrong.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")
pytest.importorskip("pydata_sphinx_theme")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    env = dict(os.environ, VAREMBED_DOCS_FAST="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(ROOT / "docs"), str(tmp_path / "html")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "variational problem" in index
    api = (tmp_path / "html" / "generated" / "varembed.LinearVariationalEmbedding.html").read_text()
    assert "components_" in api
