"""Readiness tier, score and servicing level from the raised codes (CONTRACT §4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gis.readiness.codes import BLOCKING_PREFIXES, SEVEN_KINDS

__all__ = ["SERVICE_LEVELS", "readiness_score", "readiness_tier", "served_by"]

#: servicing levels, best first: name and the kinds that must be within their service distance (plus 场地平整)
SERVICE_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("七通一平", SEVEN_KINDS),
    ("五通一平", ("road", "water", "drainage", "power", "telecom")),
    ("三通一平", ("road", "water", "power")),
)


def _raised(raised: Mapping[str, np.ndarray], prefix: str, n: int) -> np.ndarray:
    """How many codes starting with `prefix` each parcel has."""
    out = np.zeros(n, dtype=int)
    for code, r in raised.items():
        if code.startswith(prefix):
            out += r
    return out


def readiness_tier(raised: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """`blocked`, `ready`, `nearly_ready` or `not_ready` for each of `n` parcels.

    Parameters
    ----------
    raised : mapping
        code -> boolean array over the parcels.
    n : int
        Number of parcels.

    Examples
    --------
    >>> readiness_tier({"net:dispute": np.array([True, False]), "zoning:not_industrial": np.array([False, False])}, 2)
    array(['nearly_ready', 'ready'], dtype=object)
    """
    total = _raised(raised, "", n)
    blocking = sum((_raised(raised, p, n) for p in BLOCKING_PREFIXES), np.zeros(n, dtype=int)) > 0
    # approval or compensation outstanding means the land cannot be handed over soon, however few codes remain
    slow = (_raised(raised, "approval:", n) + _raised(raised, "net:compensation", n)) > 0
    return np.select(
        [blocking, total == 0, (total <= 2) & ~slow],
        ["blocked", "ready", "nearly_ready"],
        "not_ready",
    ).astype(object)


def readiness_score(
    raised: Mapping[str, np.ndarray],
    n: int,
    rules: Mapping[str, Any],
    *,
    has_batches: bool,
    leveling_checked: np.ndarray | None,
    flood_checked: np.ndarray | None,
) -> np.ndarray:
    """The 0–100 readiness score, rounded to one decimal.

    ``net × share of net checks passed + assessments × share of required assessments present + indicators × share
    of required indicators set + servicing × share of servicing checks passed``, weights from
    ``rules["readiness.score_weights"]``. Net checks: approval (only with a batches layer), compensation, dispute,
    hv_line. Servicing checks: the required infrastructure kinds, plus leveling and flood where the parcel has
    raster data (`leveling_checked`, `flood_checked`; None without the raster). A group with no checks counts as
    fully passed.
    """
    weights = rules["readiness.score_weights"]
    zeros = np.zeros(n)

    def share(failed: np.ndarray, total: np.ndarray | float) -> np.ndarray:
        total = np.asarray(total, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, 1.0 - failed / np.where(total > 0, total, 1.0), 1.0)

    net_total = 3 + int(has_batches)
    net_failed = (
        _raised(raised, "net:", n) + (_raised(raised, "approval:", n) if has_batches else 0)
    ).astype(float)
    n_assess = len(rules["readiness.required_assessments"])
    n_ind = len(rules["readiness.required_indicators"])
    n_infra = len(rules["readiness.required_infrastructure"])
    serv_total = zeros + n_infra
    serv_failed = _raised(raised, "infra:", n).astype(float)
    for checked, code in ((leveling_checked, "site:leveling"), (flood_checked, "site:flood")):
        if checked is not None:
            serv_total = serv_total + checked
            serv_failed = serv_failed + raised.get(code, zeros)
    score = (
        float(weights["net"]) * share(net_failed, net_total)
        + float(weights["assessments"]) * share(_raised(raised, "assessment:", n), n_assess)
        + float(weights["indicators"]) * share(_raised(raised, "indicators:", n), n_ind)
        + float(weights["servicing"]) * share(serv_failed, serv_total)
    )
    # round half up on the decimal value (np.round would round 12.25 to 12.2)
    return np.floor(score * 10 + 0.5 + 1e-9) / 10


def served_by(within: Mapping[str, np.ndarray], leveled: np.ndarray) -> np.ndarray:
    """七通一平 / 五通一平 / 三通一平 / None for each parcel.

    Parameters
    ----------
    within : mapping
        kind -> True where a built feature of the kind is within its service distance (all seven kinds).
    leveled : numpy.ndarray
        True where site leveling passes (also where there is no DEM).
    """
    n = len(leveled)
    out = np.full(n, None, dtype=object)
    for name, kinds in reversed(SERVICE_LEVELS):
        ok = leveled.copy()
        for kind in kinds:
            ok &= within.get(kind, np.zeros(n, dtype=bool))
        out[ok] = name
    return out
