"""How big a synthetic penal system is, per named scale."""

from __future__ import annotations

from dataclasses import dataclass

# Shares of facilities by security level (pre-trial "mixed" centres come one per
# region on top). The PCPI report: 21 medium and 22 maximum institutions hold over 70%
# of the prison population; PCPI report also counts 1 juvenile and 6 women's
# institutions in Kazakhstan.
FACILITY_SHARES = {
    "minimum": 0.19,
    "medium": 0.33,
    "maximum": 0.34,
    "extreme": 0.08,
    "complete": 0.03,
    "juvenile": 0.03,
}
# Shares of convicts by the level the court ordered.
COURT_LEVEL_SHARES = {
    "minimum": 0.10,
    "medium": 0.34,
    "maximum": 0.41,
    "extreme": 0.10,
    "complete": 0.03,
    "juvenile": 0.02,
}


@dataclass(frozen=True)
class Scale:
    """Size of a world."""

    name: str
    convicts: int
    regions: int
    facilities: int  # institutions other than the one pre-trial centre per region
    womens_facilities: int
    window_start: str = "2023-01-01"
    window_end: str = "2024-12-31"
    scheme_instances: int = 8  # planted instances per scheme (before rounding)


SCALES = {
    "tiny": Scale("tiny", 400, 3, 6, 1, scheme_instances=3),
    "small": Scale("small", 2_000, 5, 12, 2, scheme_instances=6),
    "national": Scale("national", 30_000, 17, 63, 6, scheme_instances=25),
    "large": Scale("large", 450_000, 85, 815, 40, scheme_instances=120),
}
