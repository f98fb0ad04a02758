"""VariationalEmbedding: smooth nonlinear manifold embeddings (PyTorch, CPU or GPU)."""

from __future__ import annotations

import io
import numbers
import time
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.validation import check_choice, check_int, check_latent_array, check_real
from .base import EmbeddingDiagnosticsMixin
from .functional import EmbeddingFunctional
from .latent import AxisGaussianPrior, axis_scales, fit_map_to_codes, isomap_codes
from .maps import SmoothMLPMap
from .priors import PRIORS, make_prior
from .projection import laplace_log_likelihood, project
from .score import make_density
from .training import SCHEDULES, EmbeddingObjective, polish_lbfgs, quadrature, train_adam

__all__ = ["VariationalEmbedding"]

_INITS = ("linear", "random", "isomap")
_STANDARDIZE = ("scalar", "feature")
_BENDING = ("auto", "exact", "hutchinson")
_AUTO_SMOOTHNESS = 0.1  # smoothness="auto" above n_components = 3 (load_digits, see the class docstring)
_TORCH_STATE = ("module_", "density_", "_initial_state")


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; validate explicit devices.

    Raises
    ------
    ValueError
        For an unknown device string, for ``"cuda"`` when CUDA is not
        available, or for a CUDA index that does not exist.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}") from exc
    else:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                f"(torch {torch.__version__}); use device='cpu' or device='auto'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) are available")
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
    elif dev.type != "cpu":
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    return dev


def resolve_dtype(dtype, device: torch.device) -> torch.dtype:
    """``None`` -> float64 on CPU, float32 on CUDA; accepts names, NumPy and torch dtypes."""
    if dtype is None:
        return torch.float64 if device.type == "cpu" else torch.float32
    table = {"float64": torch.float64, "float32": torch.float32, "double": torch.float64, "float": torch.float32}
    if isinstance(dtype, torch.dtype) and dtype in (torch.float32, torch.float64):
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name in table:
        return table[name]
    raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")


