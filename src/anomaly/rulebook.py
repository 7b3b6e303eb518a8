"""The legal values rules are checked against, typed on load, with their sources.

The defaults ship as ``rulebook.yaml`` beside this module. A user file with
the same structure overrides any subset of them; the merged result is
validated and an error names the offending key. A value that only one rule
reads sits in that rule's own section (``rules: {CODE: ...}``), whose
defaults the rule's module declares (``RuleParameters``).

Every value is typed: a count is an integer, a share a number, a list a list
(``"thirty"`` is refused). An office's override of a value says why::

    rules:
      REC-LATE:
        backdating_tolerance_days: {value: 14, reason: "our office types entries within two weeks",
                                    set_by: akhmetova, set_on: 2026-11-30}

and the value in force then carries ``source: office override``, the reason,
who set it and when, and what it replaced; the report lists it. An override
without a reason is refused. Tables (quotas, periods by level, the evidence
class of each rule) are laid over key by key.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from anomaly.known_failures import KnownFailure

DEFAULT_RULEBOOK = Path(__file__).with_name("rulebook.yaml")
LEVELS = ("minimum", "medium", "maximum", "extreme", "complete", "mixed", "juvenile")
CONDITIONS = ("strict", "regular", "light", "preferential")


class RulebookError(KnownFailure, ValueError):
    """A rule book file that cannot be read or does not validate."""


OFFICE_OVERRIDE = "office override"
T = TypeVar("T")


class Param(BaseModel, Generic[T]):
    """One value with its source and whether it is assumed; an override also says why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    value: T
    source: str
    assumed: bool = False
    reason: str | None = None  # an office override: why, who, when, and what it replaced
    set_by: str | None = None
    set_on: dt.date | None = None
    replaced: str | None = None


