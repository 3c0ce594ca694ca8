"""Editions, periods and regions."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from iid_scoring import edition_json_schema, load_edition
from tests.api.support import create_period, ok, pointers, problem


async def test_editions_list_and_catalog(client: AsyncClient) -> None:
    listed = ok(await client.get("/v1/editions"))
    assert (listed["total"], listed["page"], listed["limit"]) == (3, 1, 50)
    editions = listed["items"]
    assert [edition["code"] for edition in editions] == ["iid-2023", "iid-2026", "iid-2027-draft"]
    assert [edition["provisional"] for edition in editions] == [True, False, True]
    second = ok(await client.get("/v1/editions", params={"page": 2, "limit": 1}))
    assert [edition["code"] for edition in second["items"]] == ["iid-2026"]
    assert second["total"] == 3
    problem(await client.get("/v1/editions", params={"limit": 0}), 422)

    catalog = ok(await client.get("/v1/editions/iid-2026"))
    assert catalog == {**load_edition("iid-2026").to_catalog(), "checksum": editions[1]["checksum"]}
    codes = [indicator["code"] for indicator in catalog["indicators"]]
    assert codes[:20] == [
        "1",
        "2a",
        "2b",
        "3",
        "4",
        "5a",
        "5b",
        "6",
        "7",
        "8",
        "9",
        "10a",
        "10b",
        "11a",
        "11b",
        "12",
        "13a",
        "13b",
        "14",
        "15",
    ]
    assert codes[20:] == [str(code) for code in range(16, 36)]
    problem(await client.get("/v1/editions/iid-1999"), 404)


async def test_register_edition_validates_and_never_overwrites(client: AsyncClient) -> None:
    document = dict(load_edition("iid-2026").document)
    problem(await client.post("/v1/editions", json={"document": document}), 409)

    broken = {**document, "code": "iid-2027", "indicators": document["indicators"][1:]}
    body = problem(await client.post("/v1/editions", json={"document": broken}), 422)
    assert pointers(body) == ["/body/document"]

    new = {**document, "code": "iid-2027", "year": 2027}
    created = ok(await client.post("/v1/editions", json={"document": new}), 201)
    assert created["code"] == "iid-2027"
    assert ok(await client.get("/v1/editions/iid-2027"))["code"] == "iid-2027"


async def test_edition_document_schema_is_public_and_documents_registration(
    public: AsyncClient, fastapi_app: FastAPI
) -> None:
    schema = ok(await public.get("/v1/editions/schema"))
    assert schema == edition_json_schema()
    assert schema["properties"]["indicators"]["items"] == {"$ref": "#/$defs/IndicatorDoc"}

    # the registration body's `document` is documented with the same models
    spec = fastapi_app.openapi()
    document = spec["components"]["schemas"]["EditionRegistration"]["properties"]["document"]
    assert document["required"] == schema["required"]
    assert document["properties"]["rules"] == {"$ref": "#/components/schemas/RulesDoc"}
    assert set(schema["$defs"]) <= set(spec["components"]["schemas"])


async def test_registration_names_the_place_of_a_bad_field(client: AsyncClient) -> None:
    document = dict(load_edition("iid-2026").document)
    indicators = [dict(indicator) for indicator in document["indicators"]]
    indicators[5]["weight"] = "abc"
    body = problem(
        await client.post(
            "/v1/editions",
            json={"document": {**document, "code": "iid-2027", "indicators": indicators}},
        ),
        422,
    )
    assert pointers(body) == ["/body/document"]
    assert 'indicators[5] (code "5a").weight: expected a decimal number' in str(body)


async def test_period_lifecycle(client: AsyncClient) -> None:
    period = await create_period(client, open_it=False)
    assert period["status"] == "draft"
    assert period["implementation_starts_on"] == "2024-01-01"
    assert period["implementation_ends_on"] == "2025-12-31"

    for target in ("open", "closed", "open", "closed", "verifying", "published"):
        period = ok(await client.post("/v1/periods/2026/transitions", json={"to": target}))
        assert period["status"] == target
    body = problem(await client.post("/v1/periods/2026/transitions", json={"to": "open"}), 409)
    assert "published" in body["detail"]

    listing = ok(await client.get("/v1/periods"))
    assert listing["total"] == 1 and listing["items"][0]["year"] == 2026


@pytest.mark.parametrize(
    ("source", "target"), [("draft", "closed"), ("draft", "published"), ("draft", "verifying")]
)
async def test_illegal_transitions_answer_409(
    client: AsyncClient, source: str, target: str
) -> None:
    await create_period(client, open_it=False)
    body = problem(await client.post("/v1/periods/2026/transitions", json={"to": target}), 409)
    assert f"from {source} to {target}" in body["detail"]


async def test_period_input_errors(client: AsyncClient) -> None:
    base = {
        "year": 2026,
        "edition": "iid-2026",
        "reporting_opens_on": "2026-06-01",
        "reporting_closes_on": "2026-08-31",
    }
    cases = [
        ({**base, "edition": "iid-1999"}, "/body/edition"),
        ({**base, "year": "twenty"}, "/body/year"),
        ({**base, "year": 1900}, "/body/year"),
        ({**base, "reporting_closes_on": "2026-05-01"}, "/body"),
        ({**base, "surprise": 1}, "/body/surprise"),
        ({**base, "reporting_opens_on": "not a date"}, "/body/reporting_opens_on"),
    ]
    for payload, pointer in cases:
        body = problem(await client.post("/v1/periods", json=payload), 422)
        assert pointer in pointers(body), (payload, body)
    problem(await client.post("/v1/periods/2026/transitions", json={"to": "open"}), 404)
    problem(await client.post("/v1/periods/2026/transitions", json={"to": "sideways"}), 422)
    ok(await client.post("/v1/periods", json=base), 201)
    problem(await client.post("/v1/periods", json=base), 409)


async def test_a_period_takes_its_editions_implementation_window(client: AsyncClient) -> None:
    """The window is the edition's rule: a period shows it and cannot set another one."""
    body = {
        "year": 2026,
        "edition": "iid-2026",
        "reporting_opens_on": "2026-06-01",
        "reporting_closes_on": "2026-08-31",
        "implementation_starts_on": "2023-01-01",
        "implementation_ends_on": "2025-12-31",
    }
    refused = problem(await client.post("/v1/periods", json=body), 422)
    assert "/body/implementation_starts_on" in pointers(refused)


