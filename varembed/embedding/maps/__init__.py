"""Smooth maps ``phi: R^d -> R^D``: forward-mode jets of MLPs, the MLP map, its latent gauge."""

from .gauge import fix_gauge
from .jets import ACTIVATIONS, Jet, get_activation, second_order_pairs, unpack_hessian
from .mlp import SmoothMLPMap

__all__ = ["ACTIVATIONS", "Jet", "SmoothMLPMap", "fix_gauge", "get_activation", "second_order_pairs",
           "unpack_hessian"]
