"""Results a ministry can publish: every member of a cluster ranked, publication guarded by the
verifiers' progress, and whole-innovation rejections deciding their answers."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_worker.drain import drain
from tests.api.support import (
    MANDATORY,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    pointers,
    problem,
    publish,
    send_innovation,
)
from tests.conftest import RoleHeaders

KOTA = 93  # 98 kota less Jakarta's 5 administrative cities
ASSESSABLE = 546
REPORTING = {"73.71": 3, "73.72": 2, "73.73": 1}  # kota -> the SPD level each claims
SPD_CODES = ("1", "3", "8")
TRANSITIONS = f"/v1/periods/{YEAR}/transitions"
UNDECIDED = f"/v1/periods/{YEAR}/undecided-answers"


def spd_url(region: str, code: str) -> str:
    return f"/v1/periods/{YEAR}/regions/{region}/spd-answers/{code}"


async def _report(client: AsyncClient, region: str, level: int, innovations: int = 1) -> list[str]:
    """SPD claims at `level` and sent innovations with the mandatory answers."""
    for code in SPD_CODES:
        ok(await client.put(spd_url(region, code), json={"level": level}))
    agency = await create_agency(client, region=region)
    sent = []
    for number in range(innovations):
        entry = await create_innovation(
            client, agency["id"], region=region, name=f"Inovasi {number}"
        )
        await answer_sid(client, entry["id"], MANDATORY)
        sent.append((await send_innovation(client, entry["id"]))["id"])
    return sent


async def _accept_all(
    client: AsyncClient, verifier: dict[str, str], region: str, entries: list[str]
) -> None:
    accept = {"decision": "accept"}
    for code in SPD_CODES:
        ok(await client.put(f"{spd_url(region, code)}/decision", json=accept, headers=verifier))
    for entry in entries:
        for code in MANDATORY:
            url = f"/v1/innovations/{entry}/answers/{code}/decision"
            ok(await client.put(url, json=accept, headers=verifier))


async def test_three_of_93_kota_report_and_all_93_are_ranked(
    client: AsyncClient,
    public: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await create_period(client)
    sent = {region: await _report(client, region, level) for region, level in REPORTING.items()}
    await drain(session_factory)
    claimed = ok(await client.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&limit=200"))
    assert claimed["total"] == KOTA
    assert [(row["region_code"], row["rank"]) for row in claimed["items"][:3]] == [
        ("73.71", 1),
        ("73.72", 2),
        ("73.73", 3),
    ]

    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    for region, entries in sent.items():
        await _accept_all(client, verifier, region, entries)
    await publish(client)  # everything is decided: no force needed
    await drain(session_factory)

    ranking = ok(await public.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&limit=200"))
    assert ranking["total"] == KOTA
    top, rest = ranking["items"][:3], ranking["items"][3:]
    assert [row["region_code"] for row in top] == list(REPORTING)
    assert [row["rank"] for row in top] == [1, 2, 3]
    assert all(row["index"] != "0.00" for row in top)
    # the 90 kota that reported nothing: Tidak Dapat Dinilai at 0.00, sharing the last rank
    assert len(rest) == KOTA - 3
    assert {(row["rank"], row["index"], row["rating"]) for row in rest} == {
        (4, "0.00", "tidak_dapat_dinilai")
    }
    assert "11.71" in {row["region_code"] for row in rest}  # Kota Sabang

    silent = f"/v1/periods/{YEAR}/regions/11.71/scorecard?basis=verified"
    card = ok(await public.get(silent))
    assert (card["index"], card["rating"], card["undecided_answers"]) == (
        "0.00",
        "tidak_dapat_dinilai",
        0,
    )
    summary = ok(await public.get(f"/v1/periods/{YEAR}/summary"))
    assert summary["regions_scored"] == ASSESSABLE
    assert summary["ratings"]["tidak_dapat_dinilai"] == ASSESSABLE - 3
    assert summary["innovations_sent"] == 3
    history = ok(await public.get("/v1/regions/11.71/history"))
    assert history["total"] == 1
    (entry,) = history["items"]
    assert (entry["source"], entry["basis"], entry["index"], entry["rating"]) == (
        "computed",
        "verified",
        "0.00",
        "tidak_dapat_dinilai",
    )
    assert entry["ranks"] == [{"cluster": "kota", "rank": 4, "movement": None}]


async def test_publication_waits_for_every_decision_unless_forced(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    parepare = await _report(client, "73.72", 2, innovations=2)
    await _report(client, "73.71", 3)
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    await _accept_all(client, verifier, "73.71", [])  # Makassar's SPD only

    refused = problem(await client.post(TRANSITIONS, json={"to": "published"}), 409)
    assert refused["type"] == "/problems/undecided-answers"
    assert refused["undecided_url"] == UNDECIDED
    undecided = refused["undecided"]
    # Parepare: 3 SPD + 2 x 5 SID answers in 2 innovations; Makassar: 5 SID answers in 1
    assert [
        (row["region_code"], row["undecided_answers"], row["undecided_innovations"])
        for row in undecided["items"]
    ] == [("73.71", 5, 1), ("73.72", 13, 2)]
    assert (undecided["total"], undecided["undecided_answers"]) == (2, 18)
    assert undecided["undecided_innovations"] == 3
    assert "18 undecided answers" in refused["detail"]
    assert ok(await client.get(f"/v1/periods/{YEAR}"))["status"] == "verifying"

    # the list pages like every other; a region's admin sees its own region only
    second = ok(await client.get(f"{UNDECIDED}?limit=1&page=2"))
    assert [row["region_code"] for row in second["items"]] == ["73.72"]
    assert (second["total"], second["undecided_answers"]) == (2, 18)
    own = ok(await client.get(UNDECIDED, headers=await as_role("region_admin", region="73.72")))
    assert [row["region_code"] for row in own["items"]] == ["73.72"]
    assert own["undecided_answers"] == 13

    # force is for publication only, and only a national admin moves a period
    bad = problem(await client.post(TRANSITIONS, json={"to": "closed", "force": True}), 422)
    assert pointers(bad) == ["/body/force"]
    forced = {"to": "published", "force": True}
    problem(await client.post(TRANSITIONS, json=forced, headers=verifier), 403)

    await _accept_all(client, verifier, "73.72", parepare[:1])
    published = ok(await client.post(TRANSITIONS, json=forced))
    assert published["status"] == "published"
    trail = ok(await client.get(f"/v1/audit?object_type=period&period={YEAR}"))
    latest = trail["items"][0]
    assert (latest["action"], latest["before"]["status"], latest["after"]["status"]) == (
        "force_publish",
        "verifying",
        "published",
    )
    assert latest["after"]["forced_with_undecided"] == {
        "undecided_answers": 10,
        "undecided_innovations": 2,
        "regions": [
            {"region_code": "73.71", "undecided_answers": 5, "undecided_innovations": 1},
            {"region_code": "73.72", "undecided_answers": 5, "undecided_innovations": 1},
        ],
    }


def _answers(results: dict[str, Any], entry: str) -> list[tuple[Any, ...]]:
    (innovation,) = [item for item in results["innovations"] if item["entry_id"] == entry]
    return [
        (row["indicator"], row["decision"], row["verified_level"], row["decided_with_innovation"])
        for row in innovation["answers"]
    ]


async def test_rejecting_an_innovation_decides_its_answers_until_lifted(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    kept, rejected = await _report(client, "73.72", 2, innovations=2)
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    await _accept_all(client, verifier, "73.72", [kept])
    lower = {"decision": "lower", "level": 1, "note": "SK tidak ditandatangani"}
    decided = f"/v1/innovations/{rejected}/answers/16/decision"
    ok(await client.put(decided, json=lower, headers=verifier))
    results_url = f"/v1/periods/{YEAR}/regions/73.72/verification"
    before = ok(await client.get(results_url))
    assert before["undecided_answers"] == 4  # 17, 32, 33, 35 of the second innovation
    assert _answers(before, rejected)[0] == ("16", "lower", 1, False)

    note = {"note": "kegiatan rutin, bukan inovasi"}
    ok(await client.put(f"/v1/innovations/{rejected}/rejection", json=note, headers=verifier))
    results = ok(await client.get(results_url))
    assert results["undecided_answers"] == 0
    assert _answers(results, rejected) == [
        (code, "reject", 0, True) for code in ("16", "17", "32", "33", "35")
    ]
    (innovation,) = [item for item in results["innovations"] if item["entry_id"] == rejected]
    assert {row["note"] for row in innovation["answers"]} == {note["note"]}
    assert ok(await client.get(UNDECIDED))["total"] == 0

    # lifting the rejection restores the answers' own decisions (and the undecided ones)
    lifted = await client.delete(f"/v1/innovations/{rejected}/rejection", headers=verifier)
    assert lifted.status_code == 204
    restored = ok(await client.get(results_url))
    assert restored["undecided_answers"] == 4
    assert _answers(restored, rejected) == [
        ("16", "lower", 1, False),
        *[(code, None, None, False) for code in ("17", "32", "33", "35")],
    ]
    listed = ok(await client.get(UNDECIDED))["items"]
    assert [(row["undecided_answers"], row["undecided_innovations"]) for row in listed] == [(4, 1)]

    ok(await client.put(f"/v1/innovations/{rejected}/rejection", json=note, headers=verifier))
    await publish(client)  # the rejection decided the rest: nothing is left undecided
