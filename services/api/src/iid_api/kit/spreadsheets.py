"""Tables as spreadsheets: CSV and XLSX written from async row iterators, in constant memory.

A `Document` is one or more `Table`s (an XLSX sheet each) and a `Stamp` (the "Keterangan"
sheet: period, edition, basis, generation and time of the data). A table's rows come from an
async iterator its source opens when the table is written (a repository streaming a
server-side cursor), so neither a national ranking nor a 100k-row audit trail is ever held in
memory: CSV goes out as it is read, XLSX rows go to openpyxl's write-only sheets, which keep
them in temporary files until the workbook is zipped into a spooled temporary file.

Cells are typed: numbers stay numbers with the column's decimals (Decimal in, so nothing is
rounded twice), dates are dates, date-times are UTC. CSV follows the convention of a
spreadsheet in the Indonesian locale when asked for `;`: decimals then use a comma ("47,04");
with `,` they use a point. Text that a spreadsheet would run as a formula is neutralised.
"""

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from iid_api.kit.figures import half_up

# Rows handed to openpyxl (in a worker thread) per batch, and CSV bytes per chunk sent.
BATCH_ROWS = 1000
CSV_CHUNK_BYTES = 64 * 1024
# The workbook is zipped into memory up to this size, into a temporary file beyond it.
SPOOL_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
STAMP_SHEET = "Keterangan"
CELL_CHARACTERS = 32_767
BOM = "\ufeff"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[Any]
RowSource = Callable[[], AsyncIterator[Row]]
Progress = Callable[[int], None]


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    header: str
    kind: ColumnKind = ColumnKind.TEXT
    places: int = 0  # decimals of a DECIMAL column
    width: int = 14

    @property
    def number_format(self) -> str | None:
        if self.kind is ColumnKind.DECIMAL:
            return "0." + "0" * self.places if self.places else "0"
        if self.kind is ColumnKind.DATE:
            return "yyyy-mm-dd"
        if self.kind is ColumnKind.DATETIME:
            return "yyyy-mm-dd hh:mm:ss"
        return None


def text(header: str, width: int = 14) -> Column:
    return Column(header, ColumnKind.TEXT, width=width)


def integer(header: str, width: int = 10) -> Column:
    return Column(header, ColumnKind.INTEGER, width=width)


def decimal(header: str, places: int = 2, width: int = 12) -> Column:
    return Column(header, ColumnKind.DECIMAL, places, width)


def day(header: str, width: int = 12) -> Column:
    return Column(header, ColumnKind.DATE, width=width)


def moment(header: str, width: int = 20) -> Column:
    return Column(f"{header} (UTC)", ColumnKind.DATETIME, width=width)


def flag(header: str, width: int = 10) -> Column:
    return Column(header, ColumnKind.BOOLEAN, width=width)


@dataclass(frozen=True)
class Table:
    name: str  # the sheet's name (at most 31 characters)
    slug: str  # how CSV asks for it (`table=`)
    columns: tuple[Column, ...]
    rows: RowSource


def listed(rows: Iterable[Row]) -> RowSource:
    """A row source over rows already at hand (a region's report, computed whole)."""

    async def source() -> AsyncIterator[Row]:
        for row in rows:
            yield row

    return source


@dataclass(frozen=True)
class Stamp:
    """What the data is: the Keterangan sheet."""

    title: str
    period: int | None = None
    edition: str | None = None
    basis: str | None = None
    # the change log position the data reflects (every change up to it is in it)
    generation: int | None = None
    data_time: datetime | None = None
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    name: str  # the file's name, without extension
    stamp: Stamp
    tables: tuple[Table, ...]

    def table(self, slug: str | None) -> Table:
        """The table CSV writes (the first one unless named); KeyError when unknown."""
        if slug is None:
            return self.tables[0]
        for table in self.tables:
            if table.slug == slug:
                return table
        raise KeyError(slug)


def _rounded(column: Column, value: Any) -> Decimal:
    """A decimal cell at its column's places, rounded half up like every published figure."""
    return half_up(Decimal(value), column.places)


def _utc_seconds(value: datetime) -> datetime:
    """The time in UTC to the second, without a zone (a spreadsheet cell has none; the
    headers say UTC, a CSV cell ends in Z); a naive time is taken as UTC already."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.replace(tzinfo=None, microsecond=0)


# --- CSV ----------------------------------------------------------------------------------------
def _csv_cell(column: Column, value: Any, decimal_comma: bool) -> Any:
    if value is None:
        return ""
    if column.kind is ColumnKind.DECIMAL:
        rendered = f"{_rounded(column, value):.{column.places}f}"
        return rendered.replace(".", ",") if decimal_comma else rendered
    if column.kind is ColumnKind.BOOLEAN:
        return "ya" if value else "tidak"
    if column.kind is ColumnKind.DATETIME:
        return _utc_seconds(value).isoformat() + "Z"
    if column.kind is ColumnKind.DATE:
        return value.isoformat()
    if column.kind is ColumnKind.TEXT:
        rendered = str(value)
        return "'" + rendered if rendered.startswith(FORMULA_STARTS) else rendered
    return value


async def csv_chunks(
    table: Table, delimiter: str, progress: Progress | None = None
) -> AsyncIterator[bytes]:
    """The table as UTF-8 CSV with a byte order mark (Excel reads it right), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([column.header for column in table.columns])
    decimal_comma = delimiter == ";"
    count = 0
    async for row in table.rows():
        writer.writerow(
            [_csv_cell(c, v, decimal_comma) for c, v in zip(table.columns, row, strict=True)]
        )
        count += 1
        if buffer.tell() >= CSV_CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress(count)
    yield buffer.getvalue().encode()
    if progress is not None:
        progress(count)


