"""Read one table file of a drop into a frame of cells, keeping where each row came from.

The frame's index is the row's ``source_line``:

- CSV: the physical line on which the row starts (the header is line 1),
  exact even when quoted cells span several lines or blank lines occur;
- XLSX: the row number in the first sheet (the header is row 1);
- Parquet: the 1-based record number (no header).

Rows that cannot be split into the header's columns (too few or too many
fields) are not dropped: they come back as ``malformed`` with their text, so
the validation step can quarantine them.

Cells are returned as they came: text for CSV and XLSX, typed for Parquet.
Parsing into logical kinds is ``ingest.cell_parsing``'s job.

Hostile files are refused with a message naming the file (and the line):
a table that is not a regular file (a device, a FIFO, a folder), a symbolic
link that leads out of the drop, UTF-16 text, and a file that mixes UTF-8
lines with lines in another encoding (reading it as either would garble the
other). A CSV is UTF-8, or Windows-1251 when no line is UTF-8.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from anomaly.ingest.cell_parsing import STRING
from anomaly.known_failures import KnownFailure

SUFFIXES = (".csv", ".parquet", ".xlsx")
ENCODINGS = ("utf-8", "cp1251")
MALFORMED_COLUMNS = ["source_line", "raw_text", "reason"]


class DropFormatError(KnownFailure, ValueError):
    """A drop that cannot be read at all: missing table or column, unreadable file."""


@dataclass(frozen=True)
class RawTable:
    """Cells of one file, indexed by source line, plus rows that could not be split.

    A table read from a database (``database.registry_reading``) has no file:
    ``path`` is then ``schema.table``, the source line is the row's number in
    primary-key order, and ``keys`` names each row by its primary key
    (``visit_id=V17``), which is what a quarantine and a message show."""

    path: Path
    cells: pd.DataFrame
    malformed: pd.DataFrame
    encoding: str | None = None
    separator: str | None = None
    keys: pd.Series | None = None

    def row_name(self, line: int) -> str:
        """A row as a person finds it in its source: ``line 14``, or ``row visit_id=V17``."""
        if self.keys is None:
            return f"line {line}"
        return f"row {self.keys.get(line, line)}"

    def where(self, line: int) -> str:
        """A row with its source: ``visits.csv line 14``, ``registry.visit_logs row ...``."""
        return f"{self.path.name} {self.row_name(line)}"


def find_table_file(drop: Path, table: str) -> Path | None:
    """The file holding ``table`` in the drop, or None when there is none.

    Raises
    ------
    DropFormatError
        When the table is delivered in more than one file.
    """
    found = [
        drop / f"{table}{suffix}" for suffix in SUFFIXES if (drop / f"{table}{suffix}").exists()
    ]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DropFormatError(f"{drop}: table {table} is delivered twice ({names}); keep one")
    return found[0] if found else None


def check_table_file(path: Path, drop: Path) -> None:
    """Refuse a table that is not a regular file of the drop.

    Raises
    ------
    DropFormatError
        For a symbolic link leading outside the drop, or anything but a
        regular file (a device such as /dev/zero, a FIFO, a folder).
    """
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(drop.resolve()):
            raise DropFormatError(
                f"{path}: a symbolic link to {target}, outside the drop; put the file itself "
                "into the drop"
            )
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise DropFormatError(f"{path}: cannot be read: {error.strerror}") from error
    if not stat.S_ISREG(mode):
        raise DropFormatError(
            f"{path}: not a regular file (a device, FIFO or folder); a table must be a file"
        )


def read_table_file(path: Path) -> RawTable:
    """Read a CSV, Parquet or XLSX table file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise DropFormatError(f"{path}: unsupported file type {suffix}")


