"""Time and measure synthetic world generation at each scale; print the figures and write a CSV.

    python benchmarks/generate_worlds.py national large --out benchmarks/results

Each scale runs in a fresh process so that peak resident memory is its own.
Targets (issue 3): national under 2 minutes, large under 20 minutes within 16 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_one(scale: str, seed: int, out: Path) -> dict:
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    began, cpu = time.perf_counter(), time.process_time()
    world = build_world(scale, seed)
    generated = time.perf_counter() - began
    write_world(world, out / f"{scale}_drop", out / f"{scale}_labels.csv")
    return {
        "scale": scale,
        "convicts": len(world.tables["convicts"]),
        "rows": sum(len(t) for t in world.tables.values()),
        "visits": len(world.tables["visit_logs"]),
        "planted_instances": sum(x["kind"] == "scheme" for x in world.labels),
        "generate_s": round(generated, 1),
        "generate_and_write_s": round(time.perf_counter() - began, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scales", nargs="+")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(run_one(args.scales[0], args.seed, args.out)))
        return
    rows = []
    for scale in args.scales:
        command = [
            sys.executable,
            __file__,
            scale,
            "--seed",
            str(args.seed),
            "--out",
            str(args.out),
            "--child",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        row = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    with (args.out / "generation.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
