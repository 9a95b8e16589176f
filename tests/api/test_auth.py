"""Bearer-token authentication of the JSON API (docs/architecture.md#the-json-api)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from lifecycle.auth import create_token
from lifecycle.models import ApiToken, AuditEvent, utcnow
from tests.api.conftest import error_of
from tests.conftest import bearer


def test_a_request_without_a_token_is_refused_with_a_json_401(client, world):
    response = client.get("/api/v1/schools")

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert "Bearer" in error["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer lc_not-a-token-anyone-was-given",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "lc_token-without-a-scheme",
    ],
)
def test_an_unknown_or_malformed_token_is_refused(client, world, header):
    response = client.get("/api/v1/users/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_token_made_with_create_token_acts_as_its_owner(client, world, db):
    _token, secret = create_token(db, user=world.a.finance, name="Budget sync")
    db.commit()

    response = client.get("/api/v1/users/me", headers=bearer(secret))

    assert response.status_code == 200
    assert response.get_json() == {
        "id": world.a.finance.id,
        "email": world.a.finance.email,
        "name": world.a.finance.name,
        "role": "district_finance",
        "district_id": world.a.district.id,
        "is_active": True,
        "version": world.a.finance.version,
    }


def test_users_me_of_cooperative_staff_has_no_district(client, world, token_for):
    body = client.get("/api/v1/users/me", headers=token_for(world.coop_staff)).json

    assert body["id"] == world.coop_staff.id
    assert body["role"] == "coop_staff"
    assert body["district_id"] is None
    assert "password_hash" not in body


def test_a_revoked_token_stops_working(client, world, db):
    token, secret = create_token(db, user=world.a.it, name="Inventory sync")
    db.commit()
    assert client.get("/api/v1/schools", headers=bearer(secret)).status_code == 200

    token.revoked_at = utcnow()
    db.commit()

    response = client.get("/api/v1/schools", headers=bearer(secret))
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_an_expired_token_is_refused_and_one_not_yet_expired_works(
    client, world, token_for
):
    expired = token_for(world.a.it, expires_at=utcnow() - timedelta(seconds=1))
    valid = token_for(world.a.it, expires_at=utcnow() + timedelta(days=1))

    assert client.get("/api/v1/users/me", headers=expired).status_code == 401
    assert client.get("/api/v1/users/me", headers=valid).status_code == 200


def test_the_token_of_a_deactivated_user_is_refused(client, world, db, token_for):
    headers = token_for(world.a.it)
    world.a.it.is_active = False
    db.add(world.a.it)
    db.commit()

    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed_never_in_clear(client, world, db):
    token, secret = create_token(db, user=world.a.it, name="Inventory sync")
    db.commit()
    # Use it once so every write the API does on use has happened too.
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 200

    stored = db.exec(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert stored.token_hash != secret
    assert len(stored.token_hash) == 64
    assert secret.startswith(stored.prefix)
    assert len(stored.prefix) < len(secret) // 2
    # The secret appears nowhere in the database, audit trail included.
    dump = []
    with db.connection() as conn:
        for table in SQLModel.metadata.sorted_tables:
            dump.extend(repr(row) for row in conn.execute(sa.select(table)))
    assert dump
    assert not [row for row in dump if secret in row]


def test_a_write_through_the_api_is_audited_as_the_tokens_owner(
    client, world, db, token_for
):
    response = client.post(
        "/api/v1/schools", json={"name": "Alpha Annex"}, headers=token_for(world.a.it)
    )

    assert response.status_code == 201
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "school",
            AuditEvent.entity_id == response.json["id"],
        )
    ).one()
    assert (event.action, event.actor_id, event.actor_label) == (
        "create",
        world.a.it.id,
        world.a.it.email,
    )
    assert event.district_id == world.a.district.id
