"""VariationalEmbedding: smooth nonlinear manifold embeddings (PyTorch, CPU or GPU)."""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._utils.device import resolve_device, resolve_dtype
from .._utils.random import resolve_seed, spawn_seeds, torch_generator
from .._utils.threads import torch_threads
from ._base import BaseVariationalEmbedding
from .densities import BANDWIDTH_RULES, DENSITY_NAMES, Density, make_density
from .functional import EmbeddingFunctional, jitter_for
from .init import initial_codes, initial_map
from .inference import project
from .maps import ACTIVATIONS, fix_gauge, get_activation
from .noise import residual_noise_variance
from .priors import PRIORS, GaussianPrior, make_prior
from .training import SCHEDULES, TrainingObjective, polish_lbfgs, train_adam

__all__ = ["VariationalEmbedding"]

#: ``smoothness="auto"``: the bending weight above ``AUTO_SMOOTHNESS_MIN_DIM`` latent dimensions
#: (measured on load_digits, see the user guide).
AUTO_SMOOTHNESS, AUTO_SMOOTHNESS_MIN_DIM = 0.1, 4
#: Fixed held-out latent sample of the convergence check and of ``objective_``.
VALIDATION_SIZE = 1024
#: Evaluations of the convergence check over a run (at most every 100 steps).
N_EVALUATIONS, MAX_EVAL_EVERY = 20, 100
#: Quadrature points of the L-BFGS polish (d = 1, d >= 2).
POLISH_POINTS_1D, POLISH_POINTS = 512, 2304


