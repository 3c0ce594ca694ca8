"""Arrangements of the evidence tests: sample files of every kind, a storage of the test's own
(the app's storage dependency overridden), and upload helpers."""

from pathlib import Path
from typing import Any

from httpx import AsyncClient, Response

from tests.api.support import REGION, YEAR, answer_sid, create_agency, create_innovation, ok


def pdf(size: int = 2048, seed: bytes = b"") -> bytes:
    head = b"%PDF-1.7\n" + seed
    return head + b"0" * max(size - len(head), 0)


def jpeg(size: int = 2048) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * (size - 13)


def png(size: int = 2048) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x22" * (size - 16)


def iso_media(brand: bytes, size: int = 4096) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + b"\x33" * (size - 16)


def mp4(size: int = 4096) -> bytes:
    return iso_media(b"isom", size)


def mov(size: int = 4096) -> bytes:
    return iso_media(b"qt  ", size)


def stored_files(root: Path) -> list[Path]:
    """Every file under the storage folder (objects and temporaries)."""
    return sorted(path for path in root.rglob("*") if path.is_file())


async def upload(
    client: AsyncClient,
    url: str,
    content: bytes,
    filename: str = "bukti.pdf",
    content_type: str = "application/pdf",
    headers: dict[str, str] | None = None,
) -> Response:
    return await client.post(
        url, files={"file": (filename, content, content_type)}, headers=headers or {}
    )


def sid_evidence_url(entry_id: str, indicator: str) -> str:
    return f"/v1/innovations/{entry_id}/answers/{indicator}/evidence"


def spd_evidence_url(indicator: str, region: str = REGION, year: int = YEAR) -> str:
    return f"/v1/periods/{year}/regions/{region}/spd-answers/{indicator}/evidence"


async def answered_innovation(
    client: AsyncClient, levels: dict[str, int] | None = None, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(agency, innovation) with SID answers (default: 16, 19, 25, 35 at level 2)."""
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"], **overrides)
    await answer_sid(client, entry["id"], levels or {"16": 2, "19": 2, "25": 2, "35": 2})
    return agency, entry


async def answer_spd(client: AsyncClient, indicator: str, level: int = 2) -> None:
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/{indicator}"
    ok(await client.put(url, json={"level": level}))
