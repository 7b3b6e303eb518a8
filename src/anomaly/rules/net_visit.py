"""NET-VISIT: one person on long visits to several convicts she is not registered to
(PEC art. 106; rules.md 3; seed 002, section 3: long visits "with non-relatives
(accomplices, paid sex services)").

VIS-KIN flags each such visit on its convict; this rule looks at the visitor.
A person is flagged when her approved registrations or logged long visits
reach two or more convicts who do not have her in their kinship registry,
leaving out the convicts of a family she is registered to (a mother visiting
the brother of her registered son: the records tie the brothers).
"""

from __future__ import annotations

import pandas as pd

from anomaly.network.visitor_network import visitor_network
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.person_findings import long_visit_records, nothing_found, person_flags
from anomaly.rules.rule import Findings, Rule, none_insufficient

CODE = "NET-VISIT"


def check(s: Snapshot) -> Findings:
    net = visitor_network(s)
    ties = net.ties.merge(net.convicts[["convict_id", "family"]], on="convict_id", how="left")
    kin = ties[ties["kind"].eq("kin")]
    reach = ties[ties["kind"].eq("registered") | (ties["kind"].eq("visited") & ties["long"].gt(0))]
    theirs = pd.MultiIndex.from_arrays([kin["person_id"], kin["family"]])
    own = pd.MultiIndex.from_arrays([reach["person_id"], reach["family"]]).isin(theirs)
    strangers = reach[~own].drop_duplicates(["person_id", "convict_id", "kind"])
    count = strangers.groupby("person_id")["convict_id"].nunique()
    strangers = strangers[strangers["person_id"].isin(count[count.ge(2)].index)]
    if strangers.empty:
        return nothing_found()
    refs = long_visit_records(s, strangers)
    visited = strangers[strangers["kind"].eq("visited")]
    said = (visited["convict_id"] + " (" + visited["long"].astype(str) + " long at "
            + visited["facility_id"].astype(str) + ")")  # fmt: skip
    per = strangers.groupby("person_id", sort=True)
    found = pd.DataFrame({
        "person_id": per.size().index,
        "convicts": per["convict_id"].nunique().to_numpy(),
        "institutions": per["facility_id"].nunique().to_numpy(),
    })  # fmt: skip
    found["said"] = found["person_id"].map(said.groupby(visited["person_id"]).agg(", ".join))
    found["said"] = found["said"].fillna("approved registrations only")
    found["evidence"] = found["person_id"].map(refs).fillna("")
    found["score"] = (0.5 + 0.1 * (found["convicts"] - 2)
                      + 0.1 * found["institutions"].ge(2)).clip(upper=1.0)  # fmt: skip
    found["explanation"] = (
        "person " + found["person_id"] + " on long visits to " + found["convicts"].astype(str)
        + " convicts she is not registered to, in " + found["institutions"].astype(str)
        + " institution(s): " + found["said"]
    )  # fmt: skip
    found["facility_id"] = None
    return Findings(person_flags(CODE, found), none_insufficient())


RULE = Rule(
    code=CODE,
    statement="A person is on long visits to several convicts she is not registered to.",
    legal_basis="PEC art. 106; rules.md 3; seed 002, section 3",
    tables=("kinship", "persons", "convicts", "visit_logs"),
    optional_tables=("long_visit_registrations",),
    check=check,
    needs_complete=("kinship",),
    reads=(
        "kinship.person_id",
        "kinship.convict_id",
        "visit_logs.visitor_person_id",
        "visit_logs.visit_type",
        "persons.convict_id",
    ),  # fmt: skip
    judges=("persons",),
    subject="person",
    per_convict=False,  # a visitor's visits span convicts and institutions
)
