"""批而未供: approved batches overlaid with supplied parcels (CONTRACT §4.3, DOMAIN §2).

Policies where the contract is silent (each is tested):

- **Time.** A batch approved after as-of does not exist. A parcel counts as supplied when ``supply_status`` is
  ``supplied`` and ``supplied_on`` is on or before as-of; a ``supplied`` parcel without ``supplied_on`` counts as
  supplied (the status is the record of the 供地手续; a missing date is a gap in the ledger, not proof of no supply).
  A batch without ``approved_on`` is an input error (the field is required, CONTRACT §2).
- **Overlapping batches** are each measured on their own: the land both cover counts in both batches, so the zone
  total of 批而未供 (the sum of the batches' ``unsupplied_m2``, CONTRACT §4.4) counts it twice. ``covered_share``
  measures a parcel against the union of the batches, so land under two batches counts once (never > 100 %).
- **Slivers.** ``unsupplied_m2`` is ``batch_m2 − supplied_m2`` (the figure in ``batches.csv`` and the summary); the
  feature's geometry drops pieces under ``unsupplied.sliver_m2``. A batch whose remainder (≥ 1 m²) is made only of
  slivers keeps them, so that every batch counted in the summary has a feature with a geometry.
- **Five-year window.** Batches approved strictly after the calendar date five years before as-of (as-of − 5 years,
  29 Feb → 28 Feb) and on or before as-of. A batch approved exactly five years before as-of is outside the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.audit._columns import supplied_mask
from gis.errors import InputError
from gis.rules import Rules
from gis.units import ha, mu

__all__ = ["BATCH_COLUMNS", "BatchAudit", "age_years", "audit_batches", "covered_share"]

#: the columns of ``batches.csv`` in order (CONTRACT §4.3)
BATCH_COLUMNS = ["batch_id", "approved_on", "batch_m2", "supplied_m2", "unsupplied_m2", "supply_rate"]
_BATCH_EXTRA = ["batch_name", "approval_doc"]
_UNSUPPLIED_COLUMNS = [
    "batch_id",
    "batch_name",
    "approved_on",
    "approval_doc",
    "batch_m2",
    "supplied_m2",
    "unsupplied_m2",
    "unsupplied_ha",
    "unsupplied_mu",
    "supply_rate",
    "age_years",
    "age_bucket",
    "lapse_risk",
]
#: at most this many cells (batches × parcels per batch) in one padded array handed to ``shapely.union_all``
_UNION_CELLS = 2_000_000


@dataclass
class BatchAudit:
    """The 批而未供 overlay of one zone as of one date.

    Attributes
    ----------
    batches : pandas.DataFrame
        One row per batch approved by as-of, in input order: `BATCH_COLUMNS`, then ``batch_name`` and
        ``approval_doc`` when the layer has them. Areas in m².
    unsupplied : geopandas.GeoDataFrame
        One feature per batch with ``unsupplied_m2`` ≥ ``unsupplied.sliver_m2``: the batch minus the supplied
        parcels, in the batches' CRS, with every input field of the batch and the §4.3 properties.
    covered_share : numpy.ndarray
        Per row of ``parcels`` (positional), the share (0–1) of its area inside the union of the batches approved
        by as-of.
    five_year_supply_rate : float or None
        Σ ``supplied_m2`` ÷ Σ ``batch_m2`` over the batches approved in the window (see the module notes); None
        when no batch falls in it.
    """

    batches: pd.DataFrame
    unsupplied: gpd.GeoDataFrame
    covered_share: np.ndarray
    five_year_supply_rate: float | None


def audit_batches(
    parcels: gpd.GeoDataFrame, batches: gpd.GeoDataFrame, as_of: date, rules: Rules
) -> BatchAudit:
    """Overlay approved batches with supplied parcels: supplied and unsupplied area, age and lapse risk.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        The normalized ``parcels`` layer (projected CRS in metres); uses ``supply_status`` and ``supplied_on``.
    batches : geopandas.GeoDataFrame
        The normalized ``batches`` layer; uses ``batch_id`` and ``approved_on``.
    as_of : datetime.date
        The date the data is read as of (CONTRACT "Time").
    rules : Rules
        Uses ``unsupplied.sliver_m2``, ``unsupplied.lapse_years``, ``unsupplied.age_bucket_years`` and
        ``unsupplied.supply_rate_window_years``.

    Returns
    -------
    BatchAudit

    Examples
    --------
    >>> from shapely import box
    >>> from gis.rules import load_rules
    >>> parcels = gpd.GeoDataFrame({"supply_status": ["supplied", "unsupplied"]},
    ...     geometry=[box(0, 0, 30, 100), box(30, 0, 100, 100)], crs=4547)
    >>> batches = gpd.GeoDataFrame({"batch_id": ["P1"], "approved_on": pd.to_datetime(["2020-03-01"])},
    ...     geometry=[box(0, 0, 100, 100)], crs=4547)
    >>> audit = audit_batches(parcels, batches, date(2023, 1, 1), load_rules())
    >>> audit.batches[["batch_m2", "supplied_m2", "unsupplied_m2", "supply_rate"]].iloc[0].tolist()
    [10000.0, 3000.0, 7000.0, 0.3]
    >>> row = audit.unsupplied.iloc[0]
    >>> int(row.age_years), row.age_bucket, bool(row.lapse_risk)
    (2, '2to5y', False)
    >>> audit.covered_share.tolist(), audit.five_year_supply_rate
    ([1.0, 1.0], 0.3)
    """
    as_of_ts = pd.Timestamp(as_of)
    sliver = float(rules["unsupplied.sliver_m2"])
    if batches.crs is not None and parcels.crs is not None and batches.crs != parcels.crs:
        batches = batches.to_crs(parcels.crs)

    approved_on = _approved_on(batches)
    approved = batches.loc[(approved_on <= as_of_ts).to_numpy()]
    approved_on = approved_on[(approved_on <= as_of_ts).to_numpy()]
    batch_geoms = approved.geometry.to_numpy()
    parcel_geoms = parcels.geometry.to_numpy()

    supplied = parcel_geoms[supplied_mask(parcels, as_of_ts)]
    supplied_m2, remainder = _overlay(batch_geoms, supplied, sliver)
    batch_m2 = shapely.area(batch_geoms)
    unsupplied_m2 = batch_m2 - supplied_m2
    with np.errstate(invalid="ignore", divide="ignore"):
        supply_rate = np.where(batch_m2 > 0, supplied_m2 / batch_m2, np.nan)

    table = pd.DataFrame(
        {
            "batch_id": approved["batch_id"].to_numpy(),
            "approved_on": approved_on.to_numpy(),
            "batch_m2": batch_m2,
            "supplied_m2": supplied_m2,
            "unsupplied_m2": unsupplied_m2,
            "supply_rate": supply_rate,
        }
    )
    for name in _BATCH_EXTRA:
        if name in approved:
            table[name] = approved[name].to_numpy()

    ages = age_years(approved_on, as_of)
    low, high = (int(y) for y in rules["unsupplied.age_bucket_years"])
    bucket = np.where(ages < low, f"lt{low}y", np.where(ages < high, f"{low}to{high}y", f"ge{high}y"))
    lapse = (supplied_m2 < sliver) & (ages >= int(rules["unsupplied.lapse_years"]))

    keep = unsupplied_m2 >= sliver
    props = table.assign(
        unsupplied_ha=ha(unsupplied_m2),
        unsupplied_mu=mu(unsupplied_m2),
        age_years=ages,
        age_bucket=bucket,
        lapse_risk=lapse,
    )
    # pass the batch's other input fields through (CONTRACT §4: outputs carry every input field)
    geom_col = approved.geometry.name
    for name in approved.columns:
        if name not in props and name != geom_col:
            props[name] = approved[name].to_numpy()
    order = [c for c in _UNSUPPLIED_COLUMNS if c in props] + [
        c for c in props if c not in _UNSUPPLIED_COLUMNS
    ]
    unsupplied = gpd.GeoDataFrame(
        props.loc[keep, order].reset_index(drop=True),
        geometry=_drop_slivers(remainder[keep], sliver),
        crs=batches.crs,
    )

    window_start = as_of_ts - pd.DateOffset(years=int(rules["unsupplied.supply_rate_window_years"]))
    in_window = (approved_on > window_start).to_numpy()
    total = float(batch_m2[in_window].sum())
    five_year = float(supplied_m2[in_window].sum()) / total if in_window.any() and total > 0 else None

    return BatchAudit(
        batches=table,
        unsupplied=unsupplied,
        covered_share=covered_share(parcel_geoms, batch_geoms),
        five_year_supply_rate=five_year,
    )


def age_years(approved_on: pd.Series, as_of: date) -> np.ndarray:
    """Whole calendar years from each approval date to `as_of` (anniversaries as ``DateOffset(years=n)``).

    The n-th anniversary of 29 February falls on 28 February in a common year.

    >>> age_years(pd.Series(pd.to_datetime(["2020-02-29", "2020-02-29", "2021-06-01"])), date(2022, 2, 28)).tolist()
    [2, 2, 0]
    >>> age_years(pd.Series(pd.to_datetime(["2020-02-29", "2021-06-01"])), date(2024, 2, 28)).tolist()
    [3, 2]
    """
    dates = pd.DatetimeIndex(approved_on)
    as_of_ts = pd.Timestamp(as_of)
    years = as_of_ts.year - dates.year.to_numpy()
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    # this year's anniversary of 29 Feb is 28 Feb unless as-of's year is a leap year
    if not as_of_ts.is_leap_year:
        day = np.where((month == 2) & (day == 29), 28, day)
    before_anniversary = (as_of_ts.month < month) | ((as_of_ts.month == month) & (as_of_ts.day < day))
    return (years - before_anniversary).astype(np.int64)


def covered_share(parcels: np.ndarray, batches: np.ndarray) -> np.ndarray:
    """Share of each parcel's area inside the union of `batches` (overlapping batches count once).

    Each parcel is intersected only with the batches that touch it and those pieces are unioned per parcel, so
    no zone-wide union of batches is ever built; a parcel lying wholly inside one batch is 1 without an overlay.

    >>> from shapely import box
    >>> covered_share(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]),
    ...               np.array([box(0, 0, 10, 6), box(0, 4, 10, 20), box(25, 0, 40, 10)])).tolist()
    [1.0, 0.5]
    """
    parcels = np.asarray(parcels, dtype=object)
    batches = np.asarray(batches, dtype=object)
    share = np.zeros(len(parcels))
    if len(parcels) == 0 or len(batches) == 0:
        return share
    tree = shapely.STRtree(parcels)
    # the batch is the prepared side of the query: one prepared batch tests all its candidate parcels
    inside_p = tree.query(batches, predicate="covers")[1]
    share[inside_p] = 1.0
    pair_b, pair_p = tree.query(batches, predicate="intersects")
    rest = share[pair_p] < 1.0
    pair_b, pair_p = pair_b[rest], pair_p[rest]
    if len(pair_p) == 0:
        return share
    pieces = shapely.intersection(parcels[pair_p], batches[pair_b])
    covered = np.zeros(len(parcels))
    once = np.bincount(pair_p, minlength=len(parcels)) == 1
    single = once[pair_p]
    # a parcel met by a single batch needs no union of its pieces
    np.add.at(covered, pair_p[single], shapely.area(pieces[single]))
    if not single.all():
        multi_p = pair_p[~single]
        ids, group = np.unique(multi_p, return_inverse=True)
        covered[ids] = shapely.area(_grouped_union(pieces[~single], group, len(ids)))
    area = shapely.area(parcels)
    with np.errstate(invalid="ignore", divide="ignore"):
        part = np.where(area > 0, covered / area, 0.0)
    share[pair_p] = np.clip(part[pair_p], 0.0, 1.0)
    return share


def _approved_on(batches: gpd.GeoDataFrame) -> pd.Series:
    if "batch_id" not in batches:
        raise InputError("the batches layer has no batch_id (批次编号)", layer="batches", field="batch_id")
    if "approved_on" not in batches:
        raise InputError(
            "the batches layer has no approved_on (批准日期)", layer="batches", field="approved_on"
        )
    try:
        approved_on = pd.to_datetime(batches["approved_on"]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise InputError(f"approved_on is not a date: {exc}", layer="batches", field="approved_on") from exc
    missing = approved_on.isna().to_numpy()
    if missing.any():
        raise InputError(
            "approved_on (批准日期) is empty",
            layer="batches",
            feature=batches["batch_id"].iloc[missing.argmax()],
            field="approved_on",
        )
    return approved_on.reset_index(drop=True)


def _overlay(batches: np.ndarray, supplied: np.ndarray, sliver: float) -> tuple[np.ndarray, np.ndarray]:
    """Supplied area of each batch and its remainder (batch minus the union of the supplied parcels).

    The remainder is computed only where it is needed: it is None for a batch whose unsupplied area
    (``area(batch) − supplied``) is below `sliver`, when that is known without an overlay — the batch's supplied
    parcels form a clean polygonal coverage (so their areas add up without double counting) and each lies wholly
    inside the batch. Every other batch is differenced with the union of its intersecting supplied parcels.
    """
    n = len(batches)
    batch_m2 = shapely.area(batches)
    supplied = supplied[~shapely.is_missing(supplied)]
    if n == 0 or len(supplied) == 0:
        return np.zeros(n), batches.copy()
    tree = shapely.STRtree(supplied)
    pair_b, pair_s = tree.query(batches, predicate="intersects")
    cover_b, cover_s = tree.query(batches, predicate="covers")
    covered = np.isin(pair_b * len(supplied) + pair_s, cover_b * len(supplied) + cover_s)
    clean = _coverage_members(supplied, np.unique(pair_s))
    # per batch: may its parcels' areas be summed (clean coverage, nothing crossing the batch's edge)?
    summable = np.bincount(pair_b[~(clean[pair_s] & covered)], minlength=n) == 0
    coverage = np.bincount(pair_b[~clean[pair_s]], minlength=n) == 0

    supplied_m2 = np.bincount(pair_b, shapely.area(supplied[pair_s]) * summable[pair_b], minlength=n)
    supplied_m2 = np.clip(supplied_m2, 0.0, batch_m2)
    remainder = np.full(n, None, dtype=object)
    todo = ~summable | (batch_m2 - supplied_m2 >= sliver)
    pick = todo[pair_b]
    unions = _grouped_union(supplied[pair_s[pick]], pair_b[pick], n, coverage=coverage & todo)
    remainder[todo] = shapely.difference(batches[todo], unions[todo])
    # supplied_m2 = area(batch ∩ supplied) = batch_m2 − area(batch − supplied): one overlay instead of two
    overlaid = todo & ~summable
    supplied_m2[overlaid] = np.clip(
        batch_m2[overlaid] - shapely.area(remainder[overlaid]), 0.0, batch_m2[overlaid]
    )
    return supplied_m2, remainder


def _coverage_members(geoms: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Mask of ``geoms`` (among the indices `used`) with no invalid coverage edge: no overlap, matching vertices.

    A cadastre is normally such a polygonal coverage; a parcel that overlaps another or meets it at a T-junction
    is flagged and its batches fall back to the general union.
    """
    clean = np.zeros(len(geoms), dtype=bool)
    if len(used) and hasattr(shapely, "coverage_invalid_edges"):  # shapely ≥ 2.1, GEOS ≥ 3.12
        clean[used] = shapely.is_empty(shapely.coverage_invalid_edges(geoms[used]))
    return clean


