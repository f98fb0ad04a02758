"""Global (integrated) Ward identities of a stationary embedding.

Global affine variations ``phi -> phi + eps (M phi + c)`` and
``phi -> phi + eps (C z + c)`` move no boundary, so at *every* stationary map
(research note §3.2), whatever the symmetries of ``p``:

    E_q[s(phi)] = 0                                        (translations)
    E_q[s(phi) . phi] = -d + 2 lam E_q[tr G]               (virial: trace of gl(D))
    E_q[s phi^T - phi s^T] = 0                             (integrated rotational charge)
    E_q[s(phi) z^T] + E_q[P] = 0                           (latent-affine variations)

They are Monte Carlo averages here, so on an exact solution they vanish up
to sampling noise of order ``1/sqrt(n)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .jet import EmbeddingJet

__all__ = ["WardIdentities", "ward_identities"]


@dataclass(frozen=True)
class WardIdentities:
    """Monte Carlo values of the global Ward identities.

    Each is zero at a stationary map up to sampling noise of order ``1/sqrt(n)``.

    Attributes
    ----------
    translation : float
        ``|E_q s| / S_ref``.
    virial_lhs, virial_rhs : float
        ``E_q[s . phi]`` and ``-d + 2 lam E_q tr G``.
    virial_error : float
        ``|lhs - rhs| / max(d, |rhs|)``.
    rotation_charge : float
        ``|E_q[s phi^T - phi s^T]|_F / (rms|s| rms|phi|)``.
    latent_affine : float
        ``|E_q[s z^T] + E_q P|_F / (rms|s| rms|z| + |E_q P|_F)``.
    n_samples : int
    """

    translation: float
    virial_lhs: float
    virial_rhs: float
    virial_error: float
    rotation_charge: float
    latent_affine: float
    n_samples: int

    def to_dict(self) -> dict:
        """Plain-float dictionary."""
        return asdict(self)


def _rms_norm(x: torch.Tensor) -> float:
    return float(torch.sqrt((x**2).sum(-1).mean()))


def ward_identities(jet: EmbeddingJet, s_ref: float) -> WardIdentities:
    """Evaluate the Ward identities on the latent samples of ``jet`` (drawn from ``q``)."""
    s, phi, z, n = jet.score, jet.phi, jet.z, jet.z.shape[0]
    d = z.shape[1]
    tiny = np.finfo(float).tiny
    lhs = float((s * phi).sum(-1).mean())
    rhs = -d + 2 * jet.continuity * float((jet.jac**2).sum((-1, -2)).mean())
    m = s.T @ phi / n
    rot = float(torch.linalg.norm(m - m.T))
    p_mean = jet.stress.mean(0)
    aff = float(torch.linalg.norm(s.T @ z / n + p_mean))
    s_rms, phi_rms, z_rms = _rms_norm(s), _rms_norm(phi), _rms_norm(z)
    return WardIdentities(
        translation=float(torch.linalg.norm(s.mean(0))) / max(s_ref, tiny),
        virial_lhs=lhs,
        virial_rhs=rhs,
        virial_error=abs(lhs - rhs) / max(d, abs(rhs)),
        rotation_charge=rot / max(s_rms * phi_rms, tiny),
        latent_affine=aff / max(s_rms * z_rms + float(torch.linalg.norm(p_mean)), tiny),
        n_samples=int(n),
    )
