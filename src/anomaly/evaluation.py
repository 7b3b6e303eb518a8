"""Score a run's cases against the truth of a synthetic world.

A case catches a planted instance when its subject is the instance's subject
or its evidence shares at least one record with the instance. Per scheme:
instances, caught in the top K cases, caught anywhere, recall in the top K.
Overall: precision in the top K (the share of the top K cases that catch at
least one planted instance), and the legitimate oddities (hard negatives)
whose records some case or flag cites.

K is twice the number of planted instances unless given.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TABLE_COLUMNS = ["scheme", "instances", "caught_top_k", "caught_anywhere", "recall_top_k"]


@dataclass(frozen=True)
class Evaluation:
    table: pd.DataFrame  # one row per scheme, then a total row
    k: int
    precision_at_k: float
    hard_negatives: int
    hard_negatives_flagged: int
    noise: NoiseOutcome | None = None

    @property
    def macro_recall_top_k(self) -> float:
        """Mean over schemes of the recall in the top K: a scheme of 2 instances weighs as
        much as one of 25, so a kind of breach the ranking buries shows."""
        per_scheme = self.table[self.table["scheme"] != "ALL"]["recall_top_k"]
        return float(per_scheme.mean()) if len(per_scheme) else 0.0

    @property
    def hard_negative_share(self) -> float:
        return self.hard_negatives_flagged / self.hard_negatives if self.hard_negatives else 0.0

    def text(self) -> str:
        lines = [self.table.to_string(index=False), ""]
        lines.append(f"macro recall@{self.k}: {self.macro_recall_top_k:.3f}")
        lines.append(f"precision@{self.k}: {self.precision_at_k:.3f}")
        share = self.hard_negative_share
        lines.append(
            f"hard negatives flagged: {self.hard_negatives_flagged} of {self.hard_negatives}"
            f" ({share:.1%})"
        )
        if self.noise is not None:
            lines.append(self.noise.text())
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class NoiseOutcome:
    """What validation made of the rows that export noise broke, and of the clean ones."""

    rows: int  # broken rows listed in the noise truth
    quarantined: int  # of them, quarantined
    reported: int  # of them, kept with a finding on their line (a cell nulled, say)
    clean_quarantined: int  # quarantined rows that the noise did not break

    @property
    def missed(self) -> int:
        return self.rows - self.quarantined - self.reported

    def text(self) -> str:
        return (
            f"noise rows: {self.rows}, quarantined {self.quarantined}, kept and reported "
            f"{self.reported}, missed {self.missed}; clean rows quarantined: "
            f"{self.clean_quarantined}"
        )


def noise_outcome(
    noise: pd.DataFrame, quarantine: dict[str, pd.DataFrame], findings: pd.DataFrame
) -> NoiseOutcome:
    """Match broken rows (``anomaly synth --noise-truth``) with a run's quarantine and findings.

    Rows are matched on table and source line. A quarantined row that the
    noise did not break is a clean row lost: it should not happen.
    """
    broken = set(zip(noise["table"].astype(str), noise["source_line"].astype(int), strict=True))
    held = {
        (table, int(line))
        for table, frame in quarantine.items()
        if not frame.empty
        for line in pd.to_numeric(frame["source_line"], errors="coerce").dropna()
    }
    found = set(
        zip(findings["table"].astype(str), findings["source_line"].astype(int), strict=True)
    )
    return NoiseOutcome(
        rows=len(broken),
        quarantined=len(broken & held),
        reported=len((broken - held) & found),
        clean_quarantined=len(held - broken),
    )


def evaluate(
    cases: pd.DataFrame,
    labels: pd.DataFrame,
    flags: pd.DataFrame | None = None,
    k: int | None = None,
) -> Evaluation:
    """Compare ranked cases (``cases.csv``) and flags (``flags.csv``) with a world's labels.

    A hard negative counts as flagged when a case's evidence or a flag row
    names one of its records. A hard negative is a legitimate record, not a
    person: a convict with a real scheme on file may also have a legitimate
    medical transfer, and the case about the scheme does not flag the
    transfer. Only a hard negative that cites no record is matched by subject.
    """
    schemes = labels[labels["kind"] == "scheme"].reset_index(drop=True)
    negatives = labels[labels["kind"] == "hard_negative"].reset_index(drop=True)
    k = k or 2 * len(schemes)
    ranked = cases.sort_values("rank").reset_index(drop=True)
    hits = _hits(ranked, schemes)  # (case position, instance position)
    top = hits[hits["case"] < k]
    rows = []
    for code, group in schemes.groupby("code", sort=True):
        wanted = set(group.index)
        anywhere = len(wanted & set(hits["instance"]))
        in_top = len(wanted & set(top["instance"]))
        rows.append((code, len(group), in_top, anywhere, in_top / len(group)))
    n = len(schemes)
    caught_top = top["instance"].nunique()
    rows.append(("ALL", n, caught_top, hits["instance"].nunique(), caught_top / n if n else 0.0))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    considered = min(k, len(ranked))
    precision = top["case"].nunique() / considered if considered else 0.0
    with_records = negatives["records"].fillna("").ne("")
    flagged = set(_hits(ranked, negatives, by_subject=~with_records)["instance"])
    if flags is not None and not flags.empty:
        flagged_records = set(flags["table"].astype(str) + ":" + flags["record_id"].astype(str))
        records = _explode(negatives, "records", "instance")
        flagged |= set(records.loc[records["record"].isin(flagged_records), "instance"])
    return Evaluation(table, k, precision, len(negatives), len(flagged))


def precision_recall_by_rank(cases: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of the top k cases, for every k (the precision-recall curve).

    Precision: share of the top k cases that catch a planted instance. Recall:
    share of planted instances caught by the top k.
    """
    schemes = labels[labels["kind"] == "scheme"].reset_index(drop=True)
    ranked = cases.sort_values("rank").reset_index(drop=True)
    hits = _hits(ranked, schemes)
    k = pd.RangeIndex(1, len(ranked) + 1)
    catching = ranked.index.isin(hits["case"]).cumsum()
    first_catch = hits.groupby("instance")["case"].min()
    caught = first_catch.value_counts().reindex(range(len(ranked)), fill_value=0).cumsum()
    return pd.DataFrame(
        {
            "k": k,
            "risk_score": ranked["risk_score"].to_numpy(),
            "precision": catching / k.to_numpy(),
            "recall": caught.to_numpy() / max(len(schemes), 1),
        }
    )


