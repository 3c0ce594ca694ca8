"""Exports on the routes that read: the one mechanism every export route uses.

`?format=csv` or `?format=xlsx` (or an `Accept` header naming `text/csv` or the XLSX type
before JSON) answers the route's data as a spreadsheet instead of JSON: the same permission
checks and filters, because the route builds the same `Document` either way (a domain's
`export.py`), and the worker builds it too for `POST /v1/exports`. Lists are exported whole
(`page` and `limit` only shape the JSON). Both formats stream (kit/spreadsheets.py): memory
stays flat whatever the size.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse

from iid_api.kit.errors import InvalidInput
from iid_api.kit.schemas import InputModel, RegionCode, Year
from iid_api.kit.spreadsheets import Document, Table, csv_chunks, file_chunks, xlsx_file

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return f"{CSV_MEDIA_TYPE}; charset=utf-8" if self is ExportFormat.CSV else XLSX_MEDIA_TYPE


Delimiter = Literal[",", ";"]
_ACCEPTED = {
    "application/json": None,
    "application/*": None,
    "*/*": None,
    CSV_MEDIA_TYPE: ExportFormat.CSV,
    XLSX_MEDIA_TYPE: ExportFormat.XLSX,
}


_QVALUE = re.compile(r"q=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.ASCII | re.IGNORECASE)


def format_from_accept(accept: str | None) -> ExportFormat | None:
    """The format an `Accept` header prefers (highest q, then first named); None: JSON."""
    best: tuple[float, int, ExportFormat | None] | None = None
    for order, part in enumerate((accept or "").split(",")):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        if media.lower() not in _ACCEPTED:
            continue
        quality = 1.0
        for parameter in parameters:
            # RFC 9110's qvalue; one written otherwise ("q=.", "q=0.9.1") is ignored
            if match := _QVALUE.fullmatch(parameter):
                quality = float(match.group(1))
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, order, _ACCEPTED[media.lower()])
    return best[2] if best else None


class RegionFilters(InputModel):
    """What a report of one region exports (scorecards, completeness, verification)."""

    period: Year
    region: RegionCode


@dataclass(frozen=True)
class ExportRequest:
    format: ExportFormat
    delimiter: Delimiter
    table: str | None


async def export_request(
    request: Request,
    export_format: Annotated[
        ExportFormat | None,
        Query(
            alias="format",
            description="csv or xlsx: the same data as a spreadsheet (or send `Accept: "
            f"{CSV_MEDIA_TYPE}` / `{XLSX_MEDIA_TYPE}`); the whole list, not a page",
        ),
    ] = None,
    delimiter: Annotated[
        Delimiter,
        Query(description="CSV: `;` also writes decimals with a comma (Indonesian Excel)"),
    ] = ",",
    table: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^[a-z_]+$",
            description="CSV of a report with several tables: which one (default the first)",
        ),
    ] = None,
) -> ExportRequest | None:
    chosen = export_format or format_from_accept(request.headers.get("accept"))
    return None if chosen is None else ExportRequest(chosen, delimiter, table)


ExportDep = Annotated[ExportRequest | None, Depends(export_request)]


def asks_for_export(request: Request) -> bool:
    """Whether a read wants a spreadsheet (before `export_request` has checked the query)."""
    asked = request.query_params.get("format")
    return asked is not None or format_from_accept(request.headers.get("accept")) is not None


# OpenAPI: the spreadsheet answers beside the route's JSON
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "JSON; or with `format` (or `Accept`) CSV in UTF-8 with a byte order "
        "mark, or XLSX with a Keterangan sheet (period, edition, basis, generation, time)",
    }
}


def attachment(filename: str) -> dict[str, str]:
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


def chosen_table(document: Document, slug: str | None, pointer: str) -> Table:
    """The table a CSV is made of; 422 at `pointer` for one the document does not have."""
    try:
        return document.table(slug)
    except KeyError:
        slugs = ", ".join(table.slug for table in document.tables)
        raise InvalidInput.at(
            pointer, f"no table {slug!r} in this report; one of {slugs}"
        ) from None


async def _primed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first one read already: a query that fails, fails before the
    response starts (a problem answer, not a cut-off file)."""
    first = await anext(chunks)

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return rest()


async def export_response(export: ExportRequest, document: Document) -> StreamingResponse:
    """The document as the spreadsheet `export` asks for, streamed."""
    name = f"{document.name}.{export.format.value}"
    if export.format is ExportFormat.XLSX:
        body = file_chunks(await xlsx_file(document))
    else:
        table = chosen_table(document, export.table, "/query/table")
        body = await _primed(csv_chunks(table, export.delimiter))
    return StreamingResponse(body, media_type=export.format.media_type, headers=attachment(name))
