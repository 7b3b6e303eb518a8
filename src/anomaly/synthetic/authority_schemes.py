"""Planted schemes in who signs a decision and in changes of institution type.

The NPM 2018 report: decisions written into the file after the fact; PCPI report, section 4
and rules.md 4 (PEC art. 96): a court's change to a milder type of
institution is for convicts of good conduct who served the required part of
the term, never for especially grave crimes. A bought change skips those.
"""

from __future__ import annotations

import pandas as pd

from anomaly.synthetic.planted_moves import planted_move
from anomaly.synthetic.planting import DAY, Planter, in_window


def decision_signed_by_absent_staff(p: Planter, n: int) -> None:
    """A degree or a change of conditions signed in the name of someone who could not sign it.

    In turn: a head or deputy who had left the institution; a commission member
    serving at another institution that day; a staff member whose role may not
    decide it (a visits officer deciding a degree).
    """
    staff = p.t["staff"]
    degrees = in_window(p, p.t["degree_assignments"], "assigned_on", 60)
    changes = in_window(p, p.t["condition_changes"], "changed_on", 60)
    changes = changes[changes["from_condition"].notna()]
    chosen = pd.concat(
        [p.pick(degrees, n - n // 3).assign(table="degree_assignments"),
         p.pick(changes, n // 3).assign(table="condition_changes")]
    )  # fmt: skip
    for k, (_, row) in enumerate(chosen.iterrows()):
        table = row["table"]
        key, on = ("assignment_id", "assigned_on") if table == "degree_assignments" else (
            "change_id", "changed_on")  # fmt: skip
        signer, how = _absent_signer(p, staff, row["facility_id"], row[on], k % 3, table)
        if signer is None:
            continue
        frame = p.t[table]
        frame.loc[frame[key].eq(row[key]), "decided_by"] = signer
        p.world.label(
            "scheme",
            "decision_signed_by_absent_staff",
            "convict",
            row["convict_id"],
            [f"{table}:{row[key]}"],
            how,
        )


def _absent_signer(
    p: Planter, staff: pd.DataFrame, facility: str, on: pd.Timestamp, variant: int, table: str
) -> tuple[str | None, str]:
    here = staff["facility_id"].eq(facility)
    serving = staff["from_date"].le(on) & (staff["to_date"].isna() | staff["to_date"].ge(on))
    if variant == 0:
        left = staff[here & staff["to_date"].lt(on - 30 * DAY)]
        if len(left):
            pick = left.sample(1, random_state=int(p.rng.integers(2**31))).iloc[0]
            return pick[
                "staff_id"
            ], f"signed by {pick['role']} who left on {pick['to_date'].date()}"
    if variant in (0, 1):
        role = "commission_member" if table == "condition_changes" else "head"
        other = staff[~here & serving & staff["role"].eq(role)]
        if len(other):
            pick = other.sample(1, random_state=int(p.rng.integers(2**31))).iloc[0]
            return pick["staff_id"], f"signed by the {role} of {pick['facility_id']}"
    officer = staff[here & serving & staff["role"].isin(["visits_officer", "duty_officer"])]
    if len(officer) == 0:
        return None, ""
    pick = officer.sample(1, random_state=int(p.rng.integers(2**31))).iloc[0]
    return pick["staff_id"], f"decided by a {pick['role']}"


def milder_type_without_criteria(p: Planter, n: int) -> None:
    """A change to a milder type of institution the convict is not entitled to: never
    held a degree of +2 or more, or convicted of an especially grave crime. Moved on
    the ground ``security_level_change``, as a court's change would be recorded."""
    convicts = p.t["convicts"].set_index("convict_id")
    facilities = p.t["facilities"]
    stays = p.window_stays(200)
    stays = stays[stays["security_level"].isin(["medium", "maximum"])]
    stays = stays.join(convicts[["offense_gravity", "sex"]], on="convict_id")
    stays = stays[stays["leave"] >= p.window[1]]
    best = p.t["degree_assignments"].groupby("convict_id")["degree"].max()
    never_good = stays["convict_id"].map(best).fillna(0).lt(2)
    stays = stays[never_good | stays["offense_gravity"].eq("especially_grave")]
    minimum = facilities[facilities["security_level"].eq("minimum")]
    for _, stay in p.pick(stays, n).iterrows():
        targets = minimum[minimum["region_id"].eq(stay["region_id"])]
        targets = targets if len(targets) else minimum
        to = targets["facility_id"].iloc[int(p.rng.integers(len(targets)))]
        on = p.window[1] - int(p.rng.integers(40, 120)) * DAY
        planted_move(
            p, "milder_type_without_criteria", stay, to, on, "security_level_change",
            f"moved from {stay['security_level']} to minimum ({stay['offense_gravity']} offence)",
        )  # fmt: skip
