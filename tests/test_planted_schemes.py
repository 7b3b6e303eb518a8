"""Each planted scheme really is what its label says, read from the records alone (issue 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.ingest.record_schema import TABLES_BY_NAME
from anomaly.rulebook import load_rulebook
from anomaly.synthetic.scheme_registry import scheme_codes

RB = load_rulebook()


def cited(world, label, table: str) -> pd.DataFrame:
    """The rows of ``table`` a label cites."""
    ids = [r.split(":", 1)[1] for r in label["records"].split(";") if r.startswith(table + ":")]
    frame = world.tables[table]
    return frame[frame[TABLES_BY_NAME[table].key[0]].isin(ids)]


def kin_pairs(world, entitled_only: bool = True) -> set[tuple[str, str]]:
    kin = world.tables["kinship"]
    if entitled_only:
        kin = kin[kin["relation"].isin(RB.entitled_relations) & kin["document_no"].notna()]
    return set(zip(kin["convict_id"], kin["person_id"], strict=True))


def level_of(world, facility_id: str) -> str:
    facilities = world.tables["facilities"].set_index("facility_id")
    return facilities.at[facility_id, "security_level"]


def visits_to_convict_without_relatives(world, label) -> bool:
    visits = cited(world, label, "visit_logs")
    has_kin = world.tables["kinship"]["convict_id"].eq(label["subject_id"]).any()
    return len(visits) >= 2 and not has_kin and visits["convict_id"].eq(label["subject_id"]).all()


def long_visits_over_quota(world, label) -> bool:
    visits = cited(world, label, "visit_logs")
    level = level_of(world, visits["facility_id"].iloc[0])
    most = max(
        q[1]
        for c in ("strict", "regular", "light", "preferential")
        if (q := RB.quota(level, c)) is not None
    )
    year = visits["started_at"].dt.year.iloc[0]
    events = world.tables["disciplinary_events"]
    extras = events[
        events["convict_id"].eq(label["subject_id"])
        & events["measure"].eq("extra_long_visit")
        & events["occurred_on"].dt.year.eq(year)
    ]
    logged = world.tables["visit_logs"]
    that_year = logged[
        logged["convict_id"].eq(label["subject_id"])
        & logged["visit_type"].eq("long")
        & logged["started_at"].dt.year.eq(year)
    ]
    return len(that_year) > most + len(extras)


def long_visit_by_non_relative(world, label) -> bool:
    visits = cited(world, label, "visit_logs")
    pairs = set(zip(visits["convict_id"], visits["visitor_person_id"], strict=True))
    kin = world.tables["kinship"]
    recent = kin["registered_on"] > visits["started_at"].min() - pd.Timedelta(days=30)
    entitled = kin_pairs(world) - set(
        zip(kin.loc[recent, "convict_id"], kin.loc[recent, "person_id"], strict=True)
    )
    return not pairs & entitled


def impossible_visitor(world, label) -> bool:
    visit = cited(world, label, "visit_logs").iloc[0]
    person = world.tables["persons"].set_index("person_id").loc[visit["visitor_person_id"]]
    if pd.notna(person["death_date"]):
        return person["death_date"] < visit["started_at"]
    if pd.isna(person["convict_id"]):
        return False
    convict = world.tables["convicts"].set_index("convict_id").loc[person["convict_id"]]
    released = convict["released_on"]
    return convict["sentence_start"] <= visit["started_at"] and (
        pd.isna(released) or released > visit["started_at"]
    )


def outsider_visits_many(world, label) -> bool:
    visits = cited(world, label, "visit_logs")
    pairs = set(zip(visits["convict_id"], visits["visitor_person_id"], strict=True))
    one_person = visits["visitor_person_id"].nunique() == 1
    return one_person and visits["convict_id"].nunique() >= 5 and not pairs & kin_pairs(world)


def long_visit_while_ineligible(world, label) -> bool:
    visit = cited(world, label, "visit_logs").iloc[0]
    isolation = cited(world, label, "disciplinary_events")
    if len(isolation):
        start = isolation["occurred_on"].iloc[0]
        end = start + pd.Timedelta(days=int(isolation["isolation_days"].iloc[0]))
        return start <= visit["started_at"] < end
    transfer = cited(world, label, "transfers").iloc[0]
    left = transfer["from_facility_id"] == visit["facility_id"]
    return left and visit["started_at"] >= transfer["departed_on"]


def long_visit_without_registration(world, label) -> bool:
    visit = cited(world, label, "visit_logs").iloc[0]
    if pd.isna(visit["registration_id"]):
        return True
    reg = world.tables["long_visit_registrations"].set_index("registration_id")
    reg = reg.loc[visit["registration_id"]]
    end = reg["planned_start"] + pd.Timedelta(days=int(reg["planned_days"]))
    dates_match = reg["planned_start"] <= visit["started_at"].normalize() <= end
    return reg["decision"] != "approved" or not dates_match


def room_overbooking(world, label) -> bool:
    visits = cited(world, label, "visit_logs")
    facility = world.tables["facilities"].set_index("facility_id").loc[label["subject_id"]]
    night = visits["started_at"].dt.normalize().mode().iloc[0]
    logged = world.tables["visit_logs"]
    staying = logged[
        logged["facility_id"].eq(label["subject_id"])
        & logged["visit_type"].eq("long")
        & (logged["started_at"].dt.normalize() <= night)
        & (logged["ended_at"].dt.normalize() > night)
    ]
    return len(staying) > facility["long_visit_rooms"]


def positive_degree_without_criteria(world, label) -> bool:
    degree = cited(world, label, "degree_assignments").iloc[0]
    penalty = cited(world, label, "disciplinary_events").iloc[0]
    soon = degree["assigned_on"] - penalty["occurred_on"] < pd.Timedelta(days=90)
    return degree["degree"] > 0 and penalty["kind"] == "penalty" and soon


def negative_degree_without_penalty(world, label) -> bool:
    degree = cited(world, label, "degree_assignments").iloc[0]
    events = world.tables["disciplinary_events"]
    penalties = events[
        events["convict_id"].eq(label["subject_id"])
        & events["kind"].eq("penalty")
        & (events["occurred_on"] <= degree["assigned_on"])
        & (events["occurred_on"] > degree["assigned_on"] - pd.DateOffset(months=12))
    ]
    return degree["degree"] < 0 and penalties.empty


def condition_change_without_criteria(world, label) -> bool:
    change = cited(world, label, "condition_changes").iloc[0]
    degrees = world.tables["degree_assignments"]
    held = degrees[
        degrees["convict_id"].eq(label["subject_id"])
        & (degrees["assigned_on"] <= change["changed_on"])
    ].sort_values("assigned_on")
    degree = held["degree"].iloc[-1] if len(held) else 0
    return change["to_condition"] == "light" and degree < 1


def transfer_without_grounds(world, label) -> bool:
    transfer = cited(world, label, "transfers").iloc[0]
    no_consent = transfer["ground"] == "operational_need" and transfer["consent"] is not True
    return pd.isna(transfer["ground"]) or pd.isna(transfer["order_no"]) or no_consent


def bought_move_home(world, label) -> bool:
    transfer = cited(world, label, "transfers").iloc[0]
    convict = world.tables["convicts"].set_index("convict_id").loc[label["subject_id"]]
    facilities = world.tables["facilities"].set_index("facility_id")
    to, src = (
        facilities.loc[transfer["to_facility_id"]],
        facilities.loc[transfer["from_facility_id"]],
    )
    home = to["region_id"] == convict["home_region_id"] != src["region_id"]
    irregular = to["security_level"] != src["security_level"] or to["security_level"] == "mixed"
    return home and (
        irregular or transfer["ground"] in ("operational_need", "own_safety", "order_maintenance")
    )


def false_reorganization(world, label) -> bool:
    transfer = cited(world, label, "transfers").iloc[0]
    if transfer["ground"] != "reorganization":
        return False
    source = world.tables["facilities"].set_index("facility_id").loc[transfer["from_facility_id"]]
    return pd.isna(source["closed_on"])


def backdated_entries(world, label) -> bool:
    for table, date in (
        ("degree_assignments", "assigned_on"),
        ("disciplinary_events", "occurred_on"),
        ("condition_changes", "changed_on"),
    ):
        rows = cited(world, label, table)
        if len(rows):
            late = rows["recorded_at"] - rows[date] > pd.Timedelta(days=30)
            return bool(late.all()) and rows["decided_by"].eq(label["subject_id"]).all()
    return False


def staff_grants_extra_visits(world, label) -> bool:
    """Far more extra-visit incentives than the other staff of the same role."""
    events = world.tables["disciplinary_events"]
    extra = events[events["measure"].isin(["extra_long_visit", "extra_short_visit"])]
    role = world.tables["staff"].set_index("staff_id")["role"]
    peers = role[role.eq(role[label["subject_id"]])].index
    per_staff = extra.groupby("decided_by").size().reindex(peers, fill_value=0)
    others = per_staff.drop(label["subject_id"])
    return per_staff[label["subject_id"]] >= 1.5 * max(1.0, others.quantile(0.9))


def lenient_institution(world, label) -> bool:
    """Far fewer penalties and far more incentives per convict than institutions of its level."""
    events = world.tables["disciplinary_events"]
    present = world.tables["condition_changes"].groupby("facility_id")["convict_id"].nunique()
    level = world.tables["facilities"].set_index("facility_id")["security_level"]
    peers = level[level.eq(level[label["subject_id"]])].index.drop(label["subject_id"])
    subject = label["subject_id"]
    for kind, compare in (
        ("penalty", lambda a, b: a < 0.5 * b),
        ("incentive", lambda a, b: a > 1.3 * b),
    ):
        rate = (events[events["kind"].eq(kind)].groupby("facility_id").size() / present).fillna(0)
        if not compare(rate[subject], rate.reindex(peers).median()):
            return False
    return True


def decision_signed_by_absent_staff(world, label) -> bool:
    """Signed by someone who had left, served elsewhere, or may not decide it."""
    staff = world.tables["staff"].set_index("staff_id")
    for table, date in (("degree_assignments", "assigned_on"), ("condition_changes", "changed_on")):
        rows = cited(world, label, table)
        if len(rows):
            row = rows.iloc[0]
            post = staff.loc[row["decided_by"]]
            left = pd.notna(post["to_date"]) and post["to_date"] < row[date]
            elsewhere = post["facility_id"] != row["facility_id"]
            officer = post["role"] in ("visits_officer", "duty_officer")
            return bool(left or elsewhere or officer)
    return False


def milder_type_without_criteria(world, label) -> bool:
    """A change to minimum for one never above +1 or convicted of an especially grave crime."""
    rows = cited(world, label, "transfers")
    convict = world.tables["convicts"].set_index("convict_id").loc[label["subject_id"]]
    degrees = world.tables["degree_assignments"]
    best = degrees.loc[degrees["convict_id"].eq(label["subject_id"]), "degree"].max()
    level = world.tables["facilities"].set_index("facility_id")["security_level"]
    changed = rows["ground"].eq("security_level_change").all()
    to_minimum = rows["to_facility_id"].map(level).eq("minimum").all()
    unentitled = convict["offense_gravity"] == "especially_grave" or pd.isna(best) or best < 2
    return bool(len(rows) and changed and to_minimum and unentitled)


def kin_of_many(world, label) -> bool:
    """A documented partner registration with three or more convicts of different
    institutions, who share no other registered relative, with a long visit to each."""
    kin = world.tables["kinship"]
    mine = kin[kin["person_id"].eq(label["subject_id"])]
    visits = cited(world, label, "visit_logs")
    others = kin[
        kin["convict_id"].isin(mine["convict_id"]) & kin["person_id"].ne(label["subject_id"])
    ]
    shared = others.groupby("person_id")["convict_id"].nunique().gt(1).any()
    return bool(
        len(mine) >= 3 and mine["relation"].isin(["spouse", "common_child_parent"]).all()
        and mine["document_no"].notna().all() and not shared
        and set(visits["convict_id"]) == set(mine["convict_id"])
        and visits["facility_id"].nunique() == len(mine)
    )  # fmt: skip


def visits_under_other_name(world, label) -> bool:
    """Long visits by a convict's registered spouse, logged under another convict of his
    institution whose own registry does not name her."""
    kin = world.tables["kinship"]
    spouse_of = set(kin.loc[kin["person_id"].eq(label["subject_id"]), "convict_id"])
    visits = cited(world, label, "visit_logs")
    logged_for = set(visits["convict_id"])
    return bool(
        len(visits) >= 2 and visits["visitor_person_id"].eq(label["subject_id"]).all()
        and spouse_of and not logged_for & spouse_of and visits["facility_id"].nunique() == 1
    )  # fmt: skip


PREDICATES = {
    f.__name__: f
    for f in [
        visits_to_convict_without_relatives,
        long_visits_over_quota,
        long_visit_by_non_relative,
        impossible_visitor,
        outsider_visits_many,
        long_visit_while_ineligible,
        long_visit_without_registration,
        room_overbooking,
        positive_degree_without_criteria,
        negative_degree_without_penalty,
        condition_change_without_criteria,
        transfer_without_grounds,
        bought_move_home,
        false_reorganization,
        backdated_entries,
        staff_grants_extra_visits,
        lenient_institution,
        decision_signed_by_absent_staff,
        milder_type_without_criteria,
        kin_of_many,
        visits_under_other_name,
    ]
}


def test_every_scheme_has_a_predicate():
    assert set(PREDICATES) == set(scheme_codes())


@pytest.mark.parametrize("code", sorted(PREDICATES))
def test_each_instance_is_what_its_label_says(small_world, code):
    labels = small_world.labels_frame()
    instances = labels[(labels["kind"] == "scheme") & (labels["code"] == code)]
    assert len(instances), code
    wrong = [
        x["instance_id"] for _, x in instances.iterrows() if not PREDICATES[code](small_world, x)
    ]
    assert not wrong, wrong


def test_boundary_changes_sit_exactly_on_the_legal_period(small_world):
    labels = small_world.labels_frame()
    boundary = labels[labels["code"].eq("change_at_legal_boundary")]
    assert len(boundary) >= 3
    changes = small_world.tables["condition_changes"].sort_values(["convict_id", "changed_on"])
    since = changes.groupby("convict_id")["changed_on"].shift()
    for _, label in boundary.iterrows():
        change_id = label["records"].split(":", 1)[1]
        row = changes[changes["change_id"].eq(change_id)].iloc[0]
        level = level_of(small_world, row["facility_id"])
        months = RB.periods("medium" if level == "mixed" else level).regular_to_light
        assert since[row.name] + pd.DateOffset(months=months) == row["changed_on"]


DECOYS = {
    "long_visit_by_non_relative": ["visit_logs"],
    "impossible_visitor": ["visit_logs"],
    "long_visit_without_registration": ["visit_logs"],
    "negative_degree_without_penalty": ["degree_assignments"],
    "condition_change_without_criteria": ["condition_changes"],
    "transfer_without_grounds": ["transfers"],
    "false_reorganization": ["transfers"],
}


@pytest.mark.parametrize("code", sorted(DECOYS))
def test_the_predicates_reject_legitimate_records(code):
    """The checks above can fail: on records of a clean world they do."""
    from anomaly.synthetic.scheme_registry import build_world

    world = build_world("tiny", 4, schemes=False)
    (table,) = DECOYS[code]
    frame = world.tables[table]
    if table == "visit_logs":
        frame = frame[frame["visit_type"].eq("long")]
    if code == "negative_degree_without_penalty":
        frame = frame[frame["degree"] < 0]
    if code == "condition_change_without_criteria":
        frame = frame[frame["to_condition"].eq("light")]
    sample = frame.head(20)
    assert len(sample), code
    key = TABLES_BY_NAME[table].key[0]
    for _, row in sample.iterrows():
        label = {"subject_id": row["convict_id"], "records": f"{table}:{row[key]}"}
        assert not PREDICATES[code](world, label), (code, row[key])