def read_header(path: Path) -> list[str]:
    """The column names of a table file, read without its rows."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        first_line, separator = _header_line(path)
        for encoding in ENCODINGS:
            try:
                return _csv_header(first_line, separator, encoding, path)
            except UnicodeDecodeError:
                continue
        raise DropFormatError(f"{path}: neither UTF-8 nor Windows-1251")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return normalise_header(pq.read_schema(path).names, path)
        except (OSError, pa.ArrowException) as error:
            raise DropFormatError(f"{path}: cannot be read as Parquet: {error}") from error
    return list(read_table_file(path).cells.columns)


def normalise_header(names: list[str], path: Path) -> list[str]:
    """Column names stripped and lower-cased; duplicates are an error."""
    clean = [str(n).replace("\ufeff", "").strip().lower() for n in names]
    seen: set[str] = set()
    for name in clean:
        if name in seen:
            raise DropFormatError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    return clean


def _header_line(path: Path) -> tuple[bytes, str]:
    """A CSV's header line as bytes and its separator (``;`` when it has more than ``,``)."""
    _refuse_utf16(path)
    first_line = _first_line(path)
    if not first_line.strip():
        raise DropFormatError(f"{path}: the file is empty or has no header line")
    return first_line, ";" if first_line.count(b";") > first_line.count(b",") else ","


def _csv_header(first_line: bytes, separator: str, encoding: str, path: Path) -> list[str]:
    text = first_line.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    return normalise_header(next(csv.reader([text], delimiter=separator), []), path)


def _read_csv(path: Path) -> RawTable:
    first_line, separator = _header_line(path)
    for encoding in ENCODINGS:
        if encoding != "utf-8":
            _refuse_mixed_encodings(path)
        try:
            header = _csv_header(first_line, separator, encoding, path)
            cells, malformed = _parse_csv(path, header, separator, encoding)
            return RawTable(path, cells, malformed, encoding, separator)
        except (UnicodeDecodeError, pa.ArrowInvalid) as error:
            if "UTF8" not in str(error) and not isinstance(error, UnicodeDecodeError):
                # pyarrow's message may quote a row: only its kind is shown
                raise DropFormatError(
                    f"{path}: cannot be read as CSV ({type(error).__name__})"
                ) from error
    raise DropFormatError(f"{path}: neither UTF-8 nor Windows-1251")