class VariationalEmbedding(
    EmbeddingDiagnosticsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Nonlinear variational manifold embedding with a smooth neural map.

    Fits ``phi: R^d -> R^D`` by maximising

        F[phi] = E_q[ log p(phi(z)) + 1/2 log det(J^T J) - lam tr(J^T J) ]
                 - mu E_q ||d^2 phi||^2

    where ``q`` is the latent prior, ``p`` a density built from the training
    samples, ``J`` the Jacobian of ``phi`` and ``mu`` an optional bending
    penalty.  Unlike t-SNE or UMAP the result is a parametric map in both
    directions (``inverse_transform = phi``; ``transform`` = posterior mode of
    the latent code) with a held-out likelihood (``score``).

    **Standardisation.**  Everything happens in standardised coordinates:
    with ``standardize="scalar"`` (default) the data are centred and divided
    by one number, the root-mean per-feature standard deviation, which keeps
    the geometry (angles, aspect ratios) intact; ``"feature"`` divides each
    feature by its own standard deviation; ``None`` uses the raw data.
    ``continuity``, a float ``bandwidth`` and ``functional()`` refer to this
    standardised space.

    **What the knobs do.**  The theory (research note, sections 1.4-1.5) says
    that optima of the functional fold: with ``lam > 0`` the map prefers the
    constant speed ``1/sqrt(2 lam)`` along every latent direction and packs
    itself, folded or wrapped, into the highest-density set; the PCA map is
    a saddle.  Measured on ``make_swiss_roll(2000, noise=0.05)`` (one thread,
    trustworthiness k = 10 / Spearman correlation of latent distances with
    true geodesic distances; codes from ``transform_noise="bandwidth"``;
    the knob values below were measured with the bandwidth 0.34 of the
    earlier rule, Scott's in ``D = 3``; the current defaults give 0.9998 /
    0.91, 0.91-0.93 over three roll seeds, and Isomap alone 0.9998 /
    0.9998 -- the variational refinement trades a
    little of Isomap's distance fidelity for a smooth two-way parametric map
    with a likelihood):

    * ``init``: ``"isomap"`` (default) starts from Isomap coordinates
      (geodesic MDS on a 10-nearest-neighbour graph, fitted on at most 3000
      points), regresses the map onto them (``min(500, max_iter)`` Adam
      steps of 256 points), then optimises the functional.  This start is
      fragile: on ``make_swiss_roll(1000)`` a bandwidth of 0.37 (Scott's
      rule in ``D = 3``) folds the map (Spearman 0.23; the current ``"auto"``
      width 0.32 gives 0.85-0.95), and a more exact regression (full-batch
      L-BFGS) made the 2000-point roll fold too (0.51).
      ``"linear"`` starts at the linear variational solution (PCA,
      :class:`LinearVariationalEmbedding` in the standardised space) with the
      neural residual at zero: on the roll it tears the sheet into pieces
      (0.996 / 0.31).  ``"random"``: a random affine map plus a random
      neural residual (output layer ``U(-sqrt(6/n), sqrt(6/n))`` as in the
      paper's code), i.e. a random folded map.  With ``activation="sin"``
      it folds onto Figure 1's line (three passes, F = 1.64); with
      ``"tanh"`` it unfolds to the straight local optimum (F = 0.65), as a
      straight start does.  An array of
      initial codes (``n_samples x n_components``) is also accepted.
    * ``prior_scale="auto"`` (default) gives the Gaussian prior per-axis
      scales equal to the spread of the initial codes (root-mean-square 1).
      The functional matches the pushed-forward prior to the data, so an
      isotropic prior forces isotropic latent codes and squashes the long
      axis of the roll (Isomap start, isotropic prior: 0.998 / 0.80; per-axis
      scales: 0.999 / 0.92 at ``lam = 0.01``).  Without initial codes
      ``"auto"`` is the isotropic scale 1.  Per-axis scales break the latent
      rotation symmetry (only reflections remain).
    * ``continuity`` (``lam > 0``, standardised units) makes the problem well
      posed (without it the objective is unbounded over nonlinear maps) and
      sets the preferred speed ``1/sqrt(2 lam)``; near the speed the data
      need, it pulls the map towards an isometry.  Swiss roll, 600 steps:
      ``lam = 0.003``: 0.998 / 0.74; ``0.01``: 0.999 / 0.92; ``0.03``:
      0.9999 / 0.96; ``0.05`` (default): 0.9998 / 0.98; ``0.1``: 0.99 / 0.50
      (the preferred speed is too low to cover the roll, so it folds).
    * ``max_iter``: the folded optimum is reached by training longer:
      with ``lam = 0.05``, 600-1000 steps give 0.98, 1500 steps 0.74 while
      the objective keeps improving.  Early stopping cannot catch this (the
      objective does improve); keep the budget moderate (default 600
      steps of 256 samples).
    * ``smoothness`` (``mu >= 0``) adds the bending energy ``mu E_q sum_ij
      |d_i d_j phi|^2``.  It removes the short-wavelength instability of the
      PCA saddle (for d = 1 and a Gaussian density ``mu > sigma_0^4 l_2 /
      (8 l_1^2)`` suffices), but it also penalises the curvature the data
      have: on the roll ``mu = 0.01`` gave 0.993 / 0.44 and ``mu = 0.03``
      0.985 / 0.13 (it flattens the roll).  On noisy high-dimensional data
      with more latent dimensions it is what keeps the map from folding:
      load_digits (64-D), k-NN accuracy at d = 5: 0.836 with ``mu = 0``,
      0.882-0.884 with ``mu = 0.1`` (PCA 0.876, 5 folds); d = 10: 0.84
      against 0.943 (PCA 0.937, 5 folds; ``mu`` = 0.1, 0.3 and 1.0 give
      0.933-0.935 on two folds); at d = 2, however, ``mu = 0.1`` gives 0.53 against 0.75
      without.  The cross-over (two folds): d = 3 0.779 without / 0.751
      with, d = 4 0.822 / 0.857.  Hence ``smoothness="auto"``: 0 for
      ``n_components <= 3``, 0.1 above.  The exact penalty costs a second-order jet
      (``1 + d + d(d+1)/2`` rows instead of ``1 + d``); above d = 3 training
      uses the one-row Hutchinson estimate (``bending``), about ``2 + d``
      rows.  With ``mu > 0`` the fit is stationary for the extended
      functional, so the Euler-Lagrange residual of ``functional()`` is not
      zero at the optimum.
    * ``bandwidth`` of the KDE: must exceed the spacing of neighbouring
      points along the manifold (otherwise the density breaks into beads and
      the map collapses onto single points; a warning is issued below the
      median nearest-neighbour distance), and should stay below the distance
      between different sheets of the manifold (otherwise they merge).
    * ``prior="uniform"``: the box ``[-prior_scale, prior_scale]^d`` with
      natural boundary conditions on its faces (speed ``1/sqrt(2 lam)``
      there), as in the paper's Figure 1.

    Parameters
    ----------
    n_components : int, default=2
        Latent dimension ``d``.
    prior : {"gaussian", "uniform"}, default="gaussian"
    prior_scale : float, array of shape (n_components,), or "auto", default="auto"
        Standard deviation of the Gaussian prior (per axis for an array) or
        half-width of the box.  ``"auto"``: per-axis scales from the initial
        codes (Gaussian prior with ``init="isomap"`` or an array), else 1.
    density : {"kde", "gaussian", "gmm"}, GaussianMixture, or object, default="kde"
        Data density ``p``: a Gaussian KDE of the training data (bandwidth
        ``bandwidth``); the Gaussian fitted to the data (with the PPCA noise
        floor, as in :class:`LinearVariationalEmbedding`); a 10-component
        scikit-learn ``GaussianMixture`` (or pass a ``GaussianMixture``
        instance to choose its settings; it is cloned and fitted); or a user
        model in *data* coordinates: an object with torch methods
        ``log_prob(x)`` and/or ``score(x)``, or a callable ``log_prob``.  A
        score-only model (e.g. a diffusion model's score at a small noise
        level) is enough to train; ``objective_`` and early stopping then
        need ``log_prob`` and are disabled.
    bandwidth : float or {"auto", "scott", "silverman"}, default="auto"
        Kernel width of the KDE in standardised units.  Rules: isotropic Scott
        ``n^(-1/(D+4))`` and Silverman factors; ``"auto"`` is the larger of
        Scott's width with the latent dimension in the exponent,
        ``n^(-1/(d+4))`` (the data lie near a ``d``-dimensional manifold), and
        the median distance to the 5th nearest neighbour (Scott's rule alone
        is far narrower than the point spacing in high dimension: one bump per
        point); see :func:`varembed.embedding.kde.resolve_bandwidth`.  Also the
        observation-noise scale of ``transform`` for KDE and user densities.
    n_neighbors : int or None, default=None
        Truncate the KDE to the nearest ``n_neighbors`` centres of each query
        during training (faster for large data; ``None`` is exact).
    continuity : float, default=5e-2
        ``lam > 0`` in standardised units.
    smoothness : float or "auto", default="auto"
        ``mu >= 0``, weight of the bending (Hessian) penalty.  ``"auto"``: 0
        for ``n_components <= 3``, 0.1 above (see the guidance above); the
        value used is ``smoothness_``.
    bending : {"auto", "exact", "hutchinson"}, default="auto"
        How Adam steps estimate the bending energy when ``smoothness > 0``:
        all ``d (d + 1) / 2`` second derivatives (``1 + d + d (d + 1) / 2`` jet
        rows), or the unbiased Hutchinson estimate ``|d^2 phi[v, w]|^2`` with
        random sign vectors ``v, w`` (``2 + d`` rows: 12 instead of 66 at
        d = 10).  ``"auto"``: exact for ``n_components <= 3``.  The reported
        objective and the L-BFGS polish use the exact form.
    hidden : tuple of int, default=(128, 128, 128)
        Hidden widths of the neural residual ``g``; ``()`` gives an affine map.
    activation : {"tanh", "sin", "softplus", "silu"}, default="tanh"
        Must be twice differentiable; ``"relu"`` is rejected.
    init : {"isomap", "linear", "random"} or ndarray of shape (n_samples, n_components), default="isomap"
    standardize : {"scalar", "feature"} or None, default="scalar"
    max_iter : int, default=600
        Adam steps.
    batch_size : int, default=256
        Latent Monte-Carlo samples per step.
    learning_rate : float, default=1e-3
    lr_schedule : {"cosine", "constant", "step"}, default="cosine"
    clip_grad : float or None, default=10.0
        Global gradient-norm clipping.
    early_stopping : bool, default=True
        Stop when the held-out objective has not improved by ``tol``
        (relative) for ``n_iter_no_change`` evaluations; the best parameters
        are restored either way.
    validation_size : int, default=1024
        Size of the fixed held-out latent sample.
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    polish_iter : int, default=0
        Final full-batch L-BFGS iterations on a fixed quadrature set (0: none).
    transform_noise : {"residual", "bandwidth"} or float, default="residual"
        Observation-noise scale ``s`` of ``transform`` (standardised units):
        ``"residual"`` is ``sqrt(noise_variance_)``, the fitted noise of the
        model ``x = phi(z) + eps``; ``"bandwidth"`` the kernel width.  In high
        dimension the kernel is wide (load_digits: 5.4 against a residual
        noise of 1.0) and the prior term then drags codes to the origin:
        k-NN accuracy in 5 latent dimensions 0.70 with ``"bandwidth"``, 0.81
        with ``"residual"``.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Resolved in ``fit`` as ``device_``.
    dtype : {None, "float32", "float64"}, default=None
        Computation dtype; ``None`` is float64 on CPU and float32 on CUDA.
        Outputs have the input's dtype.
    random_state : int, RandomState instance or None, default=None
        Seeds a private torch generator (initialisation, Monte-Carlo batches).
    verbose : int, default=0
        Progress bar (tqdm) and a short report when > 0.

    Attributes
    ----------
    module_ : SmoothMLPMap
        The fitted map in standardised coordinates.
    density_ : object
        The data density in standardised coordinates.
    mean_ : ndarray of shape (n_features,)
    scale_ : ndarray of shape (n_features,)
        Standardisation ``x = mean_ + scale_ * u``.
    smoothness_ : float
        Weight of the bending penalty used (``smoothness`` resolved).
    bandwidth_ : float
        Kernel width (standardised units).
    noise_variance_ : float
        Observation-noise variance of ``score_samples`` in standardised units:
        the mean squared residual of (at most 500) training points per normal
        direction, ``E |x - phi(z*(x))|^2 / (D - d)``, with ``z*`` projected
        first with the bandwidth and then with this noise (the PPCA noise of
        the fitted Gaussian for ``density="gaussian"``).
    objective_ : float
        ``F`` (including the bending term) on the fixed held-out latent sample.
    initial_objective_ : float
        The same at initialisation.
    history_ : list of dict
        Per evaluation: ``iter``, ``objective``, ``loss``, ``lr``,
        ``grad_norm``, ``time``.
    n_iter_ : int
        Adam steps plus L-BFGS evaluations.
    fit_time_ : float
        Seconds spent in ``fit``.
    device_ : torch.device
    dtype_ : torch.dtype
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when ``X`` has string feature names.

    Examples
    --------
    >>> from sklearn.datasets import make_swiss_roll
    >>> from varembed import VariationalEmbedding
    >>> X, _ = make_swiss_roll(500, random_state=0)
    >>> emb = VariationalEmbedding(n_components=2, max_iter=50, random_state=0).fit(X)
    >>> emb.transform(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_components=2,
        *,
        prior="gaussian",
        prior_scale="auto",
        density="kde",
        bandwidth="auto",
        n_neighbors=None,
        continuity=5e-2,
        smoothness="auto",
        bending="auto",
        hidden=(128, 128, 128),
        activation="tanh",
        init="isomap",
        standardize="scalar",
        max_iter=600,
        batch_size=256,
        learning_rate=1e-3,
        lr_schedule="cosine",
        clip_grad=10.0,
        early_stopping=True,
        validation_size=1024,
        n_iter_no_change=10,
        tol=1e-4,
        polish_iter=0,
        transform_noise="residual",
        device="auto",
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.prior = prior
        self.prior_scale = prior_scale
        self.density = density
        self.bandwidth = bandwidth
        self.n_neighbors = n_neighbors
        self.continuity = continuity
        self.smoothness = smoothness
        self.bending = bending
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.standardize = standardize
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.clip_grad = clip_grad
        self.early_stopping = early_stopping
        self.validation_size = validation_size
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.polish_iter = polish_iter
        self.transform_noise = transform_noise
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self, n_features: int):
        from .jets import get_activation

        check_int("n_components", self.n_components, low=1, high=n_features,
                  high_label=f"n_features={n_features}")
        check_choice("prior", self.prior, PRIORS)
        self._check_prior_scale()
        check_real("continuity", self.continuity, low=0.0, strict=True)
        if isinstance(self.smoothness, str):
            if self.smoothness != "auto":
                raise ValueError(f'smoothness must be a number >= 0 or "auto", got {self.smoothness!r}')
        else:
            check_real("smoothness", self.smoothness, low=0.0)
        check_choice("bending", self.bending, _BENDING)
        hidden = self.hidden
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            hidden = (int(hidden),)
        if not isinstance(hidden, (tuple, list)) or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in hidden
        ):
            raise ValueError(f"hidden must be a tuple of positive integers (or () for an affine map), got {self.hidden!r}")
        get_activation(self.activation)
        if isinstance(self.init, str):
            check_choice("init", self.init, _INITS)
        else:
            codes = np.asarray(self.init)
            if codes.ndim != 2 or codes.shape[1] != self.n_components or not np.all(np.isfinite(codes)):
                raise ValueError(
                    "init must be one of ['isomap', 'linear', 'random'] or a finite array of shape "
                    f"(n_samples, n_components={self.n_components}), got {type(self.init).__name__}"
                    + (f" of shape {codes.shape}" if codes.ndim else "")
                )
        if self.standardize is not None:
            check_choice("standardize", self.standardize, _STANDARDIZE)
        check_int("max_iter", self.max_iter, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_real("learning_rate", self.learning_rate, low=0.0, strict=True)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_real("clip_grad", self.clip_grad, low=0.0, strict=True, allow_none=True)
        check_int("validation_size", self.validation_size, low=1)
        if self.n_iter_no_change is not None:
            check_int("n_iter_no_change", self.n_iter_no_change, low=1)
        check_real("tol", self.tol, low=0.0)
        check_int("polish_iter", self.polish_iter, low=0)
        if isinstance(self.transform_noise, str):
            check_choice("transform_noise", self.transform_noise, ("residual", "bandwidth"))
        else:
            check_real("transform_noise", self.transform_noise, low=0.0, strict=True)
        check_int("verbose", self.verbose, low=0)
        if isinstance(self.bandwidth, str):
            from .kde import BANDWIDTH_RULES

            if self.bandwidth not in BANDWIDTH_RULES:
                raise ValueError(
                    f"bandwidth must be a positive float or one of {list(BANDWIDTH_RULES)}, got {self.bandwidth!r}"
                )
        else:
            check_real("bandwidth", self.bandwidth, low=0.0, strict=True)
        return tuple(int(h) for h in hidden)

    def _check_prior_scale(self):
        ps = self.prior_scale
        if isinstance(ps, str):
            if ps != "auto":
                raise ValueError(f"prior_scale must be a positive float, an array of n_components positive floats or 'auto', got {ps!r}")
            return
        if np.ndim(ps) == 0:
            check_real("prior_scale", ps, low=0.0, strict=True)
            return
        arr = np.asarray(ps, dtype=float)
        if arr.shape != (int(self.n_components),) or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
            raise ValueError(f"prior_scale must be a positive float or {self.n_components} positive floats, got {ps!r}")
        if self.prior != "gaussian":
            raise ValueError("per-axis prior scales need prior='gaussian'")

    def _build_prior(self, d, codes=None):
        """The fitted prior: isotropic, per-axis, or per-axis from the initial codes ('auto')."""
        ps = self.prior_scale
        if isinstance(ps, str) and (codes is None or self.prior != "gaussian"):
            return make_prior(self.prior, d, 1.0)  # "auto" without initial codes: isotropic, scale 1
        if isinstance(ps, str):  # "auto": aspect of the initial codes, root-mean-square 1
            std = codes.std(0)
            std = np.where(std > 0, std, std.max() if std.max() > 0 else 1.0)
            return AxisGaussianPrior(std / np.sqrt(np.mean(std**2)))
        if np.ndim(ps) == 0:
            return make_prior(self.prior, d, float(ps))
        arr = np.asarray(ps, dtype=float)
        if np.allclose(arr, arr[0]):
            return make_prior(self.prior, d, float(arr[0]))
        return AxisGaussianPrior(arr)

    # ---------------------------------------------------------- standardising
    def _standardization(self, X):
        mean = X.mean(0) if self.standardize is not None else np.zeros(X.shape[1])
        if self.standardize == "scalar":
            s = float(np.sqrt(np.mean(X.var(0))))
            scale = np.full(X.shape[1], s if s > 0 else 1.0)
        elif self.standardize == "feature":
            scale = X.std(0)
            scale = np.where(scale > 0, scale, 1.0)
        else:
            scale = np.ones(X.shape[1])
        return mean, scale

    def _to_std(self, X):
        return torch.as_tensor((X - self.mean_) / self.scale_, dtype=self.dtype_, device=self.device_)

    # --------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Fit the density and the map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (at least 2 samples; finite, real).
        y : Ignored

        Returns
        -------
        self : VariationalEmbedding
        """
        t0 = time.perf_counter()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X = np.array(X, dtype=np.float64, copy=True)
        n_samples, n_features = X.shape
        hidden = self._check_params(n_features)
        d = int(self.n_components)
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype, device)
        self.device_, self.dtype_ = device, dtype
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        gen = torch.Generator(device=device).manual_seed(seed)
        val_gen = torch.Generator(device=device).manual_seed(seed ^ 0x5EED)
        cpu_gen = torch.Generator().manual_seed(seed)

        self.mean_, self.scale_ = self._standardization(X)
        Xs = (X - self.mean_) / self.scale_
        lam = float(self.continuity)
        density, info = make_density(
            self.density, Xs, n_components=d, bandwidth=self.bandwidth, n_neighbors=self.n_neighbors,
            data_mean=self.mean_, data_scale=self.scale_, random_state=seed, dtype=dtype, device=device,
        )
        self.density_ = density
        self.bandwidth_ = float(info["bandwidth"])

        # ---- initial codes (isomap / user array) fix the prior's aspect for prior_scale="auto"
        codes = None
        if isinstance(self.init, str) and self.init == "isomap":
            try:
                codes = isomap_codes(Xs, d, seed=seed)
                if not np.all(np.isfinite(codes)) or not np.any(codes.std(0) > 0):
                    raise ValueError("degenerate Isomap coordinates")
            except (ValueError, np.linalg.LinAlgError) as exc:  # e.g. too few distinct points
                warnings.warn(f"init='isomap' failed ({exc}); starting from the linear solution instead",
                              UserWarning, stacklevel=2)
                codes = None
        elif not isinstance(self.init, str):
            codes = np.asarray(self.init, dtype=np.float64)
            if codes.shape[0] != n_samples:
                raise ValueError(f"init has {codes.shape[0]} rows but X has {n_samples} samples")
            codes = codes - codes.mean(0)
        prior = self._build_prior(d, codes)
        self.prior_ = prior

        # ---- initial map
        if codes is not None:
            # match the codes to the prior: per-axis (isotropic or given prior) or one common
            # factor (prior_scale="auto", which keeps the aspect ratio of the codes)
            std = codes.std(0)
            std = np.where(std > 0, std, 1.0)
            if isinstance(self.prior_scale, str) and self.prior == "gaussian":
                codes = codes / np.sqrt(np.mean(std**2))
            elif prior.name == "uniform":  # spread over the box: variance L^2 / 3 per axis
                codes = codes / std * (prior.scale / np.sqrt(3.0))
            else:
                codes = codes / std * axis_scales(prior)
            design = np.c_[codes, np.ones(n_samples)]
            coef = np.linalg.lstsq(design, Xs, rcond=None)[0]
            weight, bias = torch.as_tensor(coef[:d].T.copy()), torch.as_tensor(coef[d].copy())
        elif self.init in ("linear", "isomap"):
            from .linear import LinearVariationalEmbedding

            lin = LinearVariationalEmbedding(
                n_components=d, prior=self.prior, prior_scale=float(prior.scale), continuity=lam,
                random_state=seed,
            ).fit(Xs)
            weight, bias = torch.as_tensor(lin.embedding_matrix_), torch.as_tensor(lin.mean_)
            weight = weight * torch.as_tensor(prior.scale / axis_scales(prior))
        else:
            frame = torch.linalg.qr(torch.randn(n_features, d, generator=cpu_gen, dtype=torch.float64))[0]
            weight, bias = frame * float(np.sqrt(np.mean(Xs.var(0))) or 1.0), torch.zeros(n_features, dtype=torch.float64)
        random_start = isinstance(self.init, str) and self.init == "random"
        module = SmoothMLPMap(d, n_features, hidden, self.activation, weight=weight, bias=bias,
                              generator=cpu_gen, random_residual=random_start, dtype=dtype, device=device)
        if codes is not None and hidden:
            fit_map_to_codes(module, torch.as_tensor(codes, dtype=dtype, device=device),
                             torch.as_tensor(Xs, dtype=dtype, device=device), n_steps=min(500, max(1, int(self.max_iter))),
                             batch_size=256, learning_rate=float(self.learning_rate) * 3, generator=gen)
        self._initial_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        jitter = 1e-10 if dtype == torch.float64 else 1e-5
        bending = self.bending if self.bending != "auto" else ("exact" if d <= 3 else "hutchinson")
        smooth = self.smoothness
        self.smoothness_ = float(smooth) if not isinstance(smooth, str) else (0.0 if d <= 3 else _AUTO_SMOOTHNESS)
        objective = EmbeddingObjective(module, prior, density, lam, self.smoothness_, jitter, bending)
        has_lp = bool(getattr(density, "has_log_prob", True))
        z_val = prior.sample(int(self.validation_size), val_gen, dtype=dtype, device=device)
        self.initial_objective_ = objective.evaluate(z_val) if has_lp else float("nan")

        # ---- Adam
        max_iter = int(self.max_iter)
        eval_every = max(1, min(100, max_iter // 20))
        history, n_iter, best = train_adam(
            objective, max_iter=max_iter, batch_size=int(self.batch_size),
            learning_rate=float(self.learning_rate), schedule=self.lr_schedule,
            clip_grad=self.clip_grad, generator=gen, z_val=z_val, eval_every=eval_every,
            n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
            tol=float(self.tol), verbose=int(self.verbose), has_log_prob=has_lp,
        )
        # ---- deterministic polish
        if int(self.polish_iter) > 0:
            zq, wq = quadrature(prior, 512 if d == 1 else 2304, dtype, device)
            n_eval, value = polish_lbfgs(objective, zq, wq, int(self.polish_iter))
            n_iter += n_eval
            history.append(dict(iter=n_iter, objective=objective.evaluate(z_val) if has_lp else float("nan"),
                                loss=-value, lr=float("nan"), grad_norm=float("nan"),
                                time=time.perf_counter() - t0, stage="polish"))
        self._canonicalize(module, prior, z_val)
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        self.module_ = module
        self.objective_ = objective.evaluate(z_val) if has_lp else float("nan")
        self.history_ = history
        self.n_iter_ = max(1, int(n_iter))

        # ---- noise level for score_samples: mean squared residual per normal direction
        if isinstance(self.density, str) and self.density == "gaussian":
            noise = float(info["noise_variance"])
        else:
            sub = Xs if n_samples <= 500 else Xs[np.random.default_rng(seed).choice(n_samples, 500, replace=False)]
            xs_t = torch.as_tensor(sub, dtype=dtype, device=device)
            noise_scale = self.bandwidth_
            for _ in range(2):  # project with the bandwidth, then with the residual noise itself
                codes = project(module, prior, xs_t, noise_scale)
                with torch.no_grad():
                    resid = float(((module(codes) - xs_t) ** 2).sum(-1).mean())
                noise = resid / max(n_features - d, 1)
                noise_scale = float(np.sqrt(max(noise, 1e-12)))
        floor = 1e-6 * float(np.mean(Xs.var(0)) or 1.0)
        self.noise_variance_ = float(max(noise, floor))
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(
                f"[VariationalEmbedding] {n_samples} x {n_features} -> d={d} on {device}: "
                f"objective {self.initial_objective_:.4f} -> {self.objective_:.4f} in {self.n_iter_} "
                f"iterations, {self.fit_time_:.1f} s (bandwidth {self.bandwidth_:.3g})"
            )
        return self

    @torch.no_grad()
    def _canonicalize(self, module, prior, z_val):
        """Fix the latent gauge: principal axes of ``E_q G``, decreasing, sign convention.

        For the Gaussian prior any rotation is a symmetry; for the box only
        signed permutations are, so then only the order and signs are fixed.
        Signs: the largest-magnitude entry of ``E_q[z_k phi(z)]`` is positive.
        """
        d = prior.dim
        jac = module.jet(z_val, order=1).jacobian
        gram = (jac.transpose(-1, -2) @ jac).mean(0)
        scales = axis_scales(prior)
        if prior.name == "gaussian" and np.allclose(scales, scales[0]):
            _, vecs = torch.linalg.eigh(gram)
            rot = vecs.flip(-1)
        elif prior.name == "gaussian":  # per-axis scales: only reflections are symmetries
            rot = torch.eye(d, dtype=gram.dtype, device=gram.device)
        else:
            order = torch.argsort(torch.diagonal(gram), descending=True)
            rot = torch.eye(d, dtype=gram.dtype, device=gram.device)[:, order]
        module.rotate_latent(rot)
        phi = module(z_val) - module(z_val).mean(0)
        corr = (z_val.unsqueeze(-1) * phi.unsqueeze(1)).mean(0)  # (d, D)
        idx = corr.abs().argmax(-1)
        signs = torch.sign(corr[torch.arange(d), idx])
        signs = torch.where(signs == 0, torch.ones_like(signs), signs)
        module.rotate_latent(torch.diag(signs))

    # ---------------------------------------------------------------- helpers
    @property
    def _n_features_out(self):
        return int(self.module_.n_components)

    def _prior(self):
        return self.prior_

    def functional(self):
        """The embedding functional in the standardised space of the fit.

        Returns
        -------
        EmbeddingFunctional
            Prior, ``density_`` and ``continuity``.  The bending penalty
            (``smoothness``) is not part of it.
        """
        check_is_fitted(self)
        jitter = 1e-10 if self.dtype_ == torch.float64 else 1e-5
        return EmbeddingFunctional(self._prior(), self.density_, float(self.continuity), jitter,
                                   dtype=self.dtype_, device=self.device_)

    def field(self, initial=False):
        """The map as a per-point torch function ``z (d,) -> phi(z) (D,)`` (standardised space).

        Vmappable and twice differentiable.  ``initial=True`` gives the map at
        initialisation (before training), for before/after comparisons.
        """
        check_is_fitted(self)
        module = self.module_
        if initial:
            import copy

            module = copy.deepcopy(self.module_)
            module.load_state_dict(self._initial_state)
        return lambda z: module(z)

    # ------------------------------------------------------------- transforms
    def _output(self, arr: torch.Tensor, like_dtype):
        out = arr.detach().cpu().numpy().astype(np.float64)
        return out.astype(like_dtype, copy=False) if like_dtype == np.float32 else out

    def transform(self, X):
        """Latent codes: the posterior mode ``argmin_z |x - phi(z)|^2 / (2 s^2) - log q(z)``.

        ``s`` is set by ``transform_noise`` (standardised units): by default
        ``sqrt(noise_variance_)``, the noise of the same model whose evidence
        ``score_samples`` reports.  Sample-wise and deterministic (see
        :mod:`varembed.embedding.projection`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        z = project(self.module_, self._prior(), self._to_std(np.asarray(X, dtype=np.float64)),
                    self._transform_noise_scale())
        return self._output(z, X.dtype)

    def _transform_noise_scale(self) -> float:
        if isinstance(self.transform_noise, str):
            if self.transform_noise == "bandwidth":
                return float(self.bandwidth_)
            return float(np.sqrt(self.noise_variance_))
        return float(self.transform_noise)

    def inverse_transform(self, Z):
        """Map latent codes to data space: ``phi(z)``.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_latent_array(Z, self._n_features_out)
        with torch.no_grad():
            u = self.module_(torch.as_tensor(np.asarray(Z, dtype=np.float64), dtype=self.dtype_, device=self.device_))
        x = u.cpu().numpy().astype(np.float64) * self.scale_ + self.mean_
        return x.astype(Z.dtype, copy=False) if Z.dtype == np.float32 else x

    # ---------------------------------------------------------------- scoring
    def score_samples(self, X):
        """Held-out log-likelihood of each sample under ``x = phi(z) + eps``.

        ``z ~ q`` and ``eps ~ N(0, noise_variance_ I)`` in standardised
        coordinates, by the Laplace approximation at the posterior mode
        (exact for an affine map and a Gaussian prior), transformed back to
        data units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        xs = self._to_std(np.asarray(X, dtype=np.float64))
        s = float(np.sqrt(self.noise_variance_))
        prior = self._prior()
        z = project(self.module_, prior, xs, s)
        ll = laplace_log_likelihood(self.module_, prior, xs, z, s)
        return ll.cpu().numpy().astype(np.float64) - float(np.log(self.scale_).sum())

    def score(self, X, y=None):
        """Mean held-out log-likelihood (higher is better; GridSearchCV's default).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    # ------------------------------------------------------------------- tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        dev = self.device
        cuda = isinstance(dev, str) and dev.startswith("cuda") or (dev in ("auto", None) and torch.cuda.is_available())
        tags.non_deterministic = bool(cuda)
        return tags

    # --------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        for key in _TORCH_STATE:
            if key in state:
                buf = io.BytesIO()
                torch.save(state[key], buf)
                state[key] = ("__torch__", buf.getvalue())
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        device = state.get("device_")
        map_location = None
        if device is not None:
            dev = torch.device(device)
            if dev.type == "cuda" and not torch.cuda.is_available():
                warnings.warn(
                    f"this VariationalEmbedding was fitted on {device}, but CUDA is not available here: "
                    f"it is loaded on the CPU (device_ = cpu)",
                    UserWarning,
                    stacklevel=2,
                )
                dev = torch.device("cpu")
                map_location = "cpu"
            state["device_"] = dev
        for key in _TORCH_STATE:
            val = state.get(key)
            if isinstance(val, tuple) and len(val) == 2 and val[0] == "__torch__":
                state[key] = torch.load(io.BytesIO(val[1]), map_location=map_location, weights_only=False)
        super().__setstate__(state) if hasattr(super(), "__setstate__") else self.__dict__.update(state)
