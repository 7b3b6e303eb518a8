"""REC-AUTHORITY: an entry is made by a staff member serving at that institution that day,
and a decision by one whose role may make it.

records.md: every event entry names the staff member who made or decided it,
and the staff table says where and from when to when each served. The rule
book says who decides: the head a degree (rules.md 1), the commission a
change of conditions (rules.md 2, PEC art. 17), the administration a
transfer (rules.md 4, PEC art. 88). The NPM 2018 report describes decisions written into
a file after the fact; a decision signed in the name of someone who had left,
or who served elsewhere that day, is how such an entry shows in the records.

Lawful explanations, checked before flagging:

- the regional or central administration (``rules.REC-AUTHORITY.everywhere``) decides
  for institutions other than the one it is listed at: where is not checked;
- a transfer is decided at either end: the staff member may serve at the
  institution left or the one reached;
- staff move between institutions and the staff table holds one row per
  person, the latest posting: a decision made before that posting began, at
  another institution, may come from an earlier posting the table cannot
  show. It is insufficient data, not a finding. One at the same institution
  before the posting began is flagged at ``BEFORE_POSTING`` (a posting there
  before the one listed is possible, but the records do not show it);
- a deputy may act for an absent head (``rules.REC-AUTHORITY.acting``): such a decision
  is flagged at ``ACTING_UNCONFIRMED``, saying the records cannot confirm it.

A change of conditions (other than the arrival row) with no commission
protocol number is flagged at ``NO_PROTOCOL``: the commission decides it
(rules.md 2, PEC art. 17) and its protocol is the record that it did.
"""

from __future__ import annotations

import pandas as pd

from anomaly.ingest.record_schema import entered_by
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Reasons, Rule, flags, insufficient

CODE = "REC-AUTHORITY"


class Parameters(RuleParameters):
    """REC-AUTHORITY's section of the rule book: who may decide what."""

    decides: Param[dict[str, list[str]]] = Param(
        value={
            "degree_assignments": ["head"],
            "condition_changes": ["commission_member", "head", "deputy_head"],
            "transfers": ["head", "deputy_head", "committee"],
        },
        source="rules.md 1: the head of the institution decides a degree; rules.md 2 (PEC art. "
        "17): the institution's commission decides conditions; rules.md 4 (PEC art. 88): the "
        "administration decides a transfer",
    )
    acting: Param[dict[str, list[str]]] = Param(
        value={"head": ["deputy_head"]},
        source="a deputy may act for an absent head; the records do not show when he did, so "
        "such a decision is flagged at a lower severity",
        assumed=True,
    )
    everywhere: Param[list[str]] = Param(
        value=["committee"],
        source="records.md: the committee is the regional or central administration, which "
        "decides for institutions other than the one it is listed at",
        assumed=True,
    )


BEFORE_POSTING = 0.5  # an earlier posting at the same institution cannot be excluded
ACTING_UNCONFIRMED = 0.5  # a deputy acting for the head: the records do not say when
NO_PROTOCOL = 0.8  # a change with no commission protocol: the decision is not on record
SIGNED = {  # table: the date its staff member acted
    "degree_assignments": "assigned_on",
    "condition_changes": "changed_on",
    "disciplinary_events": "occurred_on",
    "transfers": "departed_on",
    "long_visit_registrations": "decided_on",
    "visit_logs": "started_at",
}


def check(s: Snapshot) -> Findings:
    staff = s["staff"].drop_duplicates("staff_id").set_index("staff_id")
    authority = s.rulebook.rule(CODE, Parameters)
    found, lacking = [], []
    for table in (t for t in SIGNED if s.has(t)):
        hits, moved = _judged(s[table], table, staff, authority)
        found.append(hits)
        lacking.append(
            insufficient(
                moved["convict_id"],
                f"{table}: decided by a staff member whose listed posting began later,"
                " elsewhere: an earlier posting here cannot be seen in the staff table",
            )
        )
    return Findings(pd.concat(found, ignore_index=True), pd.concat(lacking, ignore_index=True))


