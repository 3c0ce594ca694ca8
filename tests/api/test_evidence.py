"""Evidence uploads: kinds read from the bytes, limits, names, truncation, concurrency, ranges,
detaching, tenancy and audit."""

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.evidence.names import sanitise_filename
from iid_api.settings import Settings
from iid_store.db.models import AuditEntry, Evidence, Period
from tests.api.evidence_support import (
    answer_spd,
    answered_innovation,
    iso_media,
    jpeg,
    mov,
    mp4,
    pdf,
    png,
    sid_evidence_url,
    spd_evidence_url,
    stored_files,
    upload,
)
from tests.api.support import (
    OTHER_REGION,
    REGION,
    YEAR,
    create_period,
    move_period,
    ok,
    problem,
    send_innovation,
    until_waiting_on_a_lock,
)


@pytest.fixture
async def entry(client: AsyncClient, storage_root: Path) -> dict[str, Any]:
    await create_period(client)
    _, innovation = await answered_innovation(client)
    return innovation


def objects(root: Path) -> list[Path]:
    return stored_files(root / "objects")


def temporaries(root: Path) -> list[Path]:
    return stored_files(root / "tmp")


# --- kinds ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("indicator", "content", "name", "kind", "content_type"),
    [
        ("16", pdf(), "perbup.pdf", "pdf", "application/pdf"),
        ("19", jpeg(), "foto.jpg", "image", "image/jpeg"),
        ("25", png(), "layar.png", "image", "image/png"),
        ("35", mp4(), "video.mp4", "video", "video/mp4"),
        ("35", mov(), "video.mov", "video", "video/quicktime"),
    ],
)
async def test_each_accepted_kind_round_trips(
    client: AsyncClient,
    entry: dict[str, Any],
    storage_root: Path,
    indicator: str,
    content: bytes,
    name: str,
    kind: str,
    content_type: str,
) -> None:
    response = await upload(client, sid_evidence_url(entry["id"], indicator), content, name)
    saved = ok(response, 201)
    digest = hashlib.sha256(content).hexdigest()
    assert (saved["kind"], saved["content_type"], saved["filename"]) == (kind, content_type, name)
    assert (saved["sha256"], saved["size_bytes"]) == (digest, len(content))
    assert response.headers["location"] == f"/v1/evidence/{saved['id']}"
    assert [path.name for path in objects(storage_root)] == [digest]
    assert temporaries(storage_root) == []

    download = await client.get(saved["download_url"])
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == content_type
    assert download.headers["accept-ranges"] == "bytes"
    listed = ok(await client.get(sid_evidence_url(entry["id"], indicator)))
    assert [item["id"] for item in listed] == [saved["id"]]


@pytest.mark.parametrize(
    ("indicator", "content", "why"),
    [
        ("16", png(), "PNG image"),  # 16 accepts PDF only
        ("16", mp4(), "MP4 video"),
        ("25", pdf(), "PDF"),  # 25 accepts images only
        ("35", pdf(), "PDF"),  # 35 accepts videos and links
        ("19", b"just some text, not a document" * 10, "not a PDF"),
        ("25", iso_media(b"heic"), "not a PDF"),  # HEIC shares the MP4 container
        ("35", iso_media(b"M4A "), "not a PDF"),  # audio too
        ("16", b"MZ\x90\x00" + b"\x00" * 2000, "not a PDF"),  # a Windows program
    ],
)
async def test_refused_kinds_answer_415_and_store_nothing(
    client: AsyncClient,
    entry: dict[str, Any],
    storage_root: Path,
    indicator: str,
    content: bytes,
    why: str,
) -> None:
    response = await upload(client, sid_evidence_url(entry["id"], indicator), content)
    assert why in problem(response, 415)["detail"]
    assert stored_files(storage_root) == []
    assert ok(await client.get(sid_evidence_url(entry["id"], indicator))) == []


