"""The public innovation directory: Indonesian search (stems, typos), filters and facets that
add up, who sees what (drafts never, unpublished years only when the region opts in, design
texts the region keeps internal), keyset pages stable under inserts, the detail across years
with recognitions and replications, similar innovations, CSV, and the feed for portals."""

import csv
import io
from typing import Any
from xml.etree import ElementTree

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.directory import repository
from iid_api.directory.repository import Entry
from iid_store.db.models import ChangeLogEntry, DirectoryScore
from iid_worker.data import sequence_changes
from iid_worker.drain import drain
from tests.api.evidence_support import pdf, sid_evidence_url, upload
from tests.api.support import (
    MANDATORY,
    OTHER_REGION,
    REGION,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    problem,
    publish,
    send_innovation,
)
from tests.conftest import RoleHeaders

Factory = async_sessionmaker[AsyncSession]
PUBLISHED, RUNNING = 2025, 2026
PROVINCE = "73"  # Sulawesi Selatan: Parepare (73.72) and Makassar (73.71) are its kota
SECRET_WORD = "zirkonium"  # only in texts the public may never see
# name, urusan, stage, goal (the corpus the search runs on)
CORPUS: dict[str, list[tuple[str, list[str], str, str]]] = {
    REGION: [
        (
            "Pelayanan Kesehatan Keliling",
            ["kesehatan"],
            "penerapan",
            "Mendekatkan pelayanan kesehatan ke desa terpencil",
        ),
        (
            "Puskesmas Keliling Terapung",
            ["kesehatan", "perhubungan"],
            "penerapan",
            "Puskesmas di atas kapal untuk warga pulau",
        ),
        (
            "Sekolah Pendidikan Inklusif",
            ["pendidikan"],
            "uji_coba",
            "Anak berkebutuhan khusus belajar bersama",
        ),
    ],
    OTHER_REGION: [
        (
            "E-Kinerja ASN Terpadu",
            ["kepegawaian", "komunikasi_informatika"],
            "penerapan",
            "Penilaian kinerja pegawai secara daring",
        ),
        (
            "Layanan Sehat Warga Kota",
            ["kesehatan"],
            "penerapan",
            "Pemeriksaan kesehatan gratis untuk warga",
        ),
        (
            "Beasiswa Anak Didik Berprestasi",
            ["pendidikan", "sosial"],
            "inisiatif",
            "Membiayai peserta didik dari keluarga miskin",
        ),
    ],
}


async def _sequenced(factory: Factory) -> None:
    """The worker's sequencer numbers every committed change (no writer is running)."""
    async with factory() as session:
        await sequence_changes(session)
        await session.commit()
        left = select(func.count()).where(ChangeLogEntry.position.is_(None))
        assert await session.scalar(left) == 0


async def _enter(
    client: AsyncClient, agency: str, region: str, year: int, name: str, **fields: Any
) -> dict[str, Any]:
    entry = await create_innovation(client, agency, region=region, year=year, name=name, **fields)
    await answer_sid(client, entry["id"], MANDATORY)
    return entry


async def _world(client: AsyncClient, factory: Factory) -> dict[str, Any]:
    """PUBLISHED: the corpus sent, verified (the first innovation's answers accepted) and
    published; a draft carrying the secret word. RUNNING: a sent innovation with the secret
    word (not public), and one whose internal design text has it."""
    await create_period(client, year=PUBLISHED)
    world: dict[str, Any] = {"entries": {}, "agencies": {}}
    for region, items in CORPUS.items():
        agency = (await create_agency(client, region=region, name=f"Bappeda {region}"))["id"]
        world["agencies"][region] = agency
        for name, urusan, stage, goal in items:
            entry = await _enter(
                client, agency, region, PUBLISHED, name, urusan=urusan, stage=stage, goal=goal
            )
            world["entries"][name] = entry
    evidence_of = world["entries"]["Puskesmas Keliling Terapung"]["id"]
    ok(await upload(client, sid_evidence_url(evidence_of, "16"), pdf()), 201)
    draft = await _enter(
        client, world["agencies"][REGION], REGION, PUBLISHED, f"Inovasi {SECRET_WORD}"
    )
    world["draft"] = draft
    for entry in world["entries"].values():
        await send_innovation(client, entry["id"])
    await move_period(client, "closed", "verifying", year=PUBLISHED)
    accepted = world["entries"]["Pelayanan Kesehatan Keliling"]["id"]
    for code in MANDATORY:
        url = f"/v1/innovations/{accepted}/answers/{code}/decision"
        ok(await client.put(url, json={"decision": "accept"}))
    await publish(client, year=PUBLISHED, force=True)
    await drain(factory)

    await create_period(client, year=RUNNING)
    agency = world["agencies"][REGION]
    running = await _enter(client, agency, REGION, RUNNING, f"Sistem {SECRET_WORD} Daerah")
    await send_innovation(client, running["id"])
    internal = await _enter(
        client,
        agency,
        REGION,
        RUNNING,
        "Aplikasi Pengaduan Warga",
        design=f"{' '.join(['kata'] * 300)} {SECRET_WORD}",
        design_internal=True,
    )
    await send_innovation(client, internal["id"])
    world["running"], world["internal"] = running, internal
    await _sequenced(factory)
    return world


