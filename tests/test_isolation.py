"""District isolation (docs/rules.md#tenancy-and-access): walk EVERY registered route as a district user.

Each URL parameter names the kind of record it addresses. Filled with another district's
record, a route must answer 404 (or 403 where the role may not use the route at all), must
not show that district's data, and must not change it. A new route with a parameter this
file does not know fails the walk until it is covered here; a list route that forgets the
scoping helper shows the other district's marker and fails too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from sqlmodel import Session, col, func, select
from werkzeug.routing import Rule

from lifecycle.auth import create_token
from lifecycle.db import get_session
from lifecycle.enums import ImportKind, ObligationKind, RoundState
from lifecycle.models import (
    AuditEvent,
    Commitment,
    ImportFile,
    ImportRejection,
    JobRecord,
    Notification,
    Obligation,
    OrderLine,
    OutboxEmail,
    PurchaseRound,
    RoundItem,
    Scenario,
    utcnow,
)
from tests import factories
from tests.conftest import bearer, htmx, login

MARKER = "BRAVO-SECRET"


@dataclass
class Other:
    """Records of district B (the other district) that A must never reach."""

    ids: dict[str, int]
    district_id: int


# URL parameter → the id of district B's record of that kind.
SCOPED: dict[str, Callable[[Other], int]] = {
    "district_id": lambda o: o.ids["district"],
    "school_id": lambda o: o.ids["school"],
    "device_id": lambda o: o.ids["device"],
    "license_id": lambda o: o.ids["license"],
    "contract_id": lambda o: o.ids["contract"],
    "job_id": lambda o: o.ids["job"],
    "token_id": lambda o: o.ids["token"],
    "obligation_id": lambda o: o.ids["obligation"],
    "notification_id": lambda o: o.ids["notification"],
    "scenario_id": lambda o: o.ids["scenario"],
    "commitment_id": lambda o: o.ids["commitment"],
    "order_line_id": lambda o: o.ids["order_line"],
    "import_id": lambda o: o.ids["import"],
}
# Cooperative reference data every member may read.
SHARED: dict[str, Callable[[Other], int]] = {
    "vendor_id": lambda o: o.ids["vendor"],
    "vehicle_id": lambda o: o.ids["vehicle"],
    "item_id": lambda o: o.ids["item"],
    # a purchase round is the cooperative's; what a district put in it is not
    "round_id": lambda o: o.ids["round"],
}
# Plain (non-id) parameters and a value to fill them with.
PLAIN: dict[str, str] = {
    "field": "status",
    "action": "close",
    "fmt": "csv",
    # the calendar feed's secret: a wrong one must answer 404 and show nothing
    "token": "not-a-calendar-token",
}
# Routes only another role may use: refused before any lookup.
ROLE_GATED_PARAMS: dict[str, Callable[[Other], int]] = {
    "user_id": lambda o: o.ids["user"],
    "outbox_id": lambda o: o.ids["outbox"],
}
# Those that sign the walker out (they take no ids).
SKIP_ENDPOINTS = {"static", "accounts.logout", "accounts.sign_out_everywhere"}


def arrange_other(db: Session, world: factories.World) -> Other:
    b = world.b
    coop = world.coop
    vendor = factories.make_vendor(db)
    vehicle = factories.make_vehicle(db, coop, vendor)
    item = factories.make_catalog_item(db, vehicle)
    b.school.name = f"{MARKER} School"
    device = factories.make_device(
        db, b.district, asset_tag=f"{MARKER}-1", school_id=b.school.id
    )
    lic = factories.make_license(db, b.district, product=f"{MARKER} Suite")
    contract = factories.make_contract(db, b.district, name=f"{MARKER} Maintenance")
    job = JobRecord(
        kind="test_email", district_id=b.district.id, user_id=b.it.id, message=MARKER
    )
    db.add(job)
    db.flush()
    token, _secret = create_token(db, user=b.it, name=f"{MARKER} token")
    obligation = Obligation(
        district_id=b.district.id,
        kind=ObligationKind.REFRESH,
        subject_type="device",
        subject_id=device.id,
        due_date=date(2027, 7, 1),
        decide_by=date(2027, 7, 1),
        fiscal_year=2028,
    )
    db.add(obligation)
    note = Notification(
        user_id=b.it.id, district_id=b.district.id, title=f"{MARKER} reminder"
    )
    db.add(note)
    mail = OutboxEmail(
        district_id=b.district.id,
        dedupe_key=f"{MARKER}:mail",
        to_address=b.it.email,
        subject=f"{MARKER} reminder",
        body_text=MARKER,
        attempts=5,
        last_error="refused",
    )
    db.add(mail)
    scenario = Scenario(
        district_id=b.district.id, name=f"{MARKER} scenario", settings={"caps": {}}
    )
    db.add(scenario)
    upload = ImportFile(
        district_id=b.district.id, user_id=b.it.id, kind=ImportKind.DEVICES,
        key="asset_tag", filename=f"{MARKER}.csv", content=b"Asset Tag\nX\n",
        headers=["Asset Tag"], mapping={"asset_tag": 0}, message=MARKER,
    )  # fmt: skip
    db.add(upload)
    db.flush()
    db.add(
        ImportRejection(
            import_id=upload.id,
            row_number=2,
            column="Asset Tag",
            message=MARKER,
            cells=[MARKER],
        )
    )
    b.it.calendar_token_hash = hashlib.sha256(b"bravo-calendar").hexdigest()
    rnd = PurchaseRound(
        cooperative_id=coop.id,
        name="Shared round",
        state=RoundState.OPEN,
        need_start=date(2027, 7, 1),
        need_end=date(2028, 6, 30),
        closes_at=utcnow() + timedelta(days=30),
        suggested_at=utcnow(),
    )
    db.add(rnd)
    db.flush()
    round_item = RoundItem(round_id=rnd.id, catalog_item_id=item.id)
    db.add(round_item)
    db.flush()
    commitment = Commitment(
        round_item_id=round_item.id,
        district_id=b.district.id,
        suggested_qty=4_321,
        committed_qty=4_321,
    )
    db.add(commitment)
    db.flush()
    order_line = OrderLine(
        district_id=b.district.id,
        round_id=rnd.id,
        commitment_id=commitment.id,
        catalog_item_id=item.id,
        vehicle_id=vehicle.id,
        quantity=4_321,
        unit_price=item.list_price,
        amount=item.list_price * 4_321,
    )
    db.add(order_line)
    db.commit()
    ids = {
        "district": b.district.id,
        "school": b.school.id,
        "device": device.id,
        "license": lic.id,
        "contract": contract.id,
        "job": job.id,
        "obligation": obligation.id,
        "token": token.id,
        "notification": note.id,
        "vendor": vendor.id,
        "vehicle": vehicle.id,
        "item": item.id,
        "user": b.it.id,
        "outbox": mail.id,
        "scenario": scenario.id,
        "round": rnd.id,
        "commitment": commitment.id,
        "order_line": order_line.id,
        "import": upload.id,
    }
    return Other(
        ids={k: int(v) for k, v in ids.items()}, district_id=int(b.district.id)
    )


def _b_events(db: Session, district_id: int) -> int:
    db.expire_all()
    return db.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.district_id) == district_id)
    ).one()


def _allowed_roles(app: Flask, endpoint: str) -> tuple[Any, ...] | None:
    return getattr(app.view_functions[endpoint], "allowed_roles", None)


def check_route(
    app: Flask,
    rule: Rule,
    *,
    page_client: FlaskClient,
    api_headers: dict[str, str],
    other: Other,
    db: Session,
) -> list[str]:
    """Problems of one route seen by district A's IT user; empty when it is isolated."""
    problems: list[str] = []
    values: dict[str, int] = {}
    scoped = False
    for name in rule.arguments:
        if name in SCOPED:
            values[name] = SCOPED[name](other)
            scoped = True
        elif name in SHARED:
            values[name] = SHARED[name](other)
        elif name in ROLE_GATED_PARAMS:
            values[name] = ROLE_GATED_PARAMS[name](other)
        elif name in PLAIN:
            values[name] = PLAIN[name]  # type: ignore[assignment]
        else:
            return [
                f"{rule.endpoint} {rule.rule}: parameter <{name}> is not covered by test_isolation.py"
            ]
    url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
    is_api = rule.rule.startswith("/api/")
    client = page_client
    gated = _allowed_roles(app, rule.endpoint)
    from lifecycle.enums import Role

    role_refused = gated is not None and Role.DISTRICT_IT not in gated
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
        before = _b_events(db, other.district_id)
        kwargs: dict[str, Any] = {"headers": dict(api_headers) if is_api else {}}
        if method != "GET":
            payload = {"district_id": other.district_id, "version": 1, "name": "x"}
            if is_api:
                kwargs["json"] = payload
            else:
                kwargs["data"] = {k: str(v) for k, v in payload.items()}
        for headers in (
            [kwargs["headers"]] if is_api or method != "GET" else [{}, htmx()]
        ):
            kwargs["headers"] = {**kwargs["headers"], **headers}
            response = client.open(url, method=method, **kwargs)
            # a download (the budget workbook) is bytes: look for the marker in them
            body = response.get_data().decode("utf-8", errors="replace")
            label = f"{method} {url} ({rule.endpoint})"
            if MARKER in body:
                problems.append(f"{label}: shows district B's data")
            if scoped and response.status_code not in (
                404,
                403 if role_refused else 404,
            ):
                problems.append(
                    f"{label}: answered {response.status_code}, expected 404"
                )
            if response.status_code >= 500:
                problems.append(f"{label}: server error {response.status_code}")
        if _b_events(db, other.district_id) != before:
            problems.append(
                f"{method} {url} ({rule.endpoint}): changed district B's records"
            )
    return problems


