"""Regions and institutions of a synthetic penal system."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.synthetic.registry_dialects import STANDARD, Dialect
from anomaly.synthetic.scales import FACILITY_SHARES, Scale

HOSPITAL_LEVELS = ("medium", "maximum")  # a prison hospital carries the level of its regime

# Kazakhstan: 14 oblasts and 3 cities of national significance (centroids of the
# administrative centres; population in millions as weights).
KAZAKHSTAN = [
    ("Akmola oblast", 51.9, 69.4, 0.74),
    ("Aktobe oblast", 50.3, 57.2, 0.90),
    ("Almaty oblast", 43.9, 77.1, 2.10),
    ("Atyrau oblast", 47.1, 51.9, 0.67),
    ("East Kazakhstan oblast", 49.9, 82.6, 1.37),
    ("Zhambyl oblast", 42.9, 71.4, 1.13),
    ("West Kazakhstan oblast", 51.2, 51.4, 0.67),
    ("Karaganda oblast", 49.8, 73.1, 1.38),
    ("Kostanay oblast", 53.2, 63.6, 0.87),
    ("Kyzylorda oblast", 44.8, 65.5, 0.80),
    ("Mangystau oblast", 43.7, 51.2, 0.74),
    ("Pavlodar oblast", 52.3, 76.9, 0.75),
    ("North Kazakhstan oblast", 54.9, 69.1, 0.54),
    ("Turkistan oblast", 43.3, 68.3, 2.00),
    ("Almaty city", 43.24, 76.89, 2.00),
    ("Astana city", 51.17, 71.43, 1.20),
    ("Shymkent city", 42.32, 69.59, 1.10),
]


@dataclass(frozen=True)
class Geography:
    regions: pd.DataFrame  # region_id, name, lat, lon, weight (generator only)
    facilities: pd.DataFrame  # spec columns + women, hospital (generator only)
    distance_km: np.ndarray  # region x region


def make_geography(
    scale: Scale, rng: np.random.Generator, dialect: Dialect = STANDARD
) -> Geography:
    """Regions with centroids, one pre-trial centre per region, institutions by level.

    A dialect with ``hospitals`` adds prison hospitals after the others (so that
    the other institutions are the same as in the standard world)."""
    regions = _regions(scale, rng)
    facilities = _facilities(scale, regions, rng, dialect.old_institutions)
    if dialect.hospitals:
        facilities = pd.concat(
            [facilities, _hospitals(scale, regions, facilities, rng)], ignore_index=True
        )
    return Geography(regions, facilities, _distances(regions))


def _regions(scale: Scale, rng: np.random.Generator) -> pd.DataFrame:
    n = scale.regions
    if n == len(KAZAKHSTAN):
        names, lat, lon, weight = (list(c) for c in zip(*KAZAKHSTAN, strict=True))
    else:
        names = [f"Region {i + 1:02d}" for i in range(n)]
        lat = rng.uniform(42, 68, n).round(2).tolist()
        lon = rng.uniform(30, 160, n).round(2).tolist()
        weight = rng.gamma(2.0, 1.0, n).tolist()
    ids = [f"RG{i + 1:02d}" for i in range(n)]
    w = np.asarray(weight, dtype=float)
    return pd.DataFrame(
        {"region_id": ids, "name": names, "lat": lat, "lon": lon, "weight": w / w.sum()}
    )


def _facilities(
    scale: Scale, regions: pd.DataFrame, rng: np.random.Generator, old: bool = False
) -> pd.DataFrame:
    levels = ["mixed"] * len(regions)
    homes = list(regions["region_id"])
    counts = {
        lvl: max(1, round(share * scale.facilities)) for lvl, share in FACILITY_SHARES.items()
    }
    # Institutions are not in every region (PCPI report): draw regions with
    # replacement, favouring large ones, so some regions lack some levels.
    for level, count in counts.items():
        picks = rng.choice(len(regions), size=count, p=regions["weight"].to_numpy())
        levels += [level] * count
        homes += regions["region_id"].iloc[picks].tolist()
    n = len(levels)
    women = np.zeros(n, dtype=bool)
    for level, share in (("minimum", 0.34), ("medium", 0.5), ("maximum", 0.16)):
        candidates = [i for i in range(n) if levels[i] == level]
        take = max(1, round(share * scale.womens_facilities))
        women[rng.choice(candidates, size=min(take, len(candidates) - 1), replace=False)] = True
    # Colonies of the 1930s and 1940s (the Karlag era) are still in use: openings
    # are drawn from 1930 to 2015, as a real registry holds them.
    opened = rng.integers(0, 85 * 365, n)
    if old:  # a registry whose institutions mostly date from the 1930s to the 1950s
        opened = np.where(opened % 5 == 0, opened, opened % (25 * 365))
    opened = opened + pd.Timestamp("1930-01-01").toordinal() - 719163
    order = rng.permutation(n)
    frame = (
        pd.DataFrame(
            {
                "facility_id": [
                    f"FC{i:04d}" for i in rng.choice(9000, size=n, replace=False) + 1000
                ],
                "region_id": homes,
                "security_level": levels,
                "women": women,
                "opened_day": opened,
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    frame["name"] = [_name(level, i) for i, level in enumerate(frame["security_level"])]
    frame["hospital"] = False
    return frame


def _hospitals(
    scale: Scale, regions: pd.DataFrame, others: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One prison hospital per four regions, in the largest, each with a regime's level."""
    hospital_rng = np.random.default_rng([int(rng.integers(2**31)), 7])
    n = max(1, len(regions) // 4)
    where = regions.sort_values("weight", ascending=False)["region_id"].iloc[:n].to_numpy()
    taken = set(others["facility_id"])
    free = [i for i in range(1000, 10000) if f"FC{i:04d}" not in taken]
    ids = hospital_rng.choice(free, size=n, replace=False)
    return pd.DataFrame(
        {
            "facility_id": [f"FC{i:04d}" for i in ids],
            "region_id": where,
            "security_level": hospital_rng.choice(HOSPITAL_LEVELS, size=n),
            "women": False,
            "opened_day": hospital_rng.integers(0, 60 * 365, n)
            + pd.Timestamp("1940-01-01").toordinal()
            - 719163,
            "name": [f"Hospital No. {k + 1}" for k in range(n)],
            "hospital": True,
        }
    )


def _name(level: str, number: int) -> str:
    if level == "mixed":
        return f"Pre-trial detention centre No. {number + 1}"
    return f"Institution No. {number + 1} ({level})"


def _distances(regions: pd.DataFrame) -> np.ndarray:
    lat = np.radians(regions["lat"].to_numpy())
    lon = np.radians(regions["lon"].to_numpy())
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371 * np.arcsin(np.sqrt(a))