def catching(cases: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Which planted instances each case catches: (case_id, instance_id) pairs."""
    schemes = labels[labels["kind"] == "scheme"].reset_index(drop=True)
    ranked = cases.reset_index(drop=True)
    hits = _hits(ranked, schemes)
    return pd.DataFrame(
        {
            "case_id": ranked["case_id"].to_numpy()[hits["case"].to_numpy(dtype=int)],
            "instance_id": schemes["instance_id"].to_numpy()[hits["instance"].to_numpy(dtype=int)],
        }
    )


def _hits(
    cases: pd.DataFrame, instances: pd.DataFrame, by_subject: pd.Series | None = None
) -> pd.DataFrame:
    """Pairs (case position, instance position) where the case catches the instance.

    ``by_subject`` limits subject matching to some instances (default: all).
    """
    if cases.empty or instances.empty:
        return pd.DataFrame({"case": pd.Series(dtype=int), "instance": pd.Series(dtype=int)})
    subjects = instances if by_subject is None else instances[by_subject]
    subject = subjects[["subject_type", "subject_id"]].reset_index(names="instance")
    by_subject = (
        cases[["subject_type", "subject_id"]]
        .reset_index(names="case")
        .merge(subject, on=["subject_type", "subject_id"])
    )
    evidence = _explode(cases, "evidence", "case")
    records = _explode(instances, "records", "instance")
    by_record = evidence.merge(records, on="record")[["case", "instance"]]
    both = pd.concat([by_subject[["case", "instance"]], by_record], ignore_index=True)
    return both.drop_duplicates().reset_index(drop=True)


def _explode(frame: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    values = frame[column].fillna("").astype(str).str.split(";")
    out = values.explode().rename("record").rename_axis(name).reset_index()
    return out[out["record"] != ""]
