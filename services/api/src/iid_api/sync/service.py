"""The sync feed: what changed in a region that the caller may read, in commit order, each
change with the current version and ETag of the resource it names (or a tombstone), from the
change log (gap-free: a cursor once read never misses a later commit).

What each reader sees: the region's innovations, answers, evidence, scorecards, decisions and
the period's status; an agency operator only its agency's innovations with their answers and
evidence (and the region's SPD answers, their evidence and the scorecards, which it may read
anyway), never decisions. An innovation moved to another agency reaches the agency it left as
a `moved` change, a tombstone to it.
"""

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, get_args

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.errors import NotFound
from iid_api.kit.etag import etag
from iid_api.kit.rendered import body_etag
from iid_api.kit.tenancy import Scope
from iid_api.scorecards import service as scorecards
from iid_api.sync import repository
from iid_api.sync.schemas import ChangeKind, ChangeOut, ChangesPage
from iid_store.changes import Change, last_position
from iid_store.scoring_inputs import Basis

KINDS: tuple[str, ...] = get_args(ChangeKind)
VERIFICATION_KINDS = ("decision", "rejection")


@dataclass(frozen=True)
class Current:
    version: int | None
    etag: str


def _tag(*parts: Any) -> str:
    return body_etag(orjson.dumps(parts, default=str))


def _href(change: Change, year: int, region: str) -> str:
    data, regional = change.data, f"/v1/periods/{year}/regions/{region}"
    if change.kind == "innovation":
        return f"/v1/innovations/{change.object_id}"
    if change.kind == "spd_answer":
        return f"{regional}/spd-answers/{data['indicator']}"
    if change.kind == "sid_answer":
        return f"/v1/innovations/{data['innovation_id']}/answers/{data['indicator']}"
    if change.kind == "evidence":
        if data.get("aspect") == "sid":
            return f"/v1/innovations/{data['innovation_id']}/answers/{data['indicator']}/evidence"
        return f"{regional}/spd-answers/{data['indicator']}/evidence"
    if change.kind in VERIFICATION_KINDS:
        return f"{regional}/verification"
    if change.kind == "scorecard":
        return f"{regional}/scorecard?basis={data['basis']}"
    return f"/v1/periods/{year}"


class _States:
    """The current state of every resource a page names, read once per kind."""

    def __init__(self, session: AsyncSession, scope: Scope, year: int, region: str) -> None:
        self.session, self.scope, self.year, self.region = session, scope, year, region
        self.found: dict[tuple[str, str], Current | None] = {}

    def _owned(self, agency_id: uuid.UUID | None) -> bool:
        mine = self.scope.principal.agency_id
        return mine is None or agency_id is None or agency_id == mine

    async def load(self, changes: Collection[Change]) -> None:
        ids: dict[str, set[str]] = defaultdict(set)
        for change in changes:
            ids[change.kind].add(change.object_id)
        loaders: dict[str, Callable[[set[str]], Awaitable[None]]] = {
            "innovation": self._innovations,
            "spd_answer": self._spd_answers,
            "sid_answer": self._sid_answers,
            "evidence": self._evidence,
            "decision": self._decisions,
            "rejection": self._rejections,
            "scorecard": self._scorecards,
            "period": self._period,
        }
        for kind, wanted in ids.items():
            await loaders[kind](wanted)

    def _put(self, kind: str, object_id: str, current: Current | None) -> None:
        self.found[(kind, object_id)] = current

    def _versioned(self, kind: str, ids: set[str], rows: dict[str, Any], owned: bool) -> None:
        """Resources with a version of their own, which is their ETag too; `owned`: rows
        that name an innovation's agency and whether it is deleted."""
        for object_id in ids:
            row: Any = rows.get(object_id)
            gone = row is None or (owned and (row.deleted_at or not self._owned(row.agency_id)))
            self._put(kind, object_id, None if gone else Current(row.version, etag(row.version)))

    async def _innovations(self, ids: set[str]) -> None:
        rows = await repository.innovations(self.session, ids)
        self._versioned("innovation", ids, rows, owned=True)

    async def _spd_answers(self, ids: set[str]) -> None:
        rows = await repository.spd_answers(self.session, ids)
        self._versioned("spd_answer", ids, rows, owned=False)

    async def _sid_answers(self, ids: set[str]) -> None:
        rows = await repository.sid_answers(self.session, ids)
        self._versioned("sid_answer", ids, rows, owned=True)

    async def _evidence(self, ids: set[str]) -> None:
        rows = await repository.evidence(self.session, ids)
        for object_id in ids:
            row = rows.get(object_id)
            if row is None or not self._owned(row.agency_id):
                self._put("evidence", object_id, None)
                continue
            # a file's ETag is its content hash (GET /v1/evidence/{id} sends it too)
            tag = f'"{row.storage_key}"' if row.storage_key else _tag(row.url)
            self._put("evidence", object_id, Current(None, tag))

    async def _decisions(self, ids: set[str]) -> None:
        rows = await repository.decisions(self.session, ids)
        for object_id in ids:
            row = rows.get(object_id)
            self._put("decision", object_id, Current(None, _tag(*row)) if row else None)

    async def _rejections(self, ids: set[str]) -> None:
        rows = await repository.rejections(self.session, ids)
        for object_id in ids:
            row = rows.get(object_id)
            self._put("rejection", object_id, Current(None, _tag(*row)) if row else None)

    async def _scorecards(self, ids: set[str]) -> None:
        """As GET .../scorecard renders it for this caller: its generation and its ETag."""
        for object_id in ids:
            basis = Basis(object_id.rsplit("/", 1)[1])
            try:
                body = await scorecards.stored(
                    self.session, self.scope, self.year, self.region, basis
                )
            except NotFound:
                self._put("scorecard", object_id, None)
                continue
            generation = orjson.loads(body)["generation"]
            self._put("scorecard", object_id, Current(generation, body_etag(body)))

    async def _period(self, ids: set[str]) -> None:
        state = await repository.period(self.session, self.year)
        for object_id in ids:
            self._put("period", object_id, Current(None, _tag(*state)) if state else None)

    def out(self, change: Change) -> ChangeOut:
        current = self.found.get((change.kind, change.object_id))
        return ChangeOut(
            position=change.position,
            kind=change.kind,
            action=change.action,
            recorded_at=change.recorded_at,
            object_id=change.object_id,
            data=change.data,
            href=_href(change, self.year, self.region),
            deleted=current is None,
            version=current.version if current else None,
            etag=current.etag if current else None,
        )


async def region_changes(
    session: AsyncSession, scope: Scope, year: int, region: str, after: int, limit: int
) -> ChangesPage:
    scope.require_visible_region(region)
    await catalog.region(session, region)
    period = await catalog.period(session, year)
    scope.require_visible_period(year, period.status)
    agency = scope.principal.agency_id
    kinds = [kind for kind in KINDS if agency is None or kind not in VERIFICATION_KINDS]
    # the log's end first: every position up to it exists, so a cursor moved there skips
    # nothing that commits later
    end = await last_position(session)
    changes, total = await repository.changes(
        session, year, region, kinds, agency, after, end, limit
    )
    states = _States(session, scope, year, region)
    await states.load(changes)
    return ChangesPage.build(
        [states.out(change) for change in changes],
        changes,
        total=total,
        after=after,
        end=end,
        limit=limit,
    )
