"""Are two runs' outputs the same? Every file byte for byte; a DuckDB store by its rows.

A refactoring that moves code must not change what a run writes. Run the
same drop with the same key and run date on both trees, then::

    python benchmarks/same_outputs.py OUT_BEFORE OUT_AFTER

It prints each file that differs and exits 1 if any does. A DuckDB file is
compared by the rows of its tables (its bytes hold page layout that changes
from one write to the next).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def differences(before: Path, after: Path) -> list[str]:
    """Relative paths that differ, or are in one folder only."""
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    found = []
    for name in sorted(names):
        a, b = before / name, after / name
        if not (a.is_file() and b.is_file()):
            found.append(f"{name}: in one run only")
        elif name.suffix == ".duckdb":
            if _rows(a) != _rows(b):
                found.append(f"{name}: different rows")
        elif a.read_bytes() != b.read_bytes():
            found.append(f"{name}: different bytes")
    return found


def _rows(store: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(store), read_only=True) as db:
        tables = [t for (t,) in db.execute("select table_name from information_schema.tables")]
        return {t: db.execute(f'select * from "{t}" order by all').fetchall() for t in tables}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = differences(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(line)
    print(f"{len(found)} file(s) differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