def _judged(frame: pd.DataFrame, table: str, staff: pd.DataFrame, authority) -> tuple:
    who = frame[entered_by(table)].astype("string")
    on = frame[SIGNED[table]].dt.normalize()
    known = who.isin(staff.index).fillna(False).astype(bool) & on.notna()
    rows, who, on = frame[known], who[known], on[known]
    post = staff.reindex(who.to_numpy()).set_axis(rows.index)
    everywhere = post["role"].isin(authority.everywhere.value)
    here = _serves_at(rows, table, post["facility_id"]) | everywhere
    before = on < post["from_date"]
    left = post["to_date"].notna() & (on > post["to_date"])
    elsewhere = ~before & ~left & ~here
    allowed = authority.decides.value.get(table)
    stand_ins = authority.acting.value  # role -> the roles that may act for it
    acting_roles = {r for holder in allowed or () for r in stand_ins.get(holder, ())}
    reasons = Reasons(rows)
    reasons.add(left, "left the service on " + _day(post["to_date"]))
    reasons.add(
        elsewhere,
        "served at "
        + post["facility_id"].astype(str)
        + " that day, as "
        + post["role"].astype(str),
    )
    reasons.add(
        before & here & ~everywhere,
        "the staff table shows this posting beginning on " + _day(post["from_date"]),
    )
    wrong_role = pd.Series(False, index=rows.index)
    acting = pd.Series(False, index=rows.index)
    if allowed is not None:
        serving = ~before & ~left & here
        acting = serving & post["role"].isin(acting_roles) & ~post["role"].isin(allowed)
        wrong_role = serving & ~post["role"].isin(allowed) & ~acting
        reasons.add(wrong_role, "a " + post["role"].astype(str) + " may not decide it")
        reasons.add(
            acting,
            "decided by a " + post["role"].astype(str) + ": lawful only when acting for the head,"
            " which the records cannot confirm",
        )
    unminuted = pd.Series(False, index=rows.index)
    if table == "condition_changes":  # the commission decides a change: its protocol records it
        unminuted = rows["from_condition"].notna() & rows["protocol_no"].isna()
        reasons.add(unminuted, "no commission protocol for the change")
    hit = rows[reasons.found]
    strong = (left | elsewhere | wrong_role)[hit.index]
    score = pd.Series(ACTING_UNCONFIRMED, index=hit.index).where(~before[hit.index], BEFORE_POSTING)
    score = score.where(~unminuted[hit.index], NO_PROTOCOL).where(~strong, 1.0)
    what = (
        table.replace("_", " ")
        + " entry of "
        + _day(on[hit.index])
        + " by staff "
        + who[hit.index].astype(str)
    )
    facility = "to_facility_id" if table == "transfers" else "facility_id"
    found = flags(CODE, table, hit, reasons.explain(what), score, facility=facility)
    moved = rows[before & ~here]
    return found, moved


def _serves_at(rows: pd.DataFrame, table: str, facility: pd.Series) -> pd.Series:
    if table == "transfers":
        return rows["to_facility_id"].eq(facility) | rows["from_facility_id"].eq(facility)
    return rows["facility_id"].eq(facility).fillna(False).astype(bool)


def _day(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement=(
        "An entry is made by a staff member serving at the institution that day, and a"
        " decision by a role that may make it."
    ),
    legal_basis="rules.md 1, 2, 4; PEC art. 17, 88, 95; records.md (event tables, staff)",
    tables=("staff", *SIGNED),
    judges=tuple(SIGNED),
    check=check,
    needs_complete=("staff",),
    reads=(
        "staff.facility_id",
        "staff.role",
        "staff.from_date",
        "staff.to_date",
        "condition_changes.protocol_no",
        *(f"{table}.{on}" for table, on in SIGNED.items()),
    ),
)
