"""Figures of the agency report, as PNG data URIs (matplotlib, no display needed).

Kept apart from scoring: plotting is only imported when a report is made.
"""

from __future__ import annotations

import base64
import io

import pandas as pd

TIMELINE_ROWS = [
    ("visit_logs", "started_at", "visits"),
    ("degree_assignments", "assigned_on", "degrees"),
    ("condition_changes", "changed_on", "conditions"),
    ("transfers", "departed_on", "transfers"),
    ("disciplinary_events", "occurred_on", "incentives / penalties"),
]


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def case_timeline(tables: dict[str, pd.DataFrame], convict_id: str, flagged: set[str]) -> str:
    """Visits, degrees, conditions, transfers and discipline of one convict on one time axis.

    Records cited by the case are drawn in red, the others in grey.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 2.6))
    keys = {"visit_logs": "visit_id", "degree_assignments": "assignment_id",
            "condition_changes": "change_id", "transfers": "transfer_id",
            "disciplinary_events": "event_id"}  # fmt: skip
    for y, (table, date, _label) in enumerate(TIMELINE_ROWS):
        frame = tables[table]
        mine = frame[frame["convict_id"].astype(str).eq(convict_id)]
        refs = table + ":" + mine[keys[table]].astype(str)
        hot = refs.isin(flagged)
        ax.scatter(mine.loc[~hot, date], [y] * int((~hot).sum()), s=18, c="#9aa5b1", marker="|")
        ax.scatter(mine.loc[hot, date], [y] * int(hot.sum()), s=60, c="#c0392b", marker="D")
    ax.set_yticks(range(len(TIMELINE_ROWS)), [r[2] for r in TIMELINE_ROWS])
    ax.set_ylim(-0.7, len(TIMELINE_ROWS) - 0.3)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Records of convict {convict_id} (red: cited by the case)", fontsize=9)
    return _png(fig)


def flags_per_thousand(rates: pd.Series, title: str) -> str:
    """Horizontal bars: findings per 1,000 convicts, by institution or region."""
    plt = _pyplot()
    top = rates.sort_values().tail(25)
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(top) + 1))
    ax.barh([str(i) for i in top.index], top.to_numpy(), color="#34495e")
    ax.set_xlabel("findings per 1,000 convicts")
    ax.set_title(title, fontsize=9)
    return _png(fig)


def rule_heat_map(counts: pd.DataFrame, title: str) -> str:
    """Institutions (rows) by rule (columns): number of findings, darker = more."""
    plt = _pyplot()
    top = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:25]]
    fig, ax = plt.subplots(figsize=(0.6 * len(top.columns) + 3, 0.25 * len(top) + 1.5))
    image = ax.imshow(top.to_numpy(), aspect="auto", cmap="Reds")
    ax.set_xticks(range(len(top.columns)), top.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(top.index)), [str(i) for i in top.index], fontsize=7)
    fig.colorbar(image, ax=ax, label="findings")
    ax.set_title(title, fontsize=9)
    return _png(fig)