async def test_kind_comes_from_the_bytes_not_the_name(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    # a PNG renamed .pdf and claimed as a PDF is an image: refused where only PDFs count ...
    renamed = await upload(client, sid_evidence_url(entry["id"], "16"), png(), "scan.pdf")
    assert "PNG image" in problem(renamed, 415)["detail"]
    # ... and accepted as an image where images count, under its true extension and type
    saved = ok(await upload(client, sid_evidence_url(entry["id"], "19"), png(), "scan.pdf"), 201)
    assert (saved["kind"], saved["content_type"], saved["filename"]) == (
        "image",
        "image/png",
        "scan.png",
    )
    # a PDF claimed to be a JPEG photo is still a PDF
    claimed = await upload(
        client, sid_evidence_url(entry["id"], "25"), pdf(), "foto.jpg", "image/jpeg"
    )
    assert "PDF" in problem(claimed, 415)["detail"]


async def test_video_links(client: AsyncClient, entry: dict[str, Any], storage_root: Path) -> None:
    url = sid_evidence_url(entry["id"], "35")
    link = "https://www.youtube.com/watch?v=abc123"
    response = await client.post(url, json={"url": link})
    saved = ok(response, 201)
    assert (saved["kind"], saved["url"], saved["sha256"]) == ("video_link", link, None)
    again = ok(await client.post(url, json={"url": link}), 200)
    assert again["id"] == saved["id"]

    redirect = await client.get(f"/v1/evidence/{saved['id']}")
    assert redirect.status_code == 303 and redirect.headers["location"] == link

    bad = await client.post(url, json={"url": "http://example.com/v.mp4"})
    assert problem(bad, 422)["errors"][0]["pointer"] == "/body/url"
    problem(await client.post(url, json={"link": link}), 422)
    refused = await client.post(sid_evidence_url(entry["id"], "16"), json={"url": link})
    assert "not a video link" in problem(refused, 415)["detail"]
    problem(await client.post(url, content=b"url=x", headers={"content-type": "text/plain"}), 415)
    assert stored_files(storage_root) == []


# --- limits, names, broken uploads ----------------------------------------------------------
BOUNDARY = "iid-test-boundary"


async def _multipart(
    chunks: AsyncIterator[bytes] | list[bytes], filename: str = "besar.pdf", close: bool = True
) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    if isinstance(chunks, list):
        for chunk in chunks:
            yield chunk
    else:
        async for chunk in chunks:
            yield chunk
    if close:
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART_HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


async def test_oversized_uploads_answer_413_and_leave_nothing(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path, settings: Settings
) -> None:
    url = sid_evidence_url(entry["id"], "16")
    limit = settings.evidence_max_pdf_bytes
    assert limit == 10 * 1024 * 1024  # the documented default
    # exactly at the limit is fine; one byte more is not
    ok(await upload(client, url, pdf(limit, b"at-limit")), 201)
    too_big = await upload(client, url, pdf(limit + 1, b"over"))
    assert str(limit) in problem(too_big, 413)["detail"]
    assert len(objects(storage_root)) == 1 and temporaries(storage_root) == []

    # Without a Content-Length the body is read only until the limit is passed.
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"%PDF-1.7\n" + b"0" * (64 * 1024 - 9)
        for _ in range(1000):  # 64 MB offered
            sent += len(chunk)
            yield chunk
            chunk = b"0" * (64 * 1024)

    response = await client.post(url, content=_multipart(endless()), headers=MULTIPART_HEADERS)
    problem(response, 413)
    assert sent < limit + 2 * 64 * 1024
    assert len(objects(storage_root)) == 1 and temporaries(storage_root) == []


async def test_declared_length_over_every_limit_is_refused_before_reading(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path, settings: Settings
) -> None:
    url = sid_evidence_url(entry["id"], "19")  # PDF (10 MB) or image (3 MB)
    body = pdf(settings.evidence_max_pdf_bytes + 200_000)
    response = await upload(client, url, body)
    assert "exceeds the limit" in problem(response, 413)["detail"]
    assert stored_files(storage_root) == []


async def test_per_kind_limits_are_settings(
    client: AsyncClient,
    entry: dict[str, Any],
    storage_root: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "evidence_max_image_bytes", 5000)
    monkeypatch.setattr(settings, "evidence_max_video_bytes", 6000)
    url = sid_evidence_url(entry["id"], "19")
    problem(await upload(client, url, png(5001)), 413)
    ok(await upload(client, url, png(5000)), 201)
    ok(await upload(client, url, pdf(50_000)), 201)  # PDFs keep their own limit
    problem(await upload(client, sid_evidence_url(entry["id"], "35"), mp4(6001)), 413)
    assert temporaries(storage_root) == []


async def test_truncated_and_malformed_uploads_leave_nothing(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    url = sid_evidence_url(entry["id"], "16")
    # the body ends in the middle of the file: no closing boundary
    cut = _multipart([pdf(300_000)], close=False)
    response = await client.post(url, content=cut, headers=MULTIPART_HEADERS)
    assert "ended before" in problem(response, 400)["detail"]
    no_boundary = await client.post(
        url, content=b"x", headers={"content-type": "multipart/form-data"}
    )
    problem(no_boundary, 400)
    no_file = await client.post(url, files={"other": (None, b"value")})
    assert problem(no_file, 422)["errors"][0]["pointer"] == "/body/file"
    empty = await upload(client, url, b"")
    assert "empty" in problem(empty, 422)["detail"]
    two = await client.post(url, files=[("file", ("a.pdf", pdf())), ("file", ("b.pdf", pdf()))])
    problem(two, 422)
    assert stored_files(storage_root) == []


async def test_client_disconnecting_half_way_leaves_nothing(
    entry: dict[str, Any], storage_root: Path, app_instance: Any, as_role: Any
) -> None:
    headers = await as_role("region_admin", region=REGION)
    body = b"".join([part async for part in _multipart([pdf(400_000)])])
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[offset : offset + 65536], "more_body": True}
        for offset in range(0, len(body) // 2, 65536)
    ]
    path = sid_evidence_url(entry["id"], "16")

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw_headers.append((b"content-type", MULTIPART_HEADERS["content-type"].encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"iid.test"), *raw_headers],
        "client": ("127.0.0.1", 40000),
        "server": ("iid.test", 80),
    }
    await app_instance(scope, receive, send)
    assert sent[0]["status"] == 400
    assert stored_files(storage_root) == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
        ("/absolute/path/laporan akhir.pdf", "laporan akhir.pdf"),
        ("..", "evidence.pdf"),
        ("\u202egnp.exe", "gnp.pdf"),  # a right-to-left override hiding the extension
        ("a;b|c*?.pdf", "a_b_c__.pdf"),
        ("Perbup 12 Tahun 2024 \u2013 Inovasi.PDF", "Perbup 12 Tahun 2024 _ Inovasi.pdf"),
    ],
)
async def test_path_traversal_names_are_sanitised(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path, given: str, kept: str
) -> None:
    content = pdf(seed=given.encode())
    saved = ok(await upload(client, sid_evidence_url(entry["id"], "16"), content, given), 201)
    assert saved["filename"] == kept
    # the only file is the content-addressed object inside the storage folder
    assert objects(storage_root) == [
        storage_root / "objects" / saved["sha256"][:2] / saved["sha256"][2:4] / saved["sha256"]
    ]
    assert stored_files(storage_root.parent) == objects(storage_root)
    download = await client.get(saved["download_url"])
    assert "filename*=UTF-8''" in download.headers["content-disposition"]


