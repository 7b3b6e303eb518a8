"""Figures of the agency report, as PNG data URIs (matplotlib, no display needed).

Kept apart from scoring: plotting is only imported when a report is made.
Labels come from the data (ids, names), so matplotlib's mathtext is off: a
``$`` in an institution's name is a dollar sign, not the start of a formula.
"""

from __future__ import annotations

import base64
import io
import warnings

import pandas as pd

KEYS = {
    "visit_logs": "visit_id",
    "degree_assignments": "assignment_id",
    "condition_changes": "change_id",
    "transfers": "transfer_id",
    "disciplinary_events": "event_id",
}
TIMELINE_ROWS = [
    ("visit_logs", "started_at", "visits"),
    ("degree_assignments", "assigned_on", "degrees"),
    ("condition_changes", "changed_on", "conditions"),
    ("transfers", "departed_on", "transfers"),
    ("disciplinary_events", "occurred_on", "incentives / penalties"),
]


def png_uri(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a character the font lacks is drawn as a box, quietly
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False  # any text renders as written
    matplotlib.rcParams["text.usetex"] = False
    import matplotlib.pyplot as plt

    return plt


def case_timeline(
    tables: dict[str, pd.DataFrame], subject_type: str, subject_id: str, cited: set[str]
) -> str:
    """Visits, degrees, conditions, transfers and discipline of a case's subject on one axis.

    The subject's records (a convict's own, those a staff member decided or
    logged, or those of an institution) are grey; records the case cites red.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 2.6))
    for y, (table, date, _label) in enumerate(TIMELINE_ROWS):
        frame = tables[table]
        mine = frame[_belongs(frame, subject_type, subject_id)]
        hot = (table + ":" + mine[KEYS[table]].astype(str)).isin(cited)
        ax.scatter(mine.loc[~hot, date], [y] * int((~hot).sum()), s=18, c="#9aa5b1", marker="|")
        ax.scatter(mine.loc[hot, date], [y] * int(hot.sum()), s=60, c="#c0392b", marker="D")
    ax.set_yticks(range(len(TIMELINE_ROWS)), [r[2] for r in TIMELINE_ROWS])
    ax.set_ylim(-0.7, len(TIMELINE_ROWS) - 0.3)
    ax.grid(axis="x", alpha=0.3)
    noun = {"convict": "convict", "staff": "staff member", "facility": "institution",
            "person": "person"}[subject_type]  # fmt: skip
    ax.set_title(f"Records of {noun} {subject_id} (red: cited by the case)", fontsize=9)
    return png_uri(fig)


def _belongs(frame: pd.DataFrame, subject_type: str, subject_id: str) -> pd.Series:
    if subject_type == "convict":
        return frame["convict_id"].astype(str).eq(subject_id)
    if subject_type == "facility":
        columns = [c for c in ("facility_id", "to_facility_id", "from_facility_id") if c in frame]
    elif subject_type == "person":
        columns = [c for c in ("visitor_person_id", "person_id") if c in frame]
    else:
        columns = [c for c in ("decided_by", "logged_by") if c in frame]
    return frame[columns].astype(str).eq(subject_id).any(axis=1)


def flags_per_thousand(rates: pd.Series, title: str) -> str:
    """Horizontal bars: findings per 1,000 convicts, by institution or region."""
    plt = pyplot()
    top = rates.sort_values().tail(25)
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(top) + 1))
    ax.barh([str(i) for i in top.index], top.to_numpy(), color="#34495e")
    ax.set_xlabel("findings per 1,000 convicts")
    ax.set_title(title, fontsize=9)
    return png_uri(fig)


def rule_heat_map(counts: pd.DataFrame, title: str) -> str:
    """Institutions (rows) by rule (columns): number of findings, darker = more."""
    plt = pyplot()
    top = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:25]]
    fig, ax = plt.subplots(figsize=(0.6 * len(top.columns) + 3, 0.25 * len(top) + 1.5))
    image = ax.imshow(top.to_numpy(), aspect="auto", cmap="Reds")
    ax.set_xticks(range(len(top.columns)), top.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(top.index)), [str(i) for i in top.index], fontsize=7)
    fig.colorbar(image, ax=ax, label="findings")
    ax.set_title(title, fontsize=9)
    return png_uri(fig)
