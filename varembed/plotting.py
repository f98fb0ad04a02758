"""Figures: embeddings, learned manifolds over data, singular values.

matplotlib is imported lazily inside each function, so importing varembed
never needs a display or even matplotlib.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_embedding", "plot_manifold", "plot_singular_values", "plot_demo"]


def _plt():
    """pyplot, imported lazily; the user's backend is never changed (set ``MPLBACKEND=Agg`` for files only)."""
    import matplotlib.pyplot as plt

    return plt


def plot_embedding(Z, color=None, ax=None, title="latent codes"):
    """Scatter the first two latent coordinates (or a strip for ``d = 1``).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components)
    color : array-like of shape (n_samples,), optional
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    ax = ax or plt.gca()
    Z = np.asarray(Z)
    y = Z[:, 1] if Z.shape[1] > 1 else np.zeros(len(Z))
    ax.scatter(Z[:, 0], y, c=color, s=6, cmap="Spectral")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2" if Z.shape[1] > 1 else "")
    ax.set_title(title)
    return ax


def _data_projection(model, X):
    """A 2-D or 3-D view of the data space: raw axes when D <= 3, else the top principal axes."""
    X = np.asarray(X, dtype=float)
    if X.shape[1] <= 3:
        return lambda A: np.asarray(A, dtype=float)
    mean = X.mean(0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    return lambda A: (np.asarray(A, dtype=float) - mean) @ vt[:3].T


def plot_manifold(model, X, color=None, ax=None, n_grid=25):
    """Data with the learned manifold ``phi(latent grid)`` drawn over it.

    Parameters
    ----------
    model : fitted embedding estimator (with ``inverse_transform`` and ``transform``)
    X : ndarray of shape (n_samples, n_features)
    color : array-like, optional
    ax : matplotlib Axes (3-D when the view is 3-D), optional
    n_grid : int
        Grid points per latent axis.

    Returns
    -------
    matplotlib Axes
    """
    plt = _plt()
    view = _data_projection(model, X)
    V = view(X)
    Z = model.transform(X)
    d = Z.shape[1]
    lo, hi = np.percentile(Z, 1, axis=0), np.percentile(Z, 99, axis=0)
    if ax is None:
        fig = plt.gcf()
        ax = fig.add_subplot(projection="3d" if V.shape[1] == 3 else None)
    three_d = V.shape[1] == 3
    pts = V.T if three_d else V[:, :2].T
    ax.scatter(*pts, c=color, s=4, alpha=0.35, cmap="Spectral")
    axes = [np.linspace(lo[i], hi[i], n_grid) for i in range(min(d, 2))]
    if d == 1:
        curve = view(model.inverse_transform(axes[0][:, None]))
        ax.plot(*(curve.T if three_d else curve[:, :2].T), color="crimson", lw=2)
    else:
        rest = np.tile(np.median(Z[:, 2:], axis=0), (n_grid, 1)) if d > 2 else np.empty((n_grid, 0))
        for fixed_axis in (0, 1):
            for value in axes[fixed_axis][:: max(1, n_grid // 8)]:
                line = np.zeros((n_grid, 2))
                line[:, fixed_axis] = value
                line[:, 1 - fixed_axis] = axes[1 - fixed_axis]
                curve = view(model.inverse_transform(np.hstack([line, rest])))
                ax.plot(*(curve.T if three_d else curve[:, :2].T), color="crimson", lw=0.8)
    ax.set_title("data and learned manifold")
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
    plt = _plt()
    ax = ax or plt.gca()
    s = np.asarray(singular_values, dtype=float)
    ax.semilogy(np.arange(1, s.size + 1), np.maximum(s, 1e-300), "o-")
    if rank is not None:
        ax.axvline(rank + 0.5, color="grey", ls="--")
    ax.set_xlabel("index")
    ax.set_title(title)
    return ax


def plot_demo(model, X, color, path):
    """The demo figure: data with the learned manifold, and the latent codes.

    Parameters
    ----------
    model : fitted embedding estimator
    X : ndarray
    color : array-like
    path : str
        PNG file to write.
    """
    plt = _plt()
    fig = plt.figure(figsize=(11, 4.8))
    view_dim = 3 if X.shape[1] >= 3 else 2
    ax1 = fig.add_subplot(1, 2, 1, projection="3d" if view_dim == 3 else None)
    plot_manifold(model, X, color=color, ax=ax1)
    ax2 = fig.add_subplot(1, 2, 2)
    plot_embedding(model.transform(X), color=color, ax=ax2)
    fig.suptitle(type(model).__name__)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
