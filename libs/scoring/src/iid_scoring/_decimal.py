"""Exact-number helpers. Scores are kept as integers over a known denominator and turned into
Decimal only for output, so no rounding happens before the final index."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache

# Enough digits that any score below 10**6 with a repeating fraction keeps 20 decimals.
_CONTEXT = Context(prec=28)
TWO_PLACES = Decimal("0.01")


def ratio(numerator: int, denominator: int) -> Decimal:
    """numerator / denominator as a Decimal (exact when it terminates within 28 digits)."""
    return _CONTEXT.divide(Decimal(numerator), Decimal(denominator))


def round_half_up(numerator: int, denominator: int) -> int:
    """The integer nearest to numerator / denominator, halves away from zero (both >= 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def hundredths(units: int) -> Decimal:
    """An integer count of 0.01 steps as a 2-place Decimal (4704 -> 47.04)."""
    return Decimal(units).scaleb(-2)


@lru_cache(maxsize=1 << 16)  # scorecards repeat the same points over and over
def fmt2(value: Decimal) -> str:
    """Decimal as a string with exactly 2 places, half-up (the published form)."""
    return str(value.quantize(TWO_PLACES, rounding="ROUND_HALF_UP"))


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON-ish number or numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    return max(0, -exponent)