async def _names(
    client: AsyncClient, headers: dict[str, str] | None = None, **params: Any
) -> list[str]:
    query = {"limit": 100, **params}
    page = ok(await client.get("/v1/directory", params=query, headers=headers or {}))
    return [item["name"] for item in page["items"]]


async def test_search_in_indonesian_with_filters_facets_and_visibility(
    client: AsyncClient, public: AsyncClient, session_factory: Factory, as_role: RoleHeaders
) -> None:
    world = await _world(client, session_factory)
    # stems: layanan/pelayanan, sehat/kesehatan, didik/pendidikan
    health = {"Pelayanan Kesehatan Keliling", "Layanan Sehat Warga Kota"}
    assert set(await _names(public, q="layanan")) == health
    assert set(await _names(public, q="pelayanan kesehatan")) >= health
    assert "Pelayanan Kesehatan Keliling" in await _names(public, q="sehat")
    assert {"Sekolah Pendidikan Inklusif", "Beasiswa Anak Didik Berprestasi"} <= set(
        await _names(public, q="didik")
    )
    # typos and partial words, on names
    assert (await _names(public, q="puskesmass"))[0] == "Puskesmas Keliling Terapung"
    assert (await _names(public, q="e-kinerj"))[0] == "E-Kinerja ASN Terpadu"
    # the best match first, with the words marked in the snippet
    found = ok(await public.get("/v1/directory", params={"q": "puskesmas kapal"}))
    assert found["items"][0]["name"] == "Puskesmas Keliling Terapung"
    assert "<mark>" in found["items"][0]["snippet"]
    assert found["items"][0]["relevance"] > 0

    # filters
    assert set(await _names(public, urusan="kesehatan", urusan_match="main")) == health | {
        "Puskesmas Keliling Terapung"
    }
    assert await _names(public, urusan="sosial", urusan_match="main") == []
    assert await _names(public, urusan="sosial") == ["Beasiswa Anak Didik Berprestasi"]
    assert set(await _names(public, region=OTHER_REGION)) == {n[0] for n in CORPUS[OTHER_REGION]}
    assert len(await _names(public, province=PROVINCE, region_kind="kota", cluster="kota")) == 6
    assert await _names(public, region_kind="kabupaten") == []
    assert await _names(public, stage="inisiatif") == ["Beasiswa Anak Didik Berprestasi"]
    assert await _names(public, has_evidence=True) == ["Puskesmas Keliling Terapung"]
    assert await _names(public, year=RUNNING) == []

    # facets: each single-valued one adds up to the total
    page = ok(await public.get("/v1/directory"))
    assert page["total"] == 6
    for name in ("year", "stage", "form", "kind", "urusan", "province", "region", "rating"):
        assert sum(value["count"] for value in page["facets"][name]) == 6, name
    stages = {value["value"]: value["count"] for value in page["facets"]["stage"]}
    assert stages == {"penerapan": 4, "uji_coba": 1, "inisiatif": 1}
    assert page["facets"]["has_evidence"] == [
        {"value": False, "count": 5},
        {"value": True, "count": 1},
    ]
    # the region's rating and the verified points show for the published year; sorted by score
    scored = ok(await public.get("/v1/directory", params={"sort": "score"}))["items"]
    assert scored[0]["name"] == "Pelayanan Kesehatan Keliling"
    assert float(scored[0]["score"]) > 0 and float(scored[-1]["score"]) == 0
    ratings = {item["rating"] for item in scored}
    assert None not in ratings
    rated = page["facets"]["rating"][0]["value"]
    assert set(await _names(public, rating=rated)) <= {n for n, *_ in CORPUS[REGION]} | {
        n for n, *_ in CORPUS[OTHER_REGION]
    }

    # who sees what: drafts never; an unpublished year's sent innovations only signed in
    assert await _names(public, q=SECRET_WORD) == []
    national = await as_role("viewer")
    assert await _names(client, q=SECRET_WORD, headers=national) == [f"Sistem {SECRET_WORD} Daerah"]
    own = await as_role("viewer", region=REGION)
    foreign = await as_role("viewer", region=OTHER_REGION)
    assert len(await _names(client, year=RUNNING, headers=own)) == 2
    assert await _names(client, year=RUNNING, headers=foreign) == []
    # an internal design text is never searched nor shown
    assert await _names(client, q=SECRET_WORD, year=RUNNING, headers=national) == [
        f"Sistem {SECRET_WORD} Daerah"
    ]
    internal = world["internal"]["public_id"]
    detail = ok(await client.get(f"/v1/directory/{internal}", headers=national))
    assert detail["years"][0]["design"] is None
    ok(await public.get(f"/v1/directory/{internal}"), 404)

    # the region opts in: its sent innovations of the running year are public (no score yet)
    ok(await client.put(f"/v1/regions/{REGION}/review-settings", json={"public_early": True}))
    early = ok(await public.get("/v1/directory", params={"year": RUNNING}))
    assert {item["name"] for item in early["items"]} == {
        f"Sistem {SECRET_WORD} Daerah",
        "Aplikasi Pengaduan Warga",
    }
    assert {item["score"] for item in early["items"]} == {None}
    assert {item["rating"] for item in early["items"]} == {None}
    settings = ok(await client.get(f"/v1/regions/{REGION}/review-settings"))
    assert settings["public_early"] is True and settings["review_required"] is True


