"""Service-contract pages: list, export, detail with coverage and prices, forms."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.agreements import rules as terms
from lifecycle.agreements.rules import term_cost
from lifecycle.enums import (
    AgreementStatus,
    ContractKind,
    CoverageType,
    DeviceCategory,
    RenewalType,
)
from lifecycle.models import (
    AuditEvent,
    ContractCoveredDevice,
    ServiceContract,
    TermRecord,
)
from tests.agreements.test_licenses import today_in
from tests.conftest import fresh, htmx, login, text
from tests.factories import make_contract, make_device, make_vendor
from tests.querycount import count_queries


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "Core switching SmartNet",
        "kind": "maintenance",
        "coverage": "none",
        "term_start": "2025-01-01",
        "initial_term_months": "12",
        "renewal_term_months": "12",
        "renewal_type": "tacit",
        "notice_days": "60",
        "cost_per_period": "12000.00",
        "escalator_pct": "3.00",
    }
    form.update(overrides)
    return form


def _cover(db, contract, *devices) -> None:
    for d in devices:
        db.add(
            ContractCoveredDevice(
                contract_id=contract.id,
                device_id=d.id,
                district_id=contract.district_id,
            )
        )
    db.commit()


# --- list ------------------------------------------------------------------------


def test_the_list_is_a_full_page_and_an_htmx_fragment(it, db, world):
    covered = make_contract(
        db,
        world.a.district,
        name="Wireless support",
        coverage=CoverageType.DEVICES,
        erate_c2_eligible=True,
    )
    make_contract(
        db,
        world.a.district,
        name="Printer fleet",
        kind=ContractKind.MANAGED_SERVICE,
        coverage=CoverageType.SITE,
        coverage_school_id=world.a.school.id,
    )
    make_contract(db, world.b.district, name="Bravo hidden")
    _cover(
        db,
        covered,
        make_device(db, world.a.district),
        make_device(db, world.a.district),
    )

    page = it.get("/contracts")
    fragment = it.get("/contracts?kind=managed_service", headers=htmx())
    erate = text(it.get("/contracts?erate=yes", headers=htmx()))

    body = text(page)
    assert page.status_code == 200 and "<html" in body
    assert "Wireless support" in body and "Printer fleet" in body
    assert "Bravo hidden" not in body
    assert "2 devices" in body and world.a.school.name in body and "E-Rate C2" in body
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert "Printer fleet" in text(fragment) and "Wireless support" not in text(
        fragment
    )
    assert "HX-Request" in fragment.headers["Vary"]
    assert "Wireless support" in erate and "Printer fleet" not in erate


@pytest.mark.parametrize("fragment", [False, True])
def test_the_list_runs_the_same_queries_for_3_or_30_contracts(
    app, it, db, world, fragment
):
    headers = htmx() if fragment else {}
    vendor = make_vendor(db)
    device = make_device(db, world.a.district)

    def add(n: int) -> None:
        for _ in range(n):
            c = make_contract(
                db, world.a.district, vendor_id=vendor.id, coverage=CoverageType.DEVICES
            )
            _cover(db, c, device)

    add(3)
    it.get("/contracts", headers=headers)
    with count_queries(app) as few:
        assert it.get("/contracts", headers=headers).status_code == 200
    add(27)
    with count_queries(app) as many:
        response = it.get("/contracts", headers=headers)

    assert text(response).count('<th scope="row">') == 30
    assert len(many) == len(few), many


def test_export_has_the_filtered_rows_and_defuses_formulas(it, db, world):
    make_contract(
        db,
        world.a.district,
        name="+cmd|' /C calc'!A0",
        kind=ContractKind.SUPPORT,
        escalator_pct=Decimal("2.50"),
    )
    make_contract(db, world.a.district, name="Maintenance only")
    db.commit()

    rows = list(
        csv.reader(io.StringIO(text(it.get("/contracts/export.csv?kind=support"))))
    )

    assert rows[0][:3] == ["id", "name", "kind"]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["name"] == "'+cmd|' /C calc'!A0"
    assert (record["kind"], record["escalator_pct"], record["cost_per_period"]) == (
        "support",
        "2.50",
        "12000.00",
    )


# --- create and edit -----------------------------------------------------------------


def test_adding_a_contract_derives_its_terms(it, db, world):
    t = today_in(db, world.a.district.id)
    start = t - timedelta(days=800)

    response = it.post(
        "/contracts",
        data=_form(
            term_start=start.isoformat(),
            coverage="category",
            coverage_category="network_switch",
            erate_c2_eligible="1",
            reminder_thresholds="120, 60",
        ),
    )

    assert response.status_code == 303
    c = fresh(db).exec(select(ServiceContract)).one()
    expected = terms.derive(
        term_start=start,
        initial_months=12,
        renewal_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        today=t,
    )
    assert (
        c.current_term_number,
        c.current_term_start,
        c.current_term_end,
        c.decide_by,
    ) == (
        expected.number,
        expected.start,
        expected.end,
        expected.decide_by,
    )
    assert c.current_term_number == 3
    assert (c.coverage, c.coverage_category) == (
        CoverageType.CATEGORY,
        DeviceCategory.NETWORK_SWITCH,
    )
    assert c.erate_c2_eligible and c.reminder_thresholds == [120, 60]


@pytest.mark.parametrize("as_fragment", [False, True])
def test_a_bad_contract_form_is_a_422_with_field_messages(it, db, world, as_fragment):
    form = _form(
        name="",
        coverage="site",
        escalator_pct="150",
        notice_days="-1",
        cost_per_period="12,000.999",
    )

    response = it.post("/contracts", data=form, headers=htmx() if as_fragment else {})

    body = text(response)
    assert response.status_code == 422
    assert ("<html" in body) is not as_fragment
    for message in (
        "Name is required",
        "Annual escalator (%) must be at most 100",
        "Notice (days) must be at least 0",
    ):
        assert message in body, message
    site = it.post("/contracts", data=_form(coverage="site"), headers=htmx())
    assert site.status_code == 422
    assert "Covered site is required when the contract covers a site" in text(site)
    assert fresh(db).exec(select(ServiceContract)).all() == []


def test_a_stale_edit_is_a_409_showing_the_current_values(it, db, world):
    start = (today_in(db, world.a.district.id) - timedelta(days=30)).isoformat()
    c = make_contract(db, world.a.district, name="SmartNet")
    db.commit()
    assert 'value="SmartNet"' in text(it.get(f"/contracts/{c.id}/edit"))
    c.cost_per_period = Decimal("13000.00")
    db.commit()  # someone else: version 2

    stale = it.post(
        f"/contracts/{c.id}",
        data={**_form(name="Mine", term_start=start), "version": "1"},
        headers=htmx(),
    )

    assert stale.status_code == 409
    assert "Cost per period: <strong>13000.00</strong>" in text(stale)
    assert 'value="Mine"' in text(stale)
    assert fresh(db).get(ServiceContract, c.id).name == "SmartNet"
    saved = it.post(
        f"/contracts/{c.id}",
        data={
            **_form(name="Mine", renewal_type="express", term_start=start),
            "version": "2",
        },
    )
    assert saved.status_code == 303
    c = fresh(db).get(ServiceContract, c.id)
    assert (c.name, c.renewal_type, c.decide_by) == (
        "Mine",
        RenewalType.EXPRESS,
        c.current_term_end,
    )
    assert not c.erate_c2_eligible  # an unchecked box is a "no"


# --- detail --------------------------------------------------------------------------


def test_the_detail_shows_coverage_prices_and_the_next_three_terms(it, db, world):
    t = today_in(db, world.a.district.id)
    c = make_contract(
        db,
        world.a.district,
        name="Wireless SmartNet",
        coverage=CoverageType.DEVICES,
        term_start=t - timedelta(days=400),
        escalator_pct=Decimal("3.00"),
        cost_per_period=Decimal("10000.00"),
        current_term_number=2,
    )
    ap1 = make_device(
        db, world.a.district, asset_tag="AP-001", category=DeviceCategory.WIRELESS_AP
    )
    ap2 = make_device(
        db, world.a.district, asset_tag="AP-002", category=DeviceCategory.WIRELESS_AP
    )
    _cover(db, c, ap1, ap2)
    db.add(
        TermRecord(
            district_id=world.a.district.id,
            subject_type="contract",
            subject_id=c.id,
            term_number=2,
            start=t,
            end=t,
            price=Decimal("10000.00"),
        )
    )
    db.commit()

    response = it.get(f"/contracts/{c.id}")

    body = text(response)
    assert response.status_code == 200
    assert "2 devices named in this contract" in body
    assert f'href="/devices/{ap1.id}"' in body and "AP-002" in body
    assert f"/contracts/{c.id}/devices/{ap1.id}/remove" in body
    for k, k_ahead in ((3, 1), (4, 2), (5, 3)):
        price = term_cost(Decimal("10000.00"), Decimal("3.00"), 2, k)
        assert f'data-testid="projected-{k}">${price:,.2f}' in body, k_ahead
    assert "$10,927.27" in body  # term 5 = 10,000 × 1.03³
    assert "Auto-renews on" in body and "unless cancelled by" in body
    assert 'data-testid="erate">Not eligible' in body


def test_devices_are_added_by_asset_tag_and_removed(it, db, world):
    c = make_contract(db, world.a.district, coverage=CoverageType.DEVICES)
    mine = make_device(db, world.a.district, asset_tag="SW-01")
    other = make_device(db, world.a.district, asset_tag="SW-02")
    make_device(db, world.b.district, asset_tag="SW-99")
    db.commit()

    added = it.post(
        f"/contracts/{c.id}/devices", data={"asset_tags": "SW-01, SW-02\nSW-01"}
    )
    refused = it.post(
        f"/contracts/{c.id}/devices",
        data={"asset_tags": "SW-99"},
        follow_redirects=True,
    )
    removed = it.post(f"/contracts/{c.id}/devices/{mine.id}/remove")
    again = it.post(f"/contracts/{c.id}/devices/{mine.id}/remove")

    assert added.status_code == removed.status_code == 303
    assert "not devices of your district: SW-99" in text(refused)
    assert again.status_code == 422
    rows = fresh(db).exec(select(ContractCoveredDevice)).all()
    assert [r.device_id for r in rows] == [other.id]
    actions = db.exec(
        select(AuditEvent.action).where(col(AuditEvent.entity_type) == "contract")
    ).all()
    assert {"cover_devices", "uncover_devices"} <= set(actions)


def test_click_to_edit_cost_and_a_conflict(it, db, world):
    c = make_contract(db, world.a.district, escalator_pct=Decimal("0.00"))
    db.commit()

    saved = it.post(
        f"/contracts/{c.id}/fields/escalator_pct",
        data={"escalator_pct": "5", "version": "1"},
        headers=htmx(),
    )
    stale = it.post(
        f"/contracts/{c.id}/fields/cost_per_period",
        data={"cost_per_period": "1.00", "version": "1"},
        headers=htmx(),
    )
    invalid = it.post(
        f"/contracts/{c.id}/fields/cost_per_period",
        data={"cost_per_period": "lots", "version": "2"},
        headers=htmx(),
    )

    assert saved.status_code == 200
    assert '<span data-testid="value-escalator_pct">5.00%</span>' in text(saved)
    assert 'id="cost-info" hx-swap-oob="true"' in text(saved)
    assert "$12,600.00" in text(saved)  # the next term, escalated
    assert 'id="term-history" hx-swap-oob="true"' in text(saved)
    assert stale.status_code == 409 and "Someone else changed this contract" in text(
        stale
    )
    assert invalid.status_code == 422 and "must be an amount like 1234.50" in text(
        invalid
    )
    assert fresh(db).get(ServiceContract, c.id).cost_per_period == Decimal("12000.00")


def test_an_edit_after_a_tacit_renewal_records_the_term_and_escalates(it, db, world):
    """A term that began before the nightly scan ran is bookkept like the scan would."""
    t = today_in(db, world.a.district.id)
    start = t - timedelta(days=400)
    c = make_contract(
        db,
        world.a.district,
        term_start=start,
        escalator_pct=Decimal("10.00"),
        cost_per_period=Decimal("1000.00"),
        current_term_number=1,
    )
    db.commit()

    response = it.post(
        f"/contracts/{c.id}/fields/notes",
        data={"notes": "renewed", "version": "1"},
        headers=htmx(),
    )

    assert response.status_code == 200
    c = fresh(db).get(ServiceContract, c.id)
    assert (c.current_term_number, c.cost_per_period) == (2, Decimal("1100.00"))
    record = db.exec(select(TermRecord)).one()
    assert (record.term_number, record.price, record.start) == (
        2,
        Decimal("1100.00"),
        c.current_term_start,
    )


# --- renew, cancel, delete, bulk ------------------------------------------------------


def test_renewing_an_express_contract_records_the_escalated_price(it, db, world):
    t = today_in(db, world.a.district.id)
    c = make_contract(
        db,
        world.a.district,
        renewal_type=RenewalType.EXPRESS,
        term_start=t - timedelta(days=20),
        escalator_pct=Decimal("4.00"),
        current_term_number=1,
    )
    db.commit()

    renewed = it.post(f"/contracts/{c.id}/renew", data={"version": "1"})
    tacit = make_contract(db, world.a.district)
    db.commit()
    refused = it.post(f"/contracts/{tacit.id}/renew", data={"version": "1"})

    assert renewed.status_code == 303
    record = fresh(db).exec(select(TermRecord)).one()
    assert (record.term_number, record.price) == (2, Decimal("12480.00"))
    assert db.get(ServiceContract, c.id).decide_by == record.end
    assert refused.status_code == 409


def test_bulk_kind_renewal_and_cancel(it, db, world):
    ours = [make_contract(db, world.a.district) for _ in range(2)]
    theirs = make_contract(db, world.b.district)
    db.commit()
    ids = [str(ours[0].id), str(theirs.id)]

    kind = it.post(
        "/contracts/bulk", data={"ids": ids, "action": "kind", "value_kind": "support"}
    )
    cancel = it.post(
        "/contracts/bulk", data={"ids": [str(ours[1].id)], "action": "cancel"}
    )
    bad = it.post(
        "/contracts/bulk",
        data={"ids": ids, "action": "kind", "value_kind": "x"},
        follow_redirects=True,
    )

    assert kind.status_code == cancel.status_code == 303
    db = fresh(db)
    assert db.get(ServiceContract, ours[0].id).kind == ContractKind.SUPPORT
    assert db.get(ServiceContract, theirs.id).kind == ContractKind.MAINTENANCE
    assert db.get(ServiceContract, ours[1].id).status == AgreementStatus.CANCELLED
    assert "choose a kind" in text(bad)


def test_delete_removes_the_contract_and_its_coverage(it, db, world):
    c = make_contract(db, world.a.district, coverage=CoverageType.DEVICES)
    device = make_device(db, world.a.district)
    _cover(db, c, device)
    cid = c.id

    response = it.post(f"/contracts/{cid}/delete")

    assert response.status_code == 303
    db = fresh(db)
    assert db.exec(select(ServiceContract)).all() == []
    assert db.exec(select(ContractCoveredDevice)).all() == []


# --- isolation and roles --------------------------------------------------------------


def test_another_districts_contract_is_a_404_on_every_route(it, db, world):
    theirs = make_contract(
        db, world.b.district, name="Bravo secret", coverage=CoverageType.DEVICES
    )
    device = make_device(db, world.b.district)
    _cover(db, theirs, device)
    base = f"/contracts/{theirs.id}"
    gets = [base, f"{base}/edit", f"{base}/fields/notes", f"{base}/fields/notes/edit"]
    posts = [
        base,
        f"{base}/fields/notes",
        f"{base}/renew",
        f"{base}/cancel",
        f"{base}/reinstate",
        f"{base}/delete",
        f"{base}/devices",
        f"{base}/devices/{device.id}/remove",
    ]

    answers = [it.get(u, headers=h).status_code for u in gets for h in ({}, htmx())]
    answers += [
        it.post(u, data={"version": "1", "notes": "x"}).status_code for u in posts
    ]

    assert answers == [404] * len(answers)
    assert "Bravo secret" not in text(it.get("/contracts/export.csv"))
    stored = fresh(db).get(ServiceContract, theirs.id)
    assert (stored.notes, stored.version) == ("", 1)
    assert len(db.exec(select(ContractCoveredDevice)).all()) == 1


def test_finance_reads_but_cannot_change(client, db, world):
    c = make_contract(db, world.a.district, name="Finance view")
    db.commit()
    login(client, world.a.finance.email)

    assert client.get(f"/contracts/{c.id}").status_code == 200
    assert (
        client.post(f"/contracts/{c.id}/cancel", data={"version": "1"}).status_code
        == 403
    )
    assert client.post("/contracts", data=_form()).status_code == 403
    assert fresh(db).get(ServiceContract, c.id).status == AgreementStatus.ACTIVE


@pytest.mark.parametrize("url", ["/licenses", "/contracts"])
def test_both_agreement_lists_offer_the_shared_filters(it, url):
    page = text(it.get(url))

    for name in ("vehicle_id", "funding_source", "renewal_type", "status"):
        assert f'name="{name}"' in page, name
    for name in ("decide_by_from", "decide_by_before"):
        assert f'name="{name}"' in page, name
    assert ('name="erate"' in page) == (url == "/contracts")
