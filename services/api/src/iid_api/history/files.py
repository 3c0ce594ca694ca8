"""An uploaded results file, CSV or XLSX, as numbered rows of named cells.

The first row names the columns (see iid_store.published_results); the kind of file comes
from its bytes (an XLSX file is a zip archive), not from its name. XLSX is read with
openpyxl in read-only mode, values rather than formulas, first sheet only.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import UploadFile
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from iid_api.kit.errors import ContentTooLarge, InvalidInput
from iid_store.published_results import COLUMNS, REQUIRED, header_name

MAX_BYTES = 5 * 2**20
MAX_ROWS = 20_000
MAX_LINES = 5 * MAX_ROWS  # blank lines included (a sheet may keep many formatted empty rows)
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Sheet:
    """Data rows by line (the header is line 1), and what is wrong with the header."""

    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    header_errors: list[tuple[str, str]] = field(default_factory=list)


def read_sheet(data: bytes) -> Sheet:
    lines = _xlsx_lines(data) if data.startswith(ZIP_MAGIC) else _csv_lines(data)
    header: list[str] | None = None
    sheet = Sheet()
    for number, cells in lines:
        if header is None:
            header = [header_name(cell) for cell in cells]
            sheet.header_errors = _header_errors(header)
            continue
        if number > MAX_LINES:
            raise InvalidInput.at("/body/file", f"more than {MAX_LINES} lines: split the file")
        if all(cell in (None, "") for cell in cells):
            continue  # blank lines, and the empty rows spreadsheets keep formatted
        if len(sheet.rows) == MAX_ROWS:
            raise InvalidInput.at("/body/file", f"more than {MAX_ROWS} rows: split the file")
        sheet.rows.append((number, dict(zip(header, cells, strict=False))))
    if header is None:
        raise InvalidInput.at("/body/file", "the file is empty: expected a header row")
    return sheet


def _header_errors(header: list[str]) -> list[tuple[str, str]]:
    errors = [
        (name or "(blank)", f"unknown column; expected any of {', '.join(COLUMNS)}")
        for name in header
        if name not in COLUMNS and name
    ]
    errors += [(name, "column missing") for name in REQUIRED if name not in header]
    errors += [
        (name, "column given twice") for name in set(header) if name and header.count(name) > 1
    ]
    return errors


def _csv_lines(data: bytes) -> Iterator[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput.at(
            "/body/file", f"not an XLSX file nor UTF-8 text (CSV): byte {error.start}"
        ) from None
    first_line = text.split("\n", 1)[0]
    # spreadsheets set to Indonesian write CSV with semicolons (the comma is the decimal mark)
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, list(cells)
    except csv.Error as error:
        raise InvalidInput.at("/body/file", f"line {reader.line_num}: {error}") from None


# what openpyxl raises for a file that is not a workbook, or a workbook whose XML is broken
# (a parse error is a SyntaxError, from ElementTree and lxml alike), read whole or row by row
_UNREADABLE = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, SyntaxError, ValueError)


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[object]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _UNREADABLE as error:
        raise InvalidInput.at("/body/file", f"not a readable XLSX file: {error}") from None
    number = 0
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for number, cells in enumerate(rows, start=1):
            yield number, list(cells)
    except _UNREADABLE as error:
        raise InvalidInput.at("/body/file", f"row {number + 1} is unreadable: {error}") from None
    finally:
        workbook.close()


async def read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ContentTooLarge(f"the file is over {MAX_BYTES // 2**20} MiB: split it")
    return data
