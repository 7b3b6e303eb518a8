"""Schemes and lawful patterns that only the visitor network shows (seed 002, section 3).

Each record of these schemes can look lawful on its own: a documented spouse,
an approved registration. Only the pattern across convicts and institutions
gives them away. The lawful patterns beside them (parents of convicted
brothers, a released convict visiting a sibling, relatives registered with
documents during the sentence) link convicts too, and are labelled
``hard_negative``: the network rules must leave them alone.
"""

from __future__ import annotations

import pandas as pd

from anomaly.synthetic.planting import DAY, Planter
from anomaly.synthetic.visit_schemes import _candidates, _visit_day

PARTNERS = ("spouse", "common_child_parent")


def kin_of_many(p: Planter, n: int) -> None:
    """One person registered, with documents, as the spouse or the other parent of a child of
    several unrelated convicts in different institutions, with long visits to each."""
    stays = _candidates(p)
    stays = stays[stays["convict_id"].map(_sex(p)).eq("M")]
    for _ in range(n):
        spread = stays[~stays["convict_id"].isin(p.taken)]
        spread = spread.sample(frac=1.0, random_state=int(p.rng.integers(2**31)))
        chosen = p.pick(spread.drop_duplicates("facility_id"), int(p.rng.integers(3, 6)))
        if len(chosen) < 2:
            return
        person = p.add_person(str(chosen["region_id"].iloc[0]), sex="F")
        refs = [f"persons:{person}"]
        for _, stay in chosen.iterrows():
            registered = stay["start"] + int(p.rng.integers(3, 20)) * DAY
            relation = PARTNERS[int(p.rng.integers(0, 2))]
            p.add("kinship", {
                "convict_id": stay["convict_id"], "person_id": person, "relation": relation,
                "registered_on": registered,
                "registered_by": p.staff_on(stay["facility_id"], "records_officer", registered),
                "document_no": f"{'MC' if relation == 'spouse' else 'BC'}-"
                               f"{int(p.rng.integers(100000, 999999))}",
            })  # fmt: skip
            refs.append(f"kinship:{stay['convict_id']}|{person}")
            for _ in range(int(p.rng.integers(1, 3))):
                refs += p.add_long_visit(
                    stay["convict_id"], stay["facility_id"], person, _visit_day(p, stay, 60)
                )
        p.world.label("scheme", "kin_of_many", "person", person, refs,
                      f"registered as the partner of {len(chosen)} unrelated convicts")  # fmt: skip


def visits_under_other_name(p: Planter, n: int) -> None:
    """A convict's registered spouse visits him, but the long visits, with their
    registrations, are logged under another convict of the same institution."""
    stays = _candidates(p)
    kin = p.t["kinship"]
    spouses = kin[kin["relation"].eq("spouse")].drop_duplicates("convict_id")
    with_kin = stays.merge(spouses[["convict_id", "person_id"]], on="convict_id")
    without = stays[~stays["convict_id"].isin(set(kin["convict_id"]))]
    pairs = with_kin.merge(without, on="facility_id", suffixes=("", "_other"))
    pairs = pairs[pairs["convict_id"] != pairs["convict_id_other"]]
    start = pairs[["start", "start_other"]].max(axis=1)
    end = pairs[["end", "end_other"]].min(axis=1)
    pairs = pairs.assign(start=start, end=end)[(end - start).dt.days >= 120]
    planted = 0
    for _, pair in pairs.sample(frac=1.0, random_state=int(p.rng.integers(2**31))).iterrows():
        if planted == n:
            break
        if {pair["convict_id"], pair["convict_id_other"]} & p.taken:
            continue
        p.taken.update({pair["convict_id"], pair["convict_id_other"]})
        refs = [f"persons:{pair['person_id']}", f"kinship:{pair['convict_id']}|{pair['person_id']}"]
        for _ in range(int(p.rng.integers(2, 4))):
            refs += p.add_long_visit(pair["convict_id_other"], pair["facility_id"],
                                     pair["person_id"], _visit_day(p, pair))  # fmt: skip
        p.world.label("scheme", "visits_under_other_name", "person", pair["person_id"], refs,
                      f"the spouse of {pair['convict_id']}, visits logged under"
                      f" {pair['convict_id_other']}")  # fmt: skip
        planted += 1


def lawful_family_links(p: Planter) -> None:
    """Records that link convicts lawfully: the parents of convicted brothers registered for
    both, and a released convict's long visits to his brother. Labelled hard negatives."""
    persons, kin = p.t["persons"], p.t["kinship"]
    linked = kin.merge(
        persons.loc[persons["convict_id"].notna(), ["person_id", "convict_id"]].rename(
            columns={"convict_id": "brother"}
        ),
        on="person_id",
    )
    linked = linked[linked["relation"].eq("sibling")]
    parents = kin[kin["relation"].eq("parent")]
    convicts = p.t["convicts"].set_index("convict_id")
    for k, (_, row) in enumerate(linked.iterrows()):
        theirs = parents[parents["convict_id"].eq(row["convict_id"])]
        if theirs.empty or row["brother"] not in convicts.index:
            continue
        shared = theirs if k % 2 else theirs.head(1)  # both parents, or the mother alone
        registered = convicts.at[row["brother"], "sentence_start"] + 30 * DAY
        refs = []
        for person in shared["person_id"]:
            if ((kin["convict_id"] == row["brother"]) & (kin["person_id"] == person)).any():
                continue
            document = f"BC-{int(p.rng.integers(100000, 999999))}"
            p.add("kinship", {"convict_id": row["brother"], "person_id": person,
                              "relation": "parent", "registered_on": registered,
                              "registered_by": None, "document_no": document})  # fmt: skip
            refs += [f"persons:{person}", f"kinship:{row['brother']}|{person}"]
        if refs:
            p.world.label("hard_negative", "parent_of_convicted_brothers", "person",
                          str(shared["person_id"].iloc[0]), refs)  # fmt: skip
    _released_brothers_visit(p, linked, convicts)


def _released_brothers_visit(p: Planter, linked: pd.DataFrame, convicts: pd.DataFrame) -> None:
    """A brother, once released, comes on a long visit as a registered sibling: one of the
    convict's own long visits after the release is his (the rooms and the quota stay as
    they were)."""
    released = linked.assign(released=linked["brother"].map(convicts["released_on"]))
    released = released.dropna(subset=["released"]).drop_duplicates("convict_id")
    visits, regs = p.t["visit_logs"], p.t["long_visit_registrations"]
    long = visits[visits["visit_type"].eq("long") & visits["registration_id"].notna()]
    after = long.merge(released[["convict_id", "person_id", "released", "registered_on"]],
                       on="convict_id")  # fmt: skip
    after = after[(after["started_at"] > after["released"] + 10 * DAY)
                  & (after["started_at"] > after["registered_on"] + 30 * DAY)]  # fmt: skip
    after = after[~after["convict_id"].isin(p.taken)].drop_duplicates("convict_id")
    for row in after.head(40).itertuples():
        visits.loc[visits["visit_id"].eq(row.visit_id), "visitor_person_id"] = row.person_id
        regs.loc[regs["registration_id"].eq(row.registration_id), "visitor_person_id"] = (
            row.person_id
        )
        refs = [f"persons:{row.person_id}", f"visit_logs:{row.visit_id}",
                f"long_visit_registrations:{row.registration_id}"]  # fmt: skip
        p.world.label("hard_negative", "released_brother_visits", "person", row.person_id, refs)


def _sex(p: Planter) -> pd.Series:
    return p.t["convicts"].set_index("convict_id")["sex"]
