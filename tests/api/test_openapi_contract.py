"""The OpenAPI document is the contract (kit/openapi.py), checked on every operation the app
has, so that a route added later is held to the same rules."""

from typing import Any

from fastapi import FastAPI

from iid_api.kit.errors import PROBLEM_MEDIA_TYPE
from tests.api.routes import body_example, operations

PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}


def _document_operations(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    document = app.openapi()
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_document_covers_every_operation(fastapi_app: FastAPI) -> None:
    documented = {name for name, _ in _document_operations(fastapi_app)}
    assert documented == {str(operation) for operation in operations(fastapi_app)}
    assert len(documented) >= 80


def test_every_operation_has_a_description(fastapi_app: FastAPI) -> None:
    missing = [name for name, op in _document_operations(fastapi_app) if not op.get("description")]
    assert not missing


def test_every_error_answer_is_problem_json(fastapi_app: FastAPI) -> None:
    for name, operation in _document_operations(fastapi_app):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response.get("content") == PROBLEM, (name, status)
                assert response["description"], (name, status)


def test_error_statuses_follow_from_what_an_operation_depends_on(fastapi_app: FastAPI) -> None:
    for name, operation in _document_operations(fastapi_app):
        statuses = {int(status) for status in operation["responses"]}
        parameters = {param["name"] for param in operation.get("parameters", [])}
        if name.startswith(("GET /v1", "POST /v1", "PUT /v1", "PATCH /v1", "DELETE /v1")):
            assert 503 in statuses, name
        if operation.get("security"):
            assert 401 in statuses, name
        if "if-match" in parameters:
            assert 412 in statuses, name
        if "requestBody" in operation:
            assert {400, 422} <= statuses, name
        if not name.startswith("GET"):
            assert {400, 409, 413, 422} <= statuses, name  # the Idempotency-Key
        else:  # a read conflicts with no state: only what a route can answer is documented
            assert 409 not in statuses, name


def test_statuses_only_some_routes_answer_are_theirs(fastapi_app: FastAPI) -> None:
    documented = dict(_document_operations(fastapi_app))

    def errors(name: str) -> set[int]:
        return {int(status) for status in documented[name]["responses"] if int(status) >= 400}

    assert errors("GET /v1/auth/me") == {401, 403, 503}
    assert {401, 429} <= errors("POST /v1/auth/token")
    assert 429 not in errors("POST /v1/auth/refresh") | errors("POST /v1/auth/logout")
    assert 410 in errors("GET /v1/exports/{export_id}/file")
    assert 416 in errors("GET /v1/evidence/{evidence_id}")
    assert errors("GET /v1/editions/schema") == {401, 503}  # a bad credential: 401
    sign_in = documented["POST /v1/auth/token"]["responses"]["429"]
    assert sign_in["description"].startswith("Too many failed sign-ins")


def test_every_request_body_has_a_realistic_example(fastapi_app: FastAPI) -> None:
    for name, operation in _document_operations(fastapi_app):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "multipart/form-data":
                continue  # a file's bytes: the schema says which part carries it
            assert body_example(content), (name, media_type)


def test_year_parameters_are_bounded_like_the_database(fastapi_app: FastAPI) -> None:
    checked = 0
    for name, operation in _document_operations(fastapi_app):
        for param in operation.get("parameters", []):
            if param["name"] in ("year", "period"):
                schemas = [param["schema"], *param["schema"].get("anyOf", [])]
                integer = next(schema for schema in schemas if schema.get("type") == "integer")
                assert (integer["minimum"], integer["maximum"]) == (2000, 2100), name
                checked += 1
    assert checked >= 25


def test_response_bodies_are_typed(fastapi_app: FastAPI) -> None:
    for name, operation in _document_operations(fastapi_app):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for media_type, content in response.get("content", {}).items():
                    assert content.get("schema") not in (None, {}), (name, status, media_type)


def test_operation_ids_are_the_endpoint_names(fastapi_app: FastAPI) -> None:
    """What a generated client names its functions (`create_agency`, not a path soup)."""
    by_name = {str(op): op.route.name for op in operations(fastapi_app)}
    for name, operation in _document_operations(fastapi_app):
        assert operation["operationId"] == by_name[name]
    assert len(set(by_name.values())) == len(by_name)
