"""A run killed at any stage leaves nothing half-done, and the re-run is byte-identical (issue 13).

Each stage is killed in turn with SIGKILL (no clean-up at all) in a real
``anomaly run`` process. After the kill, the run folder is the complete
previous run or absent, and the case store is as before the run or as
after it. The re-run must then give, file for file and byte for byte, what
an uninterrupted run gives.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anomaly.cases.store import CaseStore

pytestmark = pytest.mark.slow  # runs are killed under a real Prefect server

KILLER = Path(__file__).parent / "support" / "kill_after.py"
RUN_DATE = "2025-01-06"
STAGES = {
    "validate": "anomaly.runs.stages:write_validation",
    "score": "anomaly.runs.stages:write_scored",
    "store plan": "anomaly.cases.store:CaseStore.plan_run",
    "report": "pipelines.report_run:render_report",
    "export": "pipelines.report_run:known_identifiers",
    "folder renamed": "anomaly.runs.folder:publish_run",
    "store transaction": "anomaly.cases.store:write_run",  # inside the commit
    "store committed": "anomaly.cases.store:CaseStore.commit",
}


def anomaly_run(
    root: Path, drop: Path, kill_after: str | None = None
) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    command = [sys.executable, "-m", "anomaly.cli"]
    if kill_after:
        env["KILL_AFTER"] = kill_after
        command = [sys.executable, str(KILLER)]
    return subprocess.run(
        [*command, "run", str(drop), "--out", str(root / "run"), "--run-date", RUN_DATE,
         "--key", str(root / "office.key")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def store_rows(root: Path) -> tuple[int, int]:
    if not (root / "case_store.duckdb").exists():
        return (0, 0)
    with CaseStore(root / "case_store.duckdb") as store:
        return len(store.cases()), len(store.db.execute("SELECT * FROM score_history").df())


@pytest.fixture(scope="module")
def reference(prefect_server, tiny_world_drop, tmp_path_factory):
    """An uninterrupted run, and the key it used (every killed run uses the same key)."""
    root = tmp_path_factory.mktemp("reference")
    done = anomaly_run(root, tiny_world_drop)
    assert done.returncode == 0, done.stderr
    return root, fingerprints(root / "run")


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_at_any_stage_leaves_nothing_half_done(
    stage, reference, tiny_world_drop, tmp_path
):
    reference_root, expected = reference
    shutil.copy2(reference_root / "office.key", tmp_path / "office.key")
    killed = anomaly_run(tmp_path, tiny_world_drop, kill_after=STAGES[stage])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = tmp_path / "run"
    assert not run.exists() or fingerprints(run) == expected  # absent, or complete
    cases, history = store_rows(tmp_path)
    assert (cases, history) in {(0, 0), store_rows(reference_root)}  # before, or after
    again = anomaly_run(tmp_path, tiny_world_drop)
    assert again.returncode == 0, again.stderr
    assert fingerprints(run) == expected
    assert store_rows(tmp_path) == store_rows(reference_root)
    assert not list(tmp_path.glob(".run.partial-*"))  # the killed run's staging is cleared


def uvicorn_children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` and that run a uvicorn server (Prefect's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
        if int(parent) == pid and b"uvicorn" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("signal_sent", [signal.SIGTERM, signal.SIGINT])
def test_prefects_temporary_server_ends_with_a_stopped_run(signal_sent, tiny_world_drop, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    process = subprocess.Popen(
        [sys.executable, "-m", "anomaly.cli", "run", str(tiny_world_drop), "--out",
         str(tmp_path / "run")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (servers := uvicorn_children(process.pid)) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.2)
        assert servers, "the run started no temporary server"
        time.sleep(1.0)
        process.send_signal(signal_sent)
        process.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = [pid for pid in servers if Path(f"/proc/{pid}").exists()
                 and "zombie" not in Path(f"/proc/{pid}/status").read_text()]  # fmt: skip
        assert not alive, "Prefect's temporary server outlived the run"
        assert process.returncode != 0
        assert not (tmp_path / "run").exists() or (tmp_path / "run" / "report.html").exists()
    finally:
        if process.poll() is None:
            process.kill()
