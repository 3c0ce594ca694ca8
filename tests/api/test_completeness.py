"""The completeness report on a region built so that every figure has a known value.

Edition iid-2026: 20 SPD rows (13 mandatory: 1 3 4 5a 5b 6 7 8 9 10a 10b 11a 11b) and 20 SID
indicators per innovation (5 mandatory: 16 17 32 33 35).

- SPD: 1 at level 2 with a PDF, 3 at level 1 without evidence, 12 at level 0.
- X (Dinas Kesehatan, draft): 16 (PDF), 17 (none), 19 (only a video: 19 takes PDF/images),
  32 at level 0, 33 (image), 35 (video link).
- Y (Dinas Kesehatan, draft, 100-word design, implemented 2019): 16 at level 1 with a PDF.
- Z (Dinas Pendidikan, sent): the five mandatory at level 2, a PDF on 16 only.
- W (Dinas Pendidikan): deleted, counts nowhere. Agencies without innovations: Dinas
  Perhubungan, Dinas Sosial; Dinas Lama is deleted.
"""

from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import session_scope
from iid_store.db.models import Evidence, SidAnswer
from tests.api.evidence_support import (
    answer_spd,
    jpeg,
    pdf,
    sid_evidence_url,
    spd_evidence_url,
    upload,
)
from tests.api.support import (
    OTHER_REGION,
    REGION,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    ok,
    problem,
    send_innovation,
)

URL = f"/v1/periods/{YEAR}/regions/{REGION}/completeness"
SPD_MANDATORY_LEFT = ["4", "5a", "5b", "6", "7", "8", "9", "10a", "10b", "11a", "11b"]


async def _build_region(client: AsyncClient, session_factory: Any) -> dict[str, Any]:
    await create_period(client)
    agencies = {
        name: await create_agency(client, name=name)
        for name in ("Dinas Kesehatan", "Dinas Pendidikan", "Dinas Perhubungan", "Dinas Sosial")
    }
    gone = await create_agency(client, name="Dinas Lama")
    assert (await client.delete(f"/v1/agencies/{gone['id']}")).status_code == 204

    for code, level in (("1", 2), ("3", 1), ("12", 0)):
        await answer_spd(client, code, level)
    ok(await upload(client, spd_evidence_url("1"), pdf(seed=b"spd")), 201)

    health, school = agencies["Dinas Kesehatan"]["id"], agencies["Dinas Pendidikan"]["id"]
    x = await create_innovation(client, health, name="Inovasi X")
    await answer_sid(client, x["id"], {"16": 2, "17": 2, "19": 1, "32": 0, "33": 2, "35": 2})
    ok(await upload(client, sid_evidence_url(x["id"], "16"), pdf(seed=b"x")), 201)
    ok(await upload(client, sid_evidence_url(x["id"], "33"), jpeg(), "f.jpg"), 201)
    link = {"url": "https://video.example.id/x"}
    ok(await client.post(sid_evidence_url(x["id"], "35"), json=link), 201)
    await _attach_video_directly(session_factory, x["id"], "19")

    y = await create_innovation(
        client, health, name="Inovasi Y", design="kata " * 100, implemented_on="2019-01-01"
    )
    await answer_sid(client, y["id"], {"16": 1})
    ok(await upload(client, sid_evidence_url(y["id"], "16"), pdf(seed=b"y")), 201)

    z = await create_innovation(client, school, name="Inovasi Z")
    await answer_sid(client, z["id"], {code: 2 for code in ("16", "17", "32", "33", "35")})
    ok(await upload(client, sid_evidence_url(z["id"], "16"), pdf(seed=b"z")), 201)
    await send_innovation(client, z["id"])

    w = await create_innovation(client, school, name="Inovasi W")
    await answer_sid(client, w["id"], {"16": 3})
    assert (await client.delete(f"/v1/innovations/{w['id']}")).status_code == 204
    return {"agencies": agencies, "x": x, "y": y, "z": z}


async def _attach_video_directly(session_factory: Any, entry_id: str, indicator: str) -> None:
    """Evidence of a kind the indicator does not accept: the API refuses to create it, but the
    report must still see it for what it is (say, data migrated from an older system)."""
    async with session_scope(session_factory) as session:
        answer_id = await session.scalar(
            select(SidAnswer.id).where(
                SidAnswer.entry_id == entry_id, SidAnswer.indicator == indicator
            )
        )
        session.add(
            Evidence(
                sid_answer_id=answer_id,
                kind="video",
                storage_key="ab" * 32,
                filename="lama.mp4",
                size_bytes=10,
                content_type="video/mp4",
                created_by="migration",
            )
        )


def _figures(indicators: int, answered: int, evidenced: int, a: Any, e: Any) -> dict[str, Any]:
    return {
        "indicators": indicators,
        "answered": answered,
        "evidenced": evidenced,
        "answered_percent": a,
        "evidenced_percent": e,
    }


