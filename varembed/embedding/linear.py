"""LinearVariationalEmbedding: the embedding functional over affine maps, for any data density.

For ``phi(z) = W z + b`` the functional is

    F(W, b) = E_q[log p(W z + b)] + 1/2 log det(W^T W) - lam tr(W^T W).

* ``density="gaussian"`` (PPCA's Gaussian): exact solution on the Grassmann
  manifold with pymanopt's trust regions (:mod:`.linear_gaussian`); the
  result is PCA and ``score`` is PPCA's log-likelihood (``PCA.score``).
* any other density (KDE, Gaussian mixture, a :class:`Density`): Riemannian
  Adam on ``W = V A`` with ``V`` on the Stiefel manifold, torch-native on
  the CPU or CUDA, from several deterministic restarts, then an L-BFGS
  polish on the prior's quadrature (:mod:`.affine_fit`), then the latent gauge.

Both end with the map, the prior and the density in the base class's
format, so ``transform`` (least-squares codes), ``inverse_transform``,
``score`` (the tube model, exact for affine maps), ``functional`` and
``diagnose`` are shared with the nonlinear estimator.
"""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import validate_data

from .._utils.device import resolve_device, resolve_dtype
from .._utils.random import numpy_generator, resolve_seed, spawn_seeds
from ._base import BaseVariationalEmbedding
from .densities import BANDWIDTH_RULES, DENSITY_NAMES, Density
from .linear_fit import fit_linear
from .linear_gaussian import _grassmann_cost, fit_gaussian, reduced_metric, solve_gaussian  # noqa: F401
from .moments import StreamingMoments, chunked_moments
from .priors import PRIORS, make_prior
from .riemannian import SOLVERS

__all__ = ["LinearVariationalEmbedding"]

OBJECTIVES = ("functional", "likelihood")


