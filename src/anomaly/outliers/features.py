"""Features of convicts, staff members and institutions, built from the records alone.

Each function returns one row per subject with a ``peer_group`` column (who
it is compared with) and numeric features, higher meaning more of something.
Rates are per convict present so that large and small institutions compare.
The rule flags of the same run count as a feature too (rule-flag rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.id_codes import NULL
from anomaly.registry.snapshot import Snapshot
from anomaly.scoring.finding_recency import review_start

EASED = ["light", "preferential"]


def facility_features(s: Snapshot, flags: pd.DataFrame) -> pd.DataFrame:
    """Per institution, per convict present: discipline, degrees, conditions, visits."""
    present = s["condition_changes"].groupby("facility_id")["convict_id"].nunique()
    events = s["disciplinary_events"]
    degrees = s["degree_assignments"]
    changes = s["condition_changes"]
    visits = s["visit_logs"]
    counts = {
        "penalties_avoided": -_count(events[events["kind"].eq("penalty")], "facility_id"),
        "incentives": _count(events[events["kind"].eq("incentive")], "facility_id"),
        "positive_degrees": _count(degrees[degrees["degree"] > 0], "facility_id"),
        "eased_conditions": _count(changes[changes["to_condition"].isin(EASED)], "facility_id"),
        "long_visits": _count(visits[visits["visit_type"].eq("long")], "facility_id"),
        "rule_flags": _count(flags.dropna(subset=["facility_id"]), "facility_id"),
    }
    out = pd.DataFrame(counts).reindex(present.index).fillna(0).div(present, axis=0)
    out["peer_group"] = s.level.reindex(out.index).to_numpy()
    return out.rename_axis("subject_id")


def staff_features(s: Snapshot, flags: pd.DataFrame) -> pd.DataFrame:
    """Per staff member, per convict at their institution: what they granted and approved,
    inside the period under review (``scoring.finding_recency``): a staff table holds postings ended
    decades ago, and a member is judged on what he decides now, against peers deciding now."""
    staff = s["staff"].set_index("staff_id")
    start = review_start(s)
    stays = s.stays[s.stays["end"] >= start]
    present = stays.groupby("facility_id")["convict_id"].nunique()
    events = _since(s["disciplinary_events"], "occurred_on", start)
    incentives = events[events["kind"].eq("incentive")]
    extra = incentives["measure"].isin(["extra_long_visit", "extra_short_visit"])
    degrees = _since(s["degree_assignments"], "assigned_on", start)
    changes = _since(s["condition_changes"], "changed_on", start)
    regs = _since(s["long_visit_registrations"], "requested_on", start)
    counts = {
        "extra_visit_incentives": _count(incentives[extra], "decided_by"),
        "other_incentives": _count(incentives[~extra], "decided_by"),
        "positive_degrees": _count(degrees[degrees["degree"] > 0], "decided_by"),
        "eased_conditions": _count(changes[changes["to_condition"].isin(EASED)], "decided_by"),
        "registrations_approved": _count(regs[regs["decision"].eq("approved")], "decided_by"),
        "rule_flags": _count(flags.dropna(subset=["staff_id"]), "staff_id"),
    }
    out = pd.DataFrame(counts).reindex(staff.index).fillna(0)
    active = out.drop(columns="rule_flags").sum(axis=1) > 0
    out = out[active]
    size = staff.loc[out.index, "facility_id"].map(present).fillna(1).clip(lower=1)
    out = out.div(size.to_numpy(), axis=0)
    total = out[["extra_visit_incentives", "other_incentives"]].sum(axis=1)
    out["extra_visit_share"] = (out["extra_visit_incentives"] / total.where(total > 0)).fillna(0)
    delay = _recording_delay_days(s, start).reindex(out.index).fillna(0)
    out["recording_delay_days"] = delay.to_numpy()
    out["peer_group"] = staff.loc[out.index, "role"].astype(str).to_numpy()
    return out.rename_axis("subject_id")


def convict_features(s: Snapshot, flags: pd.DataFrame) -> pd.DataFrame:
    """Per convict: visits, visitors, kinship, decisions, moves and distance gained toward home."""
    visits = s["visit_logs"]
    is_long = visits["visit_type"].eq("long").fillna(False).to_numpy(dtype=bool)
    long = visits[is_long]
    kin = s.ids.pair("kinship", "convict_id", "person_id")
    visit = s.ids.pair("visit_logs", "convict_id", "visitor_person_id")[is_long]
    non_kin = ~np.isin(visit, kin[kin != NULL])
    convicts = s["convicts"].set_index("convict_id")
    counts = {
        "long_visits": _count(long, "convict_id"),
        "distinct_visitors": long.groupby("convict_id")["visitor_person_id"].nunique(),
        "non_kin_long_visits": _count(long[non_kin], "convict_id"),
        "degree_decisions": _count(s["degree_assignments"], "convict_id"),
        "eased_conditions": _count(
            s["condition_changes"][s["condition_changes"]["to_condition"].isin(EASED)], "convict_id"
        ),
        "transfers": _count(s["transfers"], "convict_id"),
        "rule_flags": _count(flags.dropna(subset=["convict_id"]), "convict_id"),
    }
    out = pd.DataFrame(counts).reindex(convicts.index).fillna(0)
    out = out[out.sum(axis=1) > 0]
    out["km_closer_to_home"] = _km_closer_to_home(s).reindex(out.index).fillna(0).clip(lower=0)
    latest = s.stays.sort_values("start").groupby("convict_id")["facility_id"].last()
    out["peer_group"] = s.level.reindex(latest.reindex(out.index).to_numpy()).to_numpy()
    return out.dropna(subset=["peer_group"]).rename_axis("subject_id")


def _since(frame: pd.DataFrame, on: str, start: pd.Timestamp) -> pd.DataFrame:
    return frame[frame[on] >= start]


def _recording_delay_days(s: Snapshot, start: pd.Timestamp) -> pd.Series:
    """Per staff member: mean days between a decision's date and its entry in the register."""
    parts = []
    for table, date in (("degree_assignments", "assigned_on"), ("condition_changes", "changed_on"),
                        ("disciplinary_events", "occurred_on")):  # fmt: skip
        frame = _since(s[table], date, start)
        days = (frame["recorded_at"] - frame[date]).dt.total_seconds() / 86400
        parts.append(pd.DataFrame({"staff": frame["decided_by"].astype(str), "days": days}))
    joined = pd.concat(parts, ignore_index=True)
    return joined.groupby("staff")["days"].mean()


def _km_closer_to_home(s: Snapshot) -> pd.Series:
    """Per convict: how much closer to the home region the latest stay is than the first."""
    regions = s["regions"].set_index("region_id")
    region_of = s["facilities"].set_index("facility_id")["region_id"]
    stays = s.stays.sort_values("start", kind="stable")
    ends = stays.groupby("convict_id")["facility_id"].agg(["first", "last"])
    home = s["convicts"].set_index("convict_id")["home_region_id"].reindex(ends.index)
    first = _km(regions, ends["first"].map(region_of), home)
    last = _km(regions, ends["last"].map(region_of), home)
    return first - last


def _km(regions: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.Series:
    """Great-circle distance between region centroids, in km."""
    lat1, lon1 = (np.radians(a.map(regions[c]).astype(float)) for c in ("lat", "lon"))
    lat2, lon2 = (np.radians(b.map(regions[c]).astype(float)) for c in ("lat", "lon"))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * np.arcsin(np.sqrt(h))


def _count(frame: pd.DataFrame, by: str) -> pd.Series:
    return frame.groupby(frame[by].astype(str)).size().astype(np.float64)