def test_sanitiser_drops_control_characters_and_keeps_names_short() -> None:
    assert sanitise_filename("bukti\x00\r\n.exe", ".pdf") == "bukti.pdf"
    assert sanitise_filename('a"b.pdf', ".png") == "a_b.png"
    assert sanitise_filename(None, ".mp4") == "evidence.mp4"
    assert sanitise_filename("...", ".pdf") == "evidence.pdf"
    long = sanitise_filename("é" * 500 + ".pdf", ".pdf")
    assert long.endswith(".pdf") and len(long.encode()) <= 200


# --- the same file, concurrently --------------------------------------------------------------
async def test_concurrent_uploads_of_the_same_file(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    content = pdf(500_000, b"concurrent")
    url = sid_evidence_url(entry["id"], "16")
    responses = await asyncio.gather(*(upload(client, url, content) for _ in range(6)))
    assert sorted(response.status_code for response in responses) == [200] * 5 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    # and on two answers at once: two evidence rows, one stored file
    other = sid_evidence_url(entry["id"], "19")
    both = await asyncio.gather(upload(client, other, content), upload(client, url, content))
    assert [response.status_code for response in both] == [201, 200]
    assert [path.name for path in objects(storage_root)] == [hashlib.sha256(content).hexdigest()]
    assert temporaries(storage_root) == []


# --- ranges ---------------------------------------------------------------------------------
async def test_range_requests(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    content = pdf(10_000, b"ranges") + bytes(range(256))
    size = len(content)
    saved = ok(await upload(client, sid_evidence_url(entry["id"], "16"), content), 201)
    url = saved["download_url"]

    async def get(range_header: str, **extra: str) -> Any:
        return await client.get(url, headers={"Range": range_header, **extra})

    first = await get("bytes=0-9")
    assert first.status_code == 206 and first.content == content[:10]
    assert first.headers["content-range"] == f"bytes 0-9/{size}"
    assert first.headers["content-length"] == "10"
    middle = await get("bytes=100-199")
    assert middle.status_code == 206 and middle.content == content[100:200]
    tail = await get("bytes=-256")
    assert tail.status_code == 206 and tail.content == bytes(range(256))
    assert tail.headers["content-range"] == f"bytes {size - 256}-{size - 1}/{size}"
    open_end = await get(f"bytes={size - 5}-")
    assert open_end.status_code == 206 and open_end.content == content[-5:]
    past_end = await get(f"bytes={size - 5}-{size + 100}")
    assert past_end.status_code == 206 and past_end.content == content[-5:]

    outside = await get(f"bytes={size}-")
    assert problem(outside, 416) and outside.headers["content-range"] == f"bytes */{size}"
    problem(await get("bytes=-0"), 416)
    for ignored in ("bytes=9-2", "bytes=0-1,5-6", "items=0-1", "bytes=abc"):
        whole = await get(ignored)
        assert whole.status_code == 200 and whole.content == content, ignored
    # If-Range: the range only while the client's copy is this very file
    same = await get("bytes=0-9", **{"If-Range": first.headers["etag"]})
    assert same.status_code == 206
    changed = await get("bytes=0-9", **{"If-Range": '"another"'})
    assert changed.status_code == 200 and changed.content == content


# --- detaching, state rules, audit ------------------------------------------------------------
async def _audit_actions(db: AsyncSession) -> list[str]:
    db.expire_all()
    rows = await db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "evidence")
        .order_by(AuditEntry.id)
    )
    return list(rows)


