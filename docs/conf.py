"""Sphinx configuration for the varembed documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "varembed"
author = "the varembed developers"
copyright = "2026, the varembed developers"
from varembed import __version__ as release  # noqa: E402

version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5",
                    "auto_examples/*.codeobj.json", "auto_examples/*.zip"]
templates_path = []

intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = "varembed"
html_static_path = []
html_theme_options = {"navigation_with_keys": False}

# Examples: sphinx-gallery executes every script in examples/ (override with
# VAREMBED_GALLERY_PATTERN, a regular expression on the path; VAREMBED_GALLERY_RUN=False
# skips execution).  VAREMBED_DOCS_FAST=1 (set by the docs test) asks the examples for
# their reduced size so the build stays time-bounded.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_check import CheckedMatplotlibScraper  # noqa: E402

sphinx_gallery_conf = {
    "image_scrapers": (CheckedMatplotlibScraper(),),
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("VAREMBED_GALLERY_PATTERN", r"\.py$"),
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "plot_gallery": os.environ.get("VAREMBED_GALLERY_RUN", "True"),
    "abort_on_example_error": True,
}


def _skip_sklearn_metadata_requests(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods have docstrings Sphinx cannot resolve."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_metadata_requests)
