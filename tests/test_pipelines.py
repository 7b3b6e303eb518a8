"""Flows run for real under a temporary Prefect server (issue 5)."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from pipelines.oversight_run import oversight_run
from pipelines.run_settings import RunSettings
from pipelines.validate_drop import validate_drop_flow

from anomaly.cases.store import CaseStore
from anomaly.office.files import read_csv

pytestmark = pytest.mark.slow  # flows under a Prefect server


def test_validate_flow_writes_quarantine_and_summary(prefect_server, drop, tmp_path):
    (drop / "regions.csv").open("a").write(",North,1,1\n")  # key missing
    summary = validate_drop_flow(drop, tmp_path / "out")
    assert summary["totals"]["quarantined"] == 1
    on_disk = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert on_disk["tables"]["regions"] == summary["tables"]["regions"]
    assert (tmp_path / "out" / "quarantine" / "regions.csv").read_text().count("\n") == 2


@pytest.fixture(scope="module")
def two_runs(prefect_server, tiny_world_drop, tmp_path_factory):
    """The whole flow twice on the same drop, a case dismissed in between."""
    root = tmp_path_factory.mktemp("runs")
    drops = root / "drops"
    shutil.copytree(tiny_world_drop, drops / "2025-01-05")
    first = oversight_run(RunSettings(drop=drops, out=root / "run1", run_date="2025-01-06"))
    cases = pd.read_csv(root / "run1" / "raised_cases.csv", dtype=str)
    dismissed = cases["case_id"].iloc[0]
    with CaseStore(root / "case_store.duckdb") as store:
        store.record_verdict(dismissed, "dismissed", "checked the paper file: entry was correct")
    second = oversight_run(RunSettings(drop=drops, out=root / "run2", run_date="2025-01-07"))
    return root, first, second, dismissed


def test_the_flow_writes_the_outputs_and_the_export_names_nobody(two_runs, tiny_world_drop):
    root, first, _, _ = two_runs
    run = root / "run1"
    cases = read_csv(run / "cases.csv", dtype=str)
    assert cases["case_id"].tolist() == pd.read_parquet(run / "cases.parquet")["case_id"].tolist()
    assert first["raised"] > 0 and first["drop"].endswith("2025-01-05")
    summary = json.loads((run / "validation_summary.json").read_text())
    accepted = pd.read_parquet(run / "accepted" / "visit_logs.parquet")
    assert summary["tables"]["visit_logs"]["accepted"] == len(accepted)
    people = set()
    for table, key in (("convicts", "convict_id"), ("persons", "person_id"), ("staff", "staff_id")):
        people |= set(pd.read_csv(tiny_world_drop / f"{table}.csv", dtype=str)[key])
    for name in ("cases.csv", "flags.csv"):
        words = set(re.findall(r"[\w-]+", (run / "export" / name).read_text()))
        assert not words & people, sorted(words & people)[:5]


def test_a_rerun_gives_the_same_case_ids(two_runs):
    """A subject keeps its case id; the verdict in between may move a case below the threshold."""
    root, _, _, _ = two_runs
    first = pd.read_csv(root / "run1" / "cases.csv", dtype=str)
    second = pd.read_csv(root / "run2" / "watchlist.csv", dtype=str)
    second = pd.concat([pd.read_csv(root / "run2" / "cases.csv", dtype=str), second])
    assert set(first["case_id"]) <= set(second["case_id"])


def test_a_dismissed_case_stays_quiet(two_runs):
    root, first, second, dismissed = two_runs
    raised = pd.read_csv(root / "run2" / "raised_cases.csv", dtype=str)
    quiet = pd.read_csv(root / "run2" / "quiet_cases.csv", dtype=str)
    assert dismissed not in set(raised["case_id"]) and dismissed in set(quiet["case_id"])
    # one case quiet, and those the dismissal's lesson moved below the threshold
    before = set(pd.read_csv(root / "run1" / "cases.csv", dtype=str)["case_id"])
    below = before & set(pd.read_csv(root / "run2" / "watchlist.csv", dtype=str)["case_id"])
    assert second["raised"] == first["raised"] - 1 - len(below - {dismissed})
    report = (root / "run2" / "report.html").read_text()
    assert "1 dismissed cases found again without new evidence" in report


def test_the_next_run_learns_from_the_dismissal_and_proposes_what_to_review(two_runs):
    """Issue 15: the verdict re-weighs the dismissed case's rules for every unreviewed case."""
    root, _, _, dismissed = two_runs
    first = read_csv(root / "run1" / "cases.csv", dtype={"subject_id": str})
    assert first["unlearned_rank"].tolist() == first["rank"].tolist()  # nothing to learn yet
    learned = read_csv(
        root / "run2" / "learned_weights.csv", dtype={"facility_id": str, "like": str}
    )
    rules = set(first.loc[first["case_id"].eq(dismissed), "rules"].iloc[0].split(";"))
    everywhere = learned[learned["facility_id"].isna()].set_index("rule")
    taught = everywhere.loc[sorted(rules & set(everywhere.index))]
    assert len(taught) and (taught["dismissed"] == 1).all()
    assert (taught["weight"] < taught["prior"]).all()
    second = read_csv(root / "run2" / "cases.csv", dtype={"subject_id": str})
    assert {"unlearned_rank", "unlearned_risk"} <= set(second.columns)
    outcomes = read_csv(root / "run2" / "rule_outcomes.csv").set_index("rule")
    assert (outcomes.loc[sorted(taught.index), "verdicts_dismissed"] == 1).all()
    queue = read_csv(root / "run2" / "review_queue.csv", dtype=str)
    assert (
        len(queue) and queue["why"].str.len().gt(0).all() and dismissed not in set(queue["case_id"])
    )
    report = (root / "run2" / "report.html").read_text()
    assert "What the verdicts taught" in report and "0 of 1 confirmed" in report
    assert "What to review next" in report


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.fail("Chromium is needed to check the report: `make browser` installs it")


