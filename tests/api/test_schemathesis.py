"""Property-based test of the JSON API: schemathesis generates requests for every
operation of /api/v1/openapi.json (valid ones and invalid ones) and checks that none
answers 5xx and that every answer matches the document: its status is documented, its
content type and body follow the documented schema.

Deterministic (derandomized: the same examples every run) and bounded, so it runs in
CI on SQLite and on PostgreSQL in about a minute each.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

import lifecycle.api  # noqa: F401  (registers the operations)
from lifecycle.api.openapi import build_document
from lifecycle.auth import create_token
from lifecycle.enums import RenewalType
from lifecycle.models import Scenario
from lifecycle.scan.engine import scan_district
from lifecycle.scan.jobs import district_today
from tests import factories
from tests.conftest import bearer

EXAMPLES = 25  # per operation; ~45 operations

schema = schemathesis.openapi.from_dict(build_document())


@pytest.fixture
def seeded(db: Session, world: factories.World) -> dict[str, str]:
    """A district with a device, a license, a contract, their obligations and a
    scenario, so generated ids (small numbers) find records; the district IT
    director's token."""
    a = world.a.district
    factories.make_device(db, a, school_id=world.a.school.id, lifespan_months=36)
    factories.make_license(db, a, renewal_type=RenewalType.EXPRESS)
    factories.make_contract(db, a, term_start=date(2024, 9, 1))
    vendor = factories.make_vendor(db)
    factories.make_catalog_item(db, factories.make_vehicle(db, world.coop, vendor))
    db.add(Scenario(district_id=a.id, name="Five-year laptops", settings={}))  # type: ignore[arg-type]
    db.commit()
    scan_district(db, district_id=a.id, today=district_today(a))  # type: ignore[arg-type]
    _token, secret = create_token(db, user=world.a.it, name="schemathesis")
    db.commit()
    return bearer(secret)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_never_fails_and_answers_as_documented(
    case: Any, app: Any, seeded: dict[str, str]
) -> None:
    case.call_and_validate(
        app=app,
        headers=seeded,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
