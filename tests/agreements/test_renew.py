"""Renewing an express agreement: one rule, the same rows whichever way it is done.

From the API (`POST /api/v1/obligations/{id}/renew`), the renewals page's row and the
agreement's own page: the next term joins the history as decided, today's term stays
current at its own price, the decision moves to the next open one — and nothing flips
back on a later edit (docs/rules.md#renewing-and-cancelling).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from lifecycle.agreements.rules import term
from lifecycle.enums import RenewalType
from lifecycle.models import License, Obligation, ServiceContract, TermRecord
from lifecycle.scan.engine import scan_district
from tests import factories
from tests.conftest import fresh, htmx
from tests.renewals.test_actions_data import today_of

PATHS = ["api", "renewals page", "agreement page"]


def _scan(db: Session, world: factories.World, today: Any) -> None:
    scan_district(db, district_id=world.a.district.id, today=today)
    db.commit()


def _contract(db: Session, world: factories.World) -> tuple[ServiceContract, Any]:
    """An express contract six months into its first year: 1000.00, 3 % a term."""
    today = today_of(db, world.a.district)
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=today - relativedelta(months=6),
        renewal_type=RenewalType.EXPRESS,
        notice_days=0,
        cost_per_period=Decimal("1000.00"),
        escalator_pct=Decimal("3.00"),
    )
    db.commit()
    _scan(db, world, today)
    return contract, today


def _open(db: Session, subject: str, ident: int, number: int) -> Obligation:
    return (
        fresh(db)
        .exec(
            select(Obligation).where(
                col(Obligation.subject_type) == subject,
                col(Obligation.subject_id) == ident,
                col(Obligation.term_number) == number,
            )
        )
        .one()
    )


def _renew(client, token_for, world, path: str, subject: str, obj: Any, ob) -> None:
    """Renew by one of the three ways; each answers as that page or client expects."""
    version = str(obj.version)
    if path == "api":
        response = client.post(
            f"/api/v1/obligations/{ob.id}/renew",
            json={"version": obj.version},
            headers=token_for(world.a.it),
        )
        assert response.status_code == 200, response.get_json()
    elif path == "renewals page":
        response = client.post(
            f"/renewals/{ob.id}/renew", data={"version": version}, headers=htmx()
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    else:
        plural = "contracts" if subject == "contract" else "licenses"
        response = client.post(f"/{plural}/{obj.id}/renew", data={"version": version})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]


def _rows(db: Session, model: Any, subject: str, ident: int) -> dict[str, Any]:
    """What renewing wrote: the agreement's term fields, its history, its decisions."""
    obj = fresh(db).get(model, ident)
    price = (obj.seats, obj.price_per_seat) if model is License else obj.cost_per_period
    records = db.exec(
        select(TermRecord)
        .where(
            col(TermRecord.subject_type) == subject, col(TermRecord.subject_id) == ident
        )
        .order_by(col(TermRecord.term_number))
    ).all()
    obligations = db.exec(
        select(Obligation)
        .where(
            col(Obligation.subject_type) == subject, col(Obligation.subject_id) == ident
        )
        .order_by(col(Obligation.term_number))
    ).all()
    return {
        "terms": (
            obj.current_term_number,
            obj.current_term_start,
            obj.current_term_end,
            obj.decision_term_number,
            obj.decide_by,
            obj.status.value,
        ),
        "price": price,
        "history": [(r.term_number, r.start, r.end, r.price, r.seats) for r in records],
        "obligations": [
            (o.term_number, o.state.value, o.decide_by, o.estimated_cost)
            for o in obligations
        ],
    }