def test_the_report_renders_in_a_real_browser(two_runs):
    root, _, _, _ = two_runs
    report = root / "run1" / "report.html"
    dom = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(root)},
    ).stdout  # fmt: skip
    cases = pd.read_csv(root / "run1" / "raised_cases.csv", dtype=str)
    top = cases.iloc[0]
    assert f'id="{top["case_id"]}"' in dom
    assert f"#1 {top['subject_type'].capitalize()} {top['subject_id']}" in dom
    figures = dom.split('data-figures="', 1)[1].split('"', 1)[0]
    loaded, total = map(int, figures.split("/"))
    assert total >= 4 and loaded == total, figures
    assert 'id="rule-VIS-KIN"' in dom


def test_run_folder_is_the_only_place_with_real_ids(two_runs):
    root, _, _, _ = two_runs
    mapping = pd.read_csv(root / "run1" / "pseudonym_map.csv", dtype=str)
    exported = pd.read_csv(root / "run1" / "export" / "cases.csv", dtype=str)
    assert set(exported["subject_id"]) - set(mapping["pseudonym"]) <= set(
        exported.loc[exported["subject_type"].eq("facility"), "subject_id"]
    )
    assert Path(root / "pseudonym.key").exists()


def test_prefect_yaml_declares_the_scheduled_deployments():
    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "prefect.yaml").read_text())
    by_name = {d["name"]: d for d in spec["deployments"]}
    assert set(by_name) == {"nightly-latest-drop", "weekly-full-rescore"}
    for deployment in by_name.values():
        path, function = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert getattr(module, function) is oversight_run
        RunSettings(**deployment["parameters"]["settings"])  # the parameters validate
        (schedule,) = deployment["schedules"]
        assert schedule["timezone"] == "Asia/Almaty"
    assert by_name["nightly-latest-drop"]["schedules"][0]["cron"] == "0 2 * * *"
    assert by_name["weekly-full-rescore"]["schedules"][0]["cron"].endswith(" 0")


def test_serve_builds_both_deployments_from_prefect_yaml():
    from pipelines.serve import deployments

    built = deployments()
    assert [d.name for d in built] == ["nightly-latest-drop", "weekly-full-rescore"]
    assert all(d.schedules for d in built)


def test_a_dated_out_folder_keeps_each_nights_run_and_one_store():
    """A nightly deployment must not overwrite yesterday's report (issue 14)."""
    import datetime as dt

    template = RunSettings(drop=Path("drops"), out=Path("runs/nightly/{day}"))
    night = template.model_copy(update={"run_date": dt.date(2025, 1, 6)}).for_the_day()
    assert night.out == Path("runs/nightly/2025-01-06")
    assert night.store_path == Path("runs/nightly/case_store.duckdb")
    assert night.key_path.parent == Path("runs/nightly") or os.environ.get("ANOMALY_KEY_FILE")
    assert RunSettings(drop=Path("d"), out=Path("runs/n/{day}")).for_the_day().out.name == str(
        dt.date.today()
    )
    plain = RunSettings(drop=Path("d"), out=Path("runs/x"), run_date="2025-01-06").for_the_day()
    assert plain.out == Path("runs/x") and plain.store_path == Path("runs/case_store.duckdb")
    assert "{day}" in str(template.model_dump(mode="json")["out"])  # deployments keep it
