"""Public data is only what was sent and decided: every route that answers the public (any GET
that returns 200 without credentials, found from the app's routes, so a new public route is
covered without touching this test) is called in a world whose drafts, unsent innovations and
unpublished periods carry a marker, and none of it may show."""

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_worker.drain import drain
from tests.api.support import (
    DESIGN_TEXT,
    MANDATORY,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    publish,
    send_innovation,
)
from tests.conftest import RoleHeaders

MARKER = "ZZDRAFTMARKERZZ"
PUBLISHED, RUNNING = 2026, 2027
SENT_REGION, OTHER_REGION = "73.72", "73.71"
DRAFTS = {SENT_REGION: 5, OTHER_REGION: 3}
SENT = 2
# counts that only drafts could produce: drafts per region and in all, entries per region and
# in all (the public counts are of the 2 sent innovations)
DRAFT_COUNTS = {5, 3, 5 + 3, 5 + SENT, 5 + 3 + SENT}
# routes the public must be able to read (the test is not vacuous)
PUBLIC_ROUTES = {
    "/v1/periods",
    "/v1/periods/{year}",
    "/v1/regions",
    "/v1/regions/{code}",
    "/v1/periods/{year}/regions/{code}/clusters",
    "/v1/periods/{year}/regions/{code}/scorecard",
    "/v1/periods/{year}/regions/{code}/scorecard/preview",
    "/v1/periods/{year}/rankings",
    "/v1/periods/{year}/summary",
    "/v1/regions/{code}/history",
    "/v1/directory",
    "/v1/directory/{public_id}",
    "/v1/directory/{public_id}/similar",
    "/v1/directory/{public_id}/recognitions",
    "/v1/feeds/innovations",
    "/v1/feeds/innovations.atom",
}
# values of required query parameters
REQUIRED_QUERY = {"cluster": ["kota"], "edition": ["iid-2027-draft"]}


def marked(agency_id: str, number: int) -> dict[str, Any]:
    """An innovation whose every text field carries the marker."""
    text = f"{MARKER} {number}"
    return {
        "name": f"Inovasi {text}",
        "initiator_name": text,
        "design": f"{DESIGN_TEXT} {text}",
        "goal": text,
        "benefit": text,
        "result": text,
        "budget_document_url": f"https://dokumen.go.id/{MARKER}.pdf",
        "stage": "penerapan",
    }


async def _world(
    client: AsyncClient, as_role: RoleHeaders, factory: async_sessionmaker[AsyncSession]
) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {
        "draft": [],
        "sent": [],
        "hidden": [],
        "agency": [],
        "note": [],
        "public": [],
    }
    await create_period(client, year=PUBLISHED)
    await create_period(client, year=RUNNING)
    for region, drafts in DRAFTS.items():
        agency = await create_agency(client, region=region, name=f"Dinas {MARKER}")
        ids["agency"].append(agency["id"])
        for number in range(drafts):
            body = marked(agency["id"], number)
            entry = await create_innovation(
                client, agency["id"], region=region, year=PUBLISHED, **body
            )
            await answer_sid(client, entry["id"], {**MANDATORY, "18": 3})
            ids["draft"].append(entry["id"])
            ids["public"].append(entry["public_id"])
            note = {"text": f"{MARKER} catatan klinik inovasi", "indicator": "18"}
            created = ok(await client.post(f"/v1/innovations/{entry['id']}/notes", json=note), 201)
            ids["note"].append(created["id"])
    spd = f"/v1/periods/{PUBLISHED}/regions/{SENT_REGION}/spd-answers"
    for code in ("1", "3"):
        ok(await client.put(f"{spd}/{code}", json={"level": 2}))
    public_agency = await create_agency(client, region=SENT_REGION)
    for number in range(SENT):
        name = f"Layanan Terpadu {number}"
        entry = await create_innovation(
            client, public_agency["id"], region=SENT_REGION, year=PUBLISHED, name=name
        )
        await answer_sid(client, entry["id"], MANDATORY)
        ids["sent"].append((await send_innovation(client, entry["id"]))["id"])
        ids["public"].append(entry["public_id"])
    # sent, but in a period that is not published
    body = marked(public_agency["id"], 99)
    hidden = await create_innovation(
        client, public_agency["id"], region=SENT_REGION, year=RUNNING, **body
    )
    await answer_sid(client, hidden["id"], MANDATORY)
    ids["hidden"].append((await send_innovation(client, hidden["id"]))["id"])
    ids["public"].append(hidden["public_id"])

    await move_period(client, "closed", "verifying", year=PUBLISHED)
    verifier = await as_role("verifier")
    accept = {"decision": "accept"}
    for code in ("1", "3"):
        ok(await client.put(f"{spd}/{code}/decision", json=accept, headers=verifier))
    for entry_id in ids["sent"]:
        for code in MANDATORY:
            url = f"/v1/innovations/{entry_id}/answers/{code}/decision"
            ok(await client.put(url, json=accept, headers=verifier))
    await publish(client, year=PUBLISHED)
    await drain(factory)
    return ids