async def test_pages_follow_the_cursor_without_repeats_or_gaps_under_inserts(
    client: AsyncClient, public: AsyncClient, session_factory: Factory
) -> None:
    world = await _world(client, session_factory)
    ok(await client.put(f"/v1/regions/{REGION}/review-settings", json={"public_early": True}))
    for sort in ("newest", "name", "score", "relevance"):
        params: dict[str, Any] = {"limit": 2, "sort": sort}
        if sort == "relevance":
            params["q"] = "warga kesehatan anak"
        everything = await _names(public, **{**params, "limit": 100})
        seen: list[str] = []
        cursor = None
        while True:
            after = {} if cursor is None else {"cursor": cursor}
            page = ok(await public.get("/v1/directory", params={**params, **after}))
            seen += [item["name"] for item in page["items"]]
            if len(seen) == 2 and sort == "newest":
                # a new public innovation meanwhile: it is newer than every page to come
                late = await _enter(
                    client, world["agencies"][REGION], REGION, RUNNING, "Warga Kesehatan Anak"
                )
                await send_innovation(client, late["id"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == everything, sort
    # a cursor of another sort, or none at all, is refused naming the parameter
    page = ok(await public.get("/v1/directory", params={"limit": 1, "sort": "name"}))
    wrong = await public.get("/v1/directory", params={"cursor": page["next_cursor"]})
    assert problem(wrong, 422)["errors"][0]["pointer"] == "/query/cursor"
    garbage = await public.get("/v1/directory", params={"cursor": "bm90IGEgY3Vyc29y"})
    assert problem(garbage, 422)["errors"][0]["pointer"] == "/query/cursor"
    nowords = await public.get("/v1/directory", params={"sort": "relevance"})
    assert problem(nowords, 422)["errors"][0]["pointer"] == "/query/sort"


async def test_detail_recognitions_replications_similar_and_csv(
    client: AsyncClient, public: AsyncClient, session_factory: Factory, as_role: RoleHeaders
) -> None:
    world = await _world(client, session_factory)
    mine = world["entries"]["Layanan Sehat Warga Kota"]["public_id"]  # Makassar
    source = world["entries"]["Pelayanan Kesehatan Keliling"]["public_id"]  # Parepare
    admin = await as_role("region_admin", region=OTHER_REGION)
    award = {"awarding_body": "Kementerian PANRB", "award": "Top 40 KIPP", "year": 2018}
    created = await client.post(
        f"/v1/directory/{mine}/recognitions", json={**award, "rank": "Top 40"}, headers=admin
    )
    recognition = ok(created, 201)
    assert ok(await public.get(created.headers["Location"]))["award"] == "Top 40 KIPP"
    assert await _names(public, recognition="panrb") == ["Layanan Sehat Warga Kota"]
    # the region's admin of the other region may not record awards of this innovation
    other_admin = await as_role("region_admin", region=REGION)
    url = f"/v1/directory/{mine}/recognitions"
    ok(await client.post(url, json=award, headers=other_admin), 403)
    operator = await as_role(
        "agency_operator", region=OTHER_REGION, agency=world["agencies"][OTHER_REGION]
    )
    ok(await client.post(url, json=award, headers=operator), 403)

    replication = f"/v1/directory/{mine}/replications"
    document = ok(await client.post(replication, json={"source": source}, headers=admin), 201)
    assert [link["public_id"] for link in document["replicates"]] == [source]
    assert problem(await client.post(replication, json={"source": source}, headers=admin), 409)
    itself = await client.post(replication, json={"source": mine}, headers=admin)
    assert problem(itself, 422)["errors"][0]["pointer"] == "/body/source"
    origin = ok(await public.get(f"/v1/directory/{source}"))
    assert [link["public_id"] for link in origin["replicated_by"]] == [mine]

    detail = ok(await public.get(f"/v1/directory/{mine}"))
    assert (
        detail["region_code"] == OTHER_REGION and detail["agency_name"] == f"Bappeda {OTHER_REGION}"
    )
    assert [year["year"] for year in detail["years"]] == [PUBLISHED]
    assert detail["recognitions"][0]["rank"] == "Top 40"
    assert "created_by" not in detail["years"][0] and "initiator_name" not in detail["years"][0]
    evidence = ok(
        await public.get(
            f"/v1/directory/{world['entries']['Puskesmas Keliling Terapung']['public_id']}"
        )
    )["evidence"]
    assert [(item["indicator"], item["kind"]) for item in evidence] == [("16", "pdf")]
    assert set(evidence[0]) == {
        "year",
        "indicator",
        "kind",
        "filename",
        "content_type",
        "size_bytes",
        "created_at",
    }

    # similar: other regions' innovations about health first
    alike = ok(await public.get(f"/v1/directory/{source}/similar"))
    assert alike[0]["name"] == "Layanan Sehat Warga Kota"
    assert all(item["region_code"] != REGION for item in alike)

    removed = await client.delete(f"{url}/{recognition['id']}", headers=admin)
    assert removed.status_code == 204
    assert (await client.delete(f"{replication}/{source}", headers=admin)).status_code == 204
    assert ok(await public.get(f"/v1/directory/{source}"))["replicated_by"] == []

    # the search as CSV: every hit, in order, with the BOM Excel wants
    exported = await public.get("/v1/directory", params={"q": "kesehatan", "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID publik", "Tahun", "Nama"]
    assert [row[2] for row in rows[1:]] == await _names(public, q="kesehatan")


async def test_the_feed_lists_public_changes_in_commit_order(
    client: AsyncClient, public: AsyncClient, session_factory: Factory, as_role: RoleHeaders
) -> None:
    world = await _world(client, session_factory)
    feed = ok(await public.get("/v1/feeds/innovations"))
    published = [item for item in feed["items"] if item["action"] == "published"]
    assert len(published) == 6 and feed["total"] == 6
    assert {item["document"]["name"] for item in published} == {
        name for items in CORPUS.values() for name, *_ in items
    }
    cursor = feed["next_after"]
    # opting in publishes the running year's sent innovations; opting out withdraws them
    settings = f"/v1/regions/{REGION}/review-settings"
    ok(await client.put(settings, json={"public_early": True}))
    await _sequenced(session_factory)
    page = ok(await public.get("/v1/feeds/innovations", params={"after": cursor}))
    assert [item["action"] for item in page["items"]] == ["published", "published"]
    assert all(item["document"] is not None for item in page["items"])
    ok(await client.put(settings, json={"public_early": False}))
    admin = await as_role("region_admin", region=OTHER_REGION)
    mine = world["entries"]["Layanan Sehat Warga Kota"]["public_id"]
    award = {"awarding_body": "UN DESA", "award": "UNPSA", "year": 2020}
    ok(await client.post(f"/v1/directory/{mine}/recognitions", json=award, headers=admin), 201)
    await _sequenced(session_factory)
    page = ok(await public.get("/v1/feeds/innovations", params={"after": page["next_after"]}))
    actions = [(item["action"], item["document"] is None) for item in page["items"]]
    assert actions == [("withdrawn", True), ("withdrawn", True), ("updated", False)]
    assert page["items"][-1]["document"]["recognitions"][0]["award"] == "UNPSA"
    # public early again, then published: the year's scores now show in their documents
    ok(await client.put(settings, json={"public_early": True}))
    await move_period(client, "closed", "verifying", year=RUNNING)
    await publish(client, year=RUNNING, force=True)
    await _sequenced(session_factory)
    page = ok(await public.get("/v1/feeds/innovations", params={"after": page["next_after"]}))
    actions = [item["action"] for item in page["items"]]
    assert actions == ["published", "published", "updated", "updated"]

    # the Atom feed: the newest public innovations
    atom = await public.get("/v1/feeds/innovations.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    entries = ElementTree.fromstring(atom.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 8
    title = entries[0].findtext("{http://www.w3.org/2005/Atom}title")
    assert title == "Aplikasi Pengaduan Warga"  # the newest: sent last


async def test_renaming_an_agency_updates_its_public_innovations_in_the_feed(
    client: AsyncClient, public: AsyncClient, session_factory: Factory
) -> None:
    world = await _world(client, session_factory)
    await _sequenced(session_factory)
    cursor = ok(await public.get("/v1/feeds/innovations"))["next_after"]
    agency = f"/v1/agencies/{world['agencies'][REGION]}"
    ok(await client.patch(agency, json={"kind": "uptd"}))  # not in any document
    ok(await client.patch(agency, json={"name": "Badan Riset dan Inovasi Daerah"}))
    await _sequenced(session_factory)
    page = ok(await public.get("/v1/feeds/innovations", params={"after": cursor}))
    # its three public innovations of PUBLISHED; not those of RUNNING, which are not public
    assert [item["action"] for item in page["items"]] == ["updated"] * 3
    documents = [item["document"] for item in page["items"]]
    assert {document["name"] for document in documents} == {name for name, *_ in CORPUS[REGION]}
    assert {document["agency_name"] for document in documents} == {"Badan Riset dan Inovasi Daerah"}


async def test_the_feed_has_no_gaps_when_writers_commit_out_of_order(
    client: AsyncClient, public: AsyncClient, session_factory: Factory
) -> None:
    """Two writers record feed changes; the one that began first commits last. A reader that
    pages in between sees neither yet (the sequencer waits for the older writer), and after
    both commit it gets both, once each, older transaction first."""
    world = await _world(client, session_factory)
    start = ok(await public.get("/v1/feeds/innovations"))["next_after"]
    first = world["entries"]["Pelayanan Kesehatan Keliling"]["public_id"]
    second = world["entries"]["Layanan Sehat Warga Kota"]["public_id"]
    async with session_factory() as early, session_factory() as late:
        await repository.record(early, "updated", Entry.innovation_id == first)
        await repository.record(late, "updated", Entry.innovation_id == second)
        await late.commit()
        async with session_factory() as sequencer:
            await sequence_changes(sequencer)
            await sequencer.commit()
        between = ok(await public.get("/v1/feeds/innovations", params={"after": start}))
        assert between["items"] == [] and between["next_after"] == start
        await early.commit()
    await _sequenced(session_factory)
    after = ok(await public.get("/v1/feeds/innovations", params={"after": between["next_after"]}))
    assert [item["public_id"] for item in after["items"]] == [first, second]
    positions = [item["position"] for item in after["items"]]
    assert positions == [start + 1, start + 2]
    # read again from any cursor: the same changes, no duplicates
    again = ok(await public.get("/v1/feeds/innovations", params={"after": start + 1, "limit": 1}))
    assert [item["public_id"] for item in again["items"]] == [second]
    assert again["has_more"] is False


async def test_scores_reach_the_directory_once_the_period_leaves_open(
    client: AsyncClient, session_factory: Factory
) -> None:
    """Nothing shows an open period's points, so its rounds do not copy them (migration
    f9b1d3e5a7c9); closing the period copies what its verified scorecards say, and every
    later round copies its own."""

    async def copied() -> int:
        async with session_factory() as session:
            return await session.scalar(select(func.count()).select_from(DirectoryScore)) or 0

    await create_period(client, year=RUNNING)
    agency = (await create_agency(client))["id"]
    entry = await _enter(client, agency, REGION, RUNNING, "Sistem Antrean Puskesmas")
    await send_innovation(client, entry["id"])
    await drain(session_factory)
    assert await copied() == 0
    await move_period(client, "closed", year=RUNNING)
    assert await copied() == 1
    await move_period(client, "verifying", year=RUNNING)
    for code in MANDATORY:
        url = f"/v1/innovations/{entry['id']}/answers/{code}/decision"
        ok(await client.put(url, json={"decision": "accept"}))
    await drain(session_factory)
    async with session_factory() as session:
        points = await session.scalar(select(DirectoryScore.points))
    assert points is not None and points > 0
