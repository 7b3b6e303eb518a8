"""The Prefect stack as a user runs it: server, served deployments, CLI and UI (issue 14).

A real ``prefect server start`` on loopback, ``python -m pipelines.serve`` (the
deployments of prefect.yaml) in a folder holding a drop, then the ``prefect``
command: list the flows and the deployments, trigger the nightly one and wait
for it. The flow run writes its report into the dated folder the deployment
names.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_for(check, what: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    pytest.fail(f"{what} not ready in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def stack(tiny_world_drop, tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A served Prefect stack in a work folder whose drops/ holds one drop."""
    work = tmp_path_factory.mktemp("prefect_stack")
    shutil.copytree(tiny_world_drop, work / "drops" / "2025-01-05")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ, "PREFECT_HOME": str(work / "prefect_home"), "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT),
        "COLUMNS": "250",  # the CLI's tables print whole names
    }  # fmt: skip
    server = _start([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port",
                     str(port)], work, env, work / "server.log")  # fmt: skip
    served = None
    try:
        _wait_for(lambda: _healthy(api), "the Prefect server", work / "server.log")
        served = _start([sys.executable, "-m", "pipelines.serve"], work, env, work / "serve.log")
        _wait_for(
            lambda: "nightly-latest-drop" in _prefect(env, work, "deployment", "ls").stdout,
            "the served deployments", work / "serve.log",
        )  # fmt: skip
        yield work, env
    finally:
        if served is not None:
            _stop(served)
        _stop(server)


def _prefect(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PREFECT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_cli_lists_the_served_deployments_and_the_flow(stack):
    work, env = stack
    deployments = _prefect(env, work, "deployment", "ls")
    assert deployments.returncode == 0, deployments.stdout + deployments.stderr
    for name in ("oversight-run/nightly-latest-drop", "oversight-run/weekly-full-rescore"):
        assert name in deployments.stdout
    flows = _prefect(env, work, "flow", "ls")
    assert flows.returncode == 0, flows.stdout + flows.stderr
    assert "oversight-run" in flows.stdout


def test_the_ui_is_served(stack):
    _, env = stack
    page = httpx.get(env["PREFECT_API_URL"].removesuffix("/api") + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_a_triggered_nightly_run_completes_into_its_dated_folder(stack):
    work, env = stack
    run = _prefect(env, work, "deployment", "run", "oversight-run/nightly-latest-drop", "--watch")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Completed" in run.stdout
    nightly = work / "runs" / "nightly"
    folders = [p.name for p in nightly.iterdir() if p.is_dir()]
    assert len(folders) == 1 and dt.date.fromisoformat(folders[0])
    assert (nightly / folders[0] / "report.html").is_file()
    assert (nightly / "case_store.duckdb").is_file()
