"""The rule book: shipped defaults, user overrides, clear errors."""

from __future__ import annotations

import pytest

from anomaly.rulebook import RulebookError, load_rulebook

TOLERANCE_OVERRIDE = (
    "rules:\n"
    "  REC-LATE:\n"
    "    backdating_tolerance_days: {value: 14, reason: 'entries typed within two weeks',\n"
    "                                set_by: akhmetova, set_on: 2026-11-30}\n"
)


def test_defaults_follow_rules_md():
    rb = load_rulebook()
    assert rb.quota("extreme", "regular") == (3, 1)  # PEC art. 140 p.2
    assert rb.quota("mixed", "regular") == (3, 0)  # PEC art. 136 p.4
    assert rb.quota("minimum", "preferential") is None
    assert rb.periods("maximum").regular_to_light == 9
    assert "other" not in rb.entitled_relations


def test_assumed_values_are_listed_with_their_source():
    assumed = {key for key, _, _ in load_rulebook().assumed_values()}
    assert {
        "degrees.negative_2_min_penalties",
        "rules.REC-LATE.backdating_tolerance_days",
    } <= assumed
    assert "degrees.positive_1_clean_months" not in assumed


def test_a_user_file_overrides_only_what_it_names(tmp_path):
    override = tmp_path / "mine.yaml"
    override.write_text("visits:\n  quotas:\n    medium: {regular: [7, 5]}\n" + TOLERANCE_OVERRIDE)
    rb = load_rulebook(override)
    assert rb.quota("medium", "regular") == (7, 5)
    assert rb.quota("medium", "light") == (8, 6)  # merged, not replaced
    assert rb.quota("maximum", "regular") == (4, 3)
    assert rb.rules["REC-LATE"].backdating_tolerance_days.value == 14


def test_an_override_carries_its_own_provenance_not_the_laws(tmp_path):
    """Issue 14: {value: 14} once kept the law's source and assumed mark."""
    override = tmp_path / "mine.yaml"
    override.write_text(TOLERANCE_OVERRIDE)
    [(key, param)] = load_rulebook(override).overridden_values()
    assert key == "rules.REC-LATE.backdating_tolerance_days"
    assert param.source == "office override" and not param.assumed
    assert (param.reason, param.set_by, str(param.set_on)) == (
        "entries typed within two weeks",
        "akhmetova",
        "2026-11-30",
    )
    assert param.replaced.startswith("30 (")
    assert key not in {k for k, _, _ in load_rulebook(override).assumed_values()}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("rules:\n  REC-LATE:\n    backdating_tolerance_days: 14\n",
         "backdating_tolerance_days: an override needs a reason"),
        ("visits:\n  long_visit_days: {value: thirty, reason: 'typed in words'}\n",
         "visits.long_visit_days.value"),
        ("visits:\n  quotas:\n    medium: {regular: [7]}\n", r"quotas.medium.regular"),
        ("degrees:\n  positive_one_clean_months: {value: 2, reason: x}\n",
         "positive_one_clean_months"),
        ("rules:\n  VIS-KIN:\n    kin_registration_lead_days: {value: thirty, reason: x}\n",
         "rules.VIS-KIN is not valid: kin_registration_lead_days.value"),
        ("rules:\n  VIS-KIN:\n    lead_dayz: {value: 3, reason: x}\n", "lead_dayz"),
    ],
    ids=["no reason", "wrong type", "malformed quota", "unknown key", "a rule's value typed",
         "a rule's unknown key"],
)  # fmt: skip
def test_a_bad_override_is_refused_by_name(tmp_path, text, named):
    override = tmp_path / "mine.yaml"
    override.write_text(text)
    with pytest.raises(RulebookError, match=named):
        load_rulebook(override)


def test_the_rulebook_command_prints_every_value_with_its_provenance(tmp_path):
    from typer.testing import CliRunner

    from anomaly.cli import app

    override = tmp_path / "mine.yaml"
    override.write_text(TOLERANCE_OVERRIDE)
    printed = CliRunner().invoke(app, ["rulebook", "--rules", str(override)])
    assert printed.exit_code == 0, printed.output
    keys = [line.split(" = ")[0] for line in printed.output.splitlines() if " = " in line]
    assert keys == [key for key, _ in load_rulebook(override).params()]
    assert (
        "rules.REC-LATE.backdating_tolerance_days = 14 (set by akhmetova on 2026-11-30: "
        "entries typed within two weeks)\n    office override"
    ) in printed.output
    assert "rules.VIS-KIN.kin_registration_lead_days = 30 (assumed)" in printed.output
