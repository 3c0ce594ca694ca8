"""Large exports in the worker: POST /v1/exports queues a row (the whole hand-off), the drain
hands it to arq, the job writes the file to the export storage, the requester follows it and
downloads it through a signed link; old files expire."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from httpx import AsyncClient
from redis.asyncio import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.exports.production import expire, produce
from iid_api.exports.service import signature
from iid_api.settings import Settings as ApiSettings
from iid_store.changes import read_changes
from iid_store.db.models import ChangeLogEntry
from iid_store.storage import export_storage_for
from iid_worker.data import sequence_changes
from iid_worker.exports import hand_off
from iid_worker.main import job_functions
from iid_worker.settings import Settings
from tests.api.export_support import csv_rows, every_item, export_world, sheets, two_places
from tests.api.support import REGION, YEAR, ok, problem
from tests.conftest import RoleHeaders
from tests.support.servers import PrivateRedis

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def queue() -> AsyncIterator[ArqRedis]:
    redis = PrivateRedis()
    redis.start()
    client = ArqRedis(connection_pool=ConnectionPool.from_url(redis.url))
    try:
        yield client
    finally:
        await client.aclose()
        redis.stop()


def _worker_settings(settings: ApiSettings) -> Settings:
    """The worker's settings, storing where the API reads (the run's storage folder)."""
    return Settings(database_url=settings.database_url, storage_dir=settings.storage_dir)


async def _run_worker(queue: ArqRedis, factory: Factory, settings: Settings) -> None:
    """Hand what is queued to arq (as the drain does after each step), run it to the end."""
    await hand_off(queue)(factory)
    await hand_off(queue)(factory)  # a second hand-off of the same export: the same job
    await Worker(
        functions=job_functions(settings),
        redis_pool=queue,
        burst=True,
        handle_signals=False,
        ctx={"settings": settings, "session_factory": factory},
        keep_result=0,
        poll_delay=0.01,
    ).main()


async def test_a_national_ranking_made_by_the_worker(
    client: AsyncClient,
    public: AsyncClient,
    as_role: RoleHeaders,
    session_factory: Factory,
    queue: ArqRedis,
    settings: ApiSettings,
) -> None:
    await export_world(client, as_role, session_factory)
    body = {"what": "rankings", "format": "xlsx", "filters": {"period": YEAR}}
    response = await client.post("/v1/exports", json=body)
    requested = ok(response, 202)
    location = response.headers["location"]
    assert location == f"/v1/exports/{requested['id']}"
    assert (requested["status"], requested["download_url"]) == ("queued", None)

    await _run_worker(queue, session_factory, _worker_settings(settings))
    done = ok(await client.get(location))
    assert (
        done["status"] == "done" and done["filename"] == f"peringkat-{YEAR}-nasional-claimed.xlsx"
    )
    file = await public.get(done["download_url"])  # the link is the credential
    assert file.status_code == 200 and len(file.content) == done["size_bytes"]
    rows = sheets(file.content)["Peringkat"][1:]
    assert done["rows_done"] == len(rows)
    # every cluster, each as its route shows it
    clusters = sorted({row[0] for row in rows})
    assert {"kota", "kabupaten", "provinsi"} <= set(clusters)
    for cluster in clusters:
        route = f"/v1/periods/{YEAR}/rankings"
        ranking = await every_item(client, route, cluster=cluster)
        mine = [row for row in rows if row[0] == cluster]
        assert [(row[3], row[1], row[6]) for row in mine] == [
            (item["region_code"], item["rank"], two_places(item["index"])) for item in ranking
        ]

    # nobody else sees it; a forged or expired link gives nothing
    other = await as_role("national_admin")
    problem(await client.get(location, headers=other), 404)
    url = done["download_url"]
    forged = url[:-1] + ("0" if url[-1] != "0" else "1")
    problem(await public.get(forged), 404)
    garbled = url.split("signature=")[0] + "signature=" + "é" * 64
    assert problem(await public.get(garbled), 422)["errors"][0]["pointer"] == "/query/signature"
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    stale = f"{location}/file?expires={past}&signature={signature(settings, requested['id'], past)}"
    problem(await public.get(stale), 410)

    # the worker's export.ready change, from which the webhook event comes
    async with session_factory() as session:
        await sequence_changes(session)
        await session.commit()
        changes = await read_changes(session, 0, 10_000, ChangeLogEntry.kind == "export")
    assert [(c.action, c.object_id, c.data) for c in changes] == [
        ("ready", requested["id"], {"what": "rankings", "format": "xlsx"})
    ]

    # after its retention the file is deleted, and the link with it
    storage = export_storage_for(_worker_settings(settings))
    assert await expire(session_factory, storage, datetime.now(UTC) + timedelta(hours=25)) == 1
    assert ok(await client.get(location))["status"] == "expired"
    problem(await public.get(done["download_url"]), 410)


async def test_csv_of_one_table_and_the_requesters_rights(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: Factory,
    queue: ArqRedis,
    settings: ApiSettings,
) -> None:
    await export_world(client, as_role, session_factory)
    admin = await as_role("region_admin", region=REGION)
    filters: dict[str, Any] = {"period": YEAR, "region": REGION}
    body = {"what": "completeness", "format": "csv", "delimiter": ";", "filters": filters}
    refused = {**body, "table": "lainnya"}
    assert (
        problem(await client.post("/v1/exports", json=refused, headers=admin), 422)["errors"][0][
            "pointer"
        ]
        == "/body/table"
    )
    # what the route refuses, the export refuses
    elsewhere = {**body, "filters": {**filters, "region": "73.71"}}
    problem(await client.post("/v1/exports", json=elsewhere, headers=admin), 404)
    operator = await as_role("viewer", region=REGION)
    audit = {"what": "audit", "format": "csv", "filters": {"region": REGION}}
    problem(await client.post("/v1/exports", json=audit, headers=operator), 403)
    unknown = {"what": "rankings", "format": "pdf", "filters": {"period": YEAR}}
    problem(await client.post("/v1/exports", json=unknown, headers=admin), 422)

    wanted = {**body, "table": "inovasi"}
    requested = ok(await client.post("/v1/exports", json=wanted, headers=admin), 202)
    await _run_worker(queue, session_factory, _worker_settings(settings))
    done = ok(await client.get(f"/v1/exports/{requested['id']}", headers=admin))
    assert done["status"] == "done" and done["table"] == "inovasi"
    content = (await client.get(done["download_url"])).content
    header, *rows = csv_rows(content, ";")
    report = ok(await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/completeness"))
    assert header[:2] == ["ID inovasi", "Nama inovasi"]
    assert [row[0] for row in rows] == [item["id"] for item in report["innovations"]]
    percents = [row[8] for row in rows]
    assert all("," in value for value in percents)  # `;`: decimals with a comma


async def test_an_export_out_of_time_is_failed_with_the_reason(
    client: AsyncClient, as_role: RoleHeaders, session_factory: Factory, settings: ApiSettings
) -> None:
    await export_world(client, as_role, session_factory)
    body = {"what": "rankings", "format": "xlsx", "filters": {"period": YEAR}}
    requested = ok(await client.post("/v1/exports", json=body), 202)
    storage = export_storage_for(_worker_settings(settings))
    export_id = uuid.UUID(requested["id"])
    # no time at all: what a job timeout would have cancelled, leaving the export `running`
    status = await produce(session_factory, storage, export_id, timedelta(hours=1), time_limit=0)
    assert status == "failed"
    failed = ok(await client.get(f"/v1/exports/{export_id}"))
    assert (failed["status"], failed["download_url"]) == ("failed", None)
    assert failed["error"].startswith("took longer than 0 s")
