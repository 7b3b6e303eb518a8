"""Scoring split into partitions of convicts, for a Dask cluster.

Most rules judge a convict from that convict's records alone, plus the
reference tables and where everyone was (``Rule.per_convict``). Those run on
partitions: convicts grouped by home region into partitions of similar size,
each partition reading only its convicts' event rows from the accepted
Parquet files (a filtered read, nothing pickled). What crosses partitions is
computed first and handed to every partition: the stays of all convicts (an
institution's occupancy counts everyone in it). The rest runs once over the
whole registry after the partitions: the rules that are not per convict
(visiting-room nights, registrations that may belong to another convict),
the statistical detectors (peer groups span the country) and the cases.
``score_rule_run`` puts the flags in one canonical order, so the result is the same
as ``scoring.score`` in one process.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from anomaly.ingest.record_schema import TABLES
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Rulebook
from anomaly.rules import RULES
from anomaly.rules.rule import FLAG_COLUMNS, INSUFFICIENT_COLUMNS
from anomaly.runs.catalogue import RunFiles
from anomaly.runs.folder import read_nulled_cells, read_quarantined_subjects, read_summary
from anomaly.scoring.case_scoring import Scored, score_rule_run
from anomaly.scoring.rule_engine import SUMMARY_COLUMNS, RuleRun, run_rules
from anomaly.scoring.verdict_learning import VerdictLabels

WHOLE_TABLES = ("regions", "facilities", "staff", "convicts", "persons")
"""Reference tables every partition reads whole; the others are cut by convict."""
PER_CONVICT = tuple(rule for rule in RULES if rule.per_convict)
WHOLE = tuple(rule for rule in RULES if not rule.per_convict)


def plan_partitions(convicts: pd.DataFrame, n: int) -> list[list[str]]:
    """Home regions grouped into at most ``n`` partitions of similar convict counts."""
    sizes = convicts.groupby("home_region_id").size().sort_values(ascending=False)
    bins: list[list[str]] = [[] for _ in range(max(1, min(n, len(sizes))))]
    load = [0] * len(bins)
    for region, size in sizes.items():  # largest first, into the lightest partition
        lightest = load.index(min(load))
        bins[lightest].append(str(region))
        load[lightest] += int(size)
    return [sorted(b) for b in bins if b]


def partition_snapshot(
    out: Path | str, rulebook: Rulebook, regions: list[str], stays: pd.DataFrame
) -> Snapshot:
    """The accepted rows of the convicts whose home is in ``regions``, with everyone's stays."""
    files, summary = RunFiles.of(out), read_summary(out)
    convicts = pd.read_parquet(files.accepted_table("convicts"))
    mine = convicts.loc[convicts["home_region_id"].astype(str).isin(regions), "convict_id"]
    wanted = ds.field("convict_id").isin(mine.astype(str).tolist())
    tables = {}
    for spec in TABLES:
        path = files.accepted_table(spec.name)
        if not path.exists():
            continue
        if spec.name in WHOLE_TABLES:
            tables[spec.name] = pd.read_parquet(path)
        else:
            tables[spec.name] = pd.read_parquet(path, filters=wanted)
    snapshot = Snapshot.of(
        tables,
        rulebook,
        pd.Timestamp(summary["extracted_at"]),
        tuple(summary["optional_tables_missing"]),
        read_nulled_cells(out),
        read_quarantined_subjects(out),
    )
    return snapshot.with_stays(stays)


def score_partition(snapshot: Snapshot) -> RuleRun:
    """The per-convict rules on one partition."""
    return run_rules(snapshot, PER_CONVICT)


def combine(whole: Snapshot, parts: list[RuleRun], verdicts: VerdictLabels | None = None) -> Scored:
    """Partition results, the whole-registry rules, then detectors and cases (with what the
    ``verdicts`` taught)."""
    rest = run_rules(whole, WHOLE)
    runs = [*parts, rest]
    flags = _stacked([r.flags for r in runs], FLAG_COLUMNS)
    insufficient = _stacked([r.insufficient for r in runs], ["rule", *INSUFFICIENT_COLUMNS])
    summary = _summed(pd.concat([r.summary for r in runs], ignore_index=True))
    gathered = RuleRun(flags, insufficient, summary)
    return score_rule_run(whole, gathered, verdicts)


def _stacked(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=columns)


def _summed(summaries: pd.DataFrame) -> pd.DataFrame:
    """One summary row per rule, in registry order: partitions add up (their convicts differ)."""
    order = {rule.code: i for i, rule in enumerate(RULES)}
    numeric = ["flags", "subjects_flagged", "seconds"]
    out = summaries.groupby(["rule", "status"], sort=False)[numeric].sum().reset_index()
    lacking = summaries.groupby("rule")["subjects_insufficient"].apply(
        lambda v: "all" if (v == "all").any() else int(pd.to_numeric(v).sum())
    )
    out["subjects_insufficient"] = out["rule"].map(lacking)
    notes = summaries.groupby("rule")["inferences"].agg(lambda v: "; ".join(dict.fromkeys(v)))
    out["inferences"] = out["rule"].map(notes)
    out = out.sort_values("rule", key=lambda r: r.map(order)).reset_index(drop=True)
    return out[SUMMARY_COLUMNS]