@pytest.mark.parametrize("path", PATHS)
def test_renewing_early_records_the_next_term_and_keeps_today_s(
    client, it, db, world, token_for, path
):
    contract, today = _contract(db, world)
    first, second, third = (term(contract.term_start, 12, 12, k) for k in (1, 2, 3))
    ob = _open(db, "contract", contract.id, 1)

    _renew(client, token_for, world, path, "contract", contract, ob)
    _scan(db, world, today)

    assert _rows(db, ServiceContract, "contract", contract.id) == {
        # today is in term 1: it stays current, at its own price
        "terms": (1, first.start, first.end, 2, second.end, "active"),
        "price": Decimal("1000.00"),
        # term 2 is decided, at 1000.00 × 1.03
        "history": [(2, second.start, second.end, Decimal("1030.00"), None)],
        # term 1's decision is taken; the open one is term 2's, about term 3:
        # 1000.00 × 1.03² (not 1030.00 × 1.03² from a price moved too early)
        "obligations": [
            (1, "done", first.end, Decimal("1030.00")),
            (2, "upcoming", second.end, Decimal("1060.90")),
        ],
    }
    assert third.start == second.end + timedelta(days=1)


@pytest.mark.parametrize("path", PATHS)
def test_an_edit_after_renewing_keeps_the_terms_and_the_price(
    client, it, db, world, token_for, path
):
    """A notes-only change used to flip the current term back from the renewed one,
    leaving the next term's price on the agreement: the next decision then cost
    1030.00 × 1.03² instead of 1000.00 × 1.03²."""
    contract, today = _contract(db, world)
    _renew(
        client,
        token_for,
        world,
        path,
        "contract",
        contract,
        _open(db, "contract", contract.id, 1),
    )
    _scan(db, world, today)
    renewed = _rows(db, ServiceContract, "contract", contract.id)
    version = fresh(db).get(ServiceContract, contract.id).version

    patched = client.patch(
        f"/api/v1/contracts/{contract.id}",
        json={"notes": "renewed with the vendor's quote", "version": version},
        headers=token_for(world.a.it),
    )
    assert patched.status_code == 200, patched.get_json()
    _scan(db, world, today)

    assert _rows(db, ServiceContract, "contract", contract.id) == renewed
    assert _open(db, "contract", contract.id, 2).estimated_cost == Decimal("1060.90")


@pytest.mark.parametrize("path", PATHS)
def test_a_license_renewed_with_new_seats_holds_them_from_the_new_term(
    client, it, db, world, token_for, path
):
    today = today_of(db, world.a.district)
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=today - relativedelta(months=6),
        seats=100,
        price_per_seat=Decimal("5.00"),
        renewal_type=RenewalType.EXPRESS,
    )
    db.commit()
    _scan(db, world, today)
    ob = _open(db, "license", lic.id, 1)
    first, second = (term(lic.term_start, 12, 12, k) for k in (1, 2))

    if path == "api":
        response = client.post(
            f"/api/v1/obligations/{ob.id}/renew",
            json={"version": lic.version, "seats": 120, "price_per_seat": "5.25"},
            headers=token_for(world.a.it),
        )
        assert response.status_code == 200, response.get_json()
    elif path == "renewals page":
        response = client.post(
            f"/renewals/{ob.id}/renew",
            data={
                "version": str(lic.version),
                "seats": "120",
                "price_per_seat": "5.25",
            },
            headers=htmx(),
        )
        assert response.status_code == 200
    else:  # the license's page renews at today's seats and price: change them after
        response = client.post(
            f"/licenses/{lic.id}/renew", data={"version": str(lic.version)}
        )
        assert response.status_code == 303
    _scan(db, world, today)
    rows = _rows(db, License, "license", lic.id)

    assert rows["terms"] == (1, first.start, first.end, 2, second.end, "active")
    assert rows["price"] == (100, Decimal("5.00"))
    expected = (120, "630.00") if path != "agreement page" else (100, "500.00")
    assert rows["history"] == [
        (2, second.start, second.end, Decimal(expected[1]), expected[0])
    ]
    # once term 2 begins, the license holds what it was renewed at
    _scan(db, world, second.start)
    assert _rows(db, License, "license", lic.id)["price"] == (
        expected[0],
        Decimal(expected[1]) / expected[0],
    )
