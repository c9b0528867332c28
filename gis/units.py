"""Area units: m², 公顷 and 亩 (1 ha = 15 亩, CONTRACT "Units")."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["M2_PER_HA", "M2_PER_MU", "ha", "mu"]

M2_PER_HA = 10_000.0
#: for display only: dividing by it is not exact (1 600 m² / 666.66… = 2.4000000000000004 亩); convert with `mu`
M2_PER_MU = 10_000.0 / 15.0


def ha(m2: Any) -> Any:
    """Hectares from square metres (a float for a scalar; a Series stays a Series with its index).

    >>> ha(15_000)
    1.5
    """
    if np.ndim(m2) == 0:
        return float(m2) / M2_PER_HA
    return np.divide(m2, M2_PER_HA)


def mu(m2: Any) -> Any:
    """亩 from square metres, m² × 15 / 10 000 in that order as the contract defines it, so that round figures
    stay round: 1 600 m² is exactly 2.4 亩 and 480 万元 on it exactly 200 万元/亩.

    >>> mu(10_000), mu(1_600)
    (15.0, 2.4)
    """
    if np.ndim(m2) == 0:
        return float(m2) * 15.0 / M2_PER_HA
    return np.multiply(m2, 15.0) / M2_PER_HA
