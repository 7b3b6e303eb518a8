"""Write what validation decided: quarantine files, accepted tables, findings, run summary.

Layout under the output folder::

    quarantine/<table>.csv        every rejected row as it came in, with
                                  source_file, source_line, failed_checks, reasons
    accepted/<table>.parquet      the accepted rows, typed
    validation_findings.csv       soft findings (rows kept)
    validation_summary.json       counts per table and per check
    validation_summary.txt        the same for a person
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.validation import FINDING_COLUMNS, ValidationResult


def summarise(result: ValidationResult) -> dict[str, Any]:
    """Counts per table and per check, and what could not be checked."""
    drop = result.drop
    tables: dict[str, dict[str, Any]] = {}
    checks = []
    for name, outcome in result.tables.items():
        loaded = drop.tables[name]
        tables[name] = {
            "file": outcome.source_file,
            "encoding": loaded.raw.encoding,
            "separator": loaded.raw.separator,
            "rows_read": outcome.rows_read,
            "accepted": len(outcome.accepted),
            "quarantined": len(outcome.quarantine),
            "rows_with_soft_findings": int(outcome.soft_findings["source_line"].nunique()),
            "extra_columns_ignored": list(outcome.extra_columns),
        }
        counts = outcome.failures.groupby(["check", "severity"]).size()
        for (check, severity), rows in counts.items():
            checks.append({"table": name, "check": check, "severity": severity, "rows": int(rows)})
    totals = {
        key: sum(t[key] for t in tables.values())
        for key in ("rows_read", "accepted", "quarantined")
    }
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


def summary_text(summary: dict[str, Any]) -> str:
    """The run summary as a few lines a person reads."""
    totals = summary["totals"]
    lines = [
        f"Drop {summary['drop']} extracted at {summary['extracted_at']} "
        f"({summary['extracted_at_source']})",
        f"Rows read {totals['rows_read']}, accepted {totals['accepted']}, "
        f"quarantined {totals['quarantined']}",
        "",
        f"{'table':<26}{'read':>10}{'accepted':>10}{'quarant.':>10}{'soft':>8}",
    ]
    for name, t in summary["tables"].items():
        lines.append(
            f"{name:<26}{t['rows_read']:>10}{t['accepted']:>10}{t['quarantined']:>10}"
            f"{t['rows_with_soft_findings']:>8}"
        )
        if t["extra_columns_ignored"]:
            lines.append(
                f"  columns not in the spec, ignored: {', '.join(t['extra_columns_ignored'])}"
            )
    if summary["checks"]:
        lines += ["", "Failed checks (rows):"]
        lines += [
            f"  {c['table']}.{c['check']} [{c['severity']}]: {c['rows']}" for c in summary["checks"]
        ]
    for name in summary["optional_tables_missing"]:
        lines.append(f"Optional table {name} not delivered: the rules that need it will not run.")
    return "\n".join(lines) + "\n"


def write_validation(result: ValidationResult, out: Path | str) -> dict[str, Any]:
    """Write quarantine, accepted tables, findings and the summary; return the summary."""
    out = Path(out)
    (out / "quarantine").mkdir(parents=True, exist_ok=True)
    (out / "accepted").mkdir(parents=True, exist_ok=True)
    for name, outcome in result.tables.items():
        outcome.quarantine.to_csv(out / "quarantine" / f"{name}.csv", index=False)
        outcome.accepted.to_parquet(out / "accepted" / f"{name}.parquet")
    findings = [o.soft_findings for o in result.tables.values() if not o.soft_findings.empty]
    all_findings = (
        pd.concat(findings, ignore_index=True)
        if findings
        else pd.DataFrame(columns=FINDING_COLUMNS)
    )
    all_findings.to_csv(out / "validation_findings.csv", index=False)
    summary = summarise(result)
    (out / "validation_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "validation_summary.txt").write_text(summary_text(summary), encoding="utf-8")
    return summary