class LinearVariationalEmbedding(BaseVariationalEmbedding):
    """Affine variational embedding for any data density; exactly PCA for a Gaussian one.

    Maximises ``F[phi] = E_q[log p(phi(z)) + 1/2 log det(J^T J) - lam tr(J^T J)]``
    over affine maps ``phi(z) = W z + b``.  With the default Gaussian density
    the optimum is found exactly on the Grassmann manifold and ``W`` spans
    the principal subspace (``transform`` returns whitened principal
    components, ``score`` equals ``PCA.score``).  For any other density
    ``W = V A`` is optimised with ``V`` on the Stiefel manifold by a
    torch-native Riemannian Adam (CPU or CUDA) from ``n_restarts``
    deterministic starts (the PCA solution first), and the best restart is
    polished by L-BFGS on the prior's fixed quadrature.  The functional is
    mode-seeking: the sheet settles where the *slice* of ``p`` through it
    holds the most mass (see the linear-embedding page of the user guide for
    when this beats PCA and FastICA, and when it does not).

    Parameters
    ----------
    n_components : int, default=2
        Latent dimension ``d`` (``1 <= d <= n_features``).
    prior : {"gaussian", "uniform"}, default="gaussian"
        Latent prior ``q``: ``N(0, prior_scale^2 I)`` or the uniform box
        ``[-prior_scale, prior_scale]^d``.  Within affine maps and a Gaussian
        density the box acts like a Gaussian of variance ``prior_scale^2 / 3``.
    prior_scale : float, default=1.0
        Standard deviation of the Gaussian prior, half-width of the box.
    density : {"gaussian", "kde", "gmm"}, GaussianMixture, Density or object, default="gaussian"
        Data density ``p`` (in data units): PPCA's Gaussian (exact solution),
        a Gaussian KDE of the training data, a 10-component full-covariance
        ``GaussianMixture`` (or your own instance, cloned and fitted), or a
        model with torch ``log_prob(x)`` and/or ``score(x)`` (score-only:
        a single restart is kept and nothing is polished).
    bandwidth : float or {"auto", "scott", "silverman"}, default="auto"
        Kernel width of the KDE in data units.  ``"auto"``: for the
        functional, the larger of Scott's width with the latent dimension in
        the exponent and the median distance to the 5th nearest neighbour;
        for the likelihood, Scott's width in the ``d`` dimensions of the
        projected density, ``n^(-1/(d+4))`` times the root-mean-square
        standard deviation of the data.
    kde_neighbors : int or None, default=None
        Truncate the KDE to the nearest centres of each query during the Adam
        stage (``None``: exact).
    continuity : float, default=0.0
        ``lam >= 0``: weight of the Dirichlet energy ``E_q tr(J^T J)``.  For
        a Gaussian density it shrinks the scales to ``s_k^2 = l_k / (v + 2 lam l_k)``.
    objective : {"functional", "likelihood"}, default="functional"
        What is maximised over affine maps.  ``"functional"``: the embedding
        functional ``F`` above (the paper's; mode-seeking: the sheet goes where
        the *slice* of ``p`` holds the most mass).  ``"likelihood"``: the
        training log-likelihood of the tube model of ``score`` with the latent
        prior the density induces (its marginal on the plane): projection
        pursuit by maximum likelihood (:mod:`varembed.embedding.pursuit`),
        which prefers planes whose projection is far from Gaussian, e.g. one
        holding clusters that carry less variance than noise directions.
        Needs a KDE, a Gaussian mixture or a Gaussian density; ``prior_``
        is then the fitted code density.  For ``density="gaussian"`` both are PCA.
    solver : {"trust-regions", "conjugate-gradient", "steepest-descent"}, default="trust-regions"
        pymanopt optimiser of the Gaussian case.
    max_iter : int, default=500
        Iterations of each optimisation stage: trust-region iterations
        (Gaussian density); Adam steps per restart and L-BFGS iterations of
        the polish (other densities).
    tol : float, default=1e-10
        Riemannian gradient norm at which the trust regions stop (Gaussian);
        for other densities the polish stops once every gradient entry is
        below ``tol`` in the units of ``affine_residual_``.
    n_restarts : int, default=4
        Starts of the Stiefel optimisation (other densities): the PCA
        solution, the fourth-moment (FOBI) frame, then random frames
        (:mod:`varembed.embedding.frames`).
    batch_size : int, default=256
        Latent Monte-Carlo samples per Adam step.
    learning_rate : float, default=0.05
        Adam step of the frame ``V`` (radians); ``A`` and ``b`` step by
        ``learning_rate`` times the root-mean-square standard deviation of
        the data.  Cosine decay to 1% over ``max_iter`` steps.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the Stiefel optimisation runs (the Gaussian case always runs
        on the CPU).
    dtype : {None, "float32", "float64"}, default=None
        ``None`` is float64 on every device (the polish needs it).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial frames and the Monte-Carlo batches (private
        generators; global RNGs are never used).
    verbose : int, default=0
        Print a line per optimisation stage or restart when > 0.
    n_jobs : int or None, default=None
        Torch intra-op threads (``None``: one).

    Attributes
    ----------
    moments_ : StreamingMoments
        ``density="gaussian"``: count, mean and scatter of the data seen
        (what ``partial_fit`` updates).
    components_ : ndarray of shape (n_components, n_features)
        Orthonormal principal axes of ``W W^T`` in the data space, ordered by
        decreasing scale, with scikit-learn's sign convention (largest entry
        of each row positive), like ``PCA.components_``.
    scales_ : ndarray of shape (n_components,)
        Singular values ``s_k`` of ``W``.
    embedding_matrix_ : ndarray of shape (n_features, n_components)
        ``W``; equal to ``components_.T @ diag(scales_)`` except for a
        non-Gaussian density with the box prior, whose latent frame is kept
        (only signed permutations are symmetries there).
    mean_ : ndarray of shape (n_features,)
        ``b``: the data mean for a Gaussian density, the fitted offset otherwise.
    covariance_ : ndarray of shape (n_features, n_features)
        Covariance of the fitted Gaussian density (PPCA's
        ``U diag(explained_variance_) U^T + noise_variance_ (I - U U^T)``);
        for other densities the unbiased sample covariance.
    explained_variance_ : ndarray of shape (n_components,)
        Variance of the data along ``components_`` (for a Gaussian density
        the top eigenvalues of the unbiased covariance, as ``PCA.explained_variance_``).
    noise_variance_ : float
        Variance per normal direction of the tube model of ``score``: the
        mean discarded eigenvalue for a Gaussian density (as
        ``PCA.noise_variance_``), otherwise the mean squared residual of the
        training data per normal direction; at least ``1e-12 tr(S) / n_features``.
    bandwidth_ : float
        Kernel width of the KDE (the median component width of a mixture,
        the noise scale of the Gaussian).
    objective_ : float
        ``F`` at the optimum: exact for a Gaussian density, on the polish
        quadrature otherwise.
    affine_residual_ : float
        Dimensionless Euler-Lagrange residual of the fit in the affine class
        (the weak form against ``e_a`` and ``e_a z_i``, i.e. the normalised
        gradient of ``F`` in ``(W, b)``; see
        :func:`~varembed.embedding.affine.affine_residual`): closed form for
        a Gaussian density, on the polish quadrature otherwise.
    restart_objectives_ : list of float
        Quadrature ``F`` of every restart after its Adam stage (one entry,
        the exact optimum, for a Gaussian density).
    best_restart_ : int
        Index of the polished restart (0 is the PCA start).
    n_iter_ : int
        Riemannian iterations (Gaussian) or Adam steps plus polish evaluations.
    fit_time_ : float
        Seconds spent in ``fit``.
    map_ : SmoothMLPMap
        The affine map ``W z + b`` as a torch module.
    prior_ : GaussianPrior or UniformBoxPrior
    density_ : Density
        The fitted data density.
    device_, dtype_ :
        Where the map and the density live.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string feature names.

    See Also
    --------
    sklearn.decomposition.PCA : the Gaussian special case reproduced here.
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

    #: The code density of a likelihood fit lives on the fit's device too.
    _TORCH_ATTRS = BaseVariationalEmbedding._TORCH_ATTRS + ("prior_",)

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "prior_scale": [Interval(Real, 0, None, closed="neither")],
        "density": [StrOptions(set(DENSITY_NAMES)), GaussianMixture, Density, HasMethods(["log_prob"]),
                    HasMethods(["score"]), callable],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions(set(BANDWIDTH_RULES))],
        "kde_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "continuity": [Interval(Real, 0, None, closed="left")],
        "objective": [StrOptions(set(OBJECTIVES))],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), torch.dtype, type, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_components=2, *, prior="gaussian", prior_scale=1.0, density="gaussian", bandwidth="auto",
                 kde_neighbors=None, continuity=0.0, objective="functional", solver="trust-regions", max_iter=500, tol=1e-10, n_restarts=4,
                 batch_size=256, learning_rate=0.05, device="auto", dtype=None, random_state=None, verbose=0,
                 n_jobs=None):
        self.n_components = n_components
        self.prior = prior
        self.prior_scale = prior_scale
        self.density = density
        self.bandwidth = bandwidth
        self.kde_neighbors = kde_neighbors
        self.continuity = continuity
        self.objective = objective
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_restarts = n_restarts
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    # --------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the data density and maximise the functional over affine maps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (at least 2 samples; finite, real).
        y : Ignored

        Returns
        -------
        self : LinearVariationalEmbedding
        """
        t0 = time.perf_counter()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X = np.asarray(X, dtype=np.float64)
        n_samples, n_features = X.shape
        if int(self.n_components) > n_features:
            raise ValueError(f"n_components={self.n_components} must be <= n_features={n_features}")
        d = int(self.n_components)
        prior = make_prior(self.prior, d, float(self.prior_scale))
        lam = float(self.continuity)
        if self._gaussian():
            self.moments_ = chunked_moments(X)  # chunked: a memmap is read, never copied
            self._fit_gaussian(self.moments_, prior, lam)
        else:
            self.__dict__.pop("moments_", None)
            with self._threads():
                self._fit_density(X, prior, lam)
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _gaussian(self) -> bool:
        return isinstance(self.density, str) and self.density == "gaussian"

    @available_if(lambda est: est._gaussian())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the fit with a chunk of rows (``density="gaussian"`` only).

        The data enter only through streaming moments (count, mean, centred
        scatter; :mod:`.moments`), so a data set too large for memory can be
        fitted chunk by chunk: the result equals ``fit`` on all rows (to
        round-off, subspace angle below 1e-10).  ``fit`` also reads a NumPy
        memmap in chunks without copying it.

        Parameters
        ----------
        X : array-like of shape (n_chunk, n_features)
            The next rows (any number, 1 or more).
        y : None
            Ignored (scikit-learn API).

        Returns
        -------
        self : LinearVariationalEmbedding
            Fitted on every row seen so far.
        """
        t0 = time.perf_counter()
        first = not hasattr(self, "moments_")
        X = validate_data(self, X, reset=first, dtype=[np.float64, np.float32], ensure_min_samples=1)
        if int(self.n_components) > X.shape[1]:
            raise ValueError(f"n_components={self.n_components} must be <= n_features={X.shape[1]}")
        if first:
            self.moments_ = StreamingMoments(X.shape[1])
        self.moments_.update(X)
        if self.moments_.n >= 2:
            prior = make_prior(self.prior, int(self.n_components), float(self.prior_scale))
            self._fit_gaussian(self.moments_, prior, float(self.continuity))
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _fit_gaussian(self, moments, prior, lam):
        """The exact Grassmann solution (PCA) from the data's moments; see :mod:`.linear_gaussian`."""
        frame0, _ = np.linalg.qr(numpy_generator(self.random_state).standard_normal((moments.mean.shape[0], prior.dim)))
        for key, value in fit_gaussian(moments, prior, lam, frame0, solver=self.solver, max_iter=self.max_iter,
                                       tol=self.tol, verbose=self.verbose).items():
            setattr(self, key, value)

    def _fit_density(self, X, prior, lam):
        """Stiefel optimisation of the chosen objective (see :mod:`.linear_fit`)."""
        device = resolve_device(self.device)
        dtype = resolve_dtype("float64" if self.dtype is None else self.dtype, device)
        seeds = spawn_seeds(resolve_seed(self.random_state), int(self.n_restarts) + 1)
        for key, value in fit_linear(self, X, prior, lam, seeds, dtype, device).items():
            setattr(self, key, value)

    def diagnose(self, **kwargs):
        """Diagnostics of the common report plus the affine-class residual ``affine_residual_``.

        Keyword arguments go to :func:`varembed.diagnostics.diagnose`.

        Returns
        -------
        LinearDiagnosticsReport
        """
        from .linear_report import LinearDiagnosticsReport

        report = super().diagnose(**kwargs)
        return LinearDiagnosticsReport.extend(report, self.affine_residual_, self.objective)

    # ------------------------------------------------------------------ hooks
    def _encode(self, U):
        """Least-squares codes ``W^+ (x - b)`` (the posterior mode as the noise goes to zero)."""
        comp = torch.as_tensor(self.components_, dtype=U.dtype, device=U.device)
        codes = ((U - torch.as_tensor(self.mean_, dtype=U.dtype, device=U.device)) @ comp.T) / torch.as_tensor(
            self.scales_, dtype=U.dtype, device=U.device)
        rotation = getattr(self, "_rotation", None)
        return codes if rotation is None else codes @ torch.as_tensor(rotation, dtype=U.dtype, device=U.device)

    def _foot_points(self, U):
        """Nearest points of the fitted plane (clamped to the box for a uniform prior)."""
        return self.prior_.clamp(self._encode(U))

