"""Convicts, their relatives and acquaintances, and the staff of every institution."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.synthetic.calendar_days import day
from anomaly.synthetic.geography import Geography
from anomaly.synthetic.scales import COURT_LEVEL_SHARES, Scale

YEAR = 365.25
SENTENCE_YEARS = {  # (low, high) by the level the court ordered
    "minimum": (1, 4),
    "medium": (2, 9),
    "maximum": (4, 15),
    "extreme": (8, 22),
    "complete": (15, 25),
    "juvenile": (1, 4),
}
GRAVITY = {
    "minimum": ({"minor": 0.45, "medium": 0.45, "grave": 0.10}),
    "medium": ({"minor": 0.05, "medium": 0.35, "grave": 0.60}),
    "maximum": ({"grave": 0.55, "especially_grave": 0.45}),
    "extreme": ({"grave": 0.15, "especially_grave": 0.85}),
    "complete": ({"especially_grave": 1.0}),
    "juvenile": ({"minor": 0.3, "medium": 0.4, "grave": 0.3}),
}
CONDUCT = {"good": 0.55, "average": 0.33, "poor": 0.12}
# Expected relatives per convict by relation, before age adjustments.
RELATIVES = {
    "spouse": 0.55,
    "parent": 1.1,
    "child": 0.9,
    "sibling": 1.0,
    "grandparent": 0.15,
    "grandchild": 0.1,
    "common_child_parent": 0.06,
    "other": 0.12,
}
STAFF_ROSTER = {
    "head": 1,
    "deputy_head": 2,
    "commission_member": 4,
    "duty_officer": 4,
    "visits_officer": 2,
    "records_officer": 2,
}


def make_convicts(
    scale: Scale, geo: Geography, rng: np.random.Generator, history_years: float = 12.0
) -> pd.DataFrame:
    """Convicts in custody at the start of the window or sentenced during it; those in
    custody at its start have served up to ``history_years`` of their sentence."""
    n = scale.convicts
    w0, w1 = day(scale.window_start), day(scale.window_end)
    levels = np.array(list(COURT_LEVEL_SHARES))
    level = levels[rng.choice(len(levels), n, p=list(COURT_LEVEL_SHARES.values()))]
    juvenile = level == "juvenile"
    sex = np.where(rng.random(n) < np.where(juvenile, 0.08, 0.07), "F", "M")
    age = np.where(juvenile, rng.uniform(14, 16.5, n), 18 + rng.gamma(3.0, 5.0, n))
    low = np.array([SENTENCE_YEARS[lv][0] for lv in level])
    high = np.array([SENTENCE_YEARS[lv][1] for lv in level])
    years = rng.uniform(low, high)
    life = ((level == "extreme") & (rng.random(n) < 0.2)) | (
        (level == "complete") & (rng.random(n) < 0.6)
    )
    stock = rng.random(n) < 0.78
    if history_years > 12:  # life sentences served for decades
        years = np.where(life, np.maximum(years, history_years), years)
    served = rng.uniform(0, np.minimum(years, history_years)) * YEAR
    start = np.where(stock, w0 - served, rng.uniform(w0, w1 - 45, n)).astype(int)
    end = (start + years * YEAR).astype(int)
    # A stock convict is still serving at the start of the window.
    end = np.where(stock & (end <= w0), w0 + rng.integers(30, 700, n), end)
    gravity = np.array([_draw(GRAVITY[lv], rng) for lv in level])
    home = rng.choice(geo.regions["region_id"].to_numpy(), n, p=geo.regions["weight"].to_numpy())
    conduct = np.array(list(CONDUCT))[rng.choice(3, n, p=list(CONDUCT.values()))]
    housekeeping = (
        np.isin(level, ["minimum", "medium"])
        & np.isin(gravity, ["minor", "medium"])
        & (rng.random(n) < 0.25)
    )
    ids = rng.choice(10 * n, size=n, replace=False) + 100_000
    return pd.DataFrame(
        {
            "convict_id": [f"CV{i}" for i in ids],
            "sex": sex,
            "birth_day": (start - age * YEAR).astype(int),
            "home_region_id": home,
            "start_day": start,
            "end_day": np.where(life, -1, end),
            "court_security_level": level,
            "offense_gravity": gravity,
            "conduct": conduct,
            "housekeeping": housekeeping,
        }
    )


def _draw(weights: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(weights)
    return keys[rng.choice(len(keys), p=list(weights.values()))]


def make_relatives(
    convicts: pd.DataFrame, scale: Scale, geo: Geography, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Relatives (persons + kinship), and acquaintances who only come for short visits.

    Returns persons, kinship (without registered_by, set at placement) and the
    ids of convicts given a large family (a legitimate oddity).
    """
    n = len(convicts)
    age = (day(scale.window_start) - convicts["birth_day"].to_numpy()) / YEAR
    counts = {}
    for relation, mean in RELATIVES.items():
        lam = np.full(n, mean)
        if relation == "spouse":
            counts[relation] = (rng.random(n) < np.where(age > 22, mean, 0.05)).astype(int)
            continue
        if relation == "parent":
            lam = np.where(age < 55, mean, 0.1)
        elif relation == "grandparent":
            lam = np.where(age < 30, 0.6, 0.0)
        elif relation == "grandchild":
            lam = np.where(age > 50, 0.8, 0.0)
        elif relation == "child":
            lam = np.where(age > 22, mean, 0.02)
        counts[relation] = rng.poisson(lam)
    counts["parent"] = np.minimum(counts["parent"], 2)
    large = rng.random(n) < 0.025
    counts["child"] = counts["child"] + large * rng.integers(3, 6, n)
    counts["sibling"] = counts["sibling"] + large * rng.integers(3, 6, n)
    none = rng.random(n) < 0.15  # no registered relatives at all
    for relation in counts:
        counts[relation] = np.where(none & ~large, 0, counts[relation])
    parts = []
    for relation, k in counts.items():
        owner = np.repeat(np.arange(n), k)
        parts.append(pd.DataFrame({"owner": owner, "relation": relation}))
    kin = pd.concat(parts, ignore_index=True)
    kin = _relative_details(kin, convicts, scale, rng)
    friends = _acquaintances(convicts, rng)
    persons = pd.concat([kin, friends], ignore_index=True)
    persons["person_id"] = [
        f"PS{i}" for i in rng.choice(20 * len(persons), len(persons), replace=False) + 10**6
    ]
    persons["region_id"] = np.where(
        rng.random(len(persons)) < 0.85,
        convicts["home_region_id"].to_numpy()[persons["owner"].to_numpy()],
        rng.choice(geo.regions["region_id"].to_numpy(), len(persons)),
    )
    kinship = persons[persons["relation"].notna()].copy()
    kinship["convict_id"] = convicts["convict_id"].to_numpy()[kinship["owner"].to_numpy()]
    large_ids = convicts["convict_id"][large].reset_index(drop=True)
    return persons, kinship, large_ids.to_frame()


