"""Write a generated world as a drop in the record exchange format, and its truth beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.record_schema import TABLES_BY_NAME, Kind
from anomaly.synthetic.export_noise import NOISE_COLUMNS, add_export_noise
from anomaly.synthetic.world import World


def spec_text(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cells as the spec writes them: ISO dates and timestamps, true/false, empty for null."""
    out = pd.DataFrame(index=frame.index)
    for column in TABLES_BY_NAME[table].columns:
        values = frame[column.name]
        if column.kind == Kind.DATE:
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif column.kind == Kind.TIMESTAMP:
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif column.kind == Kind.BOOL:
            text = values.astype("boolean").map({True: "true", False: "false"})
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
) -> int:
    """One CSV per table and a manifest into ``drop``; the labels, if asked, elsewhere.

    With ``noise`` > 0, that share of the event rows is broken the way real
    exports break and the broken rows are listed in ``noise_truth``. Returns
    the number of broken rows.
    """
    drop = Path(drop)
    drop.mkdir(parents=True, exist_ok=True)
    texts = {name: spec_text(frame, name) for name, frame in world.tables.items()}
    broken = pd.DataFrame(columns=NOISE_COLUMNS)
    if noise > 0:
        protected = {r for x in world.labels for r in x["records"].split(";") if r}
        rng = np.random.default_rng([world.seed, 3])
        texts, broken = add_export_noise(texts, noise, rng, protected)
    for name, text in texts.items():
        text.to_csv(drop / f"{name}.csv", index=False)
    if noise_truth is not None:
        Path(noise_truth).parent.mkdir(parents=True, exist_ok=True)
        broken.to_csv(noise_truth, index=False)
    manifest = {
        "extracted_at": world.extracted_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "registry": f"synthetic penal system, scale {world.scale.name}, seed {world.seed}",
    }
    (drop / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if labels is not None:
        labels = Path(labels)
        labels.parent.mkdir(parents=True, exist_ok=True)
        world.labels_frame().to_csv(labels, index=False)
    return len(broken)
