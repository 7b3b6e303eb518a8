"""What validation says of each failing row: a sentence per failure, the quarantine, the findings.

A reason names the check, what it demands and the cells it read, quoted
(escaped, and cut short past ``SHOWN_CHARS``). The quarantine keeps a row as
it came in, with its file, line, failed checks and reasons; a finding on a
kept row says what it cost (``action``) and the raw value.
"""

from __future__ import annotations

import pandas as pd

from anomaly.contracts.companions import ParentRows, first_lines
from anomaly.contracts.suites import FIRST_COPY, Check
from anomaly.ingest.drop_loading import LoadedTable

SHOWN_CHARS = 80  # of a value quoted in a reason
QUARANTINE_META = ["source_file", "source_line", "failed_checks", "reasons"]
FINDING_COLUMNS = [
    "table",
    "source_file",
    "source_line",
    "record",
    "check",
    "severity",
    "action",
    "column",
    "value",
    "reason",
]


def failure_reasons(
    failures: pd.DataFrame,
    checks: dict[str, Check],
    loaded: LoadedTable,
    repeated: pd.Series,
    frame: pd.DataFrame,
    parents: dict[str, ParentRows],
) -> pd.DataFrame:
    """One readable sentence per failure (the check, what it demands, the values) and the value."""
    raw = loaded.raw
    cells = raw.cells
    unreadable = loaded.unreadable.set_index(["source_line", "column"])["expected"]
    later = failures.loc[failures["check"].map(lambda n: checks[n].companion == FIRST_COPY),
                         "source_line"]  # fmt: skip
    first = first_lines(frame, loaded.spec.key, pd.Index(later.unique()))
    texts, values = [], []
    details = failures["detail"] if "detail" in failures else pd.Series("", index=failures.index)
    for line, name, column, detail in zip(
        failures["source_line"], failures["check"], failures["column"], details, strict=True
    ):
        check = checks[name]
        values.append(_raw(cells, line, column))
        shown = ", ".join(f"{c}={_shown(cells.at[line, c])}" for c in check.columns)
        if name == "damaged_cell":
            texts.append(f"damaged_cell: {detail}")
        elif name == "repeated_row":
            kept = raw.row_name(repeated[line])
            texts.append(f"repeated_row: same cells as {kept} (that {kept.split()[0]} is kept)")
        elif name.startswith("unreadable_"):
            texts.append(f"{name}: {shown} is not {unreadable[(line, check.columns[0])]}")
        elif check.parent:
            held = parents[check.parent].quarantined.get(str(cells.at[line, column]).strip(), "")
            texts.append(f"{name}: {shown} is also the id of {held}")
        elif check.companion == FIRST_COPY:
            kept = raw.row_name(int(first[line]))
            texts.append(f"{name}: {shown} repeats {kept} (that {kept.split()[0]} is kept)")
        else:
            texts.append(f"{name}: {check.description} ({shown})")
    return failures.assign(reason=texts, value=values)


def _raw(cells: pd.DataFrame, line: int, column: str) -> str:
    if not column or column not in cells.columns:
        return ""
    value = cells.at[line, column]
    return "" if pd.isna(value) else str(value)


def _shown(value: object) -> str:
    """A value as a reason quotes it: escaped, and cut short when long."""
    if pd.isna(value):
        return "empty"
    text = str(value)
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}... ({len(text):,} characters)"


def quarantined_rows(
    loaded: LoadedTable, reasons: pd.DataFrame, hard_lines: pd.Index
) -> pd.DataFrame:
    """Rejected rows as they came in, with file, line, failed checks and reasons."""
    hard = reasons[reasons["source_line"].isin(hard_lines) & reasons["severity"].eq("hard")]
    grouped = hard.groupby("source_line", sort=True).agg(
        failed_checks=("check", lambda s: ";".join(dict.fromkeys(s))),
        reasons=("reason", lambda s: "; ".join(dict.fromkeys(s))),
    )
    rows = loaded.raw.cells.loc[grouped.index].astype("string")
    rows.insert(0, "source_line", grouped.index)
    rows.insert(0, "source_file", loaded.raw.path.name)
    rows["failed_checks"] = grouped["failed_checks"].to_numpy()
    rows["reasons"] = grouped["reasons"].to_numpy()
    malformed = loaded.raw.malformed
    if not malformed.empty:
        broken = pd.DataFrame(
            {
                "source_file": loaded.raw.path.name,
                "source_line": malformed["source_line"].to_numpy(),
                "raw_text": malformed["raw_text"].to_numpy(),
                "failed_checks": "malformed_row",
                "reasons": malformed["reason"].to_numpy(),
            }
        )
        rows = pd.concat([rows, broken], ignore_index=True)
    if loaded.raw.keys is not None:  # a database row is found by its primary key
        rows.insert(2, "source_key", loaded.raw.keys.reindex(rows["source_line"]).to_numpy())
    ordered = QUARANTINE_META[:2] + [c for c in rows.columns if c not in QUARANTINE_META]
    return rows.reset_index(drop=True)[ordered + QUARANTINE_META[2:]]


def kept_findings(kept: pd.DataFrame, loaded: LoadedTable) -> pd.DataFrame:
    """Findings on the rows that were kept, each with what it cost and the raw value."""
    if kept.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    key = loaded.typed.loc[kept["source_line"], list(loaded.spec.key)].astype("string")
    record = key.fillna("").agg("|".join, axis=1).to_numpy()
    return pd.DataFrame(
        {
            "table": loaded.spec.name,
            "source_file": loaded.raw.path.name,
            "source_line": kept["source_line"].to_numpy(),
            "record": record,
            "check": kept["check"].to_numpy(),
            "severity": kept["severity"].to_numpy(),
            "action": kept["action"].to_numpy(),
            "column": kept["column"].to_numpy(),
            "value": kept["value"].to_numpy(),
            "reason": kept["reason"].to_numpy(),
        },
        columns=FINDING_COLUMNS,
    )
