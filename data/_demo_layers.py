"""Demo context layers: HV lines, 永久基本农田, 生态保护红线, utility networks and regional assessments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, box

from data._demo_layout import ROTATION_CENTRE, to_crs_frame
from data._demo_supply import CORE, HILL
from data._demo_zone import Zone

__all__ = ["assessments", "basic_farmland", "eco_redline", "hv_lines", "infrastructure"]

D = dt.date
HEAT_PLANT = (2600.0, 1300.0)
#: utilities run parallel to the road centre line at these offsets (m) in the road reserve
_OFFSETS = {
    "road": 0.0,
    "water": 9.0,
    "drainage": -9.0,
    "power": 12.5,
    "telecom": -12.5,
    "gas": 6.0,
    "heat": -6.0,
}


def _local(p: pd.DataFrame, i: int) -> tuple[float, float]:
    return float(p.at[i, "lx"]), float(p.at[i, "ly"])


def hv_lines(zone: Zone) -> pd.DataFrame:
    """A 220 kV line over an unsupplied parcel a new-energy project waits for, and a 110 kV line over an idle parcel."""
    p = zone.parcels
    target = p.index[p["hv_waiting"]][0]
    tx, ty = _local(p, target)
    line220 = LineString([(tx - 3200, ty + 2100), (tx - 900, ty + 500), (tx, ty), (tx + 2600, ty - 2300)])
    gov = p.index[p["idle_case"].eq("idle_1y") & p["delay_cause"].eq("government")][0]
    gx, gy = _local(p, gov)
    line110 = LineString([(gx - 2600, gy - 900), (gx, gy), (gx + 1500, gy + 2400)])
    lines = to_crs_frame(np.array([line220, line110], dtype=object))
    return pd.DataFrame(
        {
            "name": ["220kV 皖北—示范线", "110kV 经开变—城南线"],
            "voltage_kv": [220.0, 110.0],
            "geometry": lines,
        }
    )


def basic_farmland(zone: Zone) -> pd.DataFrame:
    """Farmland around the zone (touching the edge parcels) and two patches reaching into expansion parcels."""
    b = zone.layout.boundary
    ring = b.buffer(650, join_style="mitre").difference(b)
    north_east = box(1500, 2600, 9000, 9000).union(box(4800, -2000, 9000, 9000))
    pieces = [ring.intersection(north_east)]
    p = zone.parcels
    exp = p[(p["phase"] == 4) & (p["planned_use"] == "industrial")].sort_values("order_key", ascending=False)
    for k, i in enumerate(exp.index[:2]):
        x, y = _local(p, i)
        blob = shapely.affinity.scale(Point(x + 60, y - 40).buffer(160 + 40 * k, quad_segs=6), 1.6, 0.8)
        pieces.append(blob)
    geoms = to_crs_frame(np.array(pieces, dtype=object))
    return pd.DataFrame({"name": ["城郊永久基本农田", "保留耕地图斑一", "保留耕地图斑二"], "geometry": geoms})


def eco_redline(zone: Zone) -> pd.DataFrame:
    """The river's protection strip and the hill forest (生态保护红线)."""
    river = zone.layout.river.buffer(70)
    forest = Point(HILL[0] - 300, HILL[1] - 330).buffer(320, quad_segs=8)
    geoms = to_crs_frame(np.array([river, forest], dtype=object))
    return pd.DataFrame({"name": ["河流生态缓冲带", "北部丘陵水源涵养林"], "geometry": geoms})