async def test_detach_is_soft_and_audited(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path, db: AsyncSession
) -> None:
    url = sid_evidence_url(entry["id"], "16")
    saved = ok(await upload(client, url, pdf()), 201)
    assert await _audit_actions(db) == ["attach"]
    response = await client.delete(f"/v1/evidence/{saved['id']}")
    assert response.status_code == 204
    problem(await client.get(saved["download_url"]), 404)
    problem(await client.delete(f"/v1/evidence/{saved['id']}"), 404)
    assert ok(await client.get(url)) == []
    assert await _audit_actions(db) == ["attach", "detach"]
    row = await db.get(Evidence, saved["id"])
    assert row is not None and row.deleted_at is not None
    assert len(objects(storage_root)) == 1  # the file waits for the collection job
    # attaching the same file again makes new evidence
    assert ok(await upload(client, url, pdf()), 201)["id"] != saved["id"]


async def test_answer_must_exist_and_indicator_must_match(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    unanswered = await upload(client, sid_evidence_url(entry["id"], "17"), pdf())
    assert "not answered yet" in problem(unanswered, 409)["detail"]
    problem(await upload(client, sid_evidence_url(entry["id"], "99"), pdf()), 404)
    problem(await upload(client, sid_evidence_url(entry["id"], "1"), pdf()), 404)  # an SPD row
    problem(await upload(client, spd_evidence_url("16"), pdf()), 404)  # an SID row
    problem(await upload(client, sid_evidence_url(str(uuid4()), "16"), pdf()), 404)
    problem(await client.get(f"/v1/evidence/{uuid4()}"), 404)
    assert ok(await client.get(sid_evidence_url(entry["id"], "17"))) == []
    assert stored_files(storage_root) == []


async def test_evidence_per_answer_is_bounded(
    client: AsyncClient,
    entry: dict[str, Any],
    storage_root: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "evidence_max_per_answer", 2)
    url = sid_evidence_url(entry["id"], "16")
    ok(await upload(client, url, pdf(seed=b"1")), 201)
    ok(await upload(client, url, pdf(seed=b"2")), 201)
    assert ok(await upload(client, url, pdf(seed=b"1")), 200)  # a repeat is not a new one
    problem(await upload(client, url, pdf(seed=b"3")), 409)
    assert temporaries(storage_root) == []


async def test_closed_period_and_sent_innovation_are_frozen(
    client: AsyncClient, storage_root: Path
) -> None:
    await create_period(client)
    mandatory = {"16": 2, "17": 2, "32": 2, "33": 2, "35": 2}
    _, sent = await answered_innovation(client, mandatory)
    _, draft = await answered_innovation(client, name="Draft")
    kept = ok(await upload(client, sid_evidence_url(draft["id"], "16"), pdf()), 201)
    await send_innovation(client, sent["id"])
    frozen = await upload(client, sid_evidence_url(sent["id"], "16"), pdf())
    assert "frozen" in problem(frozen, 409)["detail"]

    await answer_spd(client, "1")
    await move_period(client, "closed")
    problem(await upload(client, sid_evidence_url(draft["id"], "16"), pdf(seed=b"x")), 409)
    problem(await upload(client, spd_evidence_url("1"), pdf()), 409)
    problem(await client.delete(f"/v1/evidence/{kept['id']}"), 409)
    assert (await client.get(kept["download_url"])).status_code == 200  # reading goes on
    assert temporaries(storage_root) == []


# --- tenancy --------------------------------------------------------------------------------
async def test_sid_evidence_follows_the_innovation_tenancy(
    client: AsyncClient, storage_root: Path, as_role: Any
) -> None:
    await create_period(client)
    agency, entry = await answered_innovation(client)
    other_agency = ok(
        await client.post(f"/v1/regions/{REGION}/agencies", json={"name": "Lain"}), 201
    )
    url = sid_evidence_url(entry["id"], "16")
    saved = ok(await upload(client, url, pdf()), 201)

    operator = await as_role("agency_operator", region=REGION, agency=agency["id"])
    own = ok(await upload(client, url, pdf(seed=b"operator"), headers=operator), 201)
    assert own["created_by"] != saved["created_by"]
    outsider = await as_role("agency_operator", region=REGION, agency=other_agency["id"])
    problem(await upload(client, url, pdf(seed=b"no"), headers=outsider), 404)
    problem(await client.get(saved["download_url"], headers=outsider), 404)
    foreign = await as_role("region_admin", region=OTHER_REGION)
    problem(await client.get(saved["download_url"], headers=foreign), 404)
    problem(await client.get(url, headers=foreign), 404)
    problem(await client.delete(f"/v1/evidence/{saved['id']}", headers=foreign), 404)

    verifier = await as_role("verifier")
    assert (await client.get(saved["download_url"], headers=verifier)).status_code == 200
    assert len(ok(await client.get(url, headers=verifier))) == 2
    problem(await upload(client, url, pdf(seed=b"v"), headers=verifier), 403)
    problem(await client.delete(f"/v1/evidence/{saved['id']}", headers=verifier), 403)
    region_admin = await as_role("region_admin", region=REGION)
    response = await client.delete(f"/v1/evidence/{own['id']}", headers=region_admin)
    assert response.status_code == 204
    assert stored_files(storage_root / "tmp") == []


async def test_spd_evidence_is_the_region_admins(
    client: AsyncClient, storage_root: Path, as_role: Any
) -> None:
    await create_period(client)
    agency = ok(await client.post(f"/v1/regions/{REGION}/agencies", json={"name": "Bappeda"}), 201)
    await answer_spd(client, "1")
    url = spd_evidence_url("1")
    region_admin = await as_role("region_admin", region=REGION)
    saved = ok(await upload(client, url, pdf(), headers=region_admin), 201)
    assert (saved["aspect"], saved["indicator"], saved["innovation_id"]) == ("spd", "1", None)
    assert (saved["region_code"], saved["period_year"]) == (REGION, 2026)
    problem(await upload(client, url, png(), headers=region_admin), 415)

    operator = await as_role("agency_operator", region=REGION, agency=agency["id"])
    problem(await upload(client, url, pdf(seed=b"op"), headers=operator), 403)
    assert len(ok(await client.get(url, headers=operator))) == 1
    foreign = await as_role("region_admin", region=OTHER_REGION)
    problem(await upload(client, url, pdf(seed=b"f"), headers=foreign), 404)
    problem(await client.get(saved["download_url"], headers=foreign), 404)
    verifier = await as_role("verifier")
    assert (await client.get(saved["download_url"], headers=verifier)).content == pdf()
    problem(await client.delete(f"/v1/evidence/{saved['id']}", headers=operator), 403)
    assert (
        await client.delete(f"/v1/evidence/{saved['id']}", headers=region_admin)
    ).status_code == 204


# --- memory -----------------------------------------------------------------------------------
async def test_a_large_upload_is_streamed_not_held_in_memory(
    client: AsyncClient, entry: dict[str, Any], storage_root: Path
) -> None:
    size = 48 * 1024 * 1024
    chunk = b"\x44" * (64 * 1024)

    async def video() -> AsyncIterator[bytes]:
        yield mp4(64 * 1024)
        for _ in range(size // len(chunk) - 1):
            yield chunk

    url = sid_evidence_url(entry["id"], "35")
    tracemalloc.start()
    try:
        response = await client.post(url, content=_multipart(video()), headers=MULTIPART_HEADERS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    saved = ok(response, 201)
    assert saved["size_bytes"] == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte upload"


async def test_spd_evidence_waits_for_the_period_closing_in_flight_and_is_refused(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], storage_root: Path
) -> None:
    await create_period(client)
    await answer_spd(client, "1")
    async with session_factory() as transition:
        # the deadline: closing in flight, the period row locked and changed, not committed
        locked = select(Period).where(Period.year == YEAR).with_for_update()
        period = (await transition.scalars(locked)).one()
        period.status = "closed"
        await transition.flush()
        attaching = asyncio.create_task(upload(client, spd_evidence_url("1"), pdf()))
        await until_waiting_on_a_lock(transition)
        await transition.commit()
    assert "closed" in problem(await attaching, 409)["detail"]
    assert objects(storage_root) == []