async def test_every_figure_of_a_built_region(
    client: AsyncClient, storage_root: Path, session_factory: Any, db: AsyncSession
) -> None:
    built = await _build_region(client, session_factory)
    x, y, z = built["x"]["id"], built["y"]["id"], built["z"]["id"]
    report = ok(await client.get(URL))

    assert (report["period_year"], report["region_code"], report["edition"]) == (
        YEAR,
        REGION,
        "iid-2026",
    )
    assert report["spd"] == _figures(20, 3, 1, "15.00", "5.00")
    assert report["sid"] == _figures(60, 12, 5, "20.00", "8.33")
    assert report["total"] == _figures(80, 15, 6, "18.75", "7.50")

    agencies = report["agencies"]
    assert (agencies["total"], agencies["participating"]) == (4, 2)
    assert agencies["summary"] == "2 of 4 agencies took part"
    assert [a["name"] for a in agencies["without_innovation"]] == [
        "Dinas Perhubungan",
        "Dinas Sosial",
    ]
    per_agency = {a["name"]: (a["innovations"], a["figures"]) for a in agencies["items"]}
    assert per_agency == {
        "Dinas Kesehatan": (2, _figures(40, 7, 4, "17.50", "10.00")),
        "Dinas Pendidikan": (1, _figures(20, 5, 1, "25.00", "5.00")),
        "Dinas Perhubungan": (0, _figures(0, 0, 0, None, None)),
        "Dinas Sosial": (0, _figures(0, 0, 0, None, None)),
    }

    per_innovation = {i["name"]: (i["status"], i["figures"]) for i in report["innovations"]}
    assert per_innovation == {
        "Inovasi X": ("draft", _figures(20, 6, 3, "30.00", "15.00")),
        "Inovasi Y": ("draft", _figures(20, 1, 1, "5.00", "5.00")),
        "Inovasi Z": ("sent", _figures(20, 5, 1, "25.00", "5.00")),
    }

    missing = [
        (m["aspect"], m["innovation_name"], m["indicator"], m["level"], m["reason"])
        for m in report["missing_evidence"]
    ]
    assert missing == [
        ("spd", None, "3", 1, "none"),
        ("sid", "Inovasi X", "17", 2, "none"),
        ("sid", "Inovasi X", "19", 1, "unacceptable"),
        ("sid", "Inovasi Z", "17", 2, "none"),
        ("sid", "Inovasi Z", "32", 2, "none"),
        ("sid", "Inovasi Z", "33", 2, "none"),
        ("sid", "Inovasi Z", "35", 2, "none"),
    ]
    unacceptable = report["missing_evidence"][2]
    assert (unacceptable["found_kinds"], unacceptable["accepted_kinds"]) == (
        ["video"],
        ["pdf", "image"],
    )
    assert unacceptable["innovation_id"] == x

    empty = [(m["innovation_name"], m["indicator"], m["level"]) for m in report["mandatory_empty"]]
    assert empty == [
        *[(None, code, None) for code in SPD_MANDATORY_LEFT],
        ("Inovasi X", "32", 0),
        ("Inovasi Y", "17", None),
        ("Inovasi Y", "32", None),
        ("Inovasi Y", "33", None),
        ("Inovasi Y", "35", None),
    ]

    assert [(i["id"], i["name"]) for i in report["not_sent"]] == [
        (x, "Inovasi X"),
        (y, "Inovasi Y"),
    ]
    refused = {r["id"]: [p["code"] for p in r["problems"]] for r in report["refused_at_sending"]}
    assert refused == {
        x: ["mandatory_unanswered"],
        y: ["mandatory_unanswered", "design_words", "implementation_window"],
    }
    assert z not in refused
    # the report agrees with what sending really says
    sending_y = problem(await client.post(f"/v1/innovations/{y}/send"), 422)
    assert "100 words" in sending_y["detail"] and "window" in sending_y["detail"]


async def test_completeness_follows_tenancy(
    client: AsyncClient, storage_root: Path, session_factory: Any, as_role: Any
) -> None:
    built = await _build_region(client, session_factory)
    health = built["agencies"]["Dinas Kesehatan"]["id"]
    operator = await as_role("agency_operator", region=REGION, agency=health)
    mine = ok(await client.get(URL, headers=operator))
    assert [i["name"] for i in mine["innovations"]] == ["Inovasi X", "Inovasi Y"]
    assert mine["agencies"]["summary"] == "1 of 1 agencies took part"
    assert mine["sid"] == _figures(40, 7, 4, "17.50", "10.00")
    assert mine["spd"]["answered"] == 3

    verifier = await as_role("verifier")
    assert ok(await client.get(URL, headers=verifier))["total"]["answered"] == 15
    foreign = await as_role("region_admin", region=OTHER_REGION)
    problem(await client.get(URL, headers=foreign), 404)
    problem(await client.get(f"/v1/periods/1999/regions/{REGION}/completeness"), 404)


async def test_an_empty_region(client: AsyncClient) -> None:
    await create_period(client)
    report = ok(await client.get(URL))
    assert report["spd"] == _figures(20, 0, 0, "0.00", "0.00")
    assert report["sid"] == _figures(0, 0, 0, None, None)
    assert report["agencies"]["summary"] == "0 of 0 agencies took part"
    assert len(report["mandatory_empty"]) == 13
    assert report["innovations"] == report["not_sent"] == report["refused_at_sending"] == []
