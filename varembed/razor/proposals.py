"""Candidate conserved quantities from the transitions: the likelihood's own conservation constraint.

If ``C`` is a conserved quantity of the model, the model's step conserves it
exactly (Noether: the symmetrised ``H`` is invariant under ``C``'s flow), so
under the Gaussian likelihood an observed transition changes ``C`` only
through the noise: ``C(x_{t+1}) - C(x_t) ~ N(0, sigma^2 |grad C(x_t)|^2)`` to
first order.  The quadratics that best satisfy this are the generalised
eigenvectors of

    D c = lambda G c,   D = E[dphi dphi^T],   G = E[grad phi . grad phi^T],

over the orthonormal quadratic basis ``phi`` (``dphi`` its change along a
transition): ``lambda`` is the mean squared change of ``C`` in units of the
squared change of the state, zero for a quantity the data conserve.  The
candidates are only an ordering; which of them are symmetries is decided by
the bound (:mod:`varembed.razor.selection`).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from ..core.symmetry import quadratic_form_basis

__all__ = ["conservation_candidates"]


def conservation_candidates(x, y, n_candidates=None):
    """Quadratic functions ordered by how little they change along the transitions ``x -> y``.

    Parameters
    ----------
    x, y : array-like of shape (N, M)
        States and the states one step later.
    n_candidates : int, optional
        How many to return (default all ``p``).

    Returns
    -------
    candidates : ndarray of shape (n_candidates, p)
        Unit coordinate vectors (:func:`~varembed.razor.phase_space.quadratic_coordinates`).
    change : ndarray of shape (n_candidates,)
        Their ``lambda`` (ascending).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    basis = quadratic_form_basis(x.shape[1], linear=True)
    a = np.array([q for q, _, _ in basis])
    b = np.array([v for _, v, _ in basis])

    def values(z):
        return 0.5 * np.einsum("ni,kij,nj->nk", z, a, z) + z @ b.T

    change = values(y) - values(x)
    grads = np.einsum("kij,nj->nki", a, x) + b[None]
    d = change.T @ change / x.shape[0]
    g = np.einsum("nki,nli->kl", grads, grads) / x.shape[0]
    g = g + 1e-10 * np.trace(g) / g.shape[0] * np.eye(g.shape[0])  # directions without gradient on the data
    lam, vec = eigh(d, g)
    cand = vec.T / np.linalg.norm(vec.T, axis=1, keepdims=True)
    k = cand.shape[0] if n_candidates is None else min(int(n_candidates), cand.shape[0])
    return cand[:k], np.maximum(lam[:k], 0.0)
