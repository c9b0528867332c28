"""标准地 readiness (CONTRACT §4.5): which unsupplied parcels can be sold as 标准地 and start work on handover.

`run_readiness(bundle, as_of, rules)` returns the parcels with `readiness_tier`, `missing`, `readiness_score`,
`slope_mean_pct`, `flood_share`, `infra_distance_m`, `served_by` and `missing_detail` (see `run`).

Modules: `checks` (one function per row of the §4.5 table), `overlay` (overlap areas), `proximity` (nearest
network distances), `terrain` (Horn slope, flood share, exactextract zonal means), `scoring` (tier, score,
servicing level), `codes` (labels and departments).

Decisions where the contract leaves room (each is documented where it is implemented):

- examined = ``supply_status`` unsupplied, or supplied with ``supplied_on`` after as-of; supplied without a date
  counts as supplied;
- every overlap (constraints and the HV corridors) uses the §3 tolerance: > ``overlap_min_m2`` and
  > ``overlap_min_share`` of the parcel; "covered" (batches, assessments) is ≥ ``covered_share`` of the parcel
  inside the union of the qualifying features;
- HV corridors are the lines buffered (round ends) by the half-width for their ``voltage_kv``; an empty voltage gets
  the default half-width;
- ``infra_distance_m`` is the exact edge-to-edge distance to the nearest *built* feature of each of the seven
  kinds, without a cap; null when the layer has no built feature of the kind; a network is "within" its service
  distance when that distance is ≤ the service distance. The evidence of ``infra:*`` adds the nearest planned one;
- rasters: parcels are reprojected to the raster's CRS; slope by Horn on cell sizes in metres; zonal means weighted
  by cell coverage fraction (exactextract). A parcel without valid raster cells gets null and that rule is not
  applied to it (nor counted in the score); flood nodata is left out of the share's denominator (see `terrain`);
- numbers are rounded for output (distances and areas 0.01 m / m², slope 0.01 %, shares 0.0001); the rules compare
  the unrounded values, except leveling and flood, which compare the slope and flood share as reported (float32
  DEM noise must not fail a plane of exactly 8 %).
"""

from gis.readiness.run import READINESS_COLUMNS, examined_mask, run_readiness

__all__ = ["READINESS_COLUMNS", "examined_mask", "run_readiness"]
