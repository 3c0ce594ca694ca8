"""A client generated from the OpenAPI document by openapi-python-client (what `make client`
does) drives a small year: a period opened, an agency and an innovation entered, answered,
submitted, approved and sent, the scorecard read. The schema is usable by code no one here
wrote."""

import datetime
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.support import DESIGN_TEXT, MANDATORY, REGION, YEAR
from tests.support.credentials import bearer, issue_api_key

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def generated(fastapi_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_text(json.dumps(fastapi_app.openapi()))
    command = [str(GENERATOR), "generate", "--meta", "none", "--path", str(document)]
    command += ["--output-path", str(folder / "iid_client")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("iid_client")
    finally:
        sys.path.remove(str(folder))


def _call(tag: str, operation: str) -> Any:
    """The generated coroutine of an operation (`asyncio`: the parsed answer)."""
    return importlib.import_module(f"iid_client.api.{tag}.{operation}").asyncio


async def test_a_year_through_the_generated_client(
    generated: ModuleType,
    app_instance: object,
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    models = importlib.import_module("iid_client.models")
    key = await issue_api_key(session_factory, "national_admin")
    transport = ASGITransport(app=app_instance)  # type: ignore[arg-type]
    api = generated.AuthenticatedClient(base_url="http://iid.test", token=key)
    api.set_async_httpx_client(
        AsyncClient(transport=transport, base_url="http://iid.test", headers=bearer(key))
    )

    period = await _call("periods", "create_period")(
        client=api,
        body=models.PeriodCreate(
            year=YEAR,
            edition="iid-2026",
            reporting_opens_on=datetime.date(YEAR, 6, 1),
            reporting_closes_on=datetime.date(YEAR, 8, 31),
        ),
    )
    assert isinstance(period, models.PeriodOut) and period.status.value == "draft"
    opened = await _call("periods", "transition_period")(
        YEAR, client=api, body=models.Transition(to=models.TransitionTo.OPEN)
    )
    assert opened.status.value == "open"
    agency = await _call("agencies", "create_agency")(
        REGION, client=api, body=models.AgencyCreate(name="Dinas Kesehatan Kota Parepare")
    )
    assert isinstance(agency, models.AgencyOut)
    entry = await _call("innovations", "create_innovation")(
        YEAR,
        REGION,
        client=api,
        body=models.InnovationCreate(
            agency_id=agency.id,
            name="Posyandu Digital Terpadu",
            stage=models.InnovationCreateStage.PENERAPAN,
            initiator=models.InnovationCreateInitiator.PERANGKAT_DAERAH,
            kind=models.InnovationCreateKind.DIGITAL,
            form=models.InnovationCreateForm.PELAYANAN_PUBLIK,
            urusan=[models.InnovationCreateUrusanItem.KESEHATAN],
            implemented_on=datetime.date(2024, 3, 1),
            design=DESIGN_TEXT,
        ),
    )
    assert isinstance(entry, models.InnovationOut), entry
    items = [
        models.BulkAnswerItem(indicator=code, level=level) for code, level in MANDATORY.items()
    ]
    saved = await _call("answers", "put_sid_answers")(
        entry.id, client=api, body=models.BulkAnswers(answers=items)
    )
    assert isinstance(saved, list) and {a.indicator for a in saved} >= set(MANDATORY)
    for action in (models.ReviewInAction.SUBMIT, models.ReviewInAction.APPROVE):
        moved = await _call("review", "review_innovation")(
            entry.id, client=api, body=models.ReviewIn(action=action)
        )
        assert isinstance(moved, models.InnovationOut), moved
    sent = await _call("innovations", "send_innovation")(entry.id, client=api)
    assert isinstance(sent, models.InnovationOut) and sent.status.value == "sent"

    card = await _call("scorecards", "preview_scorecard")(YEAR, REGION, client=api)
    assert isinstance(card, models.PreviewScorecard), card
    assert card.counted_innovations == 1 and float(card.index) > 0
    assert card.total_score == card.total_score.strip() and "." in card.index
