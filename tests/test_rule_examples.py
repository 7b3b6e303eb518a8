"""Every rule's worked example, run as its page shows it, and one contract for every rule.

A rule is one module (``rules/<code>.py``), one page (``docs/rules/<CODE>.md``)
and one example (``docs/rules/examples/<CODE>.yaml``): rows added to the base
registry that must give exactly the findings listed, and rows at the boundary
that must give none.
"""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.outliers.detectors import DETECTORS
from anomaly.rulebook import load_rulebook
from anomaly.rules import RULES, RULES_BY_CODE, discover_rules
from anomaly.rules.rule import FLAG_COLUMNS, Findings
from anomaly.scoring.rule_engine import run_rules
from anomaly.shipped_files import shipped_folder
from support.literal_registry import EXAMPLES, literal_snapshot, rule_example

CODES = sorted(RULES_BY_CODE)
PAGES = shipped_folder("rule_pages")


def _findings(code: str, part: str) -> list[dict[str, str]]:
    flags = RULES_BY_CODE[code].check(literal_snapshot(rule_example(code)[part]["add"])).flags
    return flags[["table", "record_id", "explanation"]].to_dict("records")


@pytest.mark.parametrize("code", CODES)
def test_the_worked_example_gives_exactly_its_findings(code):
    example = rule_example(code)
    assert example["rule"] == code
    assert _findings(code, "flags") == example["flags"]["findings"]
    assert example["flags"]["findings"], f"{code}: an example that flags nothing shows nothing"


@pytest.mark.parametrize("code", CODES)
def test_the_boundary_of_the_example_is_clear(code):
    assert _findings(code, "clear") == rule_example(code)["clear"]["findings"] == []


def test_the_base_registry_flags_nothing():
    run = run_rules(literal_snapshot())
    assert run.flags.empty, run.flags["explanation"].tolist()


def test_every_rule_has_its_example():
    examples = {p.stem for p in EXAMPLES.glob("*.yaml")} - {"base_registry"}
    assert examples == set(CODES)


def test_a_module_is_a_rule_when_it_holds_one_and_only_under_its_code(tmp_path, monkeypatch):
    package = tmp_path / "office_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    borrowed = "from anomaly.rules import RULES_BY_CODE\nRULE = RULES_BY_CODE['VIS-KIN']\n"
    (package / "vis_kin.py").write_text(borrowed)
    (package / "helpers.py").write_text("LIMIT = 3\n")  # no RULE: what rules are built from
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover_rules([str(package)], "office_rules")
    assert [rule.code for rule in found] == ["VIS-KIN"]
    (package / "kinship_check.py").write_text(borrowed)
    with pytest.raises(ImportError, match="kinship_check.py holds VIS-KIN: name it vis_kin.py"):
        discover_rules([str(package)], "office_rules")


SECTIONS = ["What it checks", "Why it is a red flag", "Output", "Configuration",
            "Lawful explanations", "Exclusions", "Assumptions", "Worked example"]  # fmt: skip


def test_every_rule_and_detector_has_a_page_with_every_section():
    codes = set(CODES) | {d.code for d in DETECTORS}
    assert {p.stem for p in PAGES.glob("*.md")} - {"README"} == codes
    for code in codes:
        text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
        assert text.startswith(f"# {code}: ")
        for section in SECTIONS:
            assert f"\n## {section}\n" in text, (code, section)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_contract(rule):
    """Every rule: metadata, its rule-book section, the flag shape, determinism."""
    assert rule.code and rule.statement.endswith(".") and rule.legal_basis
    assert rule.subject in {"convict", "staff", "facility", "person"}
    rulebook = load_rulebook()
    assert isinstance(rulebook.rules[rule.code], rule.parameters)
    assert 0 < rulebook.strength(rule.code) <= 1
    drop = rule_example(rule.code)["flags"]["add"]
    first, second = rule.check(literal_snapshot(drop)), rule.check(literal_snapshot(drop))
    assert isinstance(first, Findings)
    assert list(first.flags.columns) == FLAG_COLUMNS
    pd.testing.assert_frame_equal(first.flags, second.flags)
    assert first.flags["score"].between(0, 1).all()
    assert first.flags["explanation"].str.len().gt(10).all()


@pytest.mark.parametrize("code", CODES)
def test_the_page_points_to_its_example(code):
    page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert f"examples/{code}.yaml" in page