# --- XLSX ---------------------------------------------------------------------------------------
def _clean(value: str) -> str:
    """Text as a cell holds it: without the control characters XML refuses, and cut at the
    longest text Excel shows in a cell."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", value)
    return cleaned if len(cleaned) <= CELL_CHARACTERS else cleaned[: CELL_CHARACTERS - 1] + "…"


class _Sheet:
    """One write-only sheet: a reusable cell per column (openpyxl writes a row as soon as it
    is appended), typed and formatted once."""

    def __init__(self, sheet: WriteOnlyWorksheet, columns: Sequence[Column]) -> None:
        self.sheet = sheet
        self.columns = tuple(columns)
        for number, column in enumerate(self.columns, 1):
            # write-only sheets have column dimensions (openpyxl's stubs miss them)
            dimensions = sheet.column_dimensions  # type: ignore[attr-defined]
            dimensions[get_column_letter(number)].width = column.width
        sheet.freeze_panes = "A2"
        bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(sheet, column.header)
            cell.font, cell.alignment = bold, wrap
            header.append(cell)
        sheet.append(header)
        self.cells = [self._cell(column) for column in self.columns]

    def _cell(self, column: Column) -> Cell:
        cell = WriteOnlyCell(self.sheet)
        if column.number_format is not None:
            cell.number_format = column.number_format
        return cell

    def append(self, row: Row) -> None:
        values: list[Any] = []
        for column, cell, value in zip(self.columns, self.cells, row, strict=True):
            if value is None:
                values.append(None)
                continue
            if column.kind is ColumnKind.TEXT:
                cell.value = _clean(str(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif column.kind is ColumnKind.DATETIME:
                cell.value = _utc_seconds(value)
            elif column.kind is ColumnKind.DECIMAL:
                cell.value = _rounded(column, value)
            else:
                cell.value = value
            values.append(cell)
        self.sheet.append(values)


def _stamp_rows(stamp: Stamp, counts: dict[str, int], generated_at: datetime) -> list[Row]:
    rows: list[Row] = [("Judul", stamp.title)]
    rows += [
        (label, value)
        for label, value in (
            ("Periode", stamp.period),
            ("Edisi", stamp.edition),
            ("Basis", stamp.basis),
            ("Generasi data", stamp.generation),
            ("Waktu data (UTC)", stamp.data_time),
        )
        if value is not None
    ]
    rows.append(("Dibuat pada (UTC)", generated_at))
    rows += [(f"Filter: {name}", str(value)) for name, value in stamp.filters.items()]
    rows += [(f"Baris: {name}", count) for name, count in counts.items()]
    return rows


def _stamp_value(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    """A Keterangan value, typed by what it is (the sheet mixes them in one column)."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, _utc_seconds(value))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    cell = WriteOnlyCell(sheet, value if isinstance(value, int) else _clean(str(value)))
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


async def write_xlsx(
    document: Document, target: IO[bytes], progress: Progress | None = None
) -> None:
    """The workbook into `target`: a sheet per table, then the Keterangan sheet."""
    workbook = Workbook(write_only=True)
    counts: dict[str, int] = {}
    for table in document.tables:
        sheet = _Sheet(workbook.create_sheet(table.name), table.columns)
        before = sum(counts.values())
        batch: list[Row] = []
        count = 0
        async for row in table.rows():
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                await asyncio.to_thread(_append_all, sheet, batch)
                count += len(batch)
                batch = []
                if progress is not None:
                    progress(before + count)
        await asyncio.to_thread(_append_all, sheet, batch)
        counts[table.name] = count + len(batch)
    if progress is not None:
        progress(sum(counts.values()))
    stamp = _Sheet(
        workbook.create_sheet(STAMP_SHEET),
        (Column("Keterangan", width=28), Column("Nilai", width=40)),
    )
    for label, value in _stamp_rows(document.stamp, counts, datetime.now(UTC)):
        stamp.sheet.append([_stamp_value(stamp.sheet, label), _stamp_value(stamp.sheet, value)])
    await asyncio.to_thread(workbook.save, target)


def _append_all(sheet: _Sheet, rows: list[Row]) -> None:
    for row in rows:
        sheet.append(row)


async def xlsx_file(document: Document, progress: Progress | None = None) -> IO[bytes]:
    """The whole workbook in a spooled temporary file (memory up to SPOOL_BYTES, disk beyond),
    positioned at its start; the caller closes it (`file_chunks` does)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 -- the caller closes it
    try:
        await write_xlsx(document, spool, progress)
        await asyncio.to_thread(spool.seek, 0)
    except BaseException:
        spool.close()
        raise
    return spool


async def file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The rest of `file` in chunks, then closes it."""
    try:
        while chunk := await asyncio.to_thread(file.read, READ_CHUNK_BYTES):
            yield chunk
    finally:
        file.close()
