"""The API's Literal types (what OpenAPI documents and requests are checked against) name the
same values as the database's CHECK vocabularies in iid_store.vocab."""

from typing import get_args

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from iid_api.agencies.schemas import AgencyKind
from iid_api.innovations.schemas import (
    Classification,
    Initiator,
    InnovationForm,
    InnovationKind,
    InnovationStatus,
    Stage,
    Theme,
)
from iid_api.kit.principal import Role
from iid_api.periods.schemas import PeriodStatus
from iid_api.regions.schemas import Cluster, RegionKind
from iid_api.users.schemas import RoleName
from iid_api.verification.schemas import DecisionKind
from iid_scoring import STAGES, URUSAN
from iid_store import vocab
from tests.api.support import YEAR, create_period, innovation_body, ok, problem


@pytest.mark.parametrize(
    ("api_type", "values"),
    [
        (AgencyKind, vocab.AGENCY_KINDS),
        (Stage, vocab.STAGES),
        (Initiator, vocab.INITIATORS),
        (InnovationKind, vocab.INNOVATION_KINDS),
        (InnovationForm, vocab.INNOVATION_FORMS),
        (Theme, vocab.THEMES),
        (Classification, vocab.CLASSIFICATIONS),
        (InnovationStatus, vocab.INNOVATION_STATUSES),
        (PeriodStatus, vocab.PERIOD_STATUSES),
        (RegionKind, vocab.REGION_KINDS),
        (Cluster, vocab.CLUSTERS),
        (RoleName, vocab.ROLES),
        (DecisionKind, vocab.DECISIONS),
    ],
)
def test_api_literals_match_the_stored_vocabularies(
    api_type: object, values: tuple[str, ...]
) -> None:
    assert get_args(api_type) == values


def test_roles_and_stages_agree_everywhere() -> None:
    assert tuple(role.value for role in Role if role is not Role.ANONYMOUS) == vocab.ROLES
    assert STAGES == vocab.STAGES


async def test_vocabularies_are_served_and_name_their_fields(public: AsyncClient) -> None:
    listed = ok(await public.get("/v1/vocabularies", params={"limit": 200}))
    names = {item["name"] for item in listed["items"]}
    assert listed["total"] == len(names)
    assert {"urusan", "forms", "kinds", "stages", "roles", "ratings", "clusters"} <= names
    urusan = ok(await public.get("/v1/vocabularies/urusan"))
    kesehatan = next(term for term in urusan["terms"] if term["code"] == "kesehatan")
    assert kesehatan == {
        "code": "kesehatan",
        "label": "Kesehatan",
        "group": "wajib_pelayanan_dasar",
    }
    assert [term["code"] for term in urusan["terms"]] == list(URUSAN)
    stages = ok(await public.get("/v1/vocabularies/stages"))
    assert [(t["code"], t["label"]) for t in stages["terms"]] == [
        ("inisiatif", "Inisiatif"),
        ("uji_coba", "Uji Coba"),
        ("penerapan", "Penerapan"),
    ]
    problem(await public.get("/v1/vocabularies/bahasa"), 422)


async def test_errors_about_a_vocabulary_point_to_it(client: AsyncClient) -> None:
    agency = ok(await client.post("/v1/regions/73.72/agencies", json={"name": "Dinas Sosial"}), 201)
    await create_period(client)
    bad_urusan = innovation_body(agency["id"], urusan=["kesehatan", "astrologi"])
    body = problem(
        await client.post(f"/v1/periods/{YEAR}/regions/73.72/innovations", json=bad_urusan), 422
    )
    assert "see GET /v1/vocabularies/urusan" in body["detail"]
    bad_stage = innovation_body(agency["id"], stage="selesai")
    body = problem(
        await client.post(f"/v1/periods/{YEAR}/regions/73.72/innovations", json=bad_stage), 422
    )
    assert "see GET /v1/vocabularies/stages" in body["detail"]


def test_closed_vocabularies_are_enums_in_the_schema(fastapi_app: FastAPI) -> None:
    schemas = fastapi_app.openapi()["components"]["schemas"]
    create = schemas["InnovationCreate"]["properties"]
    assert create["urusan"]["items"]["enum"] == list(URUSAN)
    for field, values in (("stage", vocab.STAGES), ("form", vocab.INNOVATION_FORMS)):
        assert create[field]["enum"] == list(values)