EARLIEST_RELATIVE_BIRTH = "1920-01-01"
"""Relatives are drawn born from the 1920s on: the oldest a living visitor on file is."""


def _relative_details(
    kin: pd.DataFrame, convicts: pd.DataFrame, scale: Scale, rng: np.random.Generator
) -> pd.DataFrame:
    m = len(kin)
    owner_birth = convicts["birth_day"].to_numpy()[kin["owner"].to_numpy()]
    owner_sex = convicts["sex"].to_numpy()[kin["owner"].to_numpy()]
    offset_years = {
        "spouse": (-5, 5),
        "parent": (-38, -18),
        "child": (18, 35),
        "sibling": (-10, 10),
        "grandparent": (-75, -40),
        "grandchild": (40, 60),
        "common_child_parent": (-6, 6),
        "other": (-20, 20),
    }
    low = np.array([offset_years[r][0] for r in kin["relation"]])
    high = np.array([offset_years[r][1] for r in kin["relation"]])
    birth = owner_birth + (rng.uniform(low, high) * YEAR).astype(int)
    latest = day(scale.window_start) - 365  # born before any visit could be logged
    earliest = day(EARLIEST_RELATIVE_BIRTH)  # a grandparent of an old convict: the 1920s
    birth = np.clip(birth, earliest, latest)
    partner = kin["relation"].isin(["spouse", "common_child_parent"]).to_numpy()
    sex = np.where(
        partner, np.where(owner_sex == "M", "F", "M"), np.where(rng.random(m) < 0.5, "F", "M")
    )
    death_p = kin["relation"].map({"grandparent": 0.12, "parent": 0.05}).fillna(0.005).to_numpy()
    dies = rng.random(m) < death_p
    w0, w1 = day(scale.window_start), day(scale.window_end)
    death = np.where(dies, rng.integers(w0 - 3 * 365, w1, m), -1)
    out = kin.copy()
    out["sex"] = sex
    out["birth_day"] = birth
    out["death_day"] = np.maximum(death, np.where(dies, birth + 365, -1))
    out["convict_link"] = None
    return out


