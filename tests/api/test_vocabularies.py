"""The API's Literal types (what OpenAPI documents and requests are checked against) name the
same values as the database's CHECK vocabularies in iid_store.vocab."""

from typing import get_args

import pytest

from iid_api.agencies.schemas import AgencyKind
from iid_api.innovations.schemas import (
    Classification,
    Initiator,
    InnovationForm,
    InnovationKind,
    InnovationStatus,
    Stage,
    Theme,
)
from iid_api.kit.principal import Role
from iid_api.periods.schemas import PeriodStatus
from iid_api.regions.schemas import Cluster, RegionKind
from iid_api.users.schemas import RoleName
from iid_api.verification.schemas import DecisionKind
from iid_scoring import STAGES
from iid_store import vocab


@pytest.mark.parametrize(
    ("api_type", "values"),
    [
        (AgencyKind, vocab.AGENCY_KINDS),
        (Stage, vocab.STAGES),
        (Initiator, vocab.INITIATORS),
        (InnovationKind, vocab.INNOVATION_KINDS),
        (InnovationForm, vocab.INNOVATION_FORMS),
        (Theme, vocab.THEMES),
        (Classification, vocab.CLASSIFICATIONS),
        (InnovationStatus, vocab.INNOVATION_STATUSES),
        (PeriodStatus, vocab.PERIOD_STATUSES),
        (RegionKind, vocab.REGION_KINDS),
        (Cluster, vocab.CLUSTERS),
        (RoleName, vocab.ROLES),
        (DecisionKind, vocab.DECISIONS),
    ],
)
def test_api_literals_match_the_stored_vocabularies(
    api_type: object, values: tuple[str, ...]
) -> None:
    assert get_args(api_type) == values


def test_roles_and_stages_agree_everywhere() -> None:
    assert tuple(role.value for role in Role if role is not Role.ANONYMOUS) == vocab.ROLES
    assert STAGES == vocab.STAGES