def _grouped_union(
    geoms: np.ndarray, group: np.ndarray, n: int, *, coverage: np.ndarray | None = None
) -> np.ndarray:
    """Union of ``geoms`` per group id in ``range(n)`` (an empty collection for a group without members).

    Members are laid out in a padded (groups × largest group) array that ``shapely.union_all(axis=1)`` reduces
    row by row inside GEOS; groups go in size order, in chunks, so that padding stays small. Groups flagged in
    `coverage` (members form a valid polygonal coverage) use ``shapely.coverage_union_all`` instead.
    """
    out = np.empty(n, dtype=object)
    out[:] = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    if len(geoms) == 0:
        return out
    order = np.argsort(group, kind="stable")
    group, geoms = group[order], geoms[order]
    counts = np.bincount(group, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(len(group)) - starts[group]
    flagged = np.zeros(n, dtype=bool) if coverage is None else np.asarray(coverage, dtype=bool)
    for rows_mask, reduce in ((flagged, shapely.coverage_union_all), (~flagged, shapely.union_all)):
        by_size = np.argsort(np.where(rows_mask, counts, 0), kind="stable")
        by_size = by_size[(counts[by_size] > 0) & rows_mask[by_size]]
        i = 0
        while i < len(by_size):
            # grow the chunk while its padded size stays within the budget (at least one group per chunk)
            j = i + 1
            while j < len(by_size) and (j + 1 - i) * counts[by_size[j]] <= _UNION_CELLS:
                j += 1
            rows = by_size[i:j]
            padded = np.full((len(rows), int(counts[rows].max())), None, dtype=object)
            row_of = np.full(n, -1)
            row_of[rows] = np.arange(len(rows))
            member = row_of[group] >= 0
            padded[row_of[group[member]], slot[member]] = geoms[member]
            out[rows] = reduce(padded, axis=1)
            i = j
    return out


def _drop_slivers(remainder: np.ndarray, sliver: float) -> np.ndarray:
    """Drop polygon pieces smaller than `sliver` m²; a remainder made only of slivers is kept whole."""
    out = np.asarray(remainder, dtype=object).copy()
    if len(out) == 0:
        return out
    parts, index = shapely.get_parts(out, return_index=True)
    polygonal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    big = polygonal & (shapely.area(parts) >= sliver)
    has_big = np.bincount(index[big], minlength=len(out)) > 0
    keep = big & has_big[index]
    rebuilt = shapely.multipolygons(
        parts[keep], indices=index[keep], out=np.full(len(out), None, dtype=object)
    )
    one = np.bincount(index[keep], minlength=len(out)) == 1
    rebuilt[one] = shapely.get_geometry(rebuilt[one], 0)
    out[has_big] = rebuilt[has_big]
    return out
