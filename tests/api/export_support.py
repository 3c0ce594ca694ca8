"""The world the export tests read, and reading exports back: an XLSX workbook's sheets as
rows of typed cells, a CSV as rows."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.exports import XLSX_MEDIA_TYPE
from iid_worker.drain import drain
from tests.api.support import (
    MANDATORY,
    REGION,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    send_innovation,
)
from tests.conftest import RoleHeaders

BOM = "\ufeff"
KOTA = ("73.71", "73.72", "73.73")  # Makassar, Parepare, Palopo


async def export_world(
    client: AsyncClient, as_role: RoleHeaders, factory: async_sessionmaker[AsyncSession]
) -> dict[str, Any]:
    """Three kota with SPD answers and sent innovations, some decided, and a draft of another
    agency in REGION; the period verifying, scorecards and rankings drained."""
    await create_period(client)
    entries: dict[str, list[str]] = {}
    for number, region in enumerate(KOTA):
        spd = f"/v1/periods/{YEAR}/regions/{region}/spd-answers"
        for code in ("1", "3", "4"):
            level = 1 + (number + int(code)) % 3
            ok(await client.put(f"{spd}/{code}", json={"level": level}))
        agency = await create_agency(client, region=region)
        entries[region] = []
        for copy in range(1 + number):
            entry = await create_innovation(
                client, agency["id"], region=region, name=f"Layanan Cepat {region} {copy}"
            )
            await answer_sid(client, entry["id"], {**MANDATORY, "18": 1 + copy % 3})
            entries[region].append((await send_innovation(client, entry["id"]))["id"])
    # a draft of another agency of the region (an agency operator never sees it)
    other_agency = await create_agency(client, name="Dinas Pendidikan")
    await create_innovation(client, other_agency["id"], name="Sekolah Ramah Anak")
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
    ok(await client.put(f"{spd}/1/decision", json={"decision": "accept"}, headers=verifier))
    lower = {"decision": "lower", "level": 0, "note": "SK tidak dilampirkan"}
    ok(await client.put(f"{spd}/3/decision", json=lower, headers=verifier))
    first = entries[REGION][0]
    url = f"/v1/innovations/{first}/answers/16/decision"
    ok(await client.put(url, json={"decision": "accept"}, headers=verifier))
    await drain(factory)
    return entries


async def every_item(client: AsyncClient, route: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, page after page."""
    items: list[dict[str, Any]] = []
    while True:
        page = ok(
            await client.get(route, params={**params, "limit": 200, "page": 1 + len(items) // 200})
        )
        items += page["items"]
        if len(items) >= page["total"]:
            return items


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
