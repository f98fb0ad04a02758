"""Synthetic data sets of the papers and the test suite (generated locally, nothing downloaded).

* :func:`figure1_mixture` -- the 100 mixture centres of the paper's Figure 1
  (line, circle, sinusoid) that define ``p_data`` with ``sigma = 0.1``;
* :func:`swiss_roll` -- ``sklearn.datasets.make_swiss_roll`` with the true
  intrinsic coordinates (arc length, height), so geodesic distances are
  Euclidean distances of :attr:`coordinates`;
* :func:`load_demo` -- the small built-in data set of ``python -m varembed demo``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "figure1_mixture",
    "FIGURE1_SETTINGS",
    "figure1_estimator",
    "torus",
    "swiss_roll",
    "swiss_roll_arclength",
    "geodesic_distances",
    "load_demo",
]

#: Hyper-parameters of the paper's Figure 1 (per the authors' notebook).
FIGURE1_SETTINGS = dict(
    n_points=100,
    sigma=0.1,
    continuity=1e-2,
    prior="uniform",
    prior_scale=1.0,
    hidden=(128, 128, 128),
    max_iter=4000,
    batch_size=1024,
    learning_rate={"line": 2e-3, "circle": 2e-3, "sinusoid": 1e-3},
)


def figure1_mixture(kind: str, n_points: int = 100, *, endpoint: bool | None = None) -> np.ndarray:
    """Centres of the Figure-1 Gaussian mixtures (equal weights, ``sigma = 0.1`` each).

    Parameters
    ----------
    kind : {"line", "circle", "sinusoid"}
        ``(t, t)`` for ``t in [0, 1]``; ``(cos t, sin t)`` for ``t in [0, 2 pi]``;
        ``(t, sin t)`` for ``t in [0, 2 pi]``.
    n_points : int, default=100
    endpoint : bool or None, default=None
        Whether the parameter grid includes its right end.  ``None`` means
        ``True`` for the line and the sinusoid (as in the paper) and
        ``False`` for the circle: the paper's notebook used ``endpoint=True``
        there too, which puts the point ``(1, 0)`` in twice and breaks the
        rotational symmetry (a 25% density bump); pass ``endpoint=True`` to
        reproduce that exactly.

    Returns
    -------
    ndarray of shape (n_points, 2)
    """
    if kind not in ("line", "circle", "sinusoid"):
        raise ValueError(f"kind must be 'line', 'circle' or 'sinusoid', got {kind!r}")
    if endpoint is None:
        endpoint = kind != "circle"
    if kind == "line":
        t = np.linspace(0.0, 1.0, n_points, endpoint=endpoint)
        return np.stack([t, t], 1)
    t = np.linspace(0.0, 2 * np.pi, n_points, endpoint=endpoint)
    if kind == "circle":
        return np.stack([np.cos(t), np.sin(t)], 1)
    return np.stack([t, np.sin(t)], 1)


def swiss_roll_arclength(t):
    """Arc length of the spiral ``(t cos t, t sin t)`` from 0: ``(t sqrt(1+t^2) + asinh t) / 2``."""
    t = np.asarray(t, dtype=float)
    return 0.5 * (t * np.sqrt(1.0 + t**2) + np.arcsinh(t))


def swiss_roll(n_samples: int = 2000, *, noise: float = 0.05, random_state=0, hole: bool = False) -> Bunch:
    """The scikit-learn swiss roll with its true intrinsic coordinates.

    ``make_swiss_roll`` draws ``t ~ U[1.5 pi, 4.5 pi]`` and height
    ``y ~ U[0, 21]`` and returns ``(t cos t, y, t sin t)`` (+ noise).  The roll
    is isometric to the rectangle of (arc length ``s(t)``, height ``y``), so
    the geodesic distance between two points is the Euclidean distance of
    their ``coordinates``.  Note the sampling is uniform in ``t``, not in arc
    length: the inner turns are denser.

    Returns
    -------
    Bunch
        ``data`` (n, 3), ``t`` (n,), ``coordinates`` (n, 2) = (arc length, height).
    """
    from sklearn.datasets import make_swiss_roll

    X, t = make_swiss_roll(n_samples, noise=noise, random_state=random_state, hole=hole)
    coords = np.stack([swiss_roll_arclength(t), X[:, 1]], 1)
    return Bunch(data=X, t=t, coordinates=coords)


def torus(n_samples: int = 2000, *, major: float = 2.0, minor: float = 0.7, noise: float = 0.05,
          random_state=None) -> np.ndarray:
    """Points on a torus about the z axis (radii ``major``, ``minor``) plus Gaussian noise, shape ``(n, 3)``.

    Uniform in both angles (not in area); its distribution is exactly invariant
    under rotations about the z axis: the test case of the symmetry search.
    """
    from ._utils.random import numpy_generator

    rng = numpy_generator(random_state)
    u, v = rng.uniform(0, 2 * np.pi, (2, int(n_samples)))
    ring = major + minor * np.cos(v)
    return np.c_[ring * np.cos(u), ring * np.sin(u), minor * np.sin(v)] + noise * rng.normal(size=(int(n_samples), 3))


def geodesic_distances(coordinates: np.ndarray) -> np.ndarray:
    """Condensed pairwise Euclidean distances of intrinsic coordinates (``scipy`` ``pdist`` order)."""
    from scipy.spatial.distance import pdist

    return pdist(np.asarray(coordinates, dtype=float))


def load_demo(n_samples: int = 2000, random_state=0) -> Bunch:
    """The built-in demo data: a noisy swiss roll (3-D points on a rolled-up 2-D sheet).

    2000 points by default: the configuration the estimator's defaults were
    validated on (with 1000 points the default fit folds the roll).

    Returns
    -------
    Bunch
        ``data`` (n, 3); ``target`` (n,) the roll parameter ``t`` (for
        colouring); ``coordinates`` (n, 2) the true unrolled coordinates;
        ``params`` keyword arguments for :class:`~varembed.VariationalEmbedding`
        that embed it well within seconds; ``DESCR``.
    """
    rs = check_random_state(random_state)
    roll = swiss_roll(n_samples, noise=0.05, random_state=rs)
    return Bunch(
        data=roll.data,
        target=roll.t,
        coordinates=roll.coordinates,
        params=dict(n_components=2),
        DESCR=(
            "Swiss roll: n points on a rolled-up rectangle in 3-D (scikit-learn's make_swiss_roll, "
            "noise 0.05). A good 2-D embedding unrolls it: colour (the roll parameter t) varies "
            "smoothly along one latent axis."
        ),
    )


#: Adam learning rates of the reduced (default) configuration.
QUICK_LR = {"line": 1e-2, "circle": 3e-3, "sinusoid": 1e-2}


def figure1_estimator(kind: str, *, quick: bool = False, activation: str = "tanh", **overrides):
    """The :class:`~varembed.VariationalEmbedding` of one Figure-1 panel, unfitted.

    The paper's hyperparameters (:data:`FIGURE1_SETTINGS`): raw coordinates,
    the KDE of the 100 centres with ``sigma = 0.1``, uniform prior on
    ``[-1, 1]``, ``lam = 1e-2``, a random smooth start, no early stopping.

    Parameters
    ----------
    kind : {"line", "circle", "sinusoid"}
    quick : bool, default=False
        A 64 x 64 network, 3000 steps of 256 samples (about 15 s per panel
        on one core) instead of the paper's 128 x 128 x 128, 4000 x 1024.
    activation : str, default="tanh"
        ``"sin"`` (SIREN-style) folds onto the ridge as the published figure does.
    **overrides
        Any other estimator parameter.
    """
    from .embedding.neural import VariationalEmbedding

    s = FIGURE1_SETTINGS
    params = dict(
        n_components=1,
        prior=s["prior"],
        prior_scale=s["prior_scale"],
        density="kde",
        bandwidth=s["sigma"],
        continuity=s["continuity"],
        standardize=None,  # the paper works in raw coordinates: sigma and lam are in data units
        hidden=s["hidden"],
        activation=activation,
        init="random",
        max_iter=s["max_iter"],
        batch_size=s["batch_size"],
        learning_rate=s["learning_rate"][kind],
        clip_grad=1.0,
        n_iter_no_change=None,
        random_state=0,
        device="cpu",
    )
    if quick:
        params.update(hidden=(64, 64), max_iter=3000, batch_size=256, learning_rate=QUICK_LR[kind])
    params.update(overrides)
    return VariationalEmbedding(**params)