def infrastructure(zone: Zone) -> pd.DataFrame:
    """Utility lines along the road segments: built where the zone is developed, planned elsewhere, with gaps."""
    seg = zone.layout.segments
    p = zone.parcels
    local = np.asarray(p["local_geometry"].to_numpy(), dtype=object)
    tree = shapely.STRtree(local)
    lines = np.asarray(seg["geometry"].to_numpy(), dtype=object)
    si, pi = tree.query(lines, predicate="dwithin", distance=45.0)
    phase = np.where(p["phase"].to_numpy() == 0, 9, p["phase"].to_numpy())
    min_phase = pd.Series(phase[pi]).groupby(si).min().reindex(range(len(seg)), fill_value=9).to_numpy()
    mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    d_heat = np.hypot(mid[:, 0] - HEAT_PLANT[0], mid[:, 1] - HEAT_PLANT[1])
    d_core = np.hypot(mid[:, 0] - CORE[0], mid[:, 1] - CORE[1])
    odd = (np.arange(len(seg)) % 3) == 0
    status = {
        "road": np.where(min_phase <= 3, "built", "planned"),
        "water": np.where(min_phase <= 3, "built", "planned"),
        "power": np.where(min_phase <= 3, "built", "planned"),
        "telecom": np.where((min_phase <= 2) | ((min_phase == 3) & ~odd), "built", "planned"),
        "drainage": np.where((min_phase <= 2) | ((min_phase == 3) & odd), "built", "planned"),
        "gas": np.where((min_phase <= 2) & (d_core < 2300), "built", np.where(min_phase <= 3, "planned", "")),
        "heat": np.where(
            (min_phase <= 2) & (d_heat < 1400), "built", np.where(min_phase <= 2, "planned", "")
        ),
    }
    rows = []
    for kind, st in status.items():
        off = _OFFSETS[kind]
        shifted = [
            shapely.affinity.translate(g, xoff=off) if a == "ns" else shapely.affinity.translate(g, yoff=off)
            for g, a in zip(lines, seg["axis"], strict=True)
        ]
        for g, s, name in zip(shifted, st, seg["name"], strict=True):
            if s:
                rows.append({"kind": kind, "status": s, "name": f"{name}{_KIND_CN[kind]}", "geometry": g})
    # plants as polygons: the 110 kV substation, the water works and the sewage plant
    cx, cy = ROTATION_CENTRE
    plants = [
        ("power", "经开区110kV变电站", box(cx - 700, cy - 980, cx - 620, cy - 920)),
        ("water", "开发区水厂", box(CORE[0] - 300, CORE[1] + 200, CORE[0] - 200, CORE[1] + 290)),
        ("drainage", "开发区污水处理厂", box(CORE[0] + 900, CORE[1] - 700, CORE[0] + 1020, CORE[1] - 600)),
    ]
    for kind, name, g in plants:
        rows.append({"kind": kind, "status": "built", "name": name, "geometry": g})
    out = pd.DataFrame(rows)
    out["geometry"] = to_crs_frame(out["geometry"].to_numpy())
    return out


_KIND_CN = {
    "road": "",
    "water": "给水管",
    "drainage": "雨污水管",
    "power": "电力管沟",
    "telecom": "通信管道",
    "gas": "燃气管",
    "heat": "供热管",
}


def assessments(zone: Zone) -> pd.DataFrame:
    """Regional assessments (区域评估): most kinds zone-wide; eia, seismic, water resources, heritage and survey only
    valid for the developed part (the zone-wide eia and seismic studies expired); mineral leaves out the quarry hill."""
    b = zone.layout.boundary
    p = zone.parcels
    dev_parts = np.asarray(p.loc[p["phase"].between(0, 3), "local_geometry"].to_numpy(), dtype=object)
    developed = shapely.union_all(shapely.buffer(dev_parts, 40.0)).buffer(-25.0).intersection(b)
    no_quarry = b.difference(Point(*HILL).buffer(900, quad_segs=8))
    rows = [
        ("energy", "区域节能评价", b, D(2021, 6, 18), None),
        ("eia", "开发区规划环境影响评价", b, D(2019, 5, 20), D(2024, 5, 19)),
        ("eia", "开发区规划环境影响跟踪评价", developed, D(2024, 11, 8), D(2029, 11, 7)),
        ("flood", "区域防洪影响评价", b, D(2020, 8, 14), None),
        ("soil_water", "区域水土保持方案", b, D(2020, 3, 11), None),
        ("water_resources", "区域水资源论证", developed, D(2021, 4, 2), D(2026, 4, 1)),
        ("mineral", "区域压覆重要矿产资源评估", no_quarry, D(2022, 9, 5), None),
        ("geohazard", "区域地质灾害危险性评估", b, D(2020, 12, 1), D(2025, 11, 30)),
        ("heritage", "区域文物考古调查勘探", developed, D(2023, 6, 20), None),
        ("seismic", "区域地震安全性评价", b, D(2018, 7, 2), D(2024, 12, 31)),
        ("seismic", "区域地震安全性评价（复评）", developed, D(2025, 5, 16), D(2030, 5, 15)),
        ("climate", "区域气候可行性论证", b, D(2025, 10, 10), None),
        ("survey", "区域土地勘测定界", developed, D(2019, 1, 15), None),
    ]
    out = pd.DataFrame(rows, columns=["kind", "name", "geometry", "completed_on", "valid_until"])
    out["geometry"] = to_crs_frame(out["geometry"].to_numpy())
    return out