async def test_regions_filters_and_pagination(client: AsyncClient) -> None:
    everything = ok(await client.get("/v1/regions?limit=1"))
    assert everything["total"] == 552 and len(everything["items"]) == 1

    kota = ok(await client.get("/v1/regions?kind=kota&limit=200"))
    assert kota["total"] == 98
    province = ok(await client.get("/v1/regions?province=73&kind=kota"))
    assert [region["code"] for region in province["items"]] == ["73.71", "73.72", "73.73"]

    found = ok(await client.get("/v1/regions?q=parepare"))
    assert found["items"] == [
        {
            "code": "73.72",
            "name": "KOTA PAREPARE",
            "kind": "kota",
            "province_code": "73",
            "assessable": True,
        }
    ]
    seribu = ok(await client.get("/v1/regions/31.01"))
    assert seribu["assessable"] is False
    page_two = ok(await client.get("/v1/regions?kind=provinsi&limit=20&page=2"))
    assert page_two["total"] == 38 and len(page_two["items"]) == 18

    problem(await client.get("/v1/regions/99.99"), 404)
    assert "/query/limit" in pointers(problem(await client.get("/v1/regions?limit=0"), 422))
    assert "/query/kind" in pointers(problem(await client.get("/v1/regions?kind=desa"), 422))


async def test_clusters_per_period(client: AsyncClient) -> None:
    await create_period(client)
    # kind clusters are given when the period is created
    kota = ok(await client.get("/v1/regions?cluster=kota&period=2026&limit=1"))
    assert kota["total"] == 93  # the five DKI administrative cities are not assessable
    assert ok(await client.get("/v1/periods/2026/regions/91.03/clusters"))["clusters"] == [
        "kabupaten"
    ]

    result = ok(
        await client.put(
            "/v1/periods/2026/regions/91.03/clusters",
            json={"clusters": ["kabupaten", "tertinggal", "perbatasan"]},
        )
    )
    assert result["clusters"] == ["kabupaten", "tertinggal", "perbatasan"]
    tertinggal = ok(await client.get("/v1/regions?cluster=tertinggal&period=2026"))
    assert [region["code"] for region in tertinggal["items"]] == ["91.03"]

    bad = [
        ("73.72", ["kota", "tertinggal"]),  # only kabupaten can be tertinggal
        ("73.72", ["kabupaten"]),  # wrong kind cluster
        ("73.72", ["perbatasan"]),  # kind cluster missing
    ]
    for region, clusters in bad:
        body = problem(
            await client.put(
                f"/v1/periods/2026/regions/{region}/clusters", json={"clusters": clusters}
            ),
            422,
        )
        assert pointers(body) == ["/body/clusters"]
    problem(
        await client.put("/v1/periods/2026/regions/31.71/clusters", json={"clusters": ["kota"]}),
        422,
    )
    problem(
        await client.put("/v1/periods/2026/regions/99.99/clusters", json={"clusters": ["kota"]}),
        404,
    )
