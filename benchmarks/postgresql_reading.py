"""Read a world from PostgreSQL against its CSV and Parquet drops; run the whole flow on each.

    .ci/postgres run .venv/bin/python benchmarks/postgresql_reading.py --scale national

(or give ``--url postgresql://USER@HOST:PORT/DB`` of a server of your own; the
password from ``PGPASSWORD`` or ``~/.pgpass``). The world is generated once as
a CSV drop, written again as a typed Parquet drop, and loaded into the schema
``bench_SCALE_SEED`` (``anomaly load-db``). Each measurement runs in a fresh
process, so that its peak resident memory is its own: reading every table
(``ingest.registry_source.load_source``), then ``anomaly run`` end to end
(Prefect flow, validation, scoring, report, export, case store). The cases
of the three runs are compared (ids and ranks).

Target: reading from PostgreSQL takes at most 2x reading the CSV drop.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

SOURCES = ("csv", "parquet", "postgresql")


def measure_read(location: str) -> dict:
    """In this process: read every table of a source; the time and the peak memory."""
    from anomaly.ingest.registry_source import load_source, source_of

    source = source_of(location, os.environ.get("BENCH_SCHEMA"))
    began = time.perf_counter()
    drop = load_source(source)
    seconds = time.perf_counter() - began
    rows = sum(len(t.typed) for t in drop.tables.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"seconds": round(seconds, 2), "rows": rows, "peak_gb": round(peak, 2)}


def in_fresh_process(location: str, schema: str) -> dict:
    command = [sys.executable, __file__, "--measure-read", location]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "BENCH_SCHEMA": schema})  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_flow(location: str, schema: str, out: Path) -> float:
    command = [sys.executable, "-m", "anomaly.cli", "run", location, "--schema", schema,
               "--out", str(out / "run"), "--run-date", "2025-01-06"]  # fmt: skip
    began = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=True)
    return round(time.perf_counter() - began, 1)


def prepare(scale: str, seed: int, root: Path, url: str, schema: str) -> dict[str, str]:
    """The world as a CSV drop, a Parquet drop and a PostgreSQL schema."""
    from anomaly.database.registry_loading import load_into_database
    from anomaly.ingest.drop_loading import load_drop
    from anomaly.ingest.registry_source import source_of
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    csv, parquet = root / f"{scale}_{seed}_csv", root / f"{scale}_{seed}_parquet"
    if not (csv / "visit_logs.csv").exists():
        write_world(build_world(scale, seed), csv, root / f"{scale}_{seed}_labels.csv")
    if not (parquet / "visit_logs.parquet").exists():
        parquet.mkdir(parents=True, exist_ok=True)
        for name, table in load_drop(csv).tables.items():
            table.typed.reset_index(drop=True).to_parquet(parquet / f"{name}.parquet")
        (parquet / "manifest.json").write_bytes((csv / "manifest.json").read_bytes())
    began = time.perf_counter()
    load_into_database(csv, source_of(url, schema), replace=True)  # type: ignore[arg-type]
    print(f"loaded into {schema} in {time.perf_counter() - began:.1f} s", flush=True)
    return {"csv": str(csv), "parquet": str(parquet), "postgresql": url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="national")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path("/tmp/anomaly-bench-postgresql"))
    parser.add_argument("--url", default=os.environ.get("ANOMALY_TEST_POSTGRES_URL"))
    parser.add_argument("--measure-read", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_read:
        print(json.dumps(measure_read(args.measure_read)))
        return
    if not args.url:
        parser.error("give --url, or run under .ci/postgres run")
    schema = f"bench_{args.scale}_{args.seed}"
    locations = prepare(args.scale, args.seed, args.root, args.url, schema)
    rows = []
    for source in SOURCES:
        read = in_fresh_process(locations[source], schema)
        flow = timed_flow(locations[source], schema, args.root / f"{args.scale}_{source}")
        rows.append((source, read, flow))
    csv_read = rows[0][1]["seconds"]
    print(f"\n{args.scale}, seed {args.seed}, {rows[0][1]['rows']:,} rows")
    print(f"{'source':<11} {'read s':>7} {'x CSV':>6} {'peak GB':>8} {'flow s':>7}")
    for source, read, flow in rows:
        ratio = read["seconds"] / csv_read
        print(f"{source:<11} {read['seconds']:>7} {ratio:>6.2f} {read['peak_gb']:>8} {flow:>7}")
    print(f"same cases (ids and ranks) from the three sources: {same_cases_at(args)}")


def same_cases_at(args: argparse.Namespace) -> bool:
    import pandas as pd

    columns = ["case_id", "rank"]
    frames = [
        pd.read_csv(args.root / f"{args.scale}_{s}" / "run" / "cases.csv", dtype=str)[columns]
        for s in SOURCES
    ]
    return all(frame.equals(frames[0]) for frame in frames[1:])


if __name__ == "__main__":
    main()
