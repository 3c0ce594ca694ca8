"""Nothing PostgreSQL cannot hold gets past the edge: the one check every route runs.

`check_edge` is an application-wide dependency (it runs before a route's own dependencies and
before its parameters are validated): it reads the route's parameters and the body FastAPI
parsed for it (or a small JSON body a route reads itself, like an evidence link), and refuses
- text with a character PostgreSQL's text and jsonb refuse (U+0000, and lone surrogates, which
  have no UTF-8 form): 422 naming the field, for path, query, form and JSON body values;
- a year-like path parameter (`year`) outside the years a period may have: 404 (there is no
  such period), and a year-like query parameter (`period`, `year`) outside them: 422;
- any other whole-number parameter outside PostgreSQL's `integer`: 404 in a path, 422 in a
  query.
Body fields that are years use `Year` (kit/schemas.py). A database error that still gets
through is answered 500 without internals and logged with the request id (kit/errors.py).
"""

import re
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from iid_api.kit.errors import InvalidInput, NotFound, json_pointer
from iid_store.vocab import FIRST_YEAR, LAST_YEAR

YEAR_PARAMETERS = frozenset({"year", "period"})
INTEGER_RANGE = (-(2**31), 2**31 - 1)  # PostgreSQL's integer
YEAR_RANGE = (FIRST_YEAR, LAST_YEAR)
# NUL, and the surrogate halves a JSON "\ud800" escape can produce (no UTF-8 form)
REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# a JSON body a route reads itself is checked up to this size (larger ones are refused by
# such a route: an evidence link may have 8 KiB)
SMALL_BODY_BYTES = 64 * 1024
_REFUSED_NAMES = {"\x00": "a NUL character (U+0000)"}

# by id(route), holding the route: an id is unique only among objects alive together
_whole_number_parameters: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def refused_character(text: str) -> str | None:
    """What in `text` PostgreSQL cannot store, or None."""
    found = REFUSED_CHARACTERS.search(text)
    if found is None:
        return None
    return _REFUSED_NAMES.get(found.group(), f"a lone surrogate (U+{ord(found.group()):04X})")


def check_text(text: str, location: list[int | str]) -> None:
    """422 naming `location` when `text` holds a character PostgreSQL refuses."""
    refused = refused_character(text)
    if refused is not None:
        raise InvalidInput.at(json_pointer(location), f"text may not contain {refused}")


def check_value(value: Any, location: list[int | str]) -> None:
    """`check_text` for every string (and key) in a parsed JSON value."""
    for text, place in _texts(value, location):
        check_text(text, place)


def _texts(value: Any, location: list[int | str]) -> Iterator[tuple[str, list[int | str]]]:
    if isinstance(value, str):
        yield value, location
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key), location
            yield from _texts(item, [*location, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, [*location, index])


def year_problem(value: int) -> str | None:
    """Why `value` is not a year a period may have (None: it may be)."""
    low, high = YEAR_RANGE
    if low <= value <= high:
        return None
    return f"{value} is not a year from {low} to {high}"


def dependants(dependant: Dependant) -> Iterator[Dependant]:
    """`dependant` and every dependency under it."""
    yield dependant
    for dependency in dependant.dependencies:
        yield from dependants(dependency)


def _whole_numbers(route: APIRoute) -> frozenset[str]:
    """The route's path and query parameters (its dependencies' too) declared as integers."""
    known = _whole_number_parameters.get(id(route))
    if known is not None:
        return known[1]
    names = frozenset(
        param.alias
        for dependant in dependants(route.dependant)
        for param in (*dependant.path_params, *dependant.query_params)
        if param.field_info.annotation in (int, int | None)
    )
    _whole_number_parameters[id(route)] = (route, names)
    return names


_WHOLE_NUMBER = TypeAdapter(int)


def _as_int(text: str) -> int | None:
    """The number the route's own validation will read ("2026", "2026.0" alike)."""
    try:
        return _WHOLE_NUMBER.validate_python(text)
    except ValidationError:
        return None  # not a whole number at all: the route's own validation says so


def _number_problem(name: str, text: str, whole_numbers: frozenset[str]) -> str | None:
    value = _as_int(text) if name in whole_numbers or name in YEAR_PARAMETERS else None
    if value is None:
        return None
    if name in YEAR_PARAMETERS:
        return year_problem(value)
    low, high = INTEGER_RANGE
    return None if low <= value <= high else f"{value} is out of range ({low} to {high})"


async def check_edge(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    whole_numbers = _whole_numbers(route)
    for name, text in request.path_params.items():
        check_text(str(text), ["path", name])
        problem = _number_problem(name, str(text), whole_numbers)
        if problem is not None:
            raise NotFound(f"no such {name}: {problem}")
    for name, text in request.query_params.multi_items():
        check_text(name, ["query", name])
        check_text(text, ["query", name])
        problem = _number_problem(name, text, whole_numbers)
        if problem is not None:
            raise InvalidInput.at(json_pointer(["query", name]), problem)
    await _check_body(request, parsed=route.body_field is not None)


def _small(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) <= SMALL_BODY_BYTES


async def _check_body(request: Request, *, parsed: bool) -> None:
    """The body FastAPI parsed for the route (`parsed`: both calls below return its cached
    result), or a small JSON body a route reads itself (an evidence link): read here, it is
    kept for the route to read again."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if parsed and media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        for name, value in form.multi_items():
            check_text(name, ["body", name])
            if not isinstance(value, UploadFile):
                check_text(value, ["body", name])
    elif is_json and (parsed or _small(request)):
        try:
            body = await request.json()
        except ValueError:
            return  # FastAPI answers malformed JSON itself
        check_value(body, ["body"])
