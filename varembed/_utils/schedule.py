"""The one cosine learning-rate schedule (with optional linear warm-up) of every optimiser loop."""

from __future__ import annotations

import math

__all__ = ["cosine_factor"]


def cosine_factor(step: int, total: int, *, warmup: int = 0, floor: float = 0.0) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total`` steps.

    Linear warm-up over the first ``warmup`` steps, then a half cosine from 1
    down to ``floor`` at the last step.
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = min((step - warmup) / max(1, total - warmup), 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