def _refuse_utf16(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\x00") > len(head) // 4:
        raise DropFormatError(
            f"{path}: UTF-16 (or UTF-32) text; export the table as UTF-8 or Windows-1251"
        )


def _refuse_mixed_encodings(path: Path) -> None:
    """A file that is not UTF-8 throughout must hold no UTF-8 line either."""
    first_utf8 = first_other = None
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                first_other = first_other or number
            else:
                first_utf8 = first_utf8 or number
            if first_utf8 and first_other:
                raise DropFormatError(
                    f"{path}: mixes encodings: line {first_utf8} is UTF-8, line {first_other} "
                    "is not; export the whole file in one encoding"
                )


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.readline().rstrip(b"\r\n")


def _parse_csv(
    path: Path, header: list[str], separator: str, encoding: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    bad: list[tuple[int, str, int]] = []

    def keep_bad_row(row: pa_csv.InvalidRow) -> str:
        bad.append((row.number or -1, row.text, row.actual_columns))
        return "skip"

    try:
        with _quiet_row_decoding():
            table = _arrow_csv(path, header, separator, encoding, keep_bad_row)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            raise  # not this encoding: the caller tries the next
        # A cell larger than pyarrow's block, or a malformed row pyarrow could
        # not hand over (its text is not UTF-8): the csv module reads any row
        # of any size, and the validation step judges it.
        return _parse_csv_with_line_numbers(path, header, separator, encoding)
    cells = table.to_pandas(types_mapper={pa.string(): STRING}.get)
    if _physical_lines(path) != 1 + len(cells) + len(bad):
        # Quoted line breaks or blank lines: pyarrow's row numbers are record
        # counts, not lines. Re-read with the csv module, which knows lines.
        return _parse_csv_with_line_numbers(path, header, separator, encoding)
    bad_lines = {number for number, _, _ in bad}
    lines = [n for n in range(2, 2 + len(cells) + len(bad)) if n not in bad_lines]
    cells.index = pd.Index(lines, name="source_line")
    malformed = pd.DataFrame(
        [(n, text, _field_count_reason(k, len(header))) for n, text, k in bad],
        columns=MALFORMED_COLUMNS,
    )
    return cells, malformed


@contextlib.contextmanager
def _quiet_row_decoding() -> Iterator[None]:
    """Hush pyarrow's report of a malformed row it could not decode (the read then fails
    and the row is read again by the csv module, or in the next encoding)."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, UnicodeDecodeError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _arrow_csv(path: Path, header: list[str], separator: str, encoding: str, on_bad_row):
    return pa_csv.read_csv(
        path,
        read_options=pa_csv.ReadOptions(
            column_names=header,
            skip_rows=1,
            encoding="utf8" if encoding == "utf-8" else encoding,
            use_threads=False,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=separator, newlines_in_values=True, invalid_row_handler=on_bad_row
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _physical_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _parse_csv_with_line_numbers(
    path: Path, header: list[str], separator: str, encoding: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, lines, malformed = [], [], []
    csv.field_size_limit(sys.maxsize)  # big cells are validation's to judge, not the reader's
    with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as f:
        reader = csv.reader(f, delimiter=separator)
        next(reader)
        start = reader.line_num + 1
        for record in reader:
            if record and len(record) == len(header):
                rows.append([value if value != "" else None for value in record])
                lines.append(start)
            elif record:
                text = separator.join(record)
                malformed.append((start, text, _field_count_reason(len(record), len(header))))
            start = reader.line_num + 1
    cells = pd.DataFrame(rows, columns=header, dtype=STRING)
    cells.index = pd.Index(lines, name="source_line", dtype="int64")
    return cells, pd.DataFrame(malformed, columns=MALFORMED_COLUMNS)


def _field_count_reason(found: int, expected: int) -> str:
    return f"malformed_row: {found} fields where the header has {expected}"


def _read_parquet(path: Path) -> RawTable:
    try:
        cells = pd.read_parquet(path)
    except (OSError, pa.ArrowException) as error:
        raise DropFormatError(f"{path}: cannot be read as Parquet: {error}") from error
    cells.columns = normalise_header(list(cells.columns), path)
    cells.index = pd.RangeIndex(1, len(cells) + 1, name="source_line")
    return RawTable(path, cells, pd.DataFrame(columns=MALFORMED_COLUMNS))


def _read_xlsx(path: Path) -> RawTable:
    import openpyxl  # only needed for spreadsheets

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise DropFormatError(f"{path}: cannot be read as XLSX: {error}") from error
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise DropFormatError(f"{path}: the first sheet is empty")
    width = max((i + 1 for i, v in enumerate(header_row) if v is not None), default=0)
    header = normalise_header([v for v in header_row[:width]], path)
    records, lines, malformed = [], [], []
    for number, row in enumerate(rows, start=2):
        values = [_xlsx_cell_text(v) for v in row]
        filled = [i for i, v in enumerate(values) if v is not None]
        if not filled:
            continue
        if filled[-1] >= width:  # cells beyond the header: quarantined, as in a CSV
            text = ";".join("" if v is None else v for v in values[: filled[-1] + 1])
            malformed.append((number, text, _field_count_reason(filled[-1] + 1, width)))
            continue
        records.append(values[:width] + [None] * (width - len(values)))
        lines.append(number)
    workbook.close()
    cells = pd.DataFrame(records, columns=header, dtype=STRING)
    cells.index = pd.Index(lines, name="source_line", dtype="int64")
    return RawTable(path, cells, pd.DataFrame(malformed, columns=MALFORMED_COLUMNS))


def _xlsx_cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None
