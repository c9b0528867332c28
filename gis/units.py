"""Area units: m², 公顷 and 亩 (1 ha = 15 亩, CONTRACT "Units")."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["M2_PER_HA", "M2_PER_MU", "ha", "mu"]

M2_PER_HA = 10_000.0
M2_PER_MU = 10_000.0 / 15.0


def ha(m2: float | npt.ArrayLike) -> float | np.ndarray:
    """Hectares from square metres.

    >>> ha(15_000)
    1.5
    """
    return np.asarray(m2, dtype=float) / M2_PER_HA if np.ndim(m2) else float(m2) / M2_PER_HA  # type: ignore[arg-type]


def mu(m2: float | npt.ArrayLike) -> float | np.ndarray:
    """亩 from square metres (m² × 15 / 10 000).

    >>> mu(10_000)
    15.0
    """
    return np.asarray(m2, dtype=float) * 15.0 / M2_PER_HA if np.ndim(m2) else float(m2) * 15.0 / M2_PER_HA  # type: ignore[arg-type]
