"""Figures: latent codes, learned manifolds over data, singular values, the demo figure.

matplotlib is imported lazily inside each function, so importing varembed
never needs a display or even matplotlib, and the user's backend is never
changed: functions that draw into given (or new pyplot) axes return them;
:func:`plot_demo`, which only writes a file, draws on a bare
``matplotlib.figure.Figure`` without pyplot.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_embedding", "plot_manifold", "plot_singular_values", "plot_demo", "CATEGORICAL_MAX"]

#: Colours with at most this many distinct integer values are drawn as classes (legend), else a colour bar.
CATEGORICAL_MAX = 20


def _axes(ax, projection=None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot(projection=projection)


def _is_categorical(color) -> bool:
    c = np.asarray(color)
    return c.dtype.kind in "iub" or (c.dtype.kind in "f" and np.all(c == np.round(c)) and
                                     len(np.unique(c)) <= CATEGORICAL_MAX)


def _coloured_scatter(ax, pts, color, color_label, **kw):
    """Scatter with a legend (classes) or a colour bar (continuous values)."""
    if color is None:
        return ax.scatter(*pts, color="tab:blue", **kw)
    color = np.asarray(color)
    if _is_categorical(color) and len(np.unique(color)) <= CATEGORICAL_MAX:
        import matplotlib as mpl

        cmap = mpl.colormaps["tab10" if len(np.unique(color)) <= 10 else "tab20"]
        for i, value in enumerate(np.unique(color)):
            sel = color == value
            ax.scatter(*[p[sel] for p in pts], color=cmap(i % cmap.N), label=f"{value:g}" if color.dtype.kind
                       == "f" else str(value), **kw)
        ax.legend(title=color_label, fontsize=7, title_fontsize=8, markerscale=2, loc="best", ncol=2)
        return None
    sc = ax.scatter(*pts, c=color, cmap="viridis", **kw)
    ax.figure.colorbar(sc, ax=ax, label=color_label or "colour", shrink=0.8)
    return sc


def plot_embedding(Z, color=None, ax=None, title="latent codes", color_label=None, defects=None):
    """Scatter the first two latent coordinates (a strip for ``d = 1``), with a colour key.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components)
    color : array-like of shape (n_samples,), optional
        Class labels (drawn with a legend) or continuous values (colour bar).
    ax : matplotlib Axes, optional
    title : str
    color_label : str, optional
        What the colour means (legend title or colour-bar label).
    defects : NeighbourhoodDefects, optional
        Tears drawn as red segments between data neighbours that the map
        put far apart (:func:`varembed.diagnostics.defects.neighbourhood_defects`).

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    Z = np.asarray(Z)
    y = Z[:, 1] if Z.shape[1] > 1 else np.zeros(len(Z))
    _coloured_scatter(ax, (Z[:, 0], y), color, color_label, s=8, alpha=0.85, linewidths=0)
    if defects is not None and len(defects.tears):
        pairs = defects.tears[:500]
        for k, (i, j) in enumerate(pairs):
            ax.plot([Z[i, 0], Z[j, 0]], [y[i], y[j]], color="red", lw=0.6, alpha=0.6,
                    label=f"tear: data neighbours torn apart ({len(defects.tears)} pairs)" if k == 0 else None)
        ax.legend(fontsize=7, loc="best")
    ax.set_xlabel("latent z1")
    ax.set_ylabel("latent z2" if Z.shape[1] > 1 else "(d = 1)")
    ax.set_title(title)
    return ax


