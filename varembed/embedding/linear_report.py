"""The diagnostics report of a linear fit: the common report plus the affine-class residual."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..diagnostics.report import DiagnosticsReport, _fmt

__all__ = ["LinearDiagnosticsReport"]


@dataclass(frozen=True)
class LinearDiagnosticsReport(DiagnosticsReport):
    """:class:`~varembed.diagnostics.DiagnosticsReport` of a linear fit, with its affine-class residual.

    Attributes
    ----------
    affine_residual : float
        The estimator's ``affine_residual_``: the normalised weak-form
        Euler-Lagrange residual against the affine test fields (for
        ``objective="functional"``), or the norm of the Riemannian gradient
        of the mean log-likelihood (``objective="likelihood"``), on the fit's
        own quadrature or data.  The pointwise ``rho_EL`` of the common report
        is a Monte-Carlo estimate over affine and non-affine directions alike.
    objective : str
        ``"functional"`` or ``"likelihood"``.
    """

    affine_residual: float = float("nan")
    objective: str = "functional"

    @classmethod
    def extend(cls, report: DiagnosticsReport, affine_residual: float, objective: str) -> "LinearDiagnosticsReport":
        """The common ``report`` with the affine-class residual added."""
        fields = {f.name: getattr(report, f.name) for f in dataclasses.fields(DiagnosticsReport)}
        return cls(**fields, affine_residual=float(affine_residual), objective=str(objective))

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(affine_residual=self.affine_residual, objective=self.objective)
        return out

    def __str__(self) -> str:
        lines = super().__str__().split("\n")
        what = ("weak-form EL residual against affine test fields, rho_aff" if self.objective == "functional"
                else "|Riemannian gradient| of the mean log-likelihood")
        row = f"    affine class: {what}  {_fmt(self.affine_residual)}"
        at = next((i for i, line in enumerate(lines) if line.strip().startswith("max |r|/S_ref")), len(lines) - 1)
        return "\n".join(lines[: at + 1] + [row] + lines[at + 1 :])
