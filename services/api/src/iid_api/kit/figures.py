"""Derived figures as published: exact decimals rounded half-up to the places the field
documents (DESIGN.md; Python's `round` and `Decimal.quantize` default to half-even)."""

from decimal import Decimal
from fractions import Fraction
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

TWO_PLACES = 2


def half_up(value: Fraction | Decimal | int, places: int = TWO_PLACES) -> Decimal:
    """`value` rounded half-up (away from zero) to `places` decimals, exactly: a Fraction is
    never cut short before it is rounded."""
    exact = Fraction(value)
    scaled = abs(exact) * 10**places
    rounded = int(scaled + Fraction(1, 2))  # floor(x + 1/2): halves go up
    quantum = Decimal(1).scaleb(-places)
    result = (Decimal(rounded) * quantum).quantize(quantum)
    return -result if exact < 0 and result else result


def mean_half_up(total: Decimal, count: int, places: int = TWO_PLACES) -> Decimal | None:
    """The mean of `count` values summing to `total` (None for no values)."""
    if count == 0:
        return None
    return half_up(Fraction(total) / count, places)


def percent_half_up(part: int, whole: int, places: int = TWO_PLACES) -> Decimal | None:
    """`part` as a percentage of `whole` (None when `whole` is 0)."""
    if whole == 0:
        return None
    return half_up(Fraction(100 * part, whole), places)


def _two_places(value: Decimal) -> str:
    return str(half_up(value))


# A published point, score or index: a decimal string with two places ("3.00", "78.50").
TwoPlaces = Annotated[
    Decimal,
    PlainSerializer(_two_places, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "a decimal with two places, as a string",
            "examples": ["3.00"],
        }
    ),
]