def _acquaintances(convicts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """People who may come for short visits (friends, neighbours); never kin."""
    n = len(convicts)
    k = rng.poisson(0.35, n)
    owner = np.repeat(np.arange(n), k)
    m = len(owner)
    return pd.DataFrame(
        {
            "owner": owner,
            "relation": None,
            "sex": np.where(rng.random(m) < 0.5, "F", "M"),
            "birth_day": convicts["birth_day"].to_numpy()[owner] + rng.integers(-3650, 3650, m),
            "death_day": -1,
            "convict_link": None,
        }
    )


def link_relatives_in_custody(
    persons: pd.DataFrame, convicts: pd.DataFrame, rng: np.random.Generator, share: float = 0.01
) -> pd.DataFrame:
    """Make some siblings of convicts convicts themselves (persons.convict_id)."""
    siblings = persons.index[persons["relation"].eq("sibling")].to_numpy()
    take = rng.choice(siblings, size=min(len(siblings), int(share * len(convicts))), replace=False)
    others = rng.choice(len(convicts), size=len(take), replace=False)
    owners = persons.loc[take, "owner"].to_numpy()
    keep = others != owners
    out = persons.copy()
    out.loc[take[keep], "convict_link"] = convicts["convict_id"].to_numpy()[others[keep]]
    out.loc[take[keep], "birth_day"] = convicts["birth_day"].to_numpy()[others[keep]]
    out.loc[take[keep], "sex"] = convicts["sex"].to_numpy()[others[keep]]
    return out


def make_staff(
    facilities: pd.DataFrame,
    scale: Scale,
    rng: np.random.Generator,
    earliest: int | None = None,
    moves: bool = False,
) -> pd.DataFrame:
    """A roster per institution plus a regional committee; some leave and are replaced.

    Every post is held, one holder after another, back to ``earliest`` (the first
    day any record needs a decision), so every decision has someone serving to
    make it. With ``moves``, some holders of an earlier post are the same people
    as holders of a later post elsewhere: one staff id, two postings (rows). The
    registry lists the latest posting only (``latest_postings``)."""
    rows = []
    for facility_id, level in zip(
        facilities["facility_id"], facilities["security_level"], strict=True
    ):
        for role, count in STAFF_ROSTER.items():
            rows += [(facility_id, role)] * count
        if level == "mixed":  # the regional administration sits with the pre-trial centre
            rows += [(facility_id, "committee")] * 3
    staff = pd.DataFrame(rows, columns=["facility_id", "role"])
    w0, w1 = day(scale.window_start), day(scale.window_end)
    n = len(staff)
    staff["from_day"] = w0 - rng.integers(200, 12 * 365, n)
    leaves = (rng.random(n) < 0.08) & (staff["role"] != "head")
    staff["to_day"] = np.where(leaves, rng.integers(w0 + 60, w1 - 60, n), -1)
    successors = staff[leaves].copy()
    successors["from_day"] = successors["to_day"] + 1
    successors["to_day"] = -1
    earlier = _predecessors(staff, earliest, rng)
    staff = pd.concat([staff, successors, earlier], ignore_index=True)
    ids = rng.choice(50 * len(staff), len(staff), replace=False) + 10_000
    staff["staff_id"] = [f"ST{i}" for i in ids]
    if moves:
        staff = _moved(staff, rng)
    return staff


def _predecessors(staff: pd.DataFrame, earliest: int | None, rng) -> pd.DataFrame:
    """Earlier holders of every post, 3 to 12 years each, back to ``earliest``."""
    if earliest is None:
        return staff.iloc[:0]
    out, current = [], staff[["facility_id", "role", "from_day"]].copy()
    while len(current := current[current["from_day"] > earliest]):
        held = rng.integers(3 * 365, 12 * 365, len(current))
        earlier = current.assign(to_day=current["from_day"] - 1)
        earlier["from_day"] = earlier["to_day"] - held
        out.append(earlier)
        current = earlier[["facility_id", "role", "from_day"]]
    return pd.concat(out, ignore_index=True) if out else staff.iloc[:0]


MOVED_SHARE = 0.25  # of the finished postings, held by someone now posted elsewhere


def _moved(staff: pd.DataFrame, rng) -> pd.DataFrame:
    """Give a share of finished postings the id of someone who later took the same role
    at another institution (a move), so one staff id holds two postings. Per role, chosen
    finished postings are paired at random with current ones, each current one used once;
    a pair is a move when the institutions differ and the new posting began later."""
    out = staff.copy()
    finished = out.index[(out["to_day"] >= 0) & out["role"].ne("committee")]
    chosen = out.loc[rng.choice(finished, size=int(MOVED_SHARE * len(finished)), replace=False)]
    current = out[out["to_day"].lt(0)]
    for role, earlier in chosen.groupby("role", sort=True):
        later = current[current["role"].eq(role)]
        later = later.iloc[rng.permutation(len(later))]
        n = min(len(earlier), len(later))
        before, after = earlier.iloc[:n], later.iloc[:n]
        move = (before["facility_id"].to_numpy() != after["facility_id"].to_numpy()) & (
            after["from_day"].to_numpy() > before["to_day"].to_numpy()
        )
        out.loc[before.index[move], "staff_id"] = after["staff_id"].to_numpy()[move]
    return out


def latest_postings(staff: pd.DataFrame) -> pd.DataFrame:
    """One row per staff id, the latest posting: what a registry's staff table holds."""
    latest = staff.sort_values("from_day", kind="stable").drop_duplicates("staff_id", keep="last")
    return latest.sort_index().reset_index(drop=True)