class ConditionPeriods(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    regular_to_light: int | None
    light_to_preferential: int | None
    preferential_before_release: int | None
    strict_to_regular: int | None


class Degrees(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    positive_1_clean_months: Param[int]
    positive_2_months_after_1: Param[int]
    positive_3_months_after_2: Param[int]
    negative_lookback_months: Param[int]
    negative_2_min_penalties: Param[int]


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    by_level: dict[str, ConditionPeriods]
    complete_light_counts_sentence: Param[bool]
    juvenile_strict_to_regular: Param[int]
    mixed_as_medium: Param[bool]
    light_requires_work: Param[bool]

    @field_validator("by_level")
    @classmethod
    def _every_level(cls, value: dict[str, ConditionPeriods]) -> dict[str, ConditionPeriods]:
        missing = set(LEVELS) - set(value)
        if missing:
            raise ValueError(f"missing institution levels: {sorted(missing)}")
        return value


class Visits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    short_visit_hours: Param[int]
    long_visit_days: Param[int]
    long_visit_days_before_2015: Param[int]
    entitled_relations: Param[list[str]]
    quotas: dict[str, Any]

    @field_validator("quotas")
    @classmethod
    def _quota_table(cls, value: dict[str, Any]) -> dict[str, Any]:
        for level in LEVELS:
            row = value.get(level)
            if not isinstance(row, dict) or set(row) != set(CONDITIONS):
                raise ValueError(f"quotas.{level} must give {', '.join(CONDITIONS)}")
            for condition, pair in row.items():
                ok = pair is None or (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(n, int) and n >= 0 for n in pair)
                )
                if not ok:
                    raise ValueError(f"quotas.{level}.{condition} must be [short, long] or null")
        return value


class InstitutionRoles(BaseModel):
    """How to read an institution's role from its records (``registry.institution_roles``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    hospital_medical_share: Param[float]
    hospital_median_stay_days: Param[int]
    hospital_min_arrivals: Param[int]
    womens_share: Param[float]


class Scoring(BaseModel):
    """How findings become a case's risk score (docs/scoring.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    evidence_classes: dict[str, Param[float]]
    review_period_months: Param[int]
    history_half_life_years: Param[float]
    history_floor: Param[float]
    statistical_weight: Param[dict[str, float]]
    statistical_threshold: Param[dict[str, float]]
    incomplete_evidence_factor: Param[float]
    case_threshold: Param[float]

    @field_validator("evidence_classes")
    @classmethod
    def _strength_in_range(cls, value: dict[str, Param[float]]) -> dict[str, Param[float]]:
        for name, strength in value.items():
            if not 0 < strength.value <= 1:
                raise ValueError(
                    f"evidence_classes.{name} must lie in (0, 1], not {strength.value}"
                )
        return value


class RuleHealth(BaseModel):
    """When a rule's firing is damped for a run (``scoring.rule_health``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    expected_per_1000: Param[float]
    over_firing_factor: Param[float]
    even_share: Param[float]
    min_institution_records: Param[int]
    damping_floor: Param[float]


class Outliers(BaseModel):
    """How the peer-group detectors work (``outliers.ensemble``, ``outliers.detectors``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    min_peers: Param[int]
    excess_mads: Param[float]
    seed: Param[int]
    forest_trees: Param[int]
    cited_staff_entries: Param[int]


class Learning(BaseModel):
    """How analysts' verdicts re-weigh the findings (``scoring.verdict_learning``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    rule_prior_verdicts: Param[float]
    institution_prior_verdicts: Param[float]
    ssdo_alpha: Param[float]
    ssdo_neighbours: Param[int]


CONTRADICTION = Param[str](
    value="contradiction",
    source="docs/scoring.md: the records contradict the rule book or each other",
)


class RuleParameters(BaseModel):
    """One rule's own section of the rule book (``rules: {CODE: ...}``).

    A rule module that reads values no other rule reads declares a subclass
    with their defaults and sources; the shipped defaults live there, beside
    the code that reads them. ``evidence`` names the evidence class of the
    rule's findings (``scoring.evidence_classes``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    evidence: Param[str] = CONTRADICTION


R = TypeVar("R", bound=RuleParameters)


class Rulebook(BaseModel):
    """Every legal value in force for a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    degrees: Degrees
    conditions: Conditions
    visits: Visits
    institution_roles: InstitutionRoles
    rule_health: RuleHealth
    scoring: Scoring
    outliers: Outliers
    learning: Learning
    rules: dict[str, SerializeAsAny[RuleParameters]]

    @model_validator(mode="after")
    def _known_evidence_classes(self) -> Rulebook:
        for code, section in self.rules.items():
            if section.evidence.value not in self.scoring.evidence_classes:
                raise ValueError(
                    f"rules.{code}.evidence: unknown evidence class {section.evidence.value!r}"
                )
        return self

    def rule(self, code: str, model: type[R]) -> R:
        """The section of rule ``code``, as the model its module declares."""
        section = self.rules[code]
        if not isinstance(section, model):
            raise TypeError(f"rules.{code} is a {type(section).__name__}, not a {model.__name__}")
        return section

    def strength(self, code: str) -> float:
        """What one finding of rule ``code`` proves on its own, before its severity."""
        if code not in self.rules:
            raise RulebookError(f"rules: no section for rule {code}")
        return float(self.scoring.evidence_classes[self.rules[code].evidence.value].value)

    def quota(self, level: str, condition: str) -> tuple[int, int] | None:
        """(short, long) visits per calendar year, or None where the condition does not exist."""
        pair = self.visits.quotas[level][condition]
        return None if pair is None else (pair[0], pair[1])

    def periods(self, level: str) -> ConditionPeriods:
        return self.conditions.by_level[level]

    @cached_property
    def entitled_relations(self) -> frozenset[str]:
        return frozenset(self.visits.entitled_relations.value)

    def assumed_values(self) -> list[tuple[str, Any, str]]:
        """(key, value, source) of every value marked assumed, for the report."""
        return [(key, p.value, p.source) for key, p in self.params() if p.assumed]

    def overridden_values(self) -> list[tuple[str, Param]]:
        """(key, value in force) of every value an office file overrode, for the report."""
        return [(key, p) for key, p in self.params() if p.source == OFFICE_OVERRIDE]

    def params(self) -> list[tuple[str, Param]]:
        """Every valued parameter, with its dotted key."""
        found = []
        for section, content in self:
            if section == "rules":
                continue
            for key, item in content:
                if isinstance(item, Param):
                    found.append((f"{section}.{key}", item))
        for code, rule in self.rules.items():
            found.extend((f"rules.{code}.{key}", item) for key, item in rule)
        for name, strength in self.scoring.evidence_classes.items():
            found.append((f"scoring.evidence_classes.{name}", strength))
        return found


def load_rulebook(override: Path | str | None = None) -> Rulebook:
    """The shipped rule book, with a user file's values laid over it.

    Each rule's section starts from the defaults its module declares
    (``Rule.parameters``) and takes the user file's ``rules: {CODE: ...}``.
    """
    data = _read(DEFAULT_RULEBOOK)
    given = _read(Path(override)) if override is not None else {}
    where = f"{override}: " if override is not None else ""
    data = _merge(data, {k: v for k, v in given.items() if k != "rules"}, where)
    try:
        data["rules"] = _rule_sections(given.get("rules") or {}, where)
        return Rulebook.model_validate(data)
    except ValidationError as error:
        problems = _problems(error)
        raise RulebookError(f"rule book{_with(override)} is not valid: {problems}") from error


def _rule_sections(given: dict[str, Any], where: str) -> dict[str, RuleParameters]:
    from anomaly.rules import RULES_BY_CODE  # the rules declare their own sections

    if not isinstance(given, dict):
        raise RulebookError(f"{where}rules: expected a mapping of rule codes")
    unknown = set(given) - set(RULES_BY_CODE)
    if unknown:
        raise RulebookError(f"{where}rules: unknown rule code(s) {', '.join(sorted(unknown))}")
    sections = {}
    for code, rule in RULES_BY_CODE.items():
        shipped = rule.parameters().model_dump()
        merged = _merge(shipped, given.get(code) or {}, f"{where}rules.{code}.")
        try:
            sections[code] = rule.parameters.model_validate(merged)
        except ValidationError as error:
            raise RulebookError(f"{where}rules.{code} is not valid: {_problems(error)}") from error
    return sections


def _with(override: Path | str | None) -> str:
    return f" (with {override})" if override else ""


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())


def _read(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulebookError(f"{path}: cannot be read: {error}") from error
    if not isinstance(content, dict):
        raise RulebookError(f"{path}: expected a mapping at the top level")
    return content


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if _is_param(base.get(key)):
            merged[key] = _overridden(base[key], value, f"{where}{key}")
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged


def _is_param(item: object) -> bool:
    return isinstance(item, dict) and "value" in item and "source" in item


def _overridden(shipped: dict[str, Any], given: object, key: str) -> dict[str, Any]:
    """The value an office file sets, with why, who and when, and what it replaced."""
    given = given if isinstance(given, dict) and "value" in given else {"value": given}
    reason = str(given.get("reason") or "").strip()
    if not reason:
        raise RulebookError(
            f"{key}: an override needs a reason (value: ..., reason: ..., set_by: ..., "
            "set_on: YYYY-MM-DD)"
        )
    unknown = set(given) - {"value", "reason", "set_by", "set_on"}
    if unknown:
        raise RulebookError(f"{key}: unknown field(s) {', '.join(sorted(unknown))}")
    return {
        "value": given["value"], "source": OFFICE_OVERRIDE, "assumed": False, "reason": reason,
        "set_by": given.get("set_by"), "set_on": given.get("set_on"),
        "replaced": f"{shipped['value']!r} ({shipped['source']})",
    }  # fmt: skip
