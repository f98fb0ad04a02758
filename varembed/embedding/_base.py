"""The API every variational embedding estimator shares, written once.

A fitted estimator holds

* ``map_`` -- the map ``phi`` as a torch module with a forward-mode ``jet``
  (:class:`~varembed.embedding.maps.SmoothMLPMap`; affine for the linear
  estimator), in the coordinates of ``functional()``;
* ``prior_``, ``density_`` -- the latent prior and the data density there;
* ``noise_variance_`` -- the observation noise of the model ``x = phi(z) + eps``;
* ``dtype_``, ``device_``.

On top of these this base class provides ``transform`` (posterior mode),
``inverse_transform`` (``phi``), ``score_samples`` / ``score`` (marginal
log-likelihood of ``x = phi(z) + eps``), ``functional``, ``field``,
``diagnose``, scikit-learn tags, thread control and torch-aware pickling.
Subclasses implement ``fit`` and may override the hooks ``_encode`` and
``_log_likelihood`` where a closed form exists, and ``_standardization``
when they work in standardised coordinates.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.threads import torch_threads
from .._utils.validation import check_latent_array
from .functional import EmbeddingFunctional, jitter_for
from .inference import project, tube_log_likelihood

__all__ = ["BaseVariationalEmbedding"]


class BaseVariationalEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared API of :class:`~varembed.LinearVariationalEmbedding` and :class:`~varembed.VariationalEmbedding`."""

    #: Fitted attributes holding torch objects (pickled with ``torch.save``).
    _TORCH_ATTRS = ("map_", "density_", "_initial_state")

    # ------------------------------------------------------------- coordinates
    def _standardization(self):
        """``(shift, scale)`` with ``x = shift + scale * u`` (``u``: the coordinates of ``functional()``)."""
        return 0.0, 1.0

    def _to_model(self, X: np.ndarray) -> torch.Tensor:
        shift, scale = self._standardization()
        return torch.as_tensor((np.asarray(X, dtype=np.float64) - shift) / scale, dtype=self.dtype_,
                               device=self.device_)

    def _from_model(self, U: torch.Tensor) -> np.ndarray:
        shift, scale = self._standardization()
        return U.detach().cpu().numpy().astype(np.float64) * scale + shift

    @staticmethod
    def _as_dtype(arr: np.ndarray, like_dtype) -> np.ndarray:
        return arr.astype(np.float32, copy=False) if like_dtype == np.float32 else arr

    def _threads(self):
        return torch_threads(getattr(self, "n_jobs", None))

    @property
    def _n_features_out(self):
        return int(self.map_.n_components)

    # -------------------------------------------------------------- transforms
    def _encode(self, U: torch.Tensor) -> torch.Tensor:
        """Latent codes of model-space points: the posterior mode under ``x = phi(z) + eps``."""
        return project(self.map_, self.prior_, U, float(np.sqrt(self.noise_variance_)))

    def transform(self, X):
        """Latent codes of ``X``: the posterior mode ``argmin_z |x - phi(z)|^2 / (2 s^2) - log q(z)``.

        ``s`` is the observation-noise scale of the estimator (see its
        ``transform_noise`` where it has one; ``sqrt(noise_variance_)`` otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            In the input's float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        with self._threads():
            z = self._encode(self._to_model(X))
        return self._as_dtype(z.detach().cpu().numpy().astype(np.float64), X.dtype)

    def inverse_transform(self, Z):
        """Map latent codes to data space: ``phi(z)``.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Latent codes: from ``transform``, a grid, or samples of the prior.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            In the input's float dtype.
        """
        check_is_fitted(self)
        Z = check_latent_array(Z, self._n_features_out)
        with self._threads(), torch.no_grad():
            u = self.map_(torch.tensor(np.asarray(Z, dtype=np.float64), dtype=self.dtype_, device=self.device_))
        return self._as_dtype(self._from_model(u), Z.dtype)

    # ----------------------------------------------------------------- scoring
    def _foot_points(self, U: torch.Tensor) -> torch.Tensor:
        """Nearest points on the manifold (codes without the prior term)."""
        return project(self.map_, self.prior_, U, None)

    def _log_likelihood(self, U: torch.Tensor) -> torch.Tensor:
        """Tube-model log-likelihood in model coordinates (exact for affine maps; see :mod:`.inference`)."""
        return tube_log_likelihood(self.map_, self.prior_, U, self._foot_points(U), float(self.noise_variance_))

    def score_samples(self, X):
        """Log-likelihood of each sample: ``x = phi(z) + eps``, ``z ~ q``, ``eps`` normal to the manifold.

        ``eps ~ N(0, noise_variance_)`` in each of the ``D - d`` directions
        normal to the manifold at ``phi(z)`` (the tube model of
        :mod:`varembed.embedding.inference`; for the PCA solution of the
        linear estimator this is PPCA's likelihood).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        with self._threads():
            ll = self._log_likelihood(self._to_model(X)).detach().cpu().numpy().astype(np.float64)
        _, scale = self._standardization()
        return ll - float(np.sum(np.log(np.broadcast_to(scale, (X.shape[1],)))))

    def score(self, X, y=None):
        """Mean log-likelihood of ``X`` (higher is better; what GridSearchCV maximises).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    # ------------------------------------------------------------- diagnostics
    def functional(self) -> EmbeddingFunctional:
        """The functional the fit maximised, in the coordinates of the fit.

        Returns
        -------
        EmbeddingFunctional
            Prior, density, continuity and bending weight (``smoothness_``).
        """
        check_is_fitted(self)
        return EmbeddingFunctional(self.prior_, self.density_, float(self.continuity), jitter_for(self.dtype_),
                                   smoothness=float(getattr(self, "smoothness_", 0.0)), dtype=self.dtype_,
                                   device=self.device_)

    def field(self):
        """The fitted map as a per-point torch function ``z (d,) -> phi(z) (D,)``; vmappable, twice differentiable."""
        check_is_fitted(self)
        module = self.map_
        return lambda z: module(z)

    def diagnose(self, **kwargs):
        """Euler-Lagrange residual, Ward identities and symmetries of the fit.

        A shortcut for :func:`varembed.diagnostics.diagnose` (keyword
        arguments are passed on).

        Returns
        -------
        DiagnosticsReport
        """
        from ..diagnostics import diagnose

        check_is_fitted(self)
        with self._threads():
            return diagnose(self, **kwargs)

    # -------------------------------------------------------------------- tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        dev = getattr(self, "device", "cpu")
        cuda = (isinstance(dev, str) and dev.startswith("cuda")) or (dev in ("auto", None) and torch.cuda.is_available())
        tags.non_deterministic = bool(cuda)
        return tags

    # ---------------------------------------------------------------- pickling
    def __getstate__(self):
        state = dict(super().__getstate__())
        for key in self._TORCH_ATTRS:
            if key in state:
                buf = io.BytesIO()
                torch.save(state[key], buf)
                state[key] = ("__torch__", buf.getvalue())
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        map_location = None
        device = state.get("device_")
        if device is not None:
            dev = torch.device(device)
            if dev.type == "cuda" and not torch.cuda.is_available():
                warnings.warn(f"this {type(self).__name__} was fitted on {device}, but CUDA is not available here: "
                              "it is loaded on the CPU (device_ = cpu)", UserWarning, stacklevel=2)
                dev, map_location = torch.device("cpu"), "cpu"
            state["device_"] = dev
        for key in self._TORCH_ATTRS:
            val = state.get(key)
            if isinstance(val, tuple) and len(val) == 2 and val[0] == "__torch__":
                state[key] = torch.load(io.BytesIO(val[1]), map_location=map_location, weights_only=False)
        super().__setstate__(state)
