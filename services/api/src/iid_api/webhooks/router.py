import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.etag import IfMatchDep, with_etag
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.settings import SettingsDep
from iid_api.webhooks import service
from iid_api.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

CREATE_EXAMPLES = {
    "region": {
        "summary": "Kota Parepare's planning agency follows its scorecard and verification",
        "value": {
            "url": "https://sipd.parepare.go.id/hooks/iid",
            "event_types": ["scorecard.changed", "innovation.sent", "verification.decided"],
            "description": "Sinkron ke SIPD Parepare",
        },
    },
    "national": {
        "summary": "The ministry's dashboard follows rankings and periods",
        "value": {
            "url": "https://dasbor.kemendagri.go.id/iid/webhook",
            "event_types": ["ranking.changed", "period.status_changed"],
        },
    },
}


PATCH_EXAMPLES = {
    "resume": {"summary": "Resume after repairing the receiver", "value": {"active": True}},
    "events": {
        "summary": "Follow exports too",
        "value": {"event_types": ["scorecard.changed", "export.ready"]},
    },
}


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
)
async def create_webhook(
    body: Annotated[WebhookCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
) -> Any:
    """Subscribe a URL to events (docs/webhooks.md: the events, their data, how to verify the
    signature). National admins: national events (`ranking.changed`,
    `period.status_changed`) and every region's; region admins: their region's
    (`scorecard.changed`, `innovation.sent`, `verification.decided`, `export.ready`). Events
    of changes made from now on are delivered, signed with the `secret`, which is shown only
    in this answer."""
    created = await service.create(
        session, scope, body, settings, production=settings.is_production
    )
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    return with_etag(created, response)


@router.get("", response_model=Page[WebhookOut])
async def list_webhooks(session: SessionDep, scope: ScopeDep, page: PageDep) -> Any:
    """The subscriptions you manage (a region admin: its region's), oldest first."""
    items, total = await service.listed(session, scope, page)
    return Page[WebhookOut].build(items, total, page)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    webhook_id: uuid.UUID, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """One subscription: its `status` (`paused` with `paused_reason` after a delivery failed
    for the whole retry window). Carries an `ETag`."""
    return with_etag(await service.visible(session, scope, webhook_id), response)


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: Annotated[WebhookPatch, Body(openapi_examples=PATCH_EXAMPLES)],
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Change the URL, the events or the description; `active: false` stops deliveries,
    `active: true` resumes (a paused subscription too: its pending deliveries go out again,
    oldest first). `If-Match` with the ETag you read: a stale one answers 412."""
    updated = await service.update(
        session, scope, webhook_id, body, if_match, settings, production=settings.is_production
    )
    return with_etag(updated, response)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """End the subscription: nothing more is delivered."""
    await service.delete(session, scope, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> Any:
    """The subscription's deliveries, newest first: each message, its attempts and the last
    answer (status code, or why it failed)."""
    return await service.deliveries(session, scope, webhook_id, delivery_status, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def redeliver(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, scope: ScopeDep
) -> Any:
    """Send a delivery again (the same `webhook-id`, so a receiver that has it can tell) as
    soon as the worker can, with a new retry window; before later events of its region,
    which wait for it. A paused subscription sends it once resumed."""
    return await service.redeliver(session, scope, webhook_id, delivery_id)
