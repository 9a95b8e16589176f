"""Money is a string in requests as in responses (docs/architecture.md): a JSON number is a 422."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifecycle.models import Device, License, ServiceContract
from tests.api.conftest import error_of, fresh
from tests.factories import make_contract, make_device, make_license
from tests.renewals.test_actions_data import arrange

MESSAGE = 'send money as a string, e.g. "1234.50"'
LICENSE = {
    "product": "Securly Filter",
    "seats": 10,
    "term_start": "2026-07-01",
    "initial_term_months": 12,
}
CONTRACT = {
    "name": "Switch care",
    "term_start": "2026-07-01",
    "initial_term_months": 12,
}


@pytest.mark.parametrize("number", [1234.5, 1234, 0, True])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/licenses", LICENSE, "price_per_seat"),
        ("/api/v1/contracts", CONTRACT, "cost_per_period"),
        (
            "/api/v1/devices",
            {"asset_tag": "A-1", "category": "laptop"},
            "purchase_cost",
        ),
    ],
)
def test_a_number_for_money_is_refused_on_create(
    client, world, token_for, db, path, body, field, number
):
    response = client.post(
        path, json={**body, field: number}, headers=token_for(world.a.it)
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: MESSAGE}


def test_the_same_money_as_a_string_is_saved(client, world, token_for):
    headers = token_for(world.a.it)

    lic = client.post(
        "/api/v1/licenses", json={**LICENSE, "price_per_seat": "3.5"}, headers=headers
    )
    con = client.post(
        "/api/v1/contracts",
        json={**CONTRACT, "cost_per_period": "1234.50"},
        headers=headers,
    )

    assert lic.status_code == 201 and lic.json["price_per_seat"] == "3.50"
    assert con.status_code == 201 and con.json["cost_per_period"] == "1234.50"


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("license", "price_per_seat"),
        ("contract", "cost_per_period"),
        ("device", "purchase_cost"),
    ],
)
def test_a_number_for_money_is_refused_on_patch_and_nothing_changes(
    client, world, token_for, db, kind, field
):
    make, model, path = {
        "license": (make_license, License, "licenses"),
        "contract": (make_contract, ServiceContract, "contracts"),
        "device": (make_device, Device, "devices"),
    }[kind]
    row = make(db, world.a.district, **{field: Decimal("10.00")})
    db.commit()

    response = client.patch(
        f"/api/v1/{path}/{row.id}",
        json={field: 12.5, "version": row.version},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: MESSAGE}
    assert getattr(fresh(db).get(model, row.id), field) == Decimal("10.00")


def test_renewing_with_a_number_for_the_price_is_refused(client, world, token_for, db):
    arranged = arrange(db, world.a.district)
    obligation = arranged.license_renewal(db)

    response = client.post(
        f"/api/v1/obligations/{obligation.id}/renew",
        json={"version": arranged.license.version, "price_per_seat": 6},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"price_per_seat": MESSAGE}


def test_every_money_field_of_a_request_is_documented_as_a_string(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    money = {
        ("LicenseCreate", "price_per_seat"),
        ("LicenseUpdate", "price_per_seat"),
        ("ServiceContractCreate", "cost_per_period"),
        ("ServiceContractUpdate", "cost_per_period"),
        ("DeviceCreate", "purchase_cost"),
        ("DeviceUpdate", "purchase_cost"),
        ("RenewRequest", "price_per_seat"),
        ("RenewRequest", "cost_per_period"),
    }

    for model, field in money:
        schema = schemas[model]["properties"][field]
        options = schema.get("anyOf", [schema])
        types = {option.get("type") for option in options}
        assert types <= {"string", "null"}, (model, field, schema)
        assert "string" in types, (model, field, schema)
