"""An obligation carries what a client needs to act on it; renew answers the new state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from lifecycle.enums import RenewalType
from lifecycle.models import Device, License, ServiceContract
from tests.api.conftest import count_queries, fresh
from tests.factories import make_contract, make_device, make_license
from tests.renewals.test_actions_data import arrange, scan, today_of


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district, school_id=world.a.school.id)


def _get(client, headers, obligation_id):
    response = client.get(f"/api/v1/obligations/{obligation_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_each_obligation_carries_its_term_and_its_subjects_version(
    client, world, arranged, token_for, db
):
    headers = token_for(world.a.it)
    refresh, lic = arranged.refresh(db), arranged.license_renewal(db)
    con = arranged.contract_renewal(db)
    read = arranged.license.version
    client.patch(
        f"/api/v1/licenses/{arranged.license.id}",
        json={"notes": "board approved", "version": read},
        headers=headers,
    )
    items = {
        item["id"]: item
        for item in client.get("/api/v1/obligations", headers=headers).json["items"]
    }

    assert (items[refresh.id]["term_number"], items[refresh.id]["subject_version"]) == (
        0,
        fresh(db).get(Device, arranged.device.id).version,
    )
    assert items[lic.id]["term_number"] == lic.term_number == 1
    assert items[lic.id]["subject_version"] == read + 1
    assert items[con.id]["subject_version"] == (
        fresh(db).get(ServiceContract, arranged.contract.id).version
    )
    assert _get(client, headers, lic.id) == items[lic.id]


def test_a_committed_tacit_term_and_the_open_decision_have_their_own_terms(
    client, world, token_for, db
):
    today = today_of(db, world.a.district)
    contract = make_contract(
        db,
        world.a.district,
        term_start=today - relativedelta(months=11),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
    )
    db.commit()
    scan(db, world.a.district, today)

    items = client.get(
        f"/api/v1/obligations?subject_type=contract&subject_id={contract.id}",
        headers=token_for(world.a.it),
    ).json["items"]

    assert sorted(item["term_number"] for item in items) == [1, 2]
    committed, open_ = sorted(items, key=lambda item: item["term_number"])
    assert committed["decide_by"] < today.isoformat() <= open_["decide_by"]


def test_a_client_renews_with_the_version_the_obligation_carries(
    client, world, arranged, token_for, db
):
    headers = token_for(world.a.finance)
    obligation = _get(client, headers, arranged.license_renewal(db).id)

    renewed = client.post(
        f"/api/v1/obligations/{obligation['id']}/renew",
        json={"version": obligation["subject_version"], "price_per_seat": "6.00"},
        headers=headers,
    )

    assert renewed.status_code == 200, renewed.json
    assert set(renewed.json) == {"obligation", "agreement"}
    assert renewed.json["obligation"]["id"] == obligation["id"]
    assert renewed.json["obligation"]["state"] == "done"
    agreement = renewed.json["agreement"]
    assert agreement["id"] == arranged.license.id
    assert agreement["version"] > obligation["subject_version"]
    assert renewed.json["obligation"]["subject_version"] == agreement["version"]
    got = client.get(f"/api/v1/licenses/{arranged.license.id}", headers=headers).json
    assert agreement == got
    assert fresh(db).get(License, arranged.license.id).version == agreement["version"]


def test_renewing_a_contract_answers_the_contract(client, world, token_for, db):
    today = today_of(db, world.a.district)
    contract = make_contract(
        db,
        world.a.district,
        term_start=today - relativedelta(months=6),
        initial_term_months=12,
        renewal_type=RenewalType.EXPRESS,
    )
    db.commit()
    scan(db, world.a.district, today)
    headers = token_for(world.a.it)
    (obligation,) = client.get(
        f"/api/v1/obligations?subject_type=contract&subject_id={contract.id}",
        headers=headers,
    ).json["items"]

    renewed = client.post(
        f"/api/v1/obligations/{obligation['id']}/renew",
        json={"version": obligation["subject_version"]},
        headers=headers,
    )

    assert renewed.status_code == 200, renewed.json
    agreement = renewed.json["agreement"]
    assert (agreement["id"], agreement["name"]) == (contract.id, contract.name)
    assert "cost_per_period" in agreement and "price_per_seat" not in agreement


def test_the_other_actions_answer_the_obligation_with_its_subject_version(
    client, world, arranged, token_for, db
):
    headers = token_for(world.a.it)
    refresh = _get(client, headers, arranged.refresh(db).id)

    replaced = client.post(
        f"/api/v1/obligations/{refresh['id']}/replace",
        json={"version": refresh["subject_version"]},
        headers=headers,
    )

    assert replaced.status_code == 200
    assert replaced.json["state"] == "done"
    assert replaced.json["subject_version"] == refresh["subject_version"] + 1


def test_the_obligations_list_costs_the_same_queries_for_few_or_many_rows(
    app, client, world, db, token_for
):
    headers = token_for(world.a.it)
    today = today_of(db, world.a.district)

    def grow(n: int) -> None:
        for _ in range(n):
            make_device(
                db,
                world.a.district,
                purchase_date=today - relativedelta(months=40),
                lifespan_months=48,
                warranty_end=today + timedelta(days=100),
            )
            make_license(db, world.a.district, term_start=today)
        db.commit()
        scan(db, world.a.district, today)

    grow(1)
    client.get("/api/v1/obligations", headers=headers)
    with count_queries(app) as few:
        client.get("/api/v1/obligations", headers=headers)
    grow(10)
    with count_queries(app) as many:
        body = client.get("/api/v1/obligations", headers=headers).json

    assert len(body["items"]) >= 20
    assert len(many) == len(few), many


def test_the_document_describes_the_renew_answer_and_the_new_fields(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    renew = document["paths"]["/api/v1/obligations/{obligation_id}/renew"]["post"]
    answer = renew["responses"]["200"]["content"]["application/json"]["schema"]

    result = schemas[answer["$ref"].rsplit("/", 1)[-1]]
    assert set(result["required"]) == {"obligation", "agreement"}
    refs = {option["$ref"] for option in result["properties"]["agreement"]["anyOf"]}
    assert refs == {
        "#/components/schemas/LicenseResource",
        "#/components/schemas/ContractResource",
    }
    read = schemas["ObligationRead"]["properties"]
    assert "version" in read["subject_version"]["description"]
    assert "term" in read["term_number"]["description"]
    assert "notice date has passed" in read["decide_by"]["description"]
