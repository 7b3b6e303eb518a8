"""NET-NAME: a convict's registered relative on long visits logged under another convict of
the same institution (seed 002, section 3: visits "logged under the name of other convicts
who don't have relatives but are entitled to visits"; rules.md 3).

Flagged: a long visit whose visitor is in the kinship registry of convict A,
not of the convict it is logged for (B), while A was held in the institution
of the visit (``Snapshot.stays``). Left out: B of A's family as the records
tie them (``visitor_network.families``), and a visitor who is kin of both.
"""

from __future__ import annotations

import pandas as pd

from anomaly.network.visitor_network import visitor_network
from anomaly.registry.placement_history import place_on
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.person_findings import kin_ref, nothing_found, person_flags
from anomaly.rules.rule import Findings, Rule, none_insufficient

CODE = "NET-NAME"


def check(s: Snapshot) -> Findings:
    net = visitor_network(s)
    family = net.convicts.set_index("convict_id")["family"]
    kin = net.ties.loc[net.ties["kind"].eq("kin"), ["person_id", "convict_id", "relation"]]
    visits = s["visit_logs"]
    visits = visits[visits["visit_type"].eq("long") & visits["visitor_person_id"].notna()]
    v = pd.DataFrame({
        "visit_id": visits["visit_id"].astype(str), "logged_for": visits["convict_id"].astype(str),
        "person_id": visits["visitor_person_id"].astype(str),
        "facility_id": visits["facility_id"].astype(str), "started_at": visits["started_at"],
    })  # fmt: skip
    v = v[v["person_id"].isin(set(kin["person_id"]))]
    registered = pd.MultiIndex.from_arrays([kin["person_id"], kin["convict_id"]])
    v = v[~pd.MultiIndex.from_arrays([v["person_id"], v["logged_for"]]).isin(registered)]
    pairs = v.merge(kin.rename(columns={"convict_id": "kin_of"}), on="person_id")
    pairs = pairs[pairs["kin_of"].map(family).ne(pairs["logged_for"].map(family))]
    if pairs.empty:
        return nothing_found()
    placed = place_on(pairs.rename(columns={"kin_of": "convict_id"}), s.stays, "started_at")
    pairs = pairs[placed["placed_at"].astype(str).eq(pairs["facility_id"]).to_numpy()]
    if pairs.empty:
        return nothing_found()
    pairs = pairs.sort_values(["person_id", "started_at", "visit_id"], kind="stable")
    pairs = pairs.assign(
        said=pairs["started_at"].dt.strftime("%Y-%m-%d") + " logged for " + pairs["logged_for"]
        + " at " + pairs["facility_id"] + ", where her " + pairs["relation"].astype(str) + " "
        + pairs["kin_of"] + " was held",
        refs="visit_logs:" + pairs["visit_id"] + ";" + kin_ref(pairs["kin_of"], pairs["person_id"]),
    )  # fmt: skip
    per = pairs.groupby("person_id", sort=True)
    found = pd.DataFrame({
        "person_id": per.size().index, "visits": per["visit_id"].nunique().to_numpy(),
        "said": per["said"].agg("; ".join).to_numpy(),
        "evidence": per["refs"].agg(lambda r: ";".join(dict.fromkeys(";".join(r).split(";")))),
        "facility_id": per["facility_id"].first().to_numpy(),
    })  # fmt: skip
    found["score"] = (0.8 + 0.05 * (found["visits"] - 1)).clip(upper=1.0)
    found["explanation"] = (
        "person " + found["person_id"] + ", a registered relative of another convict, on "
        + found["visits"].astype(str) + " long visit(s) logged under a convict not hers: "
        + found["said"]
    )  # fmt: skip
    return Findings(person_flags(CODE, found), none_insufficient())


RULE = Rule(
    code=CODE,
    statement="A registered relative of one convict is logged on long visits to another convict "
    "of the same institution.",
    legal_basis="rules.md 3; seed 002, section 3",
    tables=("kinship", "persons", "convicts", "visit_logs", "transfers"),
    check=check,
    needs_complete=("kinship", "transfers"),
    reads=(
        "kinship.person_id",
        "kinship.convict_id",
        "visit_logs.visitor_person_id",
        "visit_logs.visit_type",
        "visit_logs.facility_id",
        "visit_logs.started_at",
    ),  # fmt: skip
    judges=("persons",),
    subject="person",
    per_convict=False,  # the visit of one convict is judged by the kin of another
)
