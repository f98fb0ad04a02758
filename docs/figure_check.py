"""The gallery's figure check: every example figure keys its colours and labels its axes.

Used as sphinx-gallery's image scraper (``docs/conf.py``): before the
standard matplotlib scraper saves the open figures of an example block, each
is checked, and a figure whose plotted axes lack axis labels, or which has
neither a legend nor a colour bar, is reported as a Sphinx warning (the docs
test builds with ``-W``, so it fails).
"""

from __future__ import annotations

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def figure_problems(fig) -> list:
    """What a reader misses in ``fig``: unlabelled axes, no legend or colour bar."""
    bars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>" and a.axison]
    out = [f"axes {a.get_title()!r} lacks axis labels" for a in axes if not (a.get_xlabel() and a.get_ylabel())]
    if axes and not (bars or fig.legends or any(a.get_legend() is not None for a in axes)):
        out.append("no legend or colour bar")
    return out


class CheckedMatplotlibScraper:
    """sphinx-gallery's matplotlib scraper, after :func:`figure_problems` on every open figure."""

    def __repr__(self) -> str:  # a stable repr: sphinx-gallery hashes its configuration
        return "CheckedMatplotlibScraper()"

    def __call__(self, block, block_vars, gallery_conf, **kwargs):
        import matplotlib.pyplot as plt
        from sphinx_gallery.scrapers import matplotlib_scraper

        for num in plt.get_fignums():
            for problem in figure_problems(plt.figure(num)):
                LOGGER.warning(f"{block_vars.get('src_file', 'example')}: figure {num}: {problem}")
        return matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)
