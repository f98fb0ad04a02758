"""The one resolver of ``device`` and ``dtype`` parameters."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["resolve_device", "resolve_dtype", "DEVICE_HELP"]

DEVICE_HELP = "'cpu', 'cuda', 'cuda:N' or 'auto'"


def resolve_device(device) -> torch.device:
    """``"auto"`` (or ``None``) -> CUDA when available, else CPU; validate explicit devices.

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
            raise ValueError(f"device must be {DEVICE_HELP}, got {device!r}") from exc
    else:
        raise ValueError(f"device must be {DEVICE_HELP}, got {device!r}")
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
        raise ValueError(f"device must be {DEVICE_HELP}, got {device!r}")
    return dev


def resolve_dtype(dtype, device: torch.device) -> torch.dtype:
    """``None`` -> float64 on CPU, float32 on CUDA; accepts names, NumPy and torch dtypes.

    Raises
    ------
    ValueError
        For anything but float32 / float64.
    """
    if dtype is None:
        return torch.float64 if device.type == "cpu" else torch.float32
    if isinstance(dtype, torch.dtype):
        if dtype in (torch.float32, torch.float64):
            return dtype
        raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
    table = {"float64": torch.float64, "float32": torch.float32}
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name in table:
        return table[name]
    raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
