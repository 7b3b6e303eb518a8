"""Rule health: a rule firing far above its expected rate evenly across institutions is damped
for the run; the same rate concentrated in a few institutions is not (issue 12, Cardinal
issue 39: warn when a flag fires for too many cases)."""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules import RULES_BY_CODE
from anomaly.scoring.rule_health import damped, rule_health
from test_rules import RB, D

RULE = RULES_BY_CODE["TRF-GROUNDS"]
INSTITUTIONS = [f"F{i}" for i in range(10)]


def registry(per_institution: int = 200) -> Snapshot:
    """Ten institutions, each the destination of ``per_institution`` transfers."""
    transfers = pd.DataFrame(
        {
            "transfer_id": [f"T{i}-{k}" for i in range(10) for k in range(per_institution)],
            "to_facility_id": [f for f in INSTITUTIONS for _ in range(per_institution)],
        }
    )
    return Snapshot.of({"transfers": transfers}, RB, D("2025-01-05"))


def findings(per_institution: dict[str, int]) -> pd.DataFrame:
    """``n`` TRF-GROUNDS flags on the first transfers into each named institution."""
    rows = [
        {"rule": RULE.code, "table": "transfers", "record_id": f"T{INSTITUTIONS.index(f)}-{k}",
         "score": 0.9, "explanation": "transfer without an order"}
        for f, n in per_institution.items()
        for k in range(n)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_even_over_firing_is_damped_and_said_so():
    flags = findings({f: 10 for f in INSTITUTIONS})  # 50 per 1,000 everywhere
    health = rule_health(registry(), flags, (RULE,)).iloc[0]
    assert health["per_1000"] == 50.0 and health["institutions_over"] == 10
    assert health["damping"] == 0.3  # the alarm rate 15 over the rate 50
    assert "convention of this registry" in health["health"]
    out = damped(flags, rule_health(registry(), flags, (RULE,)))
    assert out["score"].round(3).eq(0.27).all()
    assert out["explanation"].str.contains(r"\[rule damped this run: fires at 50.0").all()


def test_concentrated_over_firing_is_not_damped():
    flags = findings({"F0": 50, "F1": 50})  # the same 50 per 1,000, in two institutions
    health = rule_health(registry(), flags, (RULE,)).iloc[0]
    assert health["per_1000"] == 50.0 and health["institutions_over"] == 2
    assert health["damping"] == 1.0
    assert "concentrated in 2 of 10 institutions: not damped" in health["health"]
    assert damped(flags, rule_health(registry(), flags, (RULE,)))["score"].eq(0.9).all()


def test_firing_below_the_alarm_rate_is_left_alone_however_even():
    flags = findings({f: 2 for f in INSTITUTIONS})  # 10 per 1,000 everywhere
    health = rule_health(registry(), flags, (RULE,)).iloc[0]
    assert health["damping"] == 1.0 and "below the alarm rate 15" in health["health"]


def test_small_institutions_do_not_count_towards_the_spread():
    flags = findings({f: 10 for f in INSTITUTIONS})
    health = rule_health(registry(per_institution=50), flags, (RULE,)).iloc[0]
    assert health["institutions_judged"] == 0 and health["damping"] == 1.0


def test_the_damping_floor_keeps_a_flooding_rule_visible():
    flags = findings({f: 200 for f in INSTITUTIONS})  # every transfer flagged
    health = rule_health(registry(), flags, (RULE,)).iloc[0]
    assert health["damping"] == RB.rule_health.damping_floor.value
