"""The years before the service: importing published results (CSV and XLSX, dry run, all or
nothing, the raw-sum scale before 2021) and the history that shows them beside the periods."""

import io
import zipfile
from typing import Any

from httpx import AsyncClient, Response
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import ImportedResult
from iid_store.seed import seed_published_results
from iid_worker.drain import drain
from tests.api.support import YEAR, create_period, move_period, ok, problem, publish
from tests.conftest import RoleHeaders

IMPORTS = "/v1/history/imports"
HEADER = "region_code,year,index,raw_score,rating,cluster,rank,innovations,agencies_taking_part"
PAREPARE = [
    "73.72,2020,,,Sangat Inovatif,,,,",
    "73.72,2021,49.63,,Inovatif,kota,44,,",
    "73.72,2022,58.89,,inovatif,Kota,18,,",
    "73.72,2023,57.85,,Inovatif,kota,30,,",
]


def csv_file(*lines: str, header: str = HEADER) -> dict[str, Any]:
    body = "\n".join([header, *lines]) + "\n"
    return {"file": ("hasil.csv", body.encode(), "text/csv")}


def xlsx_file(rows: list[list[Any]]) -> dict[str, Any]:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return {"file": ("hasil.xlsx", buffer.getvalue(), kind)}


async def upload(client: AsyncClient, files: dict[str, Any], *, dry_run: bool = False) -> Response:
    return await client.post(IMPORTS, files=files, params={"dry_run": str(dry_run).lower()})


def issues(report: dict[str, Any], kind: str = "errors") -> list[tuple[int, str]]:
    return [(issue["line"], issue["column"]) for issue in report[kind]]


async def history(client: AsyncClient, region: str = "73.72") -> list[dict[str, Any]]:
    return list(ok(await client.get(f"/v1/regions/{region}/history"))["items"])


async def stored(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(ImportedResult)) or 0)


BAD = [
    "73.72,2021,49.63,,Inovatif,kota,44,,",  # good
    "99.99,2021,50,,,,,,",  # unknown region
    "73.71,2022,101,,,,,,",  # index above 100
    "19.71,2020,12,1462,,,,43,",  # index and raw score
    "19.71,2021,59.02,,hebat,,0,-1,",  # rating, rank and innovations
    ",dua ribu,,,,,,,",  # region code and year
    "63.03,2022,52.53,,,kota,,,",  # a kabupaten in the kota cluster
    "73.72,2021,49.60,,,,,,",  # line 2 again
]


async def test_a_dry_run_reports_every_bad_cell_and_writes_nothing(
    client: AsyncClient, db: AsyncSession
) -> None:
    report = ok(await upload(client, csv_file(*BAD), dry_run=True))
    assert issues(report) == [
        (3, "region_code"),
        (4, "index"),
        (5, "raw_score"),
        (6, "rating"),
        (6, "rank"),
        (6, "innovations"),
        (7, "region_code"),
        (7, "year"),
        (8, "cluster"),
        (9, "year"),
    ]
    details = {(issue["line"], issue["column"]): issue["detail"] for issue in report["errors"]}
    assert details[(4, "index")] == "101 is outside 0..100"
    assert details[(9, "year")] == "73.72 2021 is already on line 2"
    assert (report["dry_run"], report["import_id"], report["rows"]) == (True, None, 8)
    assert await stored(db) == 0

    # a real run of the same file is all or nothing
    refused = problem(await upload(client, csv_file(*BAD)), 422)
    assert refused["errors"][0] == {
        "pointer": "/body/file/3/region_code",
        "detail": "no such region",
    }
    assert len(refused["errors"]) == 10 and refused["report"]["errors"] == report["errors"]
    assert await stored(db) == 0
    assert await history(client) == []

    header = problem(await upload(client, csv_file("73.72,2021", header="kode,year")), 422)
    assert [error["pointer"] for error in header["errors"]] == [
        "/body/file/1/kode",
        "/body/file/1/region_code",
    ]
    garbage = {"file": ("hasil.xlsx", b"PK\x03\x04 not really a zip", "application/zip")}
    assert problem(await upload(client, garbage), 422)["errors"][0]["pointer"] == "/body/file"
    for part in ("xl/worksheets/sheet1.xml", "xl/workbook.xml"):  # a zip, its XML broken
        broken = _broken_xlsx(part)
        assert problem(await upload(client, broken), 422)["errors"][0]["pointer"] == "/body/file"


