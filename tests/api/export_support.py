"""Reading exports back: an XLSX workbook's sheets as rows of typed cells, a CSV as rows."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from iid_api.kit.exports import XLSX_MEDIA_TYPE

BOM = "\ufeff"


def _exact(value: Any) -> Any:
    # openpyxl reads numbers as floats; the file holds the decimal text we wrote
    return Decimal(str(value)) if isinstance(value, float) else value


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    rows = [tuple(_exact(value) for value in row) for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])  # a row ending in empty cells is read shorter
    return [row + (None,) * (width - len(row)) for row in rows]


def sheets(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Sheet name -> rows (the header first), as openpyxl reads the cells' values (numbers
    with decimals as Decimal)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return {sheet.title: _rows(sheet) for sheet in workbook.worksheets}
    finally:
        workbook.close()


def workbook_formats(content: bytes, sheet: str) -> dict[str, str]:
    """Header -> the number format of the first data row's cell (where it has a value)."""
    workbook = load_workbook(io.BytesIO(content))
    rows = list(workbook[sheet].iter_rows(min_row=1, max_row=2))
    return {
        header.value: cell.number_format
        for header, cell in zip(rows[0], rows[1], strict=True)
        if cell.value is not None
    }


def frozen_header(content: bytes, sheet: str) -> str | None:
    return load_workbook(io.BytesIO(content))[sheet].freeze_panes


def stamp(content: bytes) -> dict[str, Any]:
    rows = sheets(content)["Keterangan"]
    assert rows[0] == ("Keterangan", "Nilai")
    return dict(rows[1:])


def csv_rows(content: bytes, delimiter: str = ",") -> list[list[str]]:
    decoded = content.decode("utf-8")
    assert decoded.startswith(BOM)
    return list(csv.reader(io.StringIO(decoded[len(BOM) :]), delimiter=delimiter))


def two_places(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def utc_naive(value: str) -> datetime:
    """An API timestamp as the XLSX holds it: UTC without a zone, to the second."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None, microsecond=0)


def is_xlsx(response: Any) -> bool:
    return bool(response.headers["content-type"] == XLSX_MEDIA_TYPE)
