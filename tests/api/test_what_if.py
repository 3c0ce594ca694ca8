"""The edition what-if: a period's stored data scored under another registered edition."""

import copy
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import load_edition, score_region
from iid_store.scoring_inputs import Basis, load_region_inputs
from tests.api.support import (
    SID_CODES,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    ok,
    pointers,
    problem,
)

REGIONS = {"73.71": (3, 4), "73.72": (2, 13), "73.73": (3, 1)}  # kota -> level, innovations
WHAT_IF = f"/v1/periods/{YEAR}/what-if"


async def _claims(client: AsyncClient) -> None:
    await create_period(client)
    for region, (level, count) in REGIONS.items():
        for code in ("1", "8", "12"):
            url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/{code}"
            ok(await client.put(url, json={"level": level}))
        agency = await create_agency(client, region=region)
        for k in range(count):
            entry = await create_innovation(
                client, agency["id"], region=region, name=f"Inovasi {k}"
            )
            await answer_sid(client, entry["id"], dict.fromkeys(SID_CODES, level))


async def test_the_2027_draft_divides_by_14(client: AsyncClient, db: AsyncSession) -> None:
    await _claims(client)
    query = {"edition": "iid-2027-draft", "cluster": "kota", "limit": 200}
    body = ok(await client.get(WHAT_IF, params=query))
    assert (body["basis"], body["edition"], body["other_edition"]) == (
        "claimed",
        "iid-2026",
        "iid-2027-draft",
    )
    assert body["total"] == 93 and body["other_provisional"] is True
    assert (body["ignored_answers"], body["ignored_indicators"], body["missing_indicators"]) == (
        0,
        [],
        [],
    )
    rows = {row["region_code"]: row for row in body["items"]}
    loaded = await load_region_inputs(db, YEAR, list(REGIONS))
    e26, draft = load_edition("iid-2026"), load_edition("iid-2027-draft")
    for region in REGIONS:
        region_input = loaded[region][Basis.CLAIMED].region_input
        row = rows[region]
        assert row["current"]["index"] == str(score_region(e26, region_input).index)
        assert row["other"]["index"] == str(score_region(draft, region_input).index)
        change = Decimal(row["other"]["index"]) - Decimal(row["current"]["index"])
        assert row["index_change"] == f"{change:.2f}"
    # 4 and 1 innovations: divided by 12, then by 14; 13 innovations: by 13, then by 14
    assert all(Decimal(rows[r]["index_change"]) < 0 for r in REGIONS)
    # 73.72: 13 innovations of 74 points / 13 beat 73.71: 4 of 111 / 12
    assert [rows[r]["current"]["rank"] for r in ("73.71", "73.72", "73.73")] == [2, 1, 3]
    assert (
        rows["74.71"]["current"]
        == rows["74.71"]["other"]
        == {
            "index": "0.00",
            "rating": "tidak_dapat_dinilai",
            "rank": 4,
        }
    )
    assert sum(row["rank_change"] for row in rows.values() if row["region_code"] in REGIONS) == 0
    page = ok(
        await client.get(
            WHAT_IF, params={"edition": "iid-2027-draft", "cluster": "kota", "limit": 2, "page": 2}
        )
    )
    assert [row["current"]["rank"] for row in page["items"]] == [3, 4]


async def test_answers_the_other_edition_lacks_are_ignored_and_counted(
    client: AsyncClient,
) -> None:
    await _claims(client)
    document = copy.deepcopy(dict(load_edition("iid-2026").document))
    document.update(code="iid-2099-uji", year=2099)
    sixteen = next(i for i in document["indicators"] if i["code"] == "16")
    sixteen["code"] = "16x"  # renamed: answers to 16 are ignored, 16x was never answered
    ok(await client.post("/v1/editions", json={"document": document}), 201)
    body = ok(await client.get(WHAT_IF, params={"edition": "iid-2099-uji", "cluster": "kota"}))
    innovations = sum(count for _, count in REGIONS.values())
    assert body["ignored_answers"] == innovations
    assert (body["ignored_indicators"], body["missing_indicators"]) == (["16"], ["16x"])
    rows = {row["region_code"]: row for row in body["items"]}
    assert rows["73.72"]["ignored_answers"] == REGIONS["73.72"][1]

    unknown = problem(
        await client.get(WHAT_IF, params={"edition": "iid-1999", "cluster": "kota"}), 422
    )
    assert pointers(unknown) == ["/query/edition"]
