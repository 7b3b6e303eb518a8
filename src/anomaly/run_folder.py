"""The files of one run folder, read back for the next stage (tasks hand over files, not frames).

OUT/validation_summary.json   counts, extraction time, missing optional tables
OUT/accepted/<table>.parquet  the rows the data contracts accepted
OUT/validation_findings.csv   findings on kept rows, the nulled cells among them
OUT/cases.csv, flags.csv ...  what scoring found (``case_outputs``)
OUT/report.html               the agency report
OUT/export/                   the pseudonymised export (cases.csv, flags.csv)
OUT/pseudonym_map.csv         the way back from pseudonyms, kept by the office
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.record_schema import TABLES
from anomaly.registry_snapshot import Snapshot, quarantined_subjects
from anomaly.rulebook import Rulebook
from anomaly.validation import NULLED


def read_summary(out: Path | str) -> dict[str, Any]:
    return json.loads((Path(out) / "validation_summary.json").read_text(encoding="utf-8"))


def read_accepted(out: Path | str, only: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Accepted tables of a validated run (all, or ``only`` those; absent ones are left out)."""
    folder = Path(out) / "accepted"
    return {
        spec.name: pd.read_parquet(folder / f"{spec.name}.parquet")
        for spec in TABLES
        if (folder / f"{spec.name}.parquet").exists() and (not only or spec.name in only)
    }


def read_snapshot(out: Path | str, rulebook: Rulebook) -> Snapshot:
    """The accepted records of a validated run, ready for the rules."""
    summary = read_summary(out)
    return Snapshot.of(
        read_accepted(out),
        rulebook,
        pd.Timestamp(summary["extracted_at"]),
        tuple(summary["optional_tables_missing"]),
        read_nulled_cells(out),
        read_quarantined_subjects(out),
    )


def read_quarantined_subjects(out: Path | str) -> pd.DataFrame:
    """Whose rows were quarantined (``registry_snapshot.quarantined_subjects``)."""
    folder = Path(out) / "quarantine"
    frames = {p.stem: pd.read_csv(p, dtype=str) for p in sorted(folder.glob("*.csv"))}
    return quarantined_subjects(frames)


def read_nulled_cells(out: Path | str) -> pd.DataFrame:
    """The cells validation nulled on kept rows (table, source_line, column)."""
    findings = pd.read_csv(
        Path(out) / "validation_findings.csv",
        usecols=["table", "source_line", "action", "column"],
        dtype={"table": str, "action": str, "column": str},
    )
    nulled = findings[findings["action"].eq(NULLED)].drop_duplicates(["table", "source_line",
                                                                       "column"])  # fmt: skip
    return nulled[["table", "source_line", "column"]].reset_index(drop=True)


def read_scored(out: Path | str) -> dict[str, pd.DataFrame]:
    """cases, flags, rule outcomes and insufficient data of a scored run."""
    out = Path(out)
    return {
        "cases": pd.read_parquet(out / "cases.parquet"),
        "flags": pd.read_csv(out / "flags.csv", dtype={"record_id": str, "convict_id": str,
                                                       "staff_id": str, "facility_id": str}),
        "rule_outcomes": pd.read_csv(out / "rule_outcomes.csv"),
        "insufficient": pd.read_csv(out / "insufficient_data.csv", dtype=str),
    }  # fmt: skip


def latest_drop(location: Path | str) -> Path:
    """A drop folder itself, or the newest drop (by manifest extraction time, then name) in it."""
    location = Path(location)
    if not location.is_dir():
        raise FileNotFoundError(f"{location}: no such drop or folder of drops")
    if (
        any(location.glob("*.csv"))
        or any(location.glob("*.parquet"))
        or any(location.glob("*.xlsx"))
    ):
        return location
    drops = [p for p in location.iterdir() if p.is_dir()]
    if not drops:
        raise FileNotFoundError(f"{location}: neither a drop nor a folder of drops")
    return max(drops, key=lambda p: (_extracted_at(p), p.name))


def _extracted_at(drop: Path) -> str:
    manifest = drop / "manifest.json"
    if manifest.exists():
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("extracted_at", ""))
    return ""
