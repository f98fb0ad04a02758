"""Pictures of a diagnostics report (matplotlib is imported only here, lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_report"]


def _pick_current(report, symmetry):
    found = [s for search in report.symmetries.values() for s in search.symmetries if s.current is not None]
    if symmetry is None:
        return found[0] if found else None
    if isinstance(symmetry, int) and not isinstance(symmetry, bool):
        if not 0 <= symmetry < len(found):
            raise ValueError(f"symmetry index {symmetry} out of range: the report has {len(found)} measured currents")
        return found[symmetry]
    raise TypeError(f"symmetry must be None or an int index, got {type(symmetry).__name__}")


def plot_report(report, ax=None, symmetry=None):
    """Draw the residual field and one Noether current over the latent space.

    ``d = 1``: ``|r(z)|/S_ref`` and the current ``j(z)`` (with its divergence)
    against ``z``.  ``d = 2``: the latent samples coloured by ``|r|/S_ref`` and
    the current as arrows.

    Parameters
    ----------
    report : DiagnosticsReport
    ax : sequence of two matplotlib Axes, optional
        Created (in a new figure) when omitted.
    symmetry : int, optional
        Index of the measured current to draw (default: the first found).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For ``d > 2`` (no faithful picture of the latent space).
    """
    d = report.latent_dim
    if d > 2:
        raise ValueError(f"plot() draws latent fields for d <= 2 only; this embedding has d={d}")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    else:
        ax = list(ax)
        if len(ax) != 2:
            raise ValueError("ax must be a sequence of two Axes")
        fig = ax[0].figure
    res = report.residual
    z, norms = res.z, res.norms / report.s_ref
    sym = _pick_current(report, symmetry)
    if d == 1:
        order = np.argsort(z[:, 0])
        ax[0].semilogy(z[order, 0], np.maximum(norms[order], 1e-300), ".", ms=2)
        ax[0].set_xlabel("z")
        ax[0].set_ylabel("|r(z)| / S_ref")
        if sym is not None:
            c = sym.current
            o = np.argsort(c.z[:, 0])
            ax[1].plot(c.z[o, 0], c.current[o, 0], label="j")
            ax[1].plot(c.z[o, 0], c.divergence[o], label="div j")
            ax[1].legend()
        ax[1].set_xlabel("z")
    else:
        sc = ax[0].scatter(z[:, 0], z[:, 1], c=np.log10(np.maximum(norms, 1e-300)), s=4, cmap="viridis")
        fig.colorbar(sc, ax=ax[0], label="log10 |r| / S_ref")
        ax[0].set_xlabel("z1")
        ax[0].set_ylabel("z2")
        ax[0].set_aspect("equal")
        if sym is not None:
            c = sym.current
            m = min(400, c.z.shape[0])
            ax[1].quiver(c.z[:m, 0], c.z[:m, 1], c.current[:m, 0], c.current[:m, 1], c.divergence[:m], cmap="coolwarm")
            ax[1].set_aspect("equal")
        ax[1].set_xlabel("z1")
    ax[0].set_title(f"Euler-Lagrange residual (rho_EL = {res.rho:.2e})")
    ax[1].set_title("Noether current: " + (sym.describe() if sym is not None else "no symmetry found"))
    return fig
