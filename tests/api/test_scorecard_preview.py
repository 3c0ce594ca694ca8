"""The live preview equals the scoring library's result for the stored answers."""

import uuid
from datetime import date
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import InnovationInput, RegionInput, load_edition, score_region
from iid_store.db.models import InnovationRejection, SidAnswer, SpdAnswer, VerificationDecision
from tests.api.support import (
    MANDATORY,
    REGION,
    SID_CODES,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    ok,
    problem,
    send_innovation,
)
from tests.conftest import RoleHeaders

PREVIEW = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard/preview"


async def test_claimed_preview_counts_every_entry(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    for code, level in (("1", 3), ("5a", 2), ("8", 1)):
        ok(
            await client.put(
                f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/{code}", json={"level": level}
            )
        )
    levels = {code: 2 for code in SID_CODES}
    entries = []
    for number, (stage, urusan) in enumerate(
        [("penerapan", "kesehatan"), ("penerapan", "pendidikan"), ("uji_coba", "sosial")]
    ):
        entry = await create_innovation(
            client, agency["id"], name=f"Inovasi {number}", stage=stage, urusan=[urusan]
        )
        await answer_sid(client, entry["id"], levels)
        entries.append(entry)
    deleted = await create_innovation(client, agency["id"], name="Dihapus")
    await client.delete(f"/v1/innovations/{deleted['id']}")

    preview = ok(await client.get(PREVIEW))
    expected = score_region(
        load_edition("iid-2026"),
        RegionInput(
            spd={"1": 3, "5a": 2, "8": 1},
            innovations=tuple(
                InnovationInput(
                    id=entry["id"],
                    stage=entry["stage"],
                    urusan=tuple(entry["urusan"]),
                    implemented_on=date(2024, 3, 1),
                    answers=levels,
                )
                for entry in sorted(entries, key=lambda entry: entry["id"])
            ),
            region=REGION,
        ),
    ).to_dict()
    assert {key: preview[key] for key in expected} == expected
    assert preview["counted_innovations"] == 2  # uji coba is reported, not scored
    assert (preview["basis"], preview["period"], preview["undecided_answers"]) == (
        "claimed",
        YEAR,
        0,
    )
    # 3 + 1.5 + 1.5 SPD points; SID: 2 x 74 points / 12, no count score (2 of 6 urusan)
    assert preview["spd_score"] == "6.00"
    assert Decimal(preview["sid_score"]) == (Decimal(148) / 12).quantize(Decimal("0.01"))
    assert preview["count_score"] == "0.00"


async def test_verified_preview_applies_decisions(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    agency = await create_agency(client)
    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 3}))
    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/9", json={"level": 3}))
    sent = await create_innovation(client, agency["id"])
    await answer_sid(client, sent["id"], MANDATORY)
    await send_innovation(client, sent["id"])
    rejected = await create_innovation(client, agency["id"], name="Ditolak")
    await answer_sid(client, rejected["id"], MANDATORY)
    await send_innovation(client, rejected["id"])
    await create_innovation(client, agency["id"], name="Belum dikirim")
    # the preview lists innovations in a stable order (by entry id)

    # the verifiers' decisions (their API is the verification workflow's issue)
    spd = {row.indicator: row for row in await db.scalars(select(SpdAnswer))}
    sid = {
        row.indicator: row
        for row in await db.scalars(
            select(SidAnswer).where(SidAnswer.entry_id == uuid.UUID(sent["id"]))
        )
    }
    db.add_all(
        [
            VerificationDecision(
                spd_answer_id=spd["1"].id, decision="accept", answer_version=1, decided_by="v"
            ),
            VerificationDecision(
                sid_answer_id=sid["16"].id,
                decision="lower",
                level=1,
                note="SK only",
                answer_version=1,
                decided_by="v",
            ),
            VerificationDecision(
                sid_answer_id=sid["17"].id,
                decision="reject",
                note="no SK",
                answer_version=1,
                decided_by="v",
            ),
            VerificationDecision(
                sid_answer_id=sid["35"].id, decision="accept", answer_version=1, decided_by="v"
            ),
            InnovationRejection(
                entry_id=uuid.UUID(rejected["id"]), note="not innovative", decided_by="v"
            ),
        ]
    )
    await db.commit()

    preview = ok(await client.get(f"{PREVIEW}?basis=verified"))
    expected = score_region(
        load_edition("iid-2026"),
        RegionInput(
            spd={"1": 3, "9": 0},
            # the preview lists innovations by entry id (random uuids): sort the same way
            innovations=tuple(
                sorted(
                    (
                        InnovationInput(
                            id=sent["id"],
                            stage="penerapan",
                            urusan=("kesehatan",),
                            implemented_on=date(2024, 3, 1),
                            answers={"16": 1, "17": 0, "32": 0, "33": 0, "35": 3},
                        ),
                        InnovationInput(
                            id=rejected["id"],
                            stage="penerapan",
                            rejected=True,
                            urusan=("kesehatan",),
                            implemented_on=date(2024, 3, 1),
                            answers={code: 0 for code in MANDATORY},
                        ),
                    ),
                    key=lambda innovation: innovation.id,
                )
            ),
            region=REGION,
        ),
    ).to_dict()
    assert {key: preview[key] for key in expected} == expected
    # undecided: SPD 9, and 32, 33 of the sent one; the rejected one's five answers are
    # decided with it (issue 11)
    assert preview["undecided_answers"] == 1 + 2
    assert preview["counted_innovations"] == 2
    statuses = {item["id"]: item["status"] for item in preview["innovations"]}
    assert statuses == {sent["id"]: "counted", rejected["id"]: "rejected"}
    assert preview["spd_score"] == "3.00"  # 1 accepted at level 3; 9 undecided scores 0

    claimed = ok(await client.get(PREVIEW))
    assert claimed["counted_innovations"] == 3
    problem(await client.get(f"{PREVIEW}?basis=imagined"), 422)


async def test_agency_operator_sees_only_its_own_innovations(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    own = await create_agency(client)
    other = await create_agency(client, name="Dinas Pendidikan")
    mine = await create_innovation(client, own["id"])
    theirs = await create_innovation(client, other["id"], name="Sekolah Digital")
    for entry in (mine, theirs):
        await answer_sid(client, entry["id"], {"16": 1})
    operator = await as_role("agency_operator", region=REGION, agency=own["id"])

    full = ok(await client.get(PREVIEW))
    limited = ok(await client.get(PREVIEW, headers=operator))
    assert {item["id"] for item in full["innovations"]} == {mine["id"], theirs["id"]}
    assert [item["id"] for item in limited["innovations"]] == [mine["id"]]
    assert limited["index"] == full["index"]  # the region's totals stay whole

    plan = ok(await client.get(PREVIEW.replace("/preview", "/improvements"), headers=operator))
    proposed = {item["innovation_id"] for item in plan["improvements"]}
    assert proposed <= {mine["id"], None} and mine["id"] in proposed