def _data_projection(X):
    """A view of the data space: raw axes when D <= 3, else the top principal axes."""
    X = np.asarray(X, dtype=float)
    if X.shape[1] <= 3:
        return (lambda A: np.asarray(A, dtype=float)), ["x1", "x2", "x3"][: X.shape[1]]
    mean = X.mean(0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    return (lambda A: (np.asarray(A, dtype=float) - mean) @ vt[:3].T), ["PC1", "PC2", "PC3"]


def plot_manifold(model, X, color=None, ax=None, n_grid=25, color_label=None):
    """Data with the learned manifold ``phi(latent grid)`` drawn over it.

    Parameters
    ----------
    model : fitted embedding estimator (``transform`` and ``inverse_transform``)
    X : ndarray of shape (n_samples, n_features)
    color : array-like, optional
    ax : matplotlib Axes (3-D when the data have 3 or more dimensions), optional
    n_grid : int
        Grid points per latent axis.
    color_label : str, optional

    Returns
    -------
    matplotlib Axes
    """
    view, names = _data_projection(X)
    V = view(X)
    three_d = V.shape[1] >= 3
    ax = _axes(ax, projection="3d" if three_d else None)
    Z = model.transform(X)
    d = Z.shape[1]
    lo, hi = np.percentile(Z, 1, axis=0), np.percentile(Z, 99, axis=0)
    pts = V[:, :3].T if three_d else V[:, :2].T
    _coloured_scatter(ax, tuple(pts), color, color_label, s=7, alpha=0.8, linewidths=0)
    axes = [np.linspace(lo[i], hi[i], n_grid) for i in range(min(d, 2))]
    style = dict(color="0.25", lw=0.6, alpha=0.5)
    if d == 1:
        curve = view(model.inverse_transform(axes[0][:, None]))
        ax.plot(*(curve[:, :3].T if three_d else curve[:, :2].T), color="crimson", lw=2, label="learned curve")
    else:
        rest = np.tile(np.median(Z[:, 2:], axis=0), (n_grid, 1)) if d > 2 else np.empty((n_grid, 0))
        for fixed_axis in (0, 1):
            for k, value in enumerate(axes[fixed_axis][:: max(1, n_grid // 8)]):
                line = np.zeros((n_grid, 2))
                line[:, fixed_axis] = value
                line[:, 1 - fixed_axis] = axes[1 - fixed_axis]
                curve = view(model.inverse_transform(np.hstack([line, rest])))
                ax.plot(*(curve[:, :3].T if three_d else curve[:, :2].T), **style,
                        label="learned manifold (latent grid)" if fixed_axis == 0 and k == 0 else None)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    if three_d:
        ax.set_zlabel(names[2])
    ax.set_title("data and the learned manifold")
    return ax


def plot_singular_values(singular_values, ax=None, rank=None, title="singular values"):
    """Singular values on a log scale, with the estimated rank marked.

    Parameters
    ----------
    singular_values : array-like
    ax : matplotlib Axes, optional
    rank : int, optional
        Draw a vertical line after the first ``rank`` values.
    title : str

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    s = np.asarray(singular_values, dtype=float)
    ax.semilogy(np.arange(1, s.size + 1), np.maximum(s, 1e-300), "o-", label="singular values")
    if rank is not None:
        ax.axvline(rank + 0.5, color="grey", ls="--", label=f"rank {rank}")
    ax.set_xlabel("index (ascending)")
    ax.set_ylabel("singular value")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return ax


def plot_demo(model, X, color, path, *, color_label="colour", defects=None, title=None):
    """The demo figure (a PNG at ``path``): data with the learned manifold, and the latent codes.

    Parameters
    ----------
    model : fitted embedding estimator
    X : ndarray
    color : array-like
    path : str
        PNG file to write.
    color_label : str
        What the colour means.
    defects : NeighbourhoodDefects, optional
        Tears to draw on the latent panel.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 5))
    view_dim = 3 if X.shape[1] >= 3 else 2
    ax1 = fig.add_subplot(1, 2, 1, projection="3d" if view_dim == 3 else None)
    plot_manifold(model, X, color=color, ax=ax1, color_label=color_label)
    ax2 = fig.add_subplot(1, 2, 2)
    plot_embedding(model.transform(X), color=color, ax=ax2, color_label=color_label, defects=defects,
                   title="latent codes transform(X)")
    fig.suptitle(title or type(model).__name__)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return fig
