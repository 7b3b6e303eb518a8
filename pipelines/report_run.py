"""Flow: decide the run's cases against the case store, write the agency report and the export.

The store's view counts the analysts' verdicts in (a feedback file, if
given), keeps dismissed cases quiet unless new evidence appears, and the
report shows every raised case with its status. The store itself is written
last, by ``commit_store``, once the run folder is complete and in place.
Artifacts carry keyed ids and pseudonyms only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from anomaly.cases.assembly import findings_by_case
from anomaly.cases.review_queue import review_queue
from anomaly.cases.store import CaseStore, RunPlan
from anomaly.cases.verdicts import read_feedback
from anomaly.known_failures import retry_transient_only
from anomaly.office.files import private_folder, read_csv, write_csv, write_text
from anomaly.office.key import fingerprint, office_key
from anomaly.report.agency_report import ReportInputs, render_report
from anomaly.report.pseudonymisation import Pseudonymiser, identifier_columns, known_identifiers
from anomaly.rulebook import load_rulebook
from anomaly.runs.catalogue import RunFiles
from anomaly.runs.folder import read_accepted, read_scored, read_summary
from anomaly.scoring.case_scoring import SUBJECTS
from pipelines.run_settings import RunSettings

EXPORT_COLUMNS = ["case_id", "subject_type", "subject_id", "risk_score", "rank", "rules",
                  "evidence", "summary", "status", "first_seen"]  # fmt: skip
TEXT = {"case_id": str, "subject_id": str, "evidence": str, "summary": str, "record_id": str,
        "convict_id": str, "staff_id": str, "facility_id": str, "explanation": str}  # fmt: skip


def checked_key(settings: RunSettings) -> bytes:
    """The office key for this run's store, checked (see ``anomaly.office.key``)."""
    with CaseStore(settings.store_path) as store:
        expected = store.key_fingerprint()
    return office_key(settings.key_path, expected)


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_transient_only)
def plan_store(settings: RunSettings, run_id: str) -> RunPlan:
    """Decide every case's status (feedback counted in); write raised_cases.csv, quiet_cases.csv.

    The store is only read here: ``commit_store`` writes the plan once the run is complete."""
    scored = read_scored(settings.out)
    feedback = read_feedback(settings.feedback) if settings.feedback else None
    findings = findings_by_case(scored["flags"], SUBJECTS)
    with CaseStore(settings.store_path) as store:
        plan = store.plan_run(
            scored["cases"], run_id, pd.Timestamp(settings.day), feedback, findings
        )
    files = RunFiles.of(settings.out)
    write_csv(plan.stored.raised, files.raised_cases)
    write_csv(plan.stored.quiet, files.quiet_cases)
    watchlist = read_csv(files.watchlist, dtype={"subject_id": str})
    threshold = load_rulebook(settings.rules).scoring.case_threshold.value
    queue = review_queue(plan.stored.raised, watchlist, findings, scored["learned"], threshold)
    write_csv(queue, files.review_queue)
    return plan


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_transient_only)
def commit_store(settings: RunSettings, plan: RunPlan) -> None:
    """Write the run's cases, history and verdicts to the store, in one transaction."""
    key = checked_key(settings)
    with CaseStore(settings.store_path) as store:
        store.commit(plan, fingerprint(key))


@task
def write_report(settings: RunSettings, run_id: str) -> Path:
    scored = read_scored(settings.out)
    files = RunFiles.of(settings.out)
    raised = read_csv(files.raised_cases, dtype={"subject_id": str})
    quiet = read_csv(files.quiet_cases, dtype={"subject_id": str})
    queue = read_csv(files.review_queue, dtype={"subject_id": str})
    inputs = ReportInputs(
        run_id=run_id,
        summary=read_summary(settings.out),
        cases=raised,
        quiet=quiet,
        flags=scored["flags"],
        rule_outcomes=scored["rule_outcomes"],
        insufficient=scored["insufficient"],
        learned=scored["learned"],
        queue=queue,
        tables=read_accepted(settings.out),
        rulebook=load_rulebook(settings.rules),
    )
    return write_text(files.report, render_report(inputs))


def export_run(settings: RunSettings) -> pd.DataFrame:
    """Write the pseudonymised cases and flags to out/export; return the exported cases.

    The mapping back stays in out/, with the office."""
    pseudonymise = Pseudonymiser(checked_key(settings))
    files = RunFiles.of(settings.out)
    raised = read_csv(files.raised_cases, dtype=TEXT)[EXPORT_COLUMNS]
    flags = read_csv(files.flags, dtype=TEXT)
    texts = [v for frame in (raised, flags) for column in frame.columns
             for v in frame[column] if isinstance(v, str)]  # fmt: skip
    known = known_identifiers(read_accepted(settings.out, columns=identifier_columns()), texts)
    private_folder(files.export)
    public = pseudonymise.frame(raised, known)
    write_csv(public, files.export_cases)
    write_csv(pseudonymise.frame(flags, known), files.export_flags)
    write_csv(pseudonymise.mapping_frame(), files.pseudonym_map)
    return public


@task
def write_export(settings: RunSettings) -> Path:
    """The export (``export_run``), and its top cases as a Prefect artifact."""
    public = export_run(settings)
    top = public.head(10)[["rank", "case_id", "subject_type", "subject_id", "risk_score",
                           "rules", "status"]]  # fmt: skip
    create_table_artifact(
        key="top-cases", table=top.to_dict("records"),
        description="Top cases of the run (keyed case ids, pseudonymous subject ids)",
    )  # fmt: skip
    return RunFiles.of(settings.out).export


@flow(name="report")
def report_flow(settings: RunSettings, run_id: str) -> dict[str, Any]:
    """Plan the store update, write the report and the export; return the plan with the counts.

    The caller commits the plan (``commit_store``) once the run folder is in place."""
    plan = plan_store(settings, run_id)
    report = write_report(settings, run_id)
    write_export(settings)
    counts = {"verdicts_applied": len(plan.verdicts), "raised": len(plan.stored.raised),
              "quiet": len(plan.stored.quiet)}  # fmt: skip
    get_run_logger().info(
        "%s cases raised, %s kept quiet, %s verdicts applied; report at %s",
        counts["raised"], counts["quiet"], counts["verdicts_applied"], report.name,
    )  # fmt: skip
    return {**counts, "report": report.name, "plan": plan}


def run_summary_markdown(run_id: str, summary: dict, scoring: dict, report: dict) -> str:
    """The run summary artifact: counts only, no identifiers."""
    totals = summary["totals"]
    return "\n".join([
        f"# Oversight run {run_id}",
        "",
        f"- rows read {totals['rows_read']}, accepted {totals['accepted']}, "
        f"quarantined {totals['quarantined']}",
        f"- findings {scoring['findings']}, cases {scoring['cases']}, "
        f"watch list {scoring['watchlist']}, rules not run {scoring['rules_not_run']}",
        f"- raised {report['raised']}, kept quiet (dismissed) {report['quiet']}, "
        f"verdicts applied {report['verdicts_applied']}",
        f"- optional tables missing: {', '.join(summary['optional_tables_missing']) or 'none'}",
    ])  # fmt: skip


def publish_summary(markdown: str) -> None:
    create_markdown_artifact(key="run-summary", markdown=markdown, description="Run summary")
