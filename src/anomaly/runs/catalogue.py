"""Every file of a run folder, named once (as Kedro's ``catalog.yml``).

Modules ask the catalogue for a path and never spell a file name::

    OUT/validation_summary.json   counts, extraction time, missing optional tables
    OUT/validation_summary.txt    the same for a person
    OUT/accepted/<table>.parquet  the rows the data contracts accepted
    OUT/quarantine/<table>.csv    every rejected row as it came in, with its reasons
    OUT/validation_findings.csv   findings on kept rows, the nulled cells among them
    OUT/cases.csv, cases.parquet  ranked cases
    OUT/flags.csv                 one row per finding
    OUT/watchlist.csv             subjects below the case threshold
    OUT/rule_outcomes.csv         per rule: ran or not, flags, health
    OUT/insufficient_data.csv     subjects a rule could not judge
    OUT/learned_weights.csv       what the analysts' verdicts taught, per rule and institution
    OUT/review_queue.csv          the cases proposed for review next, each with why
    OUT/stays.parquet             placements, shared by the partitions of a scale-out run
    OUT/raised_cases.csv          the cases raised, with their status in the case store
    OUT/quiet_cases.csv           dismissed cases found again without new evidence
    OUT/report.html               the agency report
    OUT/export/cases.csv, flags.csv   the pseudonymised export (what may leave the office)
    OUT/pseudonym_map.csv         the way back from pseudonyms, kept by the office
    OUT/evaluation.csv            cases scored against a synthetic world's truth
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFiles:
    """The paths of one run folder."""

    root: Path

    @classmethod
    def of(cls, out: Path | str) -> RunFiles:
        return cls(Path(out))

    @property
    def summary_json(self) -> Path:
        return self.root / "validation_summary.json"

    @property
    def summary_text(self) -> Path:
        return self.root / "validation_summary.txt"

    @property
    def accepted(self) -> Path:
        return self.root / "accepted"

    def accepted_table(self, table: str) -> Path:
        return self.accepted / f"{table}.parquet"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def quarantine_table(self, table: str) -> Path:
        return self.quarantine / f"{table}.csv"

    @property
    def validation_findings(self) -> Path:
        return self.root / "validation_findings.csv"

    @property
    def cases(self) -> Path:
        return self.root / "cases.csv"

    @property
    def cases_parquet(self) -> Path:
        return self.root / "cases.parquet"

    @property
    def flags(self) -> Path:
        return self.root / "flags.csv"

    @property
    def watchlist(self) -> Path:
        return self.root / "watchlist.csv"

    @property
    def rule_outcomes(self) -> Path:
        return self.root / "rule_outcomes.csv"

    @property
    def insufficient(self) -> Path:
        return self.root / "insufficient_data.csv"

    @property
    def learned_weights(self) -> Path:
        return self.root / "learned_weights.csv"

    @property
    def review_queue(self) -> Path:
        return self.root / "review_queue.csv"

    @property
    def stays(self) -> Path:
        return self.root / "stays.parquet"

    @property
    def raised_cases(self) -> Path:
        return self.root / "raised_cases.csv"

    @property
    def quiet_cases(self) -> Path:
        return self.root / "quiet_cases.csv"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def export(self) -> Path:
        return self.root / "export"

    @property
    def export_cases(self) -> Path:
        return self.export / "cases.csv"

    @property
    def export_flags(self) -> Path:
        return self.export / "flags.csv"

    @property
    def pseudonym_map(self) -> Path:
        return self.root / "pseudonym_map.csv"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.csv"