def _path_values(ids: dict[str, list[str]]) -> dict[str, list[str]]:
    unknown = str(uuid.uuid4())
    return {
        "year": [str(PUBLISHED), str(RUNNING)],
        "code": [SENT_REGION, OTHER_REGION, "iid-2026"],
        "entry_id": ids["draft"][:1] + ids["sent"][:1] + ids["hidden"],
        "agency_id": ids["agency"],
        "indicator": ["1", "16"],
        "name": ["urusan", "stages"],
        "evidence_id": [unknown],
        "user_id": [unknown],
        "key_id": [unknown],
        "run_id": [unknown],
        "import_id": [unknown],
        "note_id": ids["note"][:1],
        "export_id": [unknown],
        "webhook_id": [unknown],
        "public_id": ids["public"][:1] + ids["public"][-SENT - 1 :],
        "recognition_id": [unknown],
    }


def _query_params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _requests(
    route: str, dependant: Dependant, values: dict[str, list[str]]
) -> Iterator[tuple[str, dict[str, str]]]:
    names = [param.name for param in dependant.path_params]
    missing = [name for name in names if name not in values]
    assert not missing, f"{route}: give the public-data test values for {missing}"
    query = {param.name: param for param in _query_params(dependant)}
    # a model of query parameters (the directory's filters) is "required" with all its
    # fields optional
    required = [
        name
        for name, param in query.items()
        if param.field_info.is_required() and not _is_model(param.field_info.annotation)
    ]
    assert set(required) <= REQUIRED_QUERY.keys(), f"{route}: values for {required}"
    variants: list[dict[str, str]] = [{}]
    if "basis" in query:
        variants += [{"basis": "verified"}, {"basis": "claimed"}]
    for combination in itertools.product(*(values[name] for name in names)):
        path = route
        for name, value in zip(names, combination, strict=True):
            path = path.replace("{" + name + "}", value)
        for variant in variants:
            for required_values in itertools.product(*(REQUIRED_QUERY[n] for n in required)):
                params = {**variant, **dict(zip(required, required_values, strict=True))}
                if "limit" in query:
                    params["limit"] = "200"
                yield path, params


def _innovation_counts(value: Any, key: str = "") -> Iterator[tuple[str, int]]:
    """Every number the response gives about innovations: counts, and the lengths and sums of
    what it lists of them."""
    if "innovation" in key:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            yield key, value
        elif isinstance(value, list):
            yield key, len(value)
        elif isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            yield key, sum(value.values())
            yield from ((f"{key}.{k}", v) for k, v in value.items())
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _innovation_counts(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _innovation_counts(child, key)


async def test_the_public_sees_only_what_was_sent_and_decided(
    fastapi_app: FastAPI,
    client: AsyncClient,
    public: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _world(client, as_role, session_factory)
    values = _path_values(ids)
    hidden_ids = ids["draft"] + ids["hidden"] + ids["agency"]
    answered: set[str] = set()
    for context in iter_route_contexts(fastapi_app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        if not route.include_in_schema:  # the documentation pages
            continue
        for path, params in _requests(str(context.path), route.dependant, values):
            response = await public.get(path, params=params)
            if response.status_code != 200:
                assert response.status_code in (401, 404, 422), (path, response.text)
                continue
            answered.add(str(context.path))
            text = response.text
            assert MARKER not in text, (path, params)
            assert not [hidden for hidden in hidden_ids if hidden in text], (path, params)
            if not response.headers["content-type"].startswith("application/json"):
                continue  # the Atom feed: the marker check above is what applies
            for key, count in _innovation_counts(response.json()):
                assert count not in DRAFT_COUNTS, (path, params, key, count)
    assert answered >= PUBLIC_ROUTES, PUBLIC_ROUTES - answered

    # and the public figures are the sent ones
    summary = ok(await public.get(f"/v1/periods/{PUBLISHED}/summary"))
    assert (summary["innovations_sent"], summary["innovations_by_stage"]) == (
        SENT,
        {"penerapan": SENT},
    )
    card = f"/v1/periods/{PUBLISHED}/regions/{SENT_REGION}/scorecard?basis=verified"
    scored = ok(await public.get(card))
    assert sorted(item["id"] for item in scored["innovations"]) == sorted(ids["sent"])
    assert scored["counted_innovations"] == SENT
    # the claims behind it (drafts included) are there for the region, not for the public
    claimed = ok(await client.get(f"/v1/periods/{PUBLISHED}/regions/{SENT_REGION}/scorecard"))
    assert claimed["counted_innovations"] == DRAFTS[SENT_REGION] + SENT
