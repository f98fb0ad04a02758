"""Shape of a fitted one-dimensional embedding: radius, speed and length of the curve."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["curve_stats"]


def curve_stats(emb, n: int = 1000) -> dict:
    """Radius, speed and length of a fitted curve (``n_components=1``) on a latent grid over ``[-1, 1]``.

    Parameters
    ----------
    emb : fitted VariationalEmbedding with ``n_components=1``
    n : int, default=1000
        Grid points.

    Returns
    -------
    dict
        ``z`` (n,), ``phi`` (n, D) in data units, ``speed`` ``|phi'(z)|`` (n,),
        ``radius`` ``|phi(z)|`` (n,) and ``length`` (mean speed times 2).
    """
    if getattr(emb, "n_components", None) != 1:
        raise ValueError("curve_stats needs a fitted one-dimensional embedding (n_components=1)")
    z = torch.linspace(-1, 1, n, dtype=emb.dtype_).unsqueeze(1)
    with torch.no_grad():
        jet = emb.map_.jet(z.to(emb.device_))
    phi = jet.value.cpu().numpy() * emb.scale_ + emb.mean_
    speed = np.linalg.norm(jet.jacobian.cpu().numpy()[:, :, 0] * emb.scale_[None, :], axis=1)
    radius = np.linalg.norm(phi, axis=1)
    return dict(z=z.numpy()[:, 0], phi=phi, speed=speed, radius=radius, length=float(speed.mean() * 2.0))