class VariationalEmbedding(BaseVariationalEmbedding):
    """Nonlinear variational manifold embedding with a smooth neural map.

    Fits ``phi: R^d -> R^D`` by maximising::

        F[phi] = E_q[ log p(phi(z)) + 1/2 log det(J^T J) - lam tr(J^T J) - mu |d^2 phi|^2 ]

    where ``q`` is the latent prior, ``p`` a density built from the training
    samples, ``J`` the Jacobian of ``phi`` and ``mu`` an optional bending
    penalty.  Unlike t-SNE or UMAP the result is a parametric map in both
    directions (``inverse_transform = phi``; ``transform`` = posterior mode of
    the latent code) with a held-out likelihood (``score``) and diagnostics
    (``diagnose``).  The user guide describes what each knob does, with
    measurements.

    Parameters
    ----------
    n_components : int, default=2
        Latent dimension ``d``.
    prior : {"gaussian", "uniform"}, default="gaussian"
        Latent prior: ``N(0, diag(prior_scale^2))`` or the box ``[-prior_scale, prior_scale]^d``.
    prior_scale : float, array of shape (n_components,), or "auto", default="auto"
        Standard deviation (per axis for an array) or half-width of the box.
        ``"auto"``: per-axis scales from the spread of the initial codes
        (root-mean-square 1), so the prior does not squash a long axis of the
        data; isotropic 1 without initial codes.
    density : {"kde", "gaussian", "gmm"}, GaussianMixture, Density or object, default="kde"
        Data density ``p``: a Gaussian KDE of the training data; the Gaussian
        fitted to the data (PPCA noise floor); a 10-component
        ``GaussianMixture`` (or your own instance, cloned and fitted); or a
        model in *data* coordinates with torch ``log_prob(x)`` and/or
        ``score(x)`` (a score-only model trains, but ``objective_`` and the
        convergence check then need ``log_prob`` and are disabled).
    bandwidth : float or {"auto", "scott", "silverman"}, default="auto"
        Kernel width of the KDE in standardised units.  ``"auto"`` is the
        larger of Scott's width with the latent dimension in the exponent and
        the median distance to the 5th nearest neighbour.  Raise it when the
        fit collapses onto beads of single points (a warning says so); lower
        it when separate sheets of the data merge.
    kde_neighbors : int or None, default=None
        Truncate the KDE to the nearest ``kde_neighbors`` centres of each
        query during training (faster for large data; ``None`` is exact).
    n_neighbors : int, default=10
        Neighbours of the k-nearest-neighbour graph of the Isomap start.
    continuity : float, default=5e-2
        ``lam > 0`` in standardised units: makes the problem well posed and
        sets the preferred speed ``1/sqrt(2 lam)`` of the map.  Lower it when
        the map is too short to cover the data; raise it against wiggles.
    smoothness : float or "auto", default="auto"
        ``mu >= 0``, weight of the bending (Hessian) penalty; ``"auto"``: 0
        for ``n_components <= 3``, 0.1 above (keeps noisy high-dimensional fits
        from folding); the value used is ``smoothness_``.
    bending : {"auto", "exact", "hutchinson"}, default="auto"
        How Adam steps estimate the bending energy when ``smoothness > 0``:
        exactly, or by the unbiased one-row Hutchinson estimate (``2 + d``
        instead of ``1 + d + d (d + 1) / 2`` jet rows); ``"auto"``: exact for
        ``n_components <= 3``.  Objective and polish are always exact.
    hidden : tuple of int, default=(128, 128, 128)
        Hidden widths of the neural residual; ``()`` gives an affine map.
    activation : {"tanh", "sin", "softplus", "silu"}, default="tanh"
        Must be twice differentiable (``"relu"`` is rejected).
    init : {"isomap", "linear", "random"} or ndarray of shape (n_samples, n_components), default="isomap"
        Start of the map: regressed onto Isomap codes (or the given codes),
        the linear solution (PCA), or a random folded map.
    standardize : {"scalar", "feature"} or None, default="scalar"
        Centre and divide by one number (keeps the geometry), by each
        feature's standard deviation, or use the raw data.  ``continuity``, a
        float ``bandwidth`` and ``functional()`` refer to this space.
    max_iter : int, default=600
        Ceiling on the Adam steps.
    batch_size : int, default=256
        Latent Monte-Carlo samples per step.
    learning_rate : float, default=1e-3
    lr_schedule : {"cosine", "constant", "step"}, default="cosine"
    clip_grad : float or None, default=10.0
        Global gradient-norm clipping.
    n_iter_no_change : int or None, default=10
        Stop when the objective on a fixed held-out latent sample has not
        improved by ``tol`` (relative) for this many evaluations (every
        ``max_iter / 20`` steps); ``None`` always runs ``max_iter`` steps.
    tol : float, default=1e-4
        Relative improvement that counts for the convergence check.
    polish_iter : int, default=0
        Final full-batch L-BFGS iterations on a fixed quadrature set (0: none).
    transform_noise : {"residual", "bandwidth"} or float, default="residual"
        Observation-noise scale of ``transform``: the fitted residual noise
        ``sqrt(noise_variance_)``, the kernel width, or a number
        (standardised units).
    callback : callable or None, default=None
        ``callback(iteration, objective, estimator)`` at every evaluation of
        the convergence check; returning ``True`` stops the training.
    distributed : bool, default=False
        Data-parallel training under ``torch.distributed`` (one process per
        device, launched with ``torchrun``): every rank draws its own latent
        batch of ``batch_size`` points and the gradients are averaged, i.e.
        one fit with ``world_size x batch_size`` samples per step.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
    dtype : {None, "float32", "float64"}, default=None
        ``None`` is float64 on CPU and float32 on CUDA.
    n_jobs : int or None, default=None
        Torch intra-op threads; ``None`` picks one thread for small problems
        (they run faster and do not slow down when the machine is busy).
    random_state : int, RandomState instance or None, default=None
        Seeds private generators (initialisation, Monte-Carlo batches).
    verbose : int, default=0
        ``>= 1``: a progress bar and a closing line.

    Attributes
    ----------
    map_ : SmoothMLPMap
        The fitted map in standardised coordinates.
    prior_ : GaussianPrior or UniformBoxPrior
    density_ : Density
        The data density in standardised coordinates.
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation ``x = mean_ + scale_ * u``.
    smoothness_ : float
        Bending weight used.
    bandwidth_ : float
        Kernel width (standardised units).
    noise_variance_ : float
        Observation-noise variance of ``score_samples`` and ``transform``
        (standardised units): the mean squared residual of training points
        per normal direction, ``E |x - phi(z*(x))|^2 / (D - d)``.
    objective_, initial_objective_ : float
        ``F`` on the fixed held-out latent sample after and before training.
    history_ : list of dict
        Per evaluation: ``iter``, ``objective``, ``loss``, ``lr``, ``grad_norm``, ``time``.
    n_iter_ : int
        Adam steps plus L-BFGS evaluations.
    converged_ : bool
        Training stopped on the convergence check (or the callback) before ``max_iter``.
    fit_time_ : float
        Seconds spent in ``fit``.
    device_, dtype_ :
        Where the map lives.
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

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIORS))],
        "prior_scale": [Interval(Real, 0, None, closed="neither"), "array-like", StrOptions({"auto"})],
        "density": [StrOptions(set(DENSITY_NAMES)), GaussianMixture, Density, HasMethods(["log_prob"]),
                    HasMethods(["score"]), callable],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions(set(BANDWIDTH_RULES))],
        "kde_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "continuity": [Interval(Real, 0, None, closed="neither")],
        "smoothness": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "bending": [StrOptions({"auto", "exact", "hutchinson"})],
        "hidden": [tuple, list, Interval(Integral, 1, None, closed="left")],
        "activation": [str],
        "init": [StrOptions({"isomap", "linear", "random"}), "array-like"],
        "standardize": [StrOptions({"scalar", "feature"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(SCHEDULES))],
        "clip_grad": [Interval(Real, 0, None, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "polish_iter": [Interval(Integral, 0, None, closed="left")],
        "transform_noise": [StrOptions({"residual", "bandwidth"}), Interval(Real, 0, None, closed="neither")],
        "callback": [callable, None],
        "distributed": ["boolean"],
        "device": [str, torch.device, None],
        "dtype": [StrOptions({"float32", "float64"}), torch.dtype, type, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=2, *, prior="gaussian", prior_scale="auto", density="kde", bandwidth="auto",
                 kde_neighbors=None, n_neighbors=10, continuity=5e-2, smoothness="auto", bending="auto",
                 hidden=(128, 128, 128), activation="tanh", init="isomap", standardize="scalar", max_iter=600,
                 batch_size=256, learning_rate=1e-3, lr_schedule="cosine", clip_grad=10.0, n_iter_no_change=10,
                 tol=1e-4, polish_iter=0, transform_noise="residual", callback=None, distributed=False, device="auto", dtype=None,
                 n_jobs=None, random_state=None, verbose=0):
        self.n_components = n_components
        self.prior = prior
        self.prior_scale = prior_scale
        self.density = density
        self.bandwidth = bandwidth
        self.kde_neighbors = kde_neighbors
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
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.polish_iter = polish_iter
        self.transform_noise = transform_noise
        self.callback = callback
        self.distributed = distributed
        self.device = device
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # --------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the density and the map: validate, standardise, density, initial map, train, polish, gauge, store.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples whose density is embedded (at least 2; finite, real;
            float32 input is computed in ``dtype`` all the same).
        y : None
            Ignored (scikit-learn API).

        Returns
        -------
        self : VariationalEmbedding
        """
        t0 = time.perf_counter()
        X = np.array(validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2), dtype=np.float64)
        hidden, d = self._check_params(X.shape[1]), int(self.n_components)
        self.device_ = resolve_device(self.device)
        self.dtype_ = resolve_dtype(self.dtype, self.device_)
        seed, train_seed, val_seed = spawn_seeds(resolve_seed(self.random_state), 3)
        with torch_threads(self.n_jobs, work=self._step_work(X.shape[1], hidden)):
            self.mean_, self.scale_ = self._standardization_of(X)
            Xs = (X - self.mean_) / self.scale_
            self.density_, info = make_density(
                self.density, Xs, n_components=d, bandwidth=self.bandwidth, kde_neighbors=self.kde_neighbors,
                data_mean=self.mean_, data_scale=self.scale_, random_state=seed, dtype=self.dtype_,
                device=self.device_)
            self.bandwidth_ = float(info["bandwidth"])
            codes = initial_codes(self.init, Xs, d, n_neighbors=int(self.n_neighbors), seed=seed)
            self.prior_ = self._fitted_prior(d, codes)
            gen = torch_generator(train_seed, self.device_)
            module = initial_map(self.init, codes, Xs, self.prior_, hidden=hidden, activation=self.activation,
                                 continuity=float(self.continuity), keep_aspect=self._auto_prior(),
                                 max_iter=int(self.max_iter), learning_rate=float(self.learning_rate), seed=seed,
                                 generator=gen, dtype=self.dtype_, device=self.device_)
            self._initial_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            self.smoothness_ = self._resolved_smoothness(d)
            objective = TrainingObjective(module, self._functional(), self._bending_mode(d))
            z_val = self.prior_.sample(VALIDATION_SIZE, torch_generator(val_seed, self.device_), dtype=self.dtype_,
                                       device=self.device_)
            has_lp = bool(self.density_.has_log_prob)
            self.initial_objective_ = objective.evaluate(z_val) if has_lp else float("nan")
            self.history_, n_iter, self.converged_ = self._train(objective, gen, z_val, has_lp)
            n_iter += self._polish(objective, z_val, n_iter, has_lp, t0)
            fix_gauge(module, self.prior_, z_val)
            self.map_ = module.eval().requires_grad_(False)
            self.objective_ = objective.evaluate(z_val) if has_lp else float("nan")
            self.n_iter_ = max(1, int(n_iter))
            self.noise_variance_ = float(info["noise_variance"]) if "noise_variance" in info else \
                residual_noise_variance(module, self.prior_, Xs, self.bandwidth_, seed=seed, dtype=self.dtype_,
                                        device=self.device_)
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(f"[VariationalEmbedding] {X.shape[0]} x {X.shape[1]} -> d={d} on {self.device_}: objective "
                  f"{self.initial_objective_:.4f} -> {self.objective_:.4f} in {self.n_iter_} iterations "
                  f"({'converged' if self.converged_ else 'max_iter reached'}), {self.fit_time_:.1f} s")
        return self

    # -------------------------------------------------------------- fit stages
    def _check_params(self, n_features: int):
        """Checks the declarative constraints cannot express; returns ``hidden`` as a tuple."""
        if int(self.n_components) > n_features:
            raise ValueError(f"n_components={self.n_components} must be <= n_features={n_features}")
        hidden = (self.hidden,) if isinstance(self.hidden, Integral) else tuple(self.hidden)
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a tuple of positive integers (or () for an affine map), got {self.hidden!r}")
        get_activation(self.activation)
        if not isinstance(self.init, str):
            codes = np.asarray(self.init)
            if codes.ndim != 2 or codes.shape[1] != self.n_components or not np.all(np.isfinite(codes)):
                raise ValueError("init must be one of ['isomap', 'linear', 'random'] or a finite array of shape "
                                 f"(n_samples, n_components={self.n_components}), got shape {codes.shape}")
        if not isinstance(self.prior_scale, str) and np.ndim(self.prior_scale):
            arr = np.asarray(self.prior_scale, dtype=float)
            if arr.shape != (int(self.n_components),) or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
                raise ValueError(f"prior_scale must be a positive float or {self.n_components} positive floats, "
                                 f"got {self.prior_scale!r}")
            if self.prior != "gaussian":
                raise ValueError("per-axis prior scales need prior='gaussian'")
        return tuple(int(h) for h in hidden)

    def _step_work(self, n_features: int, hidden) -> float:
        """Rough floating-point operations of one training step (for the thread count)."""
        widths = (int(self.n_components),) + tuple(hidden) + (n_features,)
        rows = 1 + int(self.n_components)
        return 6.0 * int(self.batch_size) * rows * sum(a * b for a, b in zip(widths[:-1], widths[1:]))

    def _standardization_of(self, X):
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

    def _standardization(self):
        return self.mean_, self.scale_

    def _auto_prior(self) -> bool:
        return isinstance(self.prior_scale, str) and self.prior == "gaussian"

    def _fitted_prior(self, d: int, codes):
        """The prior: given scales, or (``"auto"``) the aspect of the initial codes at root-mean-square 1."""
        ps = self.prior_scale
        if isinstance(ps, str):
            if codes is None or self.prior != "gaussian":
                return make_prior(self.prior, d, 1.0)
            std = codes.std(0)
            std = np.where(std > 0, std, std.max() if std.max() > 0 else 1.0)
            return GaussianPrior(d, std / np.sqrt(np.mean(std**2)))
        return make_prior(self.prior, d, np.asarray(ps, dtype=float) if np.ndim(ps) else float(ps))

    def _resolved_smoothness(self, d: int) -> float:
        if isinstance(self.smoothness, str):
            return AUTO_SMOOTHNESS if d >= AUTO_SMOOTHNESS_MIN_DIM else 0.0
        return float(self.smoothness)

    def _bending_mode(self, d: int) -> str:
        if self.bending != "auto":
            return self.bending
        return "exact" if d < AUTO_SMOOTHNESS_MIN_DIM else "hutchinson"

    def _functional(self) -> EmbeddingFunctional:
        return EmbeddingFunctional(self.prior_, self.density_, float(self.continuity), jitter_for(self.dtype_),
                                   smoothness=self.smoothness_, dtype=self.dtype_, device=self.device_)

    def _train(self, objective, gen, z_val, has_lp):
        max_iter = int(self.max_iter)
        callback = None if self.callback is None else (lambda it, val: self.callback(it, val, self))
        reduce = None
        if self.distributed:  # same start everywhere, one latent stream per rank, averaged gradients
            from .distributed import GradientAverager, broadcast_parameters, world

            rank, size = world()
            broadcast_parameters(objective.module)
            gen = torch_generator(spawn_seeds(int(gen.initial_seed()), size)[rank], self.device_)
            reduce = GradientAverager(objective.module.parameters())
        return train_adam(objective, max_iter=max_iter, batch_size=int(self.batch_size),
                          learning_rate=float(self.learning_rate), schedule=self.lr_schedule,
                          clip_grad=self.clip_grad, generator=gen, z_val=z_val,
                          eval_every=max(1, min(MAX_EVAL_EVERY, max_iter // N_EVALUATIONS)),
                          n_iter_no_change=self.n_iter_no_change, tol=float(self.tol), verbose=int(self.verbose),
                          has_log_prob=has_lp, callback=callback, reduce_gradients=reduce)

    def _polish(self, objective, z_val, n_iter, has_lp, t0) -> int:
        """Full-batch L-BFGS on the prior's quadrature; appends a ``stage="polish"`` entry to ``history_``."""
        if int(self.polish_iter) <= 0:
            return 0
        n_points = POLISH_POINTS_1D if self.prior_.dim == 1 else POLISH_POINTS
        zq, wq = (torch.as_tensor(a, dtype=self.dtype_, device=self.device_) for a in self.prior_.quadrature(n_points))
        n_eval, value = polish_lbfgs(objective, zq, wq, int(self.polish_iter))
        self.history_.append(dict(iter=n_iter + n_eval, objective=objective.evaluate(z_val) if has_lp else float("nan"),
                                  loss=-value, lr=float("nan"), grad_norm=float("nan"),
                                  time=time.perf_counter() - t0, stage="polish"))
        return n_eval

    # ------------------------------------------------------------------ hooks
    def _transform_noise_scale(self) -> float:
        if isinstance(self.transform_noise, str):
            return float(self.bandwidth_ if self.transform_noise == "bandwidth" else np.sqrt(self.noise_variance_))
        return float(self.transform_noise)

    def _encode(self, U):
        return project(self.map_, self.prior_, U, self._transform_noise_scale())

    def field(self, initial=False):
        """The map as a per-point torch function ``z (d,) -> phi(z) (D,)`` (standardised space).

        Vmappable and twice differentiable.  ``initial=True`` gives the map at
        initialisation (before training), for before/after comparisons.
        """
        if not initial:
            return super().field()
        import copy

        module = copy.deepcopy(self.map_)
        module.load_state_dict(self._initial_state)
        return lambda z: module(z)
