"""Exports made by the worker: requested here (checked as the route would check them, then a
queued row is the whole hand-off), followed by their requester, and fetched through a signed
link that works without credentials for a limited time (a browser or a spreadsheet program
can open it)."""

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.exports import repository
from iid_api.exports.kinds import KINDS
from iid_api.exports.schemas import ExportIn, ExportOut
from iid_api.kit.errors import Gone, NotFound
from iid_api.kit.exports import ExportFormat, chosen_table
from iid_api.kit.tenancy import Scope
from iid_api.settings import Settings
from iid_store.db.models import Export


async def request_export(session: AsyncSession, scope: Scope, body: ExportIn) -> Export:
    """The export, queued, once the caller may read what it names (the same Document the
    route builds: permissions and filters are checked now, and again by the worker)."""
    document = await KINDS[body.what].build(session, scope, body.filters)
    if body.format is ExportFormat.CSV:
        chosen_table(document, body.table, "/body/table")
    principal = scope.principal
    export = await repository.add(
        session,
        {
            "what": body.what,
            "format": body.format.value,
            "delimiter": body.delimiter,
            "csv_table": body.table,
            "filters": body.filters.model_dump(mode="json", exclude_none=True),
            "period_year": getattr(body.filters, "period", None),
            "region_code": getattr(body.filters, "region", None),
            "requested_by": principal.subject,
            "requester_role": principal.role.value,
            "requester_region": principal.region_code,
            "requester_agency": principal.agency_id,
        },
    )
    await session.commit()
    return export


def signature(settings: Settings, export_id: uuid.UUID, expires: int) -> str:
    """The download link's signature: the secret key's HMAC of the export and the expiry."""
    secret, message = settings.secret_key.get_secret_value(), f"{export_id}.{expires}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def described(export: Export, settings: Settings) -> ExportOut:
    """The export as its requester sees it: with a fresh download link once it is done."""
    out = ExportOut.model_validate(export)
    if export.status == "done":
        link_for = timedelta(minutes=settings.export_link_minutes)
        expires_at = datetime.now(UTC).replace(microsecond=0) + link_for
        if export.expires_at is not None:
            expires_at = min(expires_at, export.expires_at)
        expires = int(expires_at.timestamp())
        token = signature(settings, export.id, expires)
        out.download_url = f"/v1/exports/{export.id}/file?expires={expires}&signature={token}"
        out.download_expires_at = datetime.fromtimestamp(expires, UTC)
    return out


async def requested(session: AsyncSession, scope: Scope, export_id: uuid.UUID) -> Export:
    """One of the caller's own exports (anyone else's answers 404)."""
    export = await repository.requested_by(session, export_id, scope.principal.subject)
    if export is None:
        raise NotFound(f"export {export_id} not found")
    return export


async def downloadable(
    session: AsyncSession,
    settings: Settings,
    export_id: uuid.UUID,
    expires: int | None,
    token: str | None,
) -> tuple[Export, str]:
    """The export and its storage key, when the link is genuine and still valid."""
    genuine = (
        expires is not None
        and token is not None
        and hmac.compare_digest(signature(settings, export_id, expires).encode(), token.encode())
    )
    export = await repository.get(session, export_id) if genuine else None
    if export is None or expires is None:
        raise NotFound(f"no export file at this link: ask GET /v1/exports/{export_id} for one")
    if expires < datetime.now(UTC).timestamp() or export.status != "done":
        raise Gone(f"this link or the file has expired: ask GET /v1/exports/{export_id} again")
    assert export.storage_key is not None  # a done export has its file
    return export, export.storage_key
