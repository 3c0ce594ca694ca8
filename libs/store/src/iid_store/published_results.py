"""The published results of the years before the service: the row format an import file
(and the seed's demo file) uses, read cell by cell, and the statement that stores the rows.

Columns (a header row names them, in any order): `region_code`, `year` (both required),
`index` (0-100, from 2021 on) or `raw_score` (the raw sum of scores published before 2021),
`rating`, `cluster`, `rank`, `innovations`, `agencies_taking_part`. An empty cell is a figure
that was not published and stays empty. A row keeps the scale it was published on: `index`
makes it `index_0_100`, `raw_score` makes it `raw_sum`; a row with neither takes the scale of
its year.
"""

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store import vocab
from iid_store.db import insert_rows
from iid_store.db.models import ImportedResult

COLUMNS = (
    "region_code",
    "year",
    "index",
    "raw_score",
    "rating",
    "cluster",
    "rank",
    "innovations",
    "agencies_taking_part",
)
REQUIRED = ("region_code", "year")
KEY = ("region_code", "year")  # one result per region and year
FIRST_INDEX_YEAR = 2021  # results were published on the 0-100 index from this year on
REGION_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
MAX_SCORE = Decimal("99999999.99")  # what the column holds (numeric(10, 2))


@dataclass(frozen=True)
class PublishedResult:
    region_code: str
    year: int
    scale: str
    score: Decimal | None
    rating: str | None
    cluster: str | None
    rank: int | None
    innovations: int | None
    agencies_taking_part: int | None

    @property
    def index(self) -> Decimal | None:
        return self.score if self.scale == "index_0_100" else None


@dataclass(frozen=True)
class CellIssue:
    column: str
    detail: str


class _Invalid(ValueError):
    pass


def header_name(cell: object) -> str:
    """A header cell as a column name: "Raw score" -> "raw_score"."""
    return re.sub(r"[\s-]+", "_", str(cell or "").strip().lower())


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets hold whole numbers as floats
    text = str(value).strip()
    return text or None


# the largest whole number a column holds (PostgreSQL's integer)
MAX_WHOLE = 2**31 - 1


def _whole(text: str, minimum: int) -> int:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _Invalid(f"{text!r} is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise _Invalid(f"{text!r} is not a whole number")
    if number < minimum:
        raise _Invalid(f"{text} is below {minimum}")
    if number > MAX_WHOLE:
        raise _Invalid(f"{text} is above {MAX_WHOLE}")
    return int(number)


def _decimal(text: str, maximum: Decimal) -> Decimal:
    try:
        number = Decimal(text.replace(",", "."))  # a decimal comma, as Indonesian sheets write
    except InvalidOperation:
        raise _Invalid(f"{text!r} is not a number") from None
    if not number.is_finite() or number < 0 or number > maximum:
        raise _Invalid(f"{text} is outside 0..{maximum}")
    if number != number.quantize(Decimal("0.01")):
        raise _Invalid(f"{text} has more than two decimals")
    return number.quantize(Decimal("0.01"))


def _word(text: str, vocabulary: Sequence[str], prefix: str = "") -> str:
    """A vocabulary value from its code or its label ("Sangat Inovatif", "Daerah Tertinggal")."""
    code = header_name(text)
    code = code.removeprefix(prefix)
    if code not in vocabulary:
        raise _Invalid(f"{text!r} is not one of {', '.join(vocabulary)}")
    return code


def _region_code(text: str) -> str:
    if not REGION_CODE.match(text):
        raise _Invalid(f"{text!r} is not a Kemendagri region code such as 73.72")
    return text


def _year(text: str) -> int:
    year = _whole(text, 2000)
    if year > 2100:
        raise _Invalid(f"{year} is after 2100")
    return year


_PARSERS: dict[str, Callable[[str], object]] = {
    "region_code": _region_code,
    "year": _year,
    "index": lambda text: _decimal(text, Decimal(100)),
    "raw_score": lambda text: _decimal(text, MAX_SCORE),
    "rating": lambda text: _word(text, vocab.RATINGS),
    "cluster": lambda text: _word(text, vocab.CLUSTERS, prefix="daerah_"),
    "rank": lambda text: _whole(text, 1),
    "innovations": lambda text: _whole(text, 0),
    "agencies_taking_part": lambda text: _whole(text, 0),
}


def parse_row(
    cells: Mapping[str, object],
) -> tuple[PublishedResult | None, list[CellIssue], list[CellIssue]]:
    """One row's result, or None with every problem of the row; and warnings (figures that
    look off but are kept, as published figures are facts)."""
    values: dict[str, Any] = {}
    errors: list[CellIssue] = []
    for column in COLUMNS:
        text = _text(cells.get(column))
        if text is None:
            values[column] = None
            if column in REQUIRED:
                errors.append(CellIssue(column, "required"))
            continue
        try:
            values[column] = _PARSERS[column](text)
        except _Invalid as problem:
            values[column] = None
            errors.append(CellIssue(column, str(problem)))
    if values["index"] is not None and values["raw_score"] is not None:
        errors.append(CellIssue("raw_score", "give the index or the raw score, not both"))
    if errors:
        return None, errors, []
    return _result(values), [], _scale_warnings(values)


def _result(values: dict[str, Any]) -> PublishedResult:
    if values["index"] is not None:
        scale = "index_0_100"
    elif values["raw_score"] is not None:
        scale = "raw_sum"
    else:
        scale = "index_0_100" if values["year"] >= FIRST_INDEX_YEAR else "raw_sum"
    score = values["index"] if values["index"] is not None else values["raw_score"]
    return PublishedResult(
        region_code=values["region_code"],
        year=values["year"],
        scale=scale,
        score=score,
        rating=values["rating"],
        cluster=values["cluster"],
        rank=values["rank"],
        innovations=values["innovations"],
        agencies_taking_part=values["agencies_taking_part"],
    )


def _scale_warnings(values: dict[str, Any]) -> list[CellIssue]:
    year = values["year"]
    if values["index"] is not None and year < FIRST_INDEX_YEAR:
        return [CellIssue("index", f"{year} was published as a raw sum; kept as an index")]
    if values["raw_score"] is not None and year >= FIRST_INDEX_YEAR:
        return [CellIssue("raw_score", f"{year} was published as an index; kept as a raw sum")]
    return []


async def store(
    session: AsyncSession,
    results: Sequence[PublishedResult],
    *,
    import_id: uuid.UUID,
    imported_by: str,
    replace: bool = True,
) -> None:
    """Insert the results in one statement (of distinct regions and years), replacing the
    stored result of the same region and year, or (`replace=False`) keeping it."""
    if not results:
        return
    rows = [
        {**asdict(result), "import_id": import_id, "imported_by": imported_by} for result in results
    ]
    statement, arrays = insert_rows(ImportedResult, rows)
    if not replace:
        await session.execute(statement.on_conflict_do_nothing(), arrays)
        return
    replaced = {column: statement.excluded[column] for column in arrays if column not in KEY}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(KEY), set_={**replaced, "imported_at": func.now()}
        ),
        arrays,
    )
