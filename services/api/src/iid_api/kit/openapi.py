"""The OpenAPI document is the contract: what every operation can answer, derived from the
route itself so that a route added later is documented by the same rules.

`install_contract(app)` replaces `app.openapi` with FastAPI's document completed here:
- the error statuses each operation can answer, from what it depends on (the principal: 401,
  and 403 when it must be signed in; `If-Match`: 412; parameters: 404 and 422; a body: 400,
  malformed; any write: the `Idempotency-Key` answers 400, 409, 413, 422; every /v1 operation:
  503), beside those a route documents itself in its `responses` (what its service raises:
  409 on a GET, 410, 415, 416, 429 ...), which may also give a status a description of its own;
- every error answer as `application/problem+json` with the `ProblemBody` schema, described
  as the route says or else as ERROR_DESCRIPTIONS does;
- a request body's first schema example as its media type's `example`;
- year parameters bounded by the years a period may have, other whole numbers by
  PostgreSQL's `integer` (what kit/edge.py enforces).
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from iid_api.kit.edge import INTEGER_RANGE, YEAR_PARAMETERS, YEAR_RANGE, dependants
from iid_api.kit.errors import PROBLEM_MEDIA_TYPE, ProblemBody
from iid_api.kit.etag import parse_if_match
from iid_api.kit.idempotency import MAX_KEY_LENGTH, WRITES, recorded
from iid_api.kit.principal import current_principal, public_principal

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemBody"}
ERROR_DESCRIPTIONS = {
    400: "Malformed request (a body that cannot be parsed, a bad `Idempotency-Key`)",
    401: "Credentials missing or not valid",
    403: "The caller's role may not do this",
    404: "Unknown or invisible object",
    409: "Not allowed in the current state",
    410: "No longer there (expired)",
    412: "`If-Match` names another version",
    413: "The body is too large",
    415: "A media type the operation does not accept",
    416: "The range lies outside the file",
    422: "Invalid input; `errors` names each field",
    429: "Too many requests; see `Retry-After`",
    503: "Database unavailable; see `Retry-After`",
}


def operation_id(route: APIRoute) -> str:
    """An operation's id: its endpoint's name, unique in the app (tests/api/test_openapi_...)."""
    return route.name


def install_contract(app: FastAPI) -> None:
    def contract() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            complete(document, app)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = contract  # type: ignore[method-assign]


def complete(document: dict[str, Any], app: FastAPI) -> None:
    _problem_schemas(document)
    for method, path, route in _operations(app):
        operation = document["paths"][path][method.lower()]
        for status in error_statuses(method, path, route):
            operation["responses"].setdefault(str(status), {})
        _problems(operation, route)
        _headers(operation)
        _idempotency_key(operation, method, path)
        _examples(operation, document)
        _bounds(operation)


def _operations(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        route = context.route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(context.methods or ()):
                yield method, str(context.path), route


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    return {each.call for each in dependants(dependant) if each.call is not None}


def error_statuses(method: str, path: str, route: APIRoute) -> set[int]:
    """What the operation can answer besides success, from what it depends on."""
    calls, statuses = _calls(route.dependant), set()
    params = [
        param
        for each in dependants(route.dependant)
        for param in (*each.path_params, *each.query_params, *each.header_params)
    ]
    if public_principal in calls:
        statuses.add(401)
    if current_principal in calls:
        statuses |= {401, 403}
    if parse_if_match in calls:
        statuses.add(412)
    if params or route.body_field is not None:
        statuses |= {404, 422}
    if route.body_field is not None:
        statuses.add(400)
    if method in WRITES:
        statuses |= {400, 409, 413, 422}  # the Idempotency-Key (kit/idempotency.py)
    if path.startswith("/v1/"):
        statuses.add(503)
    return statuses


def _problem_schemas(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI's own 422 shape, which it documents for a route declaring no 422: never
    # answered here (a 422 is problem+json like every error, kit/errors.py)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault(ProblemBody.__name__, problem)


def _problems(operation: dict[str, Any], route: APIRoute) -> None:
    for status, response in operation["responses"].items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
            own = route.responses.get(int(status)) or route.responses.get(status) or {}
            response["description"] = own.get("description") or ERROR_DESCRIPTIONS.get(
                int(status), "Error"
            )


HEADERS = {
    "201": {"Location": "Where the created object is (GET it)"},
    "429": {"Retry-After": "Seconds to wait before trying again"},
    "503": {"Retry-After": "Seconds to wait before trying again"},
}


def _headers(operation: dict[str, Any]) -> None:
    for status, headers in HEADERS.items():
        if status in operation["responses"]:
            documented = operation["responses"][status].setdefault("headers", {})
            for name, description in headers.items():
                documented.setdefault(
                    name, {"description": description, "schema": {"type": "string"}}
                )


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": f"1-{MAX_KEY_LENGTH} characters of the client's choosing: a retry with the "
    "same key and request gets the first answer again (`Idempotent-Replayed: true`) instead of "
    "doing the write twice",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def _idempotency_key(operation: dict[str, Any], method: str, path: str) -> None:
    """Declared where kit/idempotency.py records it: /v1 writes, not auth, not uploads."""
    content = " ".join(operation.get("requestBody", {}).get("content", {}))
    if path.startswith("/v1/") and recorded(method, path, content):
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)


def _examples(operation: dict[str, Any], document: dict[str, Any]) -> None:
    for content in operation.get("requestBody", {}).get("content", {}).values():
        if "example" in content or "examples" in content:
            continue
        schema = _resolve(content.get("schema", {}), document)
        if schema.get("examples"):
            content["example"] = schema["examples"][0]


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if not isinstance(reference, str):
        return schema
    resolved: dict[str, Any] = document
    for part in reference.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return resolved


def _bounds(operation: dict[str, Any]) -> None:
    for param in operation.get("parameters", []):
        low, high = YEAR_RANGE if param["name"] in YEAR_PARAMETERS else INTEGER_RANGE
        for schema in (param["schema"], *param["schema"].get("anyOf", [])):
            if schema.get("type") == "integer":
                schema["minimum"] = max(schema.get("minimum", low), low)
                schema["maximum"] = min(schema.get("maximum", high), high)
