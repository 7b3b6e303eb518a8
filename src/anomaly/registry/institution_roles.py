"""What an institution is, where the registry does not say it: inferred from its records.

The facilities table gives a security level, not a role. A registry may give
its prison hospitals a level (``medium``, ``maximum``) like any colony, and a
stay in a hospital is lawful whatever its level (rules.md 4: a transfer on
the ground ``medical``). So the role is read from what happens there:

- **hospital**: most arrivals come on the ground ``medical`` and those stays
  are short (people are brought for treatment and return);
- **pre-trial centre**: the registry's own level ``mixed`` (records.md);
- **juvenile colony**: the registry's own level ``juvenile``;
- **women's colony**: nearly every convict who stayed there is a woman.

Each inference carries its evidence, in words an analyst can check against
the records. The thresholds are in the rule book (section ``institution_roles``).
"""

from __future__ import annotations

import pandas as pd

from anomaly.rulebook import Rulebook

ROLE_COLUMNS = ["facility_id", "role", "evidence"]


def infer_roles(
    facilities: pd.DataFrame,
    transfers: pd.DataFrame,
    stays: pd.DataFrame,
    convicts: pd.DataFrame,
    rulebook: Rulebook,
) -> pd.DataFrame:
    """One row per (institution, role) the records show, with the evidence."""
    parts = [
        _hospitals(transfers, stays, rulebook),
        _given_by_level(facilities, "mixed", "pre-trial centre"),
        _given_by_level(facilities, "juvenile", "juvenile colony"),
        _womens(stays, convicts, rulebook),
    ]
    roles = pd.concat([p for p in parts if not p.empty] or [_none()], ignore_index=True)
    return roles.sort_values(["role", "facility_id"], kind="stable").reset_index(drop=True)


def hospitals(roles: pd.DataFrame) -> set[str]:
    """The institutions inferred to be hospitals."""
    return set(roles.loc[roles["role"].eq("hospital"), "facility_id"].astype(str))


def _hospitals(transfers: pd.DataFrame, stays: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    rules = rulebook.institution_roles
    ground = stays["transfer_id"].map(transfers.set_index("transfer_id")["ground"].astype(str))
    days = (stays["end"] - stays["start"]).dt.days
    arrivals = pd.DataFrame(
        {"facility_id": stays["facility_id"], "medical": ground.eq("medical"), "days": days}
    )
    per = arrivals.groupby("facility_id").agg(
        arrivals=("medical", "size"), medical=("medical", "sum")
    )
    per["stay"] = arrivals[arrivals["medical"]].groupby("facility_id")["days"].median()
    share = per["medical"] / per["arrivals"]
    found = per[
        (per["arrivals"] >= rules.hospital_min_arrivals.value)
        & (share >= rules.hospital_medical_share.value)
        & (per["stay"] <= rules.hospital_median_stay_days.value)
    ]
    evidence = (
        found["medical"].astype(int).astype(str) + " of " + found["arrivals"].astype(str)
        + " arrivals on the ground 'medical', their median stay "
        + found["stay"].round().astype(int).astype(str) + " days"
    )  # fmt: skip
    return pd.DataFrame(
        {
            "facility_id": found.index.astype(str),
            "role": "hospital",
            "evidence": evidence.to_numpy(),
        }  # fmt: skip
    )


def _given_by_level(facilities: pd.DataFrame, level: str, role: str) -> pd.DataFrame:
    given = facilities[facilities["security_level"].eq(level)]
    return pd.DataFrame(
        {
            "facility_id": given["facility_id"].astype(str).to_numpy(),
            "role": role,
            "evidence": f"security_level '{level}' in the facilities table",
        }  # fmt: skip
    )


def _womens(stays: pd.DataFrame, convicts: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    rules = rulebook.institution_roles
    sex = stays["convict_id"].map(convicts.set_index("convict_id")["sex"].astype(str))
    held = pd.DataFrame(
        {
            "facility_id": stays["facility_id"],
            "convict_id": stays["convict_id"],
            "woman": sex.eq("F"),
        }
    )  # one row per convict who stayed there, however many stays
    held = held.drop_duplicates(["facility_id", "convict_id"])
    held = held.groupby("facility_id")["woman"].agg(["size", "mean"])
    found = held[(held["size"] >= rules.hospital_min_arrivals.value)
                 & (held["mean"] >= rules.womens_share.value)]  # fmt: skip
    evidence = (
        (found["mean"] * 100).round().astype(int).astype(str) + "% of the "
        + found["size"].astype(str) + " convicts who stayed there are women"
    )  # fmt: skip
    return pd.DataFrame(
        {
            "facility_id": found.index.astype(str),
            "role": "women's colony",
            "evidence": evidence.to_numpy(),
        }  # fmt: skip
    )


def _none() -> pd.DataFrame:
    return pd.DataFrame(columns=ROLE_COLUMNS)
