"""Write what validation decided: quarantine files, accepted tables, findings, run summary.

Layout under the output folder::

    quarantine/<table>.csv        every rejected row as it came in, with
                                  source_file, source_line, failed_checks, reasons
    accepted/<table>.parquet      the accepted rows, typed
    validation_findings.csv       findings on kept rows: soft ones, nulled cells,
                                  missing cells, quarantined parents
    validation_summary.json       counts per table and per check
    validation_summary.txt        the same for a person
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.contracts.failure_reasons import FINDING_COLUMNS
from anomaly.contracts.validation import ValidationResult
from anomaly.ingest.record_schema import TABLES, TABLES_BY_NAME
from anomaly.office.files import private_folder, write_csv, write_parquet, write_text
from anomaly.runs.catalogue import RunFiles


def summarise(result: ValidationResult) -> dict[str, Any]:
    """Counts per table and per check, and what could not be checked."""
    drop = result.drop
    tables: dict[str, dict[str, Any]] = {}
    checks = []
    losses = largest_losses(result)
    for name, outcome in result.tables.items():
        loaded = drop.tables[name]
        tables[name] = {
            "file": outcome.source_file,
            "encoding": loaded.raw.encoding,
            "separator": loaded.raw.separator,
            "rows_read": outcome.rows_read,
            "accepted": len(outcome.accepted),
            "quarantined": len(outcome.quarantine),
            "rows_with_findings": int(outcome.findings["source_line"].nunique()),
            "cells_nulled": len(outcome.nulled_cells),
            "rows_kept_with_parent_quarantined": outcome.rows_kept_with_parent_quarantined,
            "largest_loss_from_one_row": losses.get(name, 0),
            "extra_columns_ignored": list(outcome.extra_columns),
        }
        counts = outcome.failures.groupby(["check", "severity", "action"]).size()
        for (check, severity, action), rows in counts.items():
            checks.append(
                {
                    "table": name,
                    "check": check,
                    "severity": severity,
                    "action": action,
                    "rows": int(rows),
                }
            )
    totals: dict[str, int] = {
        key: sum(t[key] for t in tables.values())
        for key in (
            "rows_read",
            "accepted",
            "quarantined",
            "rows_with_findings",
            "cells_nulled",
            "rows_kept_with_parent_quarantined",
        )
    }
    totals["largest_loss_from_one_row"] = max(losses.values(), default=0)
    return {
        "drop": str(drop.path),
        "extracted_at": drop.extracted_at.isoformat(),
        "extracted_at_source": drop.extracted_at_source,
        "tables": tables,
        "totals": totals,
        "checks": sorted(checks, key=lambda c: (-c["rows"], c["table"], c["check"])),
        "optional_tables_missing": list(drop.missing_optional),
        "invariant_rows_read_equals_accepted_plus_quarantined": all(
            t["rows_read"] == t["accepted"] + t["quarantined"] for t in tables.values()
        ),
    }


def largest_losses(result: ValidationResult) -> dict[str, int]:
    """Per table, the most rows that one of its quarantined rows took out of the analysis.

    A quarantined row takes itself out, and every quarantined row of any table
    that names its key (whatever that row's own reasons, so this never
    understates a cascade). Without a cascade it is 1 wherever a row was
    quarantined.
    """
    losses: dict[str, int] = {}
    for name, outcome in result.tables.items():
        spec = TABLES_BY_NAME[name]
        if outcome.quarantine.empty:
            continue
        losses[name] = 1
        if len(spec.key) != 1 or spec.key[0] not in outcome.quarantine.columns:
            continue
        held = outcome.quarantine[spec.key[0]].dropna().astype(str)
        named = pd.Series(0, index=pd.Index(held.unique()))
        for child, column in _referring(f"{name}.{spec.key[0]}", result):
            cells = child.quarantine[column].dropna().astype(str)
            named = named.add(cells[cells.isin(named.index)].value_counts(), fill_value=0)
        losses[name] = 1 + int(named.max()) if len(named) else 1
    return losses


def _referring(target: str, result: ValidationResult) -> list[tuple[Any, str]]:
    return [
        (result.tables[spec.name], column.name)
        for spec in TABLES
        if spec.name in result.tables
        for column in spec.columns
        if column.references == target and column.name in result.tables[spec.name].quarantine
    ]


def summary_text(summary: dict[str, Any]) -> str:
    """The run summary as a few lines a person reads."""
    totals = summary["totals"]
    lines = [
        f"Drop {summary['drop']} extracted at {summary['extracted_at']} "
        f"({summary['extracted_at_source']})",
        f"Rows read {totals['rows_read']}, accepted {totals['accepted']}, "
        f"quarantined {totals['quarantined']}; accepted with findings "
        f"{totals['rows_with_findings']}, cells nulled {totals['cells_nulled']}, kept although "
        f"their parent row was quarantined {totals['rows_kept_with_parent_quarantined']}; "
        f"most rows one source row took out: {totals['largest_loss_from_one_row']}",
        "",
        f"{'table':<26}{'read':>10}{'accepted':>10}{'quarant.':>10}{'findings':>10}"
        f"{'nulled':>8}{'orphans':>8}{'max loss':>9}",
    ]
    for name, t in summary["tables"].items():
        lines.append(
            f"{name:<26}{t['rows_read']:>10}{t['accepted']:>10}{t['quarantined']:>10}"
            f"{t['rows_with_findings']:>10}{t['cells_nulled']:>8}"
            f"{t['rows_kept_with_parent_quarantined']:>8}{t['largest_loss_from_one_row']:>9}"
        )
        if t["extra_columns_ignored"]:
            lines.append(
                f"  columns not in the spec, ignored: {', '.join(t['extra_columns_ignored'])}"
            )
    if summary["checks"]:
        lines += ["", "Failed checks (rows):"]
        lines += [
            f"  {c['table']}.{c['check']} [{c['severity']}, {c['action']}]: {c['rows']}"
            for c in summary["checks"]
        ]
    for name in summary["optional_tables_missing"]:
        lines.append(f"Optional table {name} not delivered: the rules that need it will not run.")
    return "\n".join(lines) + "\n"


def write_validation(result: ValidationResult, out: Path | str) -> dict[str, Any]:
    """Write quarantine, accepted tables, findings and the summary; return the summary."""
    files = RunFiles.of(out)
    private_folder(files.quarantine)
    private_folder(files.accepted)
    for name, outcome in result.tables.items():
        write_csv(outcome.quarantine, files.quarantine_table(name))
        write_parquet(outcome.accepted, files.accepted_table(name), index=None)
    findings = [o.findings for o in result.tables.values() if not o.findings.empty]
    all_findings = (
        pd.concat(findings, ignore_index=True)
        if findings
        else pd.DataFrame(columns=FINDING_COLUMNS)
    )
    write_csv(all_findings, files.validation_findings)
    summary = summarise(result)
    write_text(files.summary_json, json.dumps(summary, indent=2))
    write_text(files.summary_text, summary_text(summary))
    return summary
