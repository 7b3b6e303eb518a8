"""NET-KIN: one person registered as the kin of convicts who have nothing else in common
(PEC art. 106; rules.md 3; seed 002, section 3: visits "recorded as appointments with
relatives who for various reasons cannot come").

Each kinship row can be lawful and documented; the pattern across convicts is
not. A person is flagged when, in the kinship registry, she is

- the spouse or the other parent of a child of convicts of two or more
  families (``visitor_network.families``: convicts the records tie, by two
  shared relatives or one being the registered relative of the other); or
- the blood relative (parent, child, sibling, grandparent, grandchild) of
  convicts of two or more families who also come from different home regions:
  nothing else in common.

A mother of convicted brothers, registered for both, is one family when the
records tie the brothers, and one home region when they do not: clear.
"""

from __future__ import annotations

import pandas as pd

from anomaly.network.visitor_network import PARTNERS, visitor_network
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.person_findings import kin_ref, long_visit_records, nothing_found, person_flags
from anomaly.rules.rule import Findings, Rule, none_insufficient

CODE = "NET-KIN"
BLOOD = ("parent", "child", "sibling", "grandparent", "grandchild")


def check(s: Snapshot) -> Findings:
    net = visitor_network(s)
    kin = net.ties[net.ties["kind"].eq("kin")]
    kin = kin[kin.groupby("person_id")["convict_id"].transform("nunique").ge(2)]
    kin = kin.merge(net.convicts, on="convict_id", how="left")
    partner = kin[kin["relation"].isin(PARTNERS)]
    blood = kin[kin["relation"].isin(BLOOD)]
    partner_families = partner.groupby("person_id")["family"].nunique()
    # blood relatives: families from one home region count as one (a single mother's sons)
    groups = blood.drop_duplicates(["person_id", "home_region_id"]).drop_duplicates(
        ["person_id", "family"]
    )
    blood_groups = groups.groupby("person_id")["family"].nunique()
    flagged = sorted(set(partner_families[partner_families.ge(2)].index)
                     | set(blood_groups[blood_groups.ge(2)].index))  # fmt: skip
    mine = kin[kin["person_id"].isin(flagged)].sort_values(["person_id", "first", "convict_id"])
    if mine.empty:
        return nothing_found()
    where = _latest_facility(net.ties, mine)
    mine = mine.assign(
        ref=kin_ref(mine["convict_id"], mine["person_id"]),
        said=mine["relation"].astype(str) + " of " + mine["convict_id"] + " (home region "
        + mine["home_region_id"].astype(str) + where.map(lambda f: f", at {f}" if f else "")
        + ")",
    )  # fmt: skip
    per = mine.groupby("person_id", sort=True)
    found = pd.DataFrame({
        "person_id": per.size().index,
        "convicts": per["convict_id"].nunique().to_numpy(),
        "families": per["family"].nunique().to_numpy(),
        "partners": per["relation"].agg(lambda r: int(r.isin(PARTNERS).sum())).to_numpy(),
        "regions": per["home_region_id"].nunique().to_numpy(),
        "said": per["said"].agg("; ".join).to_numpy(),
        "evidence": per["ref"].agg(";".join).to_numpy(),
    })  # fmt: skip
    visits = long_visit_records(s, mine[["person_id", "convict_id"]])
    also = (";" + found["person_id"].map(visits).astype("string")).fillna("")
    found["evidence"] = (found["evidence"] + also).astype(object)
    found["score"] = (0.55 + 0.15 * (found["families"] - 2) + 0.15 * found["partners"].ge(2)
                      + 0.1 * found["regions"].ge(2)).clip(upper=1.0)  # fmt: skip
    found["explanation"] = (
        "person " + found["person_id"] + " registered as kin of " + found["convicts"].astype(str)
        + " convicts of " + found["families"].astype(str) + " families the records do not tie: "
        + found["said"]
    )  # fmt: skip
    found["facility_id"] = None
    return Findings(person_flags(CODE, found), none_insufficient())


def _latest_facility(ties: pd.DataFrame, kin: pd.DataFrame) -> pd.Series:
    """Where each (person, convict) pair last met, if a visit was logged ('' if none)."""
    visits = ties[ties["kind"].eq("visited")].set_index(["person_id", "convict_id"])
    at = pd.MultiIndex.from_arrays([kin["person_id"], kin["convict_id"]])
    return pd.Series(
        visits["facility_id"].reindex(at).fillna("").to_numpy(), index=kin.index, dtype=object
    )


RULE = Rule(
    code=CODE,
    statement="A person is the registered kin of convicts who have nothing else in common.",
    legal_basis="PEC art. 106; rules.md 3; seed 002, section 3",
    tables=("kinship", "persons", "convicts"),
    optional_tables=("visit_logs", "long_visit_registrations"),
    check=check,
    needs_complete=(),
    reads=(
        "kinship.relation",
        "kinship.person_id",
        "kinship.convict_id",
        "convicts.home_region_id",
        "persons.convict_id",
    ),  # fmt: skip
    judges=("persons",),
    subject="person",
    per_convict=False,  # a person's registrations span convicts and institutions
)
