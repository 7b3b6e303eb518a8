"""Serve the scheduled deployments of prefect.yaml from this process (no work pool needed)::

prefect server start            # in another terminal
python -m pipelines.serve
"""

from __future__ import annotations

from pathlib import Path

import yaml
from prefect import serve
from prefect.schedules import Cron

from pipelines.oversight_run import oversight_run
from pipelines.run_settings import RunSettings

PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


def deployments() -> list:
    """The deployments of prefect.yaml, built from this process's flow."""
    spec = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    built = []
    for entry in spec["deployments"]:
        settings = RunSettings(**entry["parameters"]["settings"])
        schedule = entry["schedules"][0]
        built.append(
            oversight_run.to_deployment(
                name=entry["name"],
                description=entry["description"],
                parameters={"settings": settings.model_dump(mode="json")},
                schedules=[Cron(schedule["cron"], timezone=schedule["timezone"])],
            )
        )
    return built


if __name__ == "__main__":
    serve(*deployments())
