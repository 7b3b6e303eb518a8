"""Write a generated world as a drop in the record exchange format, and its truth beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, Kind
from anomaly.synthetic.export_noise import NOISE_COLUMNS, add_export_noise
from anomaly.synthetic.world import World

SUBJECT_TABLES = {"convict": "convicts", "staff": "staff"}


@dataclass(frozen=True)
class ExportFormat:
    """How a registry writes its files: cells, separator, encoding."""

    date: str
    timestamp: str
    booleans: tuple[str, str]  # true, false
    decimal: str
    separator: str
    encoding: str


EXPORT_FORMATS = {
    "spec": ExportFormat("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", ("true", "false"), ".", ",", "utf-8"),
    # older registry software (records.md, Delivery): Windows-1251, ';', day-first dates
    "legacy": ExportFormat("%d.%m.%Y", "%d.%m.%Y %H:%M:%S", ("1", "0"), ",", ";", "cp1251"),
}


def spec_text(frame: pd.DataFrame, table: str, style: str = "spec") -> pd.DataFrame:
    """Cells as a registry writes them (the spec's ISO dates by default), empty for null."""
    form = EXPORT_FORMATS[style]
    out = pd.DataFrame(index=frame.index)
    for column in TABLES_BY_NAME[table].columns:
        values = frame[column.name]
        if column.kind == Kind.DATE:
            text = pd.to_datetime(values).dt.strftime(form.date)
        elif column.kind == Kind.TIMESTAMP:
            text = pd.to_datetime(values).dt.strftime(form.timestamp)
        elif column.kind == Kind.BOOL:
            text = values.astype("boolean").map({True: form.booleans[0], False: form.booleans[1]})
        elif column.kind == Kind.FLOAT:
            text = values.astype("string").str.replace(".", form.decimal, regex=False)
        else:
            text = values.astype("string")
        out[column.name] = text.astype(object).where(values.notna(), None)
    return out


def write_world(
    world: World,
    drop: Path | str,
    labels: Path | str | None = None,
    noise: float = 0.0,
    noise_truth: Path | str | None = None,
    style: str | None = None,
) -> int:
    """One CSV per table and a manifest into ``drop``; the labels, if asked, elsewhere.

    With ``noise`` > 0, that share of the event rows is broken the way real
    exports break and the broken rows are listed in ``noise_truth``. ``style``
    is the export format: ``spec`` or ``legacy`` (``EXPORT_FORMATS``), by default the
    world's dialect's. Returns the number of broken rows.
    """
    style = style or world.dialect.export_format
    drop = Path(drop)
    drop.mkdir(parents=True, exist_ok=True)
    form = EXPORT_FORMATS[style]
    texts = {name: spec_text(frame, name, style) for name, frame in world.tables.items()}
    broken = pd.DataFrame(columns=NOISE_COLUMNS)
    if noise > 0:
        protected = {r for x in world.labels for r in x["records"].split(";") if r}
        protected |= {f"{SUBJECT_TABLES[x['subject_type']]}:{x['subject_id']}" for x in world.labels
                      if x["subject_type"] in SUBJECT_TABLES}  # fmt: skip
        rng = np.random.default_rng([world.seed, 3])
        texts, broken = add_export_noise(texts, noise, rng, protected)
    for name, text in texts.items():
        text.to_csv(drop / f"{name}.csv", index=False, sep=form.separator, encoding=form.encoding)
    if noise_truth is not None:
        Path(noise_truth).parent.mkdir(parents=True, exist_ok=True)
        broken.to_csv(noise_truth, index=False)
    manifest = {
        "extracted_at": world.extracted_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "registry": f"synthetic penal system, scale {world.scale.name}, seed {world.seed},"
        f" dialect {world.dialect.name}",
    }
    (drop / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if labels is not None:
        labels = Path(labels)
        labels.parent.mkdir(parents=True, exist_ok=True)
        world.labels_frame().to_csv(labels, index=False)
    return len(broken)