async def test_numbers_no_column_can_hold_are_bad_cells(client: AsyncClient) -> None:
    lines = [
        "73.72,Infinity,,,,,,,",
        "73.72,sNaN,,,,,,,",
        "73.72,2021,,,,,Infinity,1e12,",
        "73.72,2022,,,,,NaN,,2147483648",
    ]
    report = ok(await upload(client, csv_file(*lines), dry_run=True))
    assert issues(report) == [
        (2, "year"),
        (3, "year"),
        (4, "rank"),
        (4, "innovations"),
        (5, "rank"),
        (5, "agencies_taking_part"),
    ]


def _broken_xlsx(part: str) -> dict[str, Any]:
    """A workbook whose `part` is cut in the middle of its XML."""
    name, content, kind = xlsx_file([["region_code", "year"], ["73.72", 2021]])["file"]
    source, target = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as rebuilt:
        for item in source.namelist():
            data = source.read(item)
            rebuilt.writestr(item, data[: len(data) // 2] if item == part else data)
    return {"file": (name, target.getvalue(), kind)}


async def test_csv_import_replaces_a_year_and_is_audited(
    client: AsyncClient, as_role: RoleHeaders, db: AsyncSession
) -> None:
    admin = await as_role("region_admin", region="73.72")
    problem(await client.post(IMPORTS, files=csv_file(*PAREPARE), headers=admin), 403)
    report = ok(await upload(client, csv_file(*PAREPARE)), 201)
    assert (report["created"], report["replaced"], report["errors"]) == (4, 0, [])
    years = await history(client)
    assert [(entry["period"], entry["source"], entry["scale"]) for entry in years] == [
        (2023, "imported", "index_0_100"),
        (2022, "imported", "index_0_100"),
        (2021, "imported", "index_0_100"),
        (2020, "imported", "raw_sum"),
    ]
    assert [(entry["index"], entry["rating"], entry["ranks"]) for entry in years[1:3]] == [
        ("58.89", "inovatif", [{"cluster": "kota", "rank": 18, "movement": None}]),
        ("49.63", "inovatif", [{"cluster": "kota", "rank": 44, "movement": None}]),
    ]
    assert (years[3]["index"], years[3]["raw_score"], years[3]["ranks"]) == (None, None, [])

    # the same region and year again: replaced, and the audit trail keeps what it was
    again = ok(await upload(client, csv_file("73.72,2022,58.90,,Inovatif,kota,17,35,21")), 201)
    assert (again["created"], again["replaced"]) == (0, 1)
    entry = (await history(client))[1]
    assert (entry["index"], entry["ranks"][0]["rank"], entry["innovations"]) == ("58.90", 17, 35)
    assert entry["agencies_taking_part"] == 21
    trail = ok(await client.get("/v1/audit?object_type=imported_results"))
    assert trail["total"] == 2
    latest = trail["items"][0]
    assert latest["object_id"] == again["import_id"]
    assert latest["after"]["replaced"][0]["score"] == "58.89"
    assert latest["after"]["created"] == 0 and latest["after"]["years"] == [2022]
    assert await stored(db) == 4

    # each import is a resource: the rows it still owns (the replaced year moved to the second)
    first = ok(await client.get(f"{IMPORTS}/{report['import_id']}"))
    assert [row["year"] for row in first["items"]] == [2020, 2021, 2023]
    assert (first["items"][1]["score"], first["items"][1]["rank"]) == ("49.63", 44)
    second = await upload(client, csv_file("73.72,2022,58.91,,Inovatif,kota,16,,"))
    rows = ok(await client.get(second.headers["Location"]))["items"]
    assert [(row["year"], row["score"], row["rank"]) for row in rows] == [(2022, "58.91", 16)]
    problem(await client.get(f"{IMPORTS}/{again['import_id']}"), 404)
    problem(await client.get(f"{IMPORTS}/{report['import_id']}", headers=admin), 403)


async def test_xlsx_import_keeps_the_raw_sum_scale_and_warns_on_ratings(
    client: AsyncClient,
) -> None:
    rows = [
        [
            "Region code",
            "Year",
            "Raw score",
            "Index",
            "Rating",
            "Innovations",
            "Agencies taking part",
        ],
        ["19.71", 2020, 1462, None, None, 43, None],
        ["19.71", 2021, None, 59.02, "Inovatif", 25, None],
        ["19.71", 2022, None, "50,21", "Inovatif", 40, 21],
        # iid-2023 is registered: 30.00 is Kurang Inovatif there (kept as published, warned)
        ["19.71", 2023, None, 30, "Inovatif", 29, None],
        [None, None, None, None, None, None, None],
    ]
    report = ok(await upload(client, xlsx_file(rows)), 201)
    assert (report["rows"], report["created"], report["errors"]) == (4, 4, [])
    assert issues(report, "warnings") == [(5, "rating")]
    assert "iid-2023 rates an index of 30.00 kurang_inovatif" in report["warnings"][0]["detail"]
    years = {entry["period"]: entry for entry in await history(client, "19.71")}
    raw = years[2020]
    assert (raw["scale"], raw["raw_score"], raw["index"], raw["innovations"]) == (
        "raw_sum",
        "1462.00",
        None,
        43,
    )
    assert (years[2022]["index"], years[2022]["agencies_taking_part"]) == ("50.21", 21)
    assert (years[2023]["index"], years[2023]["rating"]) == ("30.00", "inovatif")


async def test_history_shows_computed_periods_beside_imported_years(
    client: AsyncClient,
    public: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ok(await upload(client, csv_file(*PAREPARE)), 201)
    await create_period(client, year=2024)
    await move_period(client, "closed", "verifying", year=2024)
    await publish(client, year=2024)
    await create_period(client)  # 2026, still open
    await drain(session_factory)

    # a year this service assesses is computed, never imported
    clash = ok(await upload(client, csv_file("73.72,2024,40,,,,,,"), dry_run=True))
    assert issues(clash) == [(2, "year")]

    expected_public = [
        (2024, "computed", "verified", "0.00"),
        (2023, "imported", None, "57.85"),
        (2022, "imported", None, "58.89"),
        (2021, "imported", None, "49.63"),
        (2020, "imported", None, None),
    ]
    seen = ok(await public.get("/v1/regions/73.72/history"))
    assert seen["total"] == 5
    assert [
        (entry["period"], entry["source"], entry["basis"], entry["index"])
        for entry in seen["items"]
    ] == expected_public
    computed = seen["items"][0]
    assert (computed["period_status"], computed["rating"], computed["ranks"][0]["cluster"]) == (
        "published",
        "tidak_dapat_dinilai",
        "kota",
    )
    # the region's own people also see the period still running, on the claims
    admin = await as_role("region_admin", region="73.72")
    own = ok(await client.get("/v1/regions/73.72/history?limit=2", headers=admin))
    assert own["total"] == 6
    assert [(entry["period"], entry["basis"]) for entry in own["items"]] == [
        (YEAR, "claimed"),
        (2024, "verified"),
    ]
    # another region's admin sees what the public sees
    other = await as_role("region_admin", region="73.71")
    assert ok(await client.get("/v1/regions/73.72/history", headers=other))["total"] == 5
    problem(await public.get("/v1/regions/99.99/history"), 404)


async def test_the_seed_loads_the_published_demo_figures_once(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], db: AsyncSession
) -> None:
    for _ in range(2):
        async with session_factory() as session:
            await seed_published_results(session)
            await session.commit()
    assert await stored(db) == 12
    parepare = await history(client)
    assert [(entry["period"], entry["index"], entry["rating"]) for entry in parepare] == [
        (2023, "57.85", "inovatif"),
        (2022, "58.89", "inovatif"),
        (2021, "49.63", "inovatif"),
        (2020, None, "sangat_inovatif"),
        (2019, None, "sangat_inovatif"),
        (2018, None, "sangat_inovatif"),
    ]
    assert [entry["ranks"] for entry in parepare[:3]] == [
        [{"cluster": "kota", "rank": rank, "movement": None}] for rank in (30, 18, 44)
    ]
    pangkal_pinang = await history(client, "19.71")
    assert [
        (e["period"], e["scale"], e["index"], e["raw_score"], e["innovations"])
        for e in pangkal_pinang
    ] == [
        (2022, "index_0_100", "50.21", None, 40),
        (2021, "index_0_100", "59.02", None, 25),
        (2020, "raw_sum", None, "1462.00", 43),
    ]
    assert pangkal_pinang[0]["agencies_taking_part"] == 21
    banjar = await history(client, "63.03")
    assert [(e["period"], e["index"], e["rating"], e["innovations"]) for e in banjar] == [
        (2023, "57.64", "inovatif", 49),
        (2022, "52.53", None, None),
    ]
    sidrap = await history(client, "73.14")
    assert [(e["period"], e["index"], e["rating"], e["ranks"]) for e in sidrap] == [
        (2022, "36.00", "inovatif", [])
    ]
