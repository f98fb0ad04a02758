"""Plain-language verdicts of a diagnostics report, and one-line definitions of its terms.

The report's numbers answer three questions a user asks first:

* **Is the fit a solution?**  ``rho_EL`` (the Euler-Lagrange residual in
  units of the data's own score scale) at or below :data:`STATIONARY_TOL`
  means stationary; above it the map is still moving (train longer, add
  ``polish_iter``) or was fitted with a term the diagnosed functional lacks.
* **Do the global identities hold?**  Ward identities vanish at every
  stationary map up to Monte-Carlo noise (:data:`WARD_TOL`).
* **Which symmetries hold, with what evidence?**  The singular value of each
  generator found (0 = exact) and the conservation of its Noether current.
"""

from __future__ import annotations

import math

__all__ = ["STATIONARY_TOL", "WEAK_TOL", "WARD_TOL", "TERMS", "verdicts", "THEORY_PAGE"]

#: ``rho_EL`` at or below this counts as stationary (1/20 of the data score scale).
STATIONARY_TOL = 0.05
#: ``rho_weak`` (the residual's smooth part) at or below this counts as stationary in weak form.
WEAK_TOL = 0.05
#: Ward identities at or below this count as holding (Monte-Carlo noise of a few thousand samples).
WARD_TOL = 0.05
#: Where the terms are defined.
THEORY_PAGE = "docs/theory.rst (Euler-Lagrange equation, Ward identities, Noether currents)"

TERMS = {
    "rho_EL": "sqrt(E_q|r|^2) / S_ref: the Euler-Lagrange residual r = dL/dphi - P grad log q - div P "
              "(zero at a stationary map) relative to the data score scale",
    "rho_weak": "the part of r along smooth variations e_a h_m(z) (h_m: latent monomials up to degree 2, "
                "orthonormal) relative to S_ref: dF along them, 0 at a solution, <= rho_EL",
    "S_ref": "sqrt(E_{x~p}|grad log p(x)|^2): how steep the data density is; the unit of rho_EL",
    "Ward identities": "global averages (E_q f = 0, the virial E_q[f.phi] = -d + 2 lam E tr G, ...; f = dL/dphi) that vanish at "
                       "every stationary map, whatever the symmetries",
    "singular value": "how far a candidate generator is from being a symmetry of the density or prior "
                      "(0 = exact; a clear gap to the next value says how many there are)",
    "div j, breaking": "divergence of the Noether current and the explicit breaking term, relative to "
                       "q S_ref |Q|: both ~0 when the symmetry holds and the fit is stationary",
}


def _stationarity(report) -> str:
    rho = report.residual.rho
    if not math.isfinite(rho):
        return "stationarity: not assessed (the density has no score scale S_ref; pass s_ref=)"
    extra = [name for name, w in (("bending", report.smoothness), ("coverage", getattr(report, "coverage", 0.0)))
             if w and w > 0]
    if extra:
        return (f"stationarity: not assessed by rho_EL = {rho:.3g}: the fit maximised a functional with "
                f"{' and '.join(extra)} term(s) that this residual does not contain")
    if rho <= STATIONARY_TOL:
        return (f"stationary: yes - rho_EL = {rho:.2g} <= {STATIONARY_TOL:g}: the map solves its Euler-Lagrange "
                f"equation to {rho:.2g} of the data score scale")
    weak = getattr(report, "rho_weak", float("nan"))
    if math.isfinite(weak) and weak <= WEAK_TOL:
        return (f"stationary in weak form only - rho_weak = {weak:.2g} <= {WEAK_TOL:g} (no smooth variation up to "
                f"degree 2 improves F), but pointwise rho_EL = {rho:.2g} > {STATIONARY_TOL:g}: the remaining "
                "residual is rough, in directions the network does not represent; polish_iter lowers it")
    weak_txt = f" (weak form {weak:.2g} > {WEAK_TOL:g})" if math.isfinite(weak) else ""
    return (f"stationary: NO - rho_EL = {rho:.2g} > {STATIONARY_TOL:g}{weak_txt}: the map is not a solution of the "
            "functional it is checked against; train longer (max_iter), add polish_iter, or check the settings")


def _ward(report) -> str:
    w = report.ward
    worst = max(w.translation, w.virial_error, w.rotation_charge, w.latent_affine)
    if worst <= WARD_TOL:
        return f"Ward identities: hold (largest deviation {worst:.2g} <= {WARD_TOL:g})"
    return (f"Ward identities: violated (largest deviation {worst:.2g} > {WARD_TOL:g}): consistent with a "
            "map that is not stationary")


def _symmetry(space: str, search) -> str:
    if search.rank == 0:
        smallest = search.singular_values[0] if len(search.singular_values) else float("nan")
        return (f"symmetries in {space} space: none among {search.n_candidates} {search.kind} "
                f"(smallest singular value {smallest:.2g})")
    names = "; ".join(s.describe() for s in search.symmetries[:3]) + ("; ..." if search.rank > 3 else "")
    kept = [s.current.summary()["divergence_ratio"] for s in search.symmetries if s.current is not None]
    cons = f", currents conserved to {max(kept):.2g}" if kept else ""
    return (f"symmetries in {space} space: {search.rank} of {search.n_candidates} {search.kind} "
            f"(evidence: singular values <= {search.singular_values[search.rank - 1]:.2g}, gap "
            f"{search.gap:.3g}{cons}): {names}")


def verdicts(report) -> list:
    """The report's conclusions, one plain sentence each (stationarity, identities, symmetries)."""
    out = [_stationarity(report), _ward(report)]
    out += [_symmetry(space, search) for space, search in report.symmetries.items()]
    return out
