"""What every fitted embedding estimator offers the diagnostics.

An embedding estimator defines, once fitted:

* ``functional()`` -- the :class:`~varembed.embedding.functional.EmbeddingFunctional`
  (prior, data density, continuity) in the space where the fit happened (the
  nonlinear estimator works in standardised coordinates);
* ``field()`` -- the fitted map as a per-point torch function
  ``z (d,) -> phi(z) (D,)``, twice differentiable, usable inside
  :func:`torch.func.vmap`.

:class:`EmbeddingDiagnosticsMixin` adds ``diagnose()`` on top of these.
"""

from __future__ import annotations

__all__ = ["EmbeddingDiagnosticsMixin"]


class EmbeddingDiagnosticsMixin:
    """Adds :meth:`diagnose` to an estimator with ``functional()`` and ``field()``."""

    def diagnose(self, **kwargs):
        """Euler-Lagrange residual, Ward identities and symmetries of the fit.

        A shortcut for :func:`varembed.diagnostics.diagnose` (keyword arguments
        are passed on).

        Returns
        -------
        DiagnosticsReport
        """
        from ..diagnostics import diagnose

        return diagnose(self, **kwargs)
