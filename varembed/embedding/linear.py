"""LinearVariationalEmbedding: the affine special case, solved on the Grassmann manifold.

For an affine map ``phi(z) = W z + b``, a Gaussian data density ``N(mu, C)`` and
an isotropic prior of per-coordinate variance ``v`` (``prior_scale^2`` for the
Gaussian prior, ``L^2/3`` for the box ``[-L, L]^d``), the functional is exactly

    F(W, b) = log N(b; mu, C) + 1/2 log det(W^T W) - 1/2 tr(W^T M W),
    M = v C^{-1} + 2 lam I.

``b = mu`` in closed form.  Writing ``W = V A`` with ``V`` an orthonormal
frame, the optimal ``A`` satisfies ``A A^T = (V^T M V)^{-1}`` in closed form,
and what remains is

    max_V  -1/2 log det(V^T M V) - d/2,

a function of the subspace ``span V`` only: a cost on the Grassmann manifold
``Gr(D, d)``, minimised here with pymanopt (torch autodiff backend).  Its
minimisers span the top-``d`` eigenvectors of ``C``: PCA.

The data density is PPCA's Gaussian (Tipping and Bishop 1999):
``C = U diag(l) U^T + sigma^2 (I - U U^T)`` with ``l`` the top-``d`` eigenvalues
of the unbiased covariance ``S`` (as ``sklearn.decomposition.PCA``),
``U`` their eigenvectors and ``sigma^2`` the mean discarded eigenvalue (floored at
``1e-12 tr(S)/D``).  With ``continuity=0`` the fitted map pushes the prior
onto the principal part of ``C`` and ``score`` is PPCA's log-likelihood,
``PCA.score``.  Conditioning: since adding a multiple of ``I`` changes no
eigenvector, the fit first solves the problem for ``S + tr(S)/D I`` (a
Riemannian Hessian with condition number at most about ``D``, whatever the
conditioning of ``S``), then builds ``C`` from that subspace and polishes on
it.  Without this continuation trust regions stall on ill-conditioned
covariances.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from pymanopt.manifolds import Grassmann
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import validate_data

from .._utils.random import numpy_generator
from ._base import BaseVariationalEmbedding
from .densities import GaussianDensity
from .functional import EmbeddingFunctional
from .maps import SmoothMLPMap
from .priors import PRIORS, make_prior
from .riemannian import SOLVERS, minimize_on_manifold

__all__ = ["LinearVariationalEmbedding"]

_FLOOR_RTOL = 1e-12


def _grassmann_cost(cov: np.ndarray, prior_variance: float, continuity: float):
    """Cost ``V -> 1/2 log det(V^T M V)``, ``M = v C^{-1} + 2 lam I``, with its derivatives.

    Returns torch functions ``(cost, euclidean_gradient, euclidean_hessian)``:
    ``grad = M V K^{-1}`` and ``hess[X] = M X K^{-1} - M V K^{-1} (X^T M V + V^T M X) K^{-1}``
    with ``K = V^T M V``.  Closed-form derivatives avoid autodiff's double backward
    in every Hessian-vector product of the trust-region inner solver (tested
    against autodiff in the test suite).
    """
    c = torch.as_tensor(cov, dtype=torch.float64)
    eye = torch.eye(c.shape[0], dtype=torch.float64)
    m = prior_variance * torch.cholesky_solve(eye, torch.linalg.cholesky(c)) + 2.0 * continuity * eye
    m = 0.5 * (m + m.T)

    def cost(frame):
        k = frame.T @ m @ frame
        return torch.log(torch.diagonal(torch.linalg.cholesky(k))).sum()

    def _mv_kinv(frame):
        mv = m @ frame
        kinv = torch.linalg.inv(frame.T @ mv)
        return mv, kinv

    def euclidean_gradient(frame):
        mv, kinv = _mv_kinv(frame)
        return mv @ kinv

    def euclidean_hessian(frame, direction):
        mv, kinv = _mv_kinv(frame)
        sym = direction.T @ mv
        return m @ direction @ kinv - mv @ kinv @ (sym + sym.T) @ kinv

    return cost, euclidean_gradient, euclidean_hessian


def _reduced_metric(frame: np.ndarray, cov: np.ndarray, prior_variance: float, continuity: float):
    """``V^T M V`` (d x d) for an orthonormal frame, without forming ``C^{-1}``."""
    from scipy.linalg import cho_factor, cho_solve

    factor = cho_factor(cov, lower=True)
    k = prior_variance * frame.T @ cho_solve(factor, frame) + 2.0 * continuity * np.eye(frame.shape[1])
    return 0.5 * (k + k.T)


class LinearVariationalEmbedding(BaseVariationalEmbedding):
    """Affine variational embedding; exactly PCA for a Gaussian prior and density.

    Maximises ``F[phi] = E_q[log p(phi(z)) + 1/2 log det(J^T J) - lam tr(J^T J)]``
    over affine maps ``phi(z) = W z + b`` with ``p`` the Gaussian fitted to the
    data, by Riemannian trust regions on the Grassmann manifold (pymanopt).
    With ``continuity=0`` and a Gaussian prior of unit scale, ``W`` spans the
    principal subspace and ``transform`` returns whitened principal components.

    Parameters
    ----------
    n_components : int, default=2
        Latent dimension ``d`` (``1 <= d <= n_features``).
    prior : {"gaussian", "uniform"}, default="gaussian"
        Latent prior ``q``: ``N(0, prior_scale^2 I)`` or the uniform box
        ``[-prior_scale, prior_scale]^d``.  Within affine maps the box acts like
        a Gaussian of variance ``prior_scale^2 / 3``.
    prior_scale : float, default=1.0
        Standard deviation of the Gaussian prior, half-width of the box.
    continuity : float, default=0.0
        ``lam >= 0``: weight of the Dirichlet energy ``E_q tr(J^T J)``.  It
        shrinks the scales to ``s_k^2 = l_k / (v + 2 lam l_k)`` (``v`` the prior
        variance, ``l_k`` the eigenvalues of the density's covariance).
    solver : {"trust-regions", "conjugate-gradient", "steepest-descent"}, default="trust-regions"
        pymanopt optimiser.
    max_iter : int, default=500
        Maximum outer iterations per optimisation stage.
    tol : float, default=1e-10
        Riemannian gradient norm at which the optimiser stops.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial frame (a private generator; global RNGs are never used).
    verbose : int, default=0
        Print a line per optimisation stage when > 0 (pymanopt itself stays silent).
    n_jobs : int or None, default=None
        Torch intra-op threads (``None``: one).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Orthonormal principal axes in the data space, ordered by decreasing
        scale, with scikit-learn's sign convention (largest entry of each row
        positive), like ``PCA.components_``.
    scales_ : ndarray of shape (n_components,)
        Lengths ``s_k`` of the columns of ``W``.
    embedding_matrix_ : ndarray of shape (n_features, n_components)
        ``W = components_.T @ diag(scales_)``.
    mean_ : ndarray of shape (n_features,)
        ``b``, the data mean.
    covariance_ : ndarray of shape (n_features, n_features)
        Covariance of the fitted data density, PPCA's
        ``U diag(explained_variance_) U^T + noise_variance_ (I - U U^T)``.
    explained_variance_ : ndarray of shape (n_components,)
        Top eigenvalues of the unbiased data covariance (as ``PCA.explained_variance_``).
    noise_variance_ : float
        Mean discarded eigenvalue (as ``PCA.noise_variance_``), at least
        ``1e-12 tr(S) / n_features``.
    objective_ : float
        ``F`` at the optimum, evaluated exactly (not from the closed form).
    n_iter_ : int
        Riemannian iterations over both stages.
    map_ : SmoothMLPMap
        The affine map ``W z + b`` as a torch module (float64, CPU).
    prior_ : GaussianPrior or UniformBoxPrior
    density_ : GaussianDensity
        The fitted data density ``N(mean_, covariance_)``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string feature names.

    See Also
    --------
    sklearn.decomposition.PCA : the special case reproduced here.
    varembed.VariationalEmbedding : nonlinear maps.

    Examples
    --------
    >>> import numpy as np
    >>> from varembed import LinearVariationalEmbedding
    >>> X = np.random.default_rng(0).normal(size=(200, 5)) * [5, 3, 1, 0.5, 0.1]
    >>> emb = LinearVariationalEmbedding(n_components=2, random_state=0).fit(X)
    >>> emb.transform(X).shape
    (200, 2)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "prior_scale": [Interval(Real, 0, None, closed="neither")],
        "continuity": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_components=2, *, prior="gaussian", prior_scale=1.0, continuity=0.0, solver="trust-regions",
                 max_iter=500, tol=1e-10, random_state=None, verbose=0, n_jobs=None):
        self.n_components = n_components
        self.prior = prior
        self.prior_scale = prior_scale
        self.continuity = continuity
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    # --------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the Gaussian density and maximise the functional over affine maps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (at least 2 samples; finite, real).
        y : Ignored

        Returns
        -------
        self : LinearVariationalEmbedding
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X = np.asarray(X, dtype=np.float64)
        n_samples, n_features = X.shape
        if int(self.n_components) > n_features:
            raise ValueError(f"n_components={self.n_components} must be <= n_features={n_features}")
        d = int(self.n_components)
        prior = make_prior(self.prior, d, float(self.prior_scale))
        lam = float(self.continuity)

        mean = X.mean(axis=0)
        xc = X - mean
        s = xc.T @ xc / (n_samples - 1)
        s = 0.5 * (s + s.T)
        trace = float(np.trace(s))
        tiny = _FLOOR_RTOL * trace / n_features if trace > 0 else 1.0

        frame0, _ = np.linalg.qr(numpy_generator(self.random_state).standard_normal((n_features, d)))
        if d == n_features:  # Gr(D, D) is a single point: nothing to optimise
            noise, n_iter, frame, cov = tiny, 0, np.eye(n_features), s + tiny * np.eye(n_features)
        else:
            frame, noise, cov, n_iter = self._solve(s, frame0, prior.variance, lam, tiny, n_samples)

        # Gauge: rotate to principal axes (eigenvectors of V^T M V), decreasing scale.
        k = _reduced_metric(frame, cov, prior.variance, lam)
        m, rot = np.linalg.eigh(k)  # ascending metric eigenvalues = descending scales
        components = (frame @ rot).T
        _, components = svd_flip(np.zeros((1, d)), components, u_based_decision=False)
        self.components_ = components
        self.scales_ = 1.0 / np.sqrt(m)
        self.embedding_matrix_ = components.T * self.scales_
        self.mean_ = mean
        self.covariance_ = cov
        # Ritz values of C on the subspace (C^{-1} restricted, inverted).
        ck = _reduced_metric(components.T, cov, 1.0, 0.0)
        self.explained_variance_ = 1.0 / np.diag(ck)
        self.noise_variance_ = float(noise)
        self.n_iter_ = n_iter
        self.dtype_, self.device_ = torch.float64, torch.device("cpu")
        self.prior_ = prior
        self.density_ = GaussianDensity(torch.as_tensor(mean), torch.as_tensor(cov), n_samples=n_samples)
        self.map_ = SmoothMLPMap(d, n_features, (), weight=torch.as_tensor(self.embedding_matrix_),
                                 bias=torch.as_tensor(mean)).requires_grad_(False)
        self.objective_ = float(EmbeddingFunctional(prior, self.density_, lam).affine_gaussian(
            torch.as_tensor(self.embedding_matrix_), torch.as_tensor(mean)))
        return self

    def _solve(self, s, frame0, prior_variance, lam, tiny, n_samples):
        """Two-stage Grassmann optimisation; returns (frame, noise variance, PPCA covariance, iterations)."""
        n_features, d = frame0.shape
        trace = float(np.trace(s))
        eye = np.eye(n_features)
        manifold = Grassmann(n_features, d)
        run = dict(solver=self.solver, max_iter=int(self.max_iter), tol=float(self.tol))
        # Stage 1: continuation floor tr(S)/D -- same optimal subspace, good conditioning.
        floor1 = max(trace / n_features, tiny)
        res1 = minimize_on_manifold(
            manifold, *_grassmann_cost(s + floor1 * eye, prior_variance, lam), frame0, **run
        )
        # Stage 2: PPCA's density on the fitted subspace (noise = mean discarded eigenvalue, as PCA)
        ritz, vecs = np.linalg.eigh(res1.point.T @ s @ res1.point)
        basis, ritz = res1.point @ vecs, np.maximum(ritz, tiny)
        n_kept = min(n_samples, n_features)
        noise = max((trace - float(ritz.sum())) / (n_kept - d), tiny) if n_kept > d else tiny
        cov = (basis * ritz) @ basis.T + noise * (eye - basis @ basis.T)
        cov = 0.5 * (cov + cov.T)
        res2 = minimize_on_manifold(
            manifold, *_grassmann_cost(cov, prior_variance, lam), res1.point, **run
        )
        if self.verbose:
            for tag, r in (("continuation", res1), ("final", res2)):
                print(
                    f"[LinearVariationalEmbedding] {tag}: {r.n_iter} iterations, "
                    f"|grad| = {r.gradient_norm:.2e} ({r.stopping_criterion.strip()})"
                )
        return res2.point, noise, cov, res1.n_iter + res2.n_iter

    # ------------------------------------------------------------------ hooks
    def _encode(self, U):
        """Least-squares codes ``W^+ (x - b)`` (the posterior mode as the noise goes to zero)."""
        comp = torch.as_tensor(self.components_, dtype=U.dtype, device=U.device)
        return ((U - torch.as_tensor(self.mean_, dtype=U.dtype, device=U.device)) @ comp.T) / torch.as_tensor(
            self.scales_, dtype=U.dtype, device=U.device)

    def _foot_points(self, U):
        """Nearest points of the fitted plane (clamped to the box for a uniform prior)."""
        return self.prior_.clamp(self._encode(U))