def walk(app: Flask, db: Session, world: factories.World) -> list[str]:
    other = arrange_other(db, world)
    _token, secret = create_token(db, user=world.a.it, name="isolation walk")
    db.commit()
    page_client = app.test_client()
    login(page_client, world.a.it.email)
    problems: list[str] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        problems += check_route(
            app,
            rule,
            page_client=page_client,
            api_headers=bearer(secret),
            other=other,
            db=db,
        )
    return problems


def test_every_route_keeps_other_districts_out(app, db, world):
    problems = walk(app, db, world)
    assert not problems, "\n".join(problems)


def test_the_walk_catches_an_unscoped_route(db_factory_world):
    """A route that forgets the scoping helper must make the walk fail."""
    from lifecycle.models import Device

    app, db, world = db_factory_world
    leaky = Blueprint("leaky", __name__)

    @leaky.get("/leaky/devices")
    def leaky_devices() -> Any:
        rows = get_session().exec(select(Device.asset_tag)).all()  # no scoping: a bug
        return jsonify(sorted(rows))

    @leaky.get("/leaky/devices/<int:device_id>")
    def leaky_device(device_id: int) -> Any:
        device = get_session().get(Device, device_id)  # no scoping: a bug
        return jsonify(device.asset_tag if device else None)

    app.register_blueprint(leaky)
    problems = walk(app, db, world)
    assert any("/leaky/devices:" in p or "/leaky/devices " in p for p in problems), (
        problems
    )
    assert any("leaky.leaky_device" in p and "expected 404" in p for p in problems), (
        problems
    )


def test_an_unknown_parameter_fails_the_walk(db_factory_world):
    app, db, world = db_factory_world
    extra = Blueprint("extra", __name__)

    @extra.get("/widgets/<int:widget_id>")
    def widget(widget_id: int) -> str:
        return "ok"

    app.register_blueprint(extra)
    problems = walk(app, db, world)
    assert any("parameter <widget_id> is not covered" in p for p in problems)


@pytest.fixture
def db_factory_world(database_url, redis_url, tmp_path):
    """An app that tests may still add routes to (no request has been handled yet)."""
    from lifecycle.db import get_db
    from tests.conftest import build_app

    app = build_app(database_url, redis_url, tmp_path)
    with app.app_context():
        session = get_db(app).session()
        world = factories.make_world(session)
        yield app, session, world
        session.close()
    get_db(app).dispose()
