"""A run folder read back for the next stage (tasks hand over files, not frames).

The files and their names are ``runs.catalogue``'s.

A run is written into a staging folder beside OUT (``.OUT.partial-PID-...``,
owner-only) and renamed to OUT only when every file is written: OUT is
either the previous complete run or the new complete run, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.contracts.validation import NULLED
from anomaly.database.registry_reading import RegistryDatabase
from anomaly.ingest.drop_reading import DropFormatError
from anomaly.ingest.record_schema import TABLES
from anomaly.ingest.registry_source import RegistrySource
from anomaly.office.files import private_umask, read_csv
from anomaly.registry.snapshot import Snapshot, quarantined_subjects
from anomaly.rulebook import Rulebook
from anomaly.runs.catalogue import RunFiles


def read_summary(out: Path | str) -> dict[str, Any]:
    return json.loads(RunFiles.of(out).summary_json.read_text(encoding="utf-8"))


def read_accepted(
    out: Path | str, only: tuple[str, ...] = (), columns: dict[str, list[str]] | None = None
) -> dict[str, pd.DataFrame]:
    """Accepted tables of a validated run (all, or ``only`` those; absent ones are left out).

    ``columns`` reads only the named columns of each table."""
    files = RunFiles.of(out)
    return {
        spec.name: pd.read_parquet(
            files.accepted_table(spec.name),
            columns=None if columns is None else columns.get(spec.name, []),
        )
        for spec in TABLES
        if files.accepted_table(spec.name).exists() and (not only or spec.name in only)
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
    folder = RunFiles.of(out).quarantine
    frames = {p.stem: read_csv(p, dtype=str) for p in sorted(folder.glob("*.csv"))}
    return quarantined_subjects(frames)


def read_nulled_cells(out: Path | str) -> pd.DataFrame:
    """The cells validation nulled on kept rows (table, source_line, column)."""
    findings = read_csv(
        RunFiles.of(out).validation_findings,
        usecols=["table", "source_line", "action", "column"],
        dtype={"table": str, "action": str, "column": str},
    )
    nulled = findings[findings["action"].eq(NULLED)].drop_duplicates(["table", "source_line",
                                                                       "column"])  # fmt: skip
    return nulled[["table", "source_line", "column"]].reset_index(drop=True)


def read_scored(out: Path | str) -> dict[str, pd.DataFrame]:
    """cases, flags, rule outcomes and insufficient data of a scored run."""
    files = RunFiles.of(out)
    return {
        "cases": pd.read_parquet(files.cases_parquet),
        "flags": read_csv(files.flags, dtype={"record_id": str, "convict_id": str,
                                                       "staff_id": str, "facility_id": str}),
        "rule_outcomes": read_csv(files.rule_outcomes),
        "insufficient": read_csv(files.insufficient, dtype=str),
        "learned": read_csv(files.learned_weights, dtype={"facility_id": str, "like": str}),
    }  # fmt: skip


def latest_drop(location: RegistrySource | str) -> RegistrySource:
    """A drop folder itself, or the newest drop (by manifest extraction time, then name) in it.

    A database schema is its own latest drop: it is read as it is now."""
    if isinstance(location, RegistryDatabase):
        return location
    location = Path(location)
    if not location.is_dir():
        raise DropFormatError(f"{location}: no such drop or folder of drops")
    if (
        any(location.glob("*.csv"))
        or any(location.glob("*.parquet"))
        or any(location.glob("*.xlsx"))
    ):
        return location
    drops = [p for p in location.iterdir() if p.is_dir()]
    if not drops:
        raise DropFormatError(f"{location}: neither a drop nor a folder of drops")
    return max(drops, key=lambda p: (_extracted_at(p), p.name))


def _extracted_at(drop: Path) -> str:
    manifest = drop / "manifest.json"
    if manifest.exists():
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("extracted_at", ""))
    return ""


@contextlib.contextmanager
def staged_run(out: Path | str) -> Iterator[Path]:
    """A staging folder to write a run into; it replaces ``out`` when the block ends normally.

    Files and folders created meanwhile are owner-only. On an error the
    staging folder is removed and ``out`` is left as it was."""
    with private_umask():
        staging = staging_folder(out)
        try:
            yield staging
            publish_run(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already when published


def staging_folder(out: Path | str) -> Path:
    """A fresh owner-only folder beside ``out`` to write a run into; stale ones are removed.

    A staging folder is stale when the process that made it is gone (a run
    killed before it could rename its folder)."""
    out = Path(out)
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    prefix = f".{out.name}.partial-"
    for old in out.parent.glob(f"{prefix}*"):
        if not _process_alive(old.name[len(prefix) :].split("-")[0]):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))


def publish_run(staging: Path, out: Path | str) -> Path:
    """Put a complete run folder in place of ``out`` (two renames; the old one is removed)."""
    out = Path(out)
    retired = None
    if out.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-old-",
                                        dir=out.parent))  # fmt: skip
        os.rename(out, retired / out.name)
    os.rename(staging, out)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return out


def _process_alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
