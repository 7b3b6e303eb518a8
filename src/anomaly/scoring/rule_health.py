"""Rule health: how often each rule fired in this run, where, and whether to damp it.

Per rule: the records it judged (the rows of the tables whose records it
flags), how many it flagged, the rate per 1,000, and how the flags spread
over institutions. A rule firing far above the rate the rule book expects
(``rule_health.expected_per_1000`` times ``over_firing_factor``) in most
institutions (``even_share``) is probably meeting a convention of this
registry the rule book does not know: its findings are damped for the run by
the ratio of the alarm rate to its rate, and the report says so. Over-firing
concentrated in a few institutions is what corrupt institutions look like,
and is never damped. Peers ask for the same warning (Cardinal issue 39: warn
when a flag fires for too many cases).
"""

from __future__ import annotations

import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, institution_of
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Rule

MIN_INSTITUTIONS = 5  # fewer institutions judged tell nothing about how evenly a rule fires
HEALTH_COLUMNS = [
    "rule",
    "population",
    "flagged_records",
    "per_1000",
    "expected_per_1000",
    "institutions_judged",
    "institutions_over",
    "spread",
    "damping",
    "health",
]
FIRING_COLUMNS = ["rule", "facility_id", "records", "flagged", "per_1000"]


def rule_health(snapshot: Snapshot, flags: pd.DataFrame, rules: tuple[Rule, ...]) -> pd.DataFrame:
    """One row per rule that ran: its population, rate, spread and damping (1.0: none)."""
    places = _Places(snapshot)
    rows = [_health(snapshot, places, flags[flags["rule"].eq(rule.code)], rule) for rule in rules]
    return pd.DataFrame([r for r in rows if r is not None], columns=HEALTH_COLUMNS)


def damped(flags: pd.DataFrame, health: pd.DataFrame) -> pd.DataFrame:
    """Flags with the scores of damped rules multiplied by their damping, and said so."""
    damping = flags["rule"].map(health.set_index("rule")["damping"]).fillna(1.0)
    hit = damping < 1.0
    if not hit.any():
        return flags
    note = flags["rule"].map(health.set_index("rule")["health"])
    out = flags.copy()
    out["score"] = out["score"] * damping
    out.loc[hit, "explanation"] = (
        out.loc[hit, "explanation"] + " [rule damped this run: " + note[hit] + "]"
    )
    return out


def firing_by_institution(
    snapshot: Snapshot, flags: pd.DataFrame, rules: tuple[Rule, ...]
) -> pd.DataFrame:
    """Per rule and institution with enough records judged (``min_institution_records``):
    the records the rule judged there, how many it flagged and the rate per 1,000
    (FIRING_COLUMNS). What an institution's habit looks like to the learning of
    verdicts (``scoring.verdict_learning.borrowed_weights``)."""
    places = _Places(snapshot)
    parts = []
    for rule in rules:
        judged = _judged(snapshot, places, flags[flags["rule"].eq(rule.code)], rule)
        if judged is None:
            continue
        _, flagged, eligible, hits = judged
        parts.append(pd.DataFrame({
            "rule": rule.code, "facility_id": eligible.index.astype(str),
            "records": eligible.to_numpy(), "flagged": hits.to_numpy(),
        }))  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=FIRING_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["per_1000"] = (1000 * out["flagged"] / out["records"]).round(2)
    return out[FIRING_COLUMNS]


def _judged(snapshot: Snapshot, places: _Places, mine: pd.DataFrame, rule: Rule):
    """The records a rule judged: population, flagged records (with their institution),
    records per eligible institution and flagged records there; None if it judged none."""
    tables = [t for t in rule.judges or rule.tables[:1] if snapshot.has(t)]
    if not tables:
        return None
    population = sum(len(snapshot[t]) for t in tables)
    flagged = mine[mine["table"].isin(tables)].drop_duplicates(["table", "record_id"])
    flagged = flagged.assign(institution=places.of(flagged))
    by_place = pd.concat([places.counts(t) for t in tables]).groupby(level=0).sum()
    minimum = int(snapshot.rulebook.rule_health.min_institution_records.value)
    eligible = by_place[by_place >= minimum]
    hits = flagged["institution"].value_counts().reindex(eligible.index, fill_value=0)
    return population, flagged, eligible, hits


def _health(snapshot: Snapshot, places: _Places, mine: pd.DataFrame, rule: Rule) -> dict | None:
    judged = _judged(snapshot, places, mine, rule)
    if judged is None:
        return None
    population, flagged, eligible, hits = judged
    p = snapshot.rulebook.rule_health
    expected = float(p.expected_per_1000.value)
    alarm = expected * float(p.over_firing_factor.value)
    rate = 1000 * len(flagged) / population if population else 0.0
    over = int((1000 * hits / eligible > alarm).sum()) if len(eligible) else 0
    spread = over / len(eligible) if len(eligible) else 0.0
    damping, health = 1.0, f"{rate:.1f} per 1,000 records, below the alarm rate {alarm:g}"
    if rate > alarm and spread >= float(p.even_share.value) and len(eligible) >= MIN_INSTITUTIONS:
        damping = max(float(p.damping_floor.value), alarm / rate)
        health = (
            f"fires at {rate:.1f} per 1,000 records, {rate / expected:.0f} times the expected"
            f" {expected:g}, in {over} of {len(eligible)} institutions alike: probably a"
            f" convention of this registry the rule book does not know; weight x{damping:.2f}"
        )
    elif rate > alarm:
        health = (
            f"fires at {rate:.1f} per 1,000 records, {rate / expected:.0f} times the expected"
            f" {expected:g}, concentrated in {over} of {len(eligible)} institutions: not"
            " damped (concentrated firing is what corrupt institutions look like)"
        )
    return {
        "rule": rule.code,
        "population": population,
        "flagged_records": len(flagged),
        "per_1000": round(rate, 2),
        "expected_per_1000": expected,
        "institutions_judged": len(eligible),
        "institutions_over": over,
        "spread": round(spread, 3),
        "damping": round(damping, 3),
        "health": health,
    }


class _Places:
    """Per table, records per institution and the institution of a record, built once a run
    (the tables a rule judges can hold millions of rows; the flags are few)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot
        self._counts: dict[str, pd.Series] = {}

    def counts(self, table: str) -> pd.Series:
        if table not in self._counts:
            column = institution_of(table)
            frame = self.s[table]
            self._counts[table] = (
                frame[column].astype(object).value_counts() if column else pd.Series(dtype=int)
            )
        return self._counts[table]

    def of(self, flagged: pd.DataFrame) -> pd.Series:
        """The institution of each flagged record (null where its table names none)."""
        out = pd.Series(None, index=flagged.index, dtype=object)
        for table, rows in flagged.groupby("table").groups.items():
            column = institution_of(str(table))
            if column is None or len(TABLES_BY_NAME[str(table)].key) != 1:
                continue
            where = self.s.by_record(str(table), column)
            out[rows] = flagged.loc[rows, "record_id"].astype(str).map(where).to_numpy()
        return out
