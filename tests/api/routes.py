"""The app's operations, read from the app itself (so a route added later is covered by every
test that iterates them), and plausible values for their path parameters."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.api.support import REGION, YEAR

# a value of the right shape for each path parameter (the object need not exist)
SAMPLE_PATH_VALUES: dict[str, str] = {
    "year": str(YEAR),
    "code": REGION,
    "indicator": "18",
    "item_id": "1",
    "name": "urusan",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    route: APIRoute

    @property
    def path_params(self) -> list[str]:
        return [param.alias for param in self.route.dependant.path_params]

    def url(self, **values: str) -> str:
        """The path with `values`, and a sample (or a new UUID) for every other parameter."""
        filled = {
            name: SAMPLE_PATH_VALUES.get(name, str(uuid.uuid4())) for name in self.path_params
        }
        return self.path.format(**{**filled, **values})

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> list[Operation]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        original = context.original_route
        if (
            isinstance(original, APIRoute)
            and original.include_in_schema
            and isinstance(route, APIRoute)
        ):
            for method in sorted(context.methods or ()):
                found.append(Operation(method, str(context.path), route))
    return sorted(found, key=lambda operation: (operation.path, operation.method))


def openapi_operation(app: FastAPI, operation: Operation) -> dict[str, Any]:
    document: dict[str, Any] = app.openapi()
    return dict(document["paths"][operation.path][operation.method.lower()])


def body_example(content: dict[str, Any]) -> Any:
    """A documented request body's example: `example`, or the first of `examples`."""
    if "example" in content:
        return content["example"]
    named = content.get("examples") or {}
    return next(iter(named.values()))["value"] if named else None
