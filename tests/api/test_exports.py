"""Exports on the routes that read: the XLSX opened with openpyxl and compared cell by cell
with the route's own JSON, the CSV parsed back, and both with the route's permissions."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.export_support import (
    csv_rows,
    export_world,
    frozen_header,
    is_xlsx,
    sheets,
    stamp,
    two_places,
    utc_naive,
    workbook_formats,
)
from tests.api.support import (
    REGION,
    YEAR,
    ok,
    problem,
)
from tests.conftest import RoleHeaders

BASES = ("claimed", "verified")


async def test_ranking_xlsx_matches_the_json_cell_by_cell(
    client: AsyncClient, as_role: RoleHeaders, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await export_world(client, as_role, session_factory)
    route = f"/v1/periods/{YEAR}/rankings"
    params = {"cluster": "kota", "basis": "claimed"}
    ranking = ok(await client.get(route, params={**params, "limit": 200}))
    response = await client.get(route, params={**params, "format": "xlsx", "limit": 1})
    assert response.status_code == 200 and is_xlsx(response)
    assert "peringkat-2026-kota-claimed.xlsx" in response.headers["content-disposition"]
    rows = sheets(response.content)["Peringkat"]
    header, data = rows[0], rows[1:]
    assert header[:4] == ("Klaster", "Peringkat", "Urutan", "Kode daerah")
    assert len(data) == ranking["total"] == len(ranking["items"]) > 1  # whole, not a page
    for item, row in zip(ranking["items"], data, strict=True):
        assert row == (
            "kota",
            item["rank"],
            item["position"],
            item["region_code"],
            item["region_name"],
            item["province_code"],
            two_places(item["index"]),
            item["rating"],
            two_places(item["total_score"]),
            item["previous_rank"],
            item["movement"],
            utc_naive(item["computed_at"]),
        )
    assert frozen_header(response.content, "Peringkat") == "A2"
    formats = workbook_formats(response.content, "Peringkat")
    assert (formats["Indeks"], formats["Dihitung pada (UTC)"]) == ("0.00", "yyyy-mm-dd hh:mm:ss")
    about = stamp(response.content)
    assert (about["Periode"], about["Edisi"], about["Basis"]) == (YEAR, "iid-2026", "claimed")
    assert about["Generasi data"] >= 0 and about["Baris: Peringkat"] == ranking["total"]
    assert about["Waktu data (UTC)"] == max(utc_naive(i["computed_at"]) for i in ranking["items"])


@pytest.mark.parametrize("delimiter", [",", ";"])
async def test_ranking_csv_parses_back(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
    delimiter: str,
) -> None:
    await export_world(client, as_role, session_factory)
    route = f"/v1/periods/{YEAR}/rankings"
    ranking = ok(await client.get(route, params={"cluster": "kota", "limit": 200}))
    response = await client.get(
        route,
        params={"cluster": "kota", "delimiter": delimiter},
        headers={"Accept": "text/csv"},
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    header, *data = csv_rows(response.content, delimiter)
    assert header[1] == "Peringkat" and len(data) == len(ranking["items"])
    comma = delimiter == ";"
    for item, row in zip(ranking["items"], data, strict=True):
        index = row[6].replace(",", ".") if comma else row[6]
        assert (row[3], int(row[1]), Decimal(index)) == (
            item["region_code"],
            item["rank"],
            Decimal(item["index"]),
        )
        assert ("," in row[6]) is comma


def _number(value: Any) -> Any:
    return None if value is None else Decimal(str(value))


def _moment(value: str | None) -> Any:
    return None if value is None else utc_naive(value)


async def _xlsx(client: AsyncClient, route: str, **params: Any) -> dict[str, list[tuple[Any, ...]]]:
    response = await client.get(route, params={**params, "format": "xlsx"})
    assert response.status_code == 200 and is_xlsx(response), response.text
    return sheets(response.content)


async def test_scorecard_xlsx_puts_claimed_and_verified_side_by_side(
    client: AsyncClient, as_role: RoleHeaders, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    entries = await export_world(client, as_role, session_factory)
    route = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard"
    cards = {basis: ok(await client.get(route, params={"basis": basis})) for basis in BASES}
    book = await _xlsx(client, route)
    assert list(book) == ["Indikator", "Inovasi", "Variabel", "Ringkasan", "Keterangan"]
    claimed, verified = cards["claimed"], cards["verified"]
    by_code = {item["code"]: item for item in verified["indicators"]}
    expected = [
        (
            item["code"],
            item["aspect"],
            item["variable"],
            item["level"],
            by_code[item["code"]]["level"],
            Decimal(item["points"]),
            Decimal(by_code[item["code"]]["points"]),
            Decimal(item["max_points"]),
        )
        for item in claimed["indicators"]
    ]
    assert book["Indikator"][1:] == expected
    verified_items = {item["id"]: item for item in verified["innovations"]}
    assert [row[0] for row in book["Inovasi"][1:]] == [i["id"] for i in claimed["innovations"]]
    for row, item in zip(book["Inovasi"][1:], claimed["innovations"], strict=True):
        other = verified_items.get(item["id"], {})
        assert row[2:] == (
            item["status"],
            other.get("status"),
            item["reason"],
            other.get("reason"),
            Decimal(item["points"]),
            _number(other.get("points")),
        )
    assert sorted(verified_items) == sorted(entries[REGION])
    summary = {row[0]: row for row in book["Ringkasan"][1:]}
    for basis, card in cards.items():
        assert summary[basis][1:3] == (Decimal(card["index"]), card["rating"])
        assert summary[basis][11:] == (card["generation"], utc_naive(card["computed_at"]))
    about = dict(book["Keterangan"][1:])
    assert about["Basis"] == "claimed dan verified"


async def test_completeness_and_verification_xlsx_match_their_json(
    client: AsyncClient, as_role: RoleHeaders, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await export_world(client, as_role, session_factory)
    route = f"/v1/periods/{YEAR}/regions/{REGION}/completeness"
    report = ok(await client.get(route))
    book = await _xlsx(client, route)

    def figures(item: dict[str, Any]) -> tuple[Any, ...]:
        return (
            item["indicators"],
            item["answered"],
            item["evidenced"],
            _number(item["answered_percent"]),
            _number(item["evidenced_percent"]),
        )

    assert book["Ringkasan"][1:] == [
        (part, *figures(report[part])) for part in ("total", "spd", "sid")
    ]
    assert book["Inovasi"][1:] == [
        (
            i["id"],
            i["name"],
            i["agency_id"],
            i["status"],
            i["review_state"],
            *figures(i["figures"]),
            "; ".join(problem["detail"] for problem in i["sending_problems"]) or None,
        )
        for i in report["innovations"]
    ]
    assert any(row[-1] for row in book["Inovasi"][1:])  # the draft's problems
    assert [row[:2] for row in book["Data dukung kurang"][1:]] == [
        (gap["aspect"], gap["indicator"]) for gap in report["missing_evidence"]
    ]
    assert len(book["Data dukung kurang"]) == len(report["missing_evidence"]) + 1 > 1

    route = f"/v1/periods/{YEAR}/regions/{REGION}/verification"
    results = ok(await client.get(route))
    rows = (await _xlsx(client, route))["Hasil verifikasi"][1:]

    def decided(answer: dict[str, Any]) -> tuple[Any, ...]:
        return (
            answer["indicator"],
            answer["claimed_level"],
            answer["claim_version"],
            answer["decision"],
            answer["level"],
            answer["verified_level"],
            answer["note"] or None,  # an empty cell reads as None
            answer["decided_by"],
            _moment(answer["decided_at"]),
            answer["stale"],
            answer["decided_with_innovation"],
        )

    expected = [("spd", None, None, None, *decided(a)) for a in results["spd"]]
    expected += [
        ("sid", i["entry_id"], i["name"], i["registration_number"], *decided(a))
        for i in results["innovations"]
        for a in i["answers"]
    ]
    assert rows == expected
    assert {row[7] for row in rows} == {"accept", "lower", None}
    # CSV of a report of several tables: one table at a time
    response = await client.get(
        f"/v1/periods/{YEAR}/regions/{REGION}/completeness",
        params={"format": "csv", "table": "wajib_kosong"},
    )
    header, *data = csv_rows(response.content)
    assert header[:2] == ["Aspek", "Indikator"] and len(data) == len(report["mandatory_empty"])
    unknown = await client.get(
        f"/v1/periods/{YEAR}/regions/{REGION}/completeness",
        params={"format": "csv", "table": "lainnya"},
    )
    assert problem(unknown, 422)["errors"][0]["pointer"] == "/query/table"


async def test_innovation_list_and_audit_exports_hold_every_row(
    client: AsyncClient, as_role: RoleHeaders, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await export_world(client, as_role, session_factory)
    route = f"/v1/periods/{YEAR}/regions/73.73/innovations"
    listed = ok(await client.get(route, params={"limit": 200}))
    rows = (await _xlsx(client, route, limit=1))["Inovasi"][1:]
    assert len(rows) == listed["total"] == 3
    for row, item in zip(rows, listed["items"], strict=True):
        assert row[:6] == (
            item["id"],
            item["public_id"],
            item["agency_id"],
            item["name"],
            item["stage"],
            item["initiator"],
        )
        # a date cell (Excel has no other kind of date) reads back as midnight
        assert row[13].date() == date.fromisoformat(item["implemented_on"])
        assert (row[15], row[26], row[28]) == (
            item["design_words"],
            item["registration_number"],
            item["version"],
        )
        assert row[30] == utc_naive(item["created_at"])
    filtered = (await _xlsx(client, route, q="Cepat 73.73 1"))["Inovasi"][1:]
    assert [row[3] for row in filtered] == ["Layanan Cepat 73.73 1"]

    trail = ok(await client.get("/v1/audit", params={"region": REGION, "limit": 200}))
    response = await client.get("/v1/audit", params={"region": REGION, "format": "csv"})
    header, *data = csv_rows(response.content)
    assert header[:3] == ["ID", "Waktu (UTC)", "Pelaku"]
    assert [int(row[0]) for row in data] == [item["id"] for item in trail["items"]]
    for row, item in zip(data, trail["items"], strict=True):
        at = datetime.fromisoformat(item["at"]).astimezone(UTC)
        assert row[1] == at.strftime("%Y-%m-%dT%H:%M:%SZ")  # UTC to the second, ISO 8601
        assert row[2:6] == [item["actor"], item["action"], item["object_type"], item["object_id"]]
        assert (json.loads(row[8]) if row[8] else None) == item["before"]
        assert (json.loads(row[9]) if row[9] else None) == item["after"]


async def test_exports_keep_the_routes_permissions(
    client: AsyncClient,
    public: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    entries = await export_world(client, as_role, session_factory)
    routes = [
        f"/v1/periods/{YEAR}/rankings?cluster=kota",
        f"/v1/periods/{YEAR}/regions/{REGION}/scorecard",
        f"/v1/periods/{YEAR}/regions/{REGION}/completeness",
        f"/v1/periods/{YEAR}/regions/{REGION}/verification",
        f"/v1/periods/{YEAR}/regions/{REGION}/innovations",
        f"/v1/audit?region={REGION}",
    ]
    agency = ok(await client.get(f"/v1/innovations/{entries[REGION][0]}"))["agency_id"]
    callers = {
        "public": {},
        "other region": await as_role("region_admin", region="73.71"),
        "agency": await as_role("agency_operator", region=REGION, agency=agency),
        "viewer": await as_role("viewer", region=REGION),
    }
    for name, headers in callers.items():
        for route in routes:
            as_json = await public.get(route, headers=headers)
            for kind in ("csv", "xlsx"):
                joiner = "&" if "?" in route else "?"
                exported = await public.get(f"{route}{joiner}format={kind}", headers=headers)
                assert exported.status_code == as_json.status_code, (name, route, kind)
    # an agency operator's list is its agency's, in the spreadsheet too
    operator = callers["agency"]
    response = await public.get(
        f"/v1/periods/{YEAR}/regions/{REGION}/innovations?format=csv", headers=operator
    )
    names = [row[3] for row in csv_rows(response.content)[1:]]
    assert names and "Sekolah Ramah Anak" not in names
