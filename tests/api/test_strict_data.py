"""Strict, consistent data: a level is an integer (a boolean or a string is 422); a statistic
is a JSON number or string with a dot (a clear 422 for "12,5"); every weight, point and score
is a decimal string with two places."""

import re

from httpx import AsyncClient

from tests.api.support import REGION, YEAR, create_period, ok, pointers, problem

SPD = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
TWO_PLACES = re.compile(r"-?\d+\.\d{2}")


async def test_a_level_is_an_integer(client: AsyncClient) -> None:
    await create_period(client)
    for level in (True, False, "2", 2.0, "dua"):
        response = await client.put(f"{SPD}/1", json={"level": level})
        assert pointers(problem(response, 422)) == ["/body/level"], level
    assert ok(await client.put(f"{SPD}/1", json={"level": 2}))["level"] == 2


async def test_a_statistic_has_a_dot_for_decimals(client: AsyncClient) -> None:
    await create_period(client)
    body = problem(await client.put(f"{SPD}/2a", json={"value": "12,5"}), 422)
    assert pointers(body) == ["/body/value"]
    assert '"12.5", not "12,5"' in body["detail"]
    problem(await client.put(f"{SPD}/2a", json={"value": True}), 422)
    first = ok(await client.put(f"{SPD}/2a", json={"value": "12.5"}))
    assert first["value"] == "12.5000"  # as stored: four places
    again = ok(await client.put(f"{SPD}/2a", json={"value": 12.5}))
    assert again["value"] == "12.5000"


async def test_weights_and_points_have_two_places(client: AsyncClient) -> None:
    catalog = ok(await client.get("/v1/editions/iid-2026"))
    for indicator in catalog["indicators"]:
        assert TWO_PLACES.fullmatch(indicator["weight"]), indicator
        assert TWO_PLACES.fullmatch(indicator["max_points"]), indicator
    await create_period(client)
    ok(await client.put(f"{SPD}/1", json={"level": 3}))
    for answer in ok(await client.get(SPD)):
        assert answer["points"] is None or TWO_PLACES.fullmatch(answer["points"]), answer
