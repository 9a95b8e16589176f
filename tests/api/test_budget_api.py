"""The budget API: the multi-year forecast and scenarios (docs/architecture.md#the-json-api).

The worked district: two laptops refreshed in the middle of next fiscal year, a license
renewed every July and a maintenance contract every September, over three fiscal years.
The amounts are worked by hand below from the rules (docs/rules.md#fiscal-years-and-money,
DESIGN §3.5): planning prices grow 3 % a year (the district's inflation) by whole fiscal
years ahead, a contract's later terms by its escalator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import jsonschema_rs  # schemathesis's validator
import pytest
from sqlmodel import Session, col, func, select

from lifecycle.budget import services
from lifecycle.budget.fiscal import fiscal_year
from lifecycle.enums import DeviceCategory, RenewalType
from lifecycle.models import AuditEvent, District, Scenario
from lifecycle.scan.engine import scan_district
from lifecycle.scan.jobs import district_today
from tests.api.conftest import error_of
from tests.conftest import fresh
from tests.factories import (
    DistrictWorld,
    World,
    make_contract,
    make_device,
    make_license,
)


@dataclass
class Worked:
    fy: int  # the current fiscal year
    district_id: int


def _scan(db: Session, district: Any) -> None:
    scan_district(db, district_id=district.id, today=district_today(district))
    db.commit()


def arrange(db: Session, a: DistrictWorld, *, erate: bool = False) -> Worked:
    today = district_today(a.district)
    fy = fiscal_year(today, a.district.fy_start_month)
    for _ in range(2):
        # bought 15 Jan, four years before a day in the middle of next fiscal year
        make_device(
            db,
            a.district,
            category=DeviceCategory.LAPTOP,
            model="Dell Latitude 3440",
            school_id=a.school.id,
            purchase_date=date(fy - 3, 1, 15),
            lifespan_months=48,
            purchase_cost=Decimal("650.00"),
        )
    make_license(
        db,
        a.district,
        product="Reading suite",
        seats=100,
        seats_used=80,
        price_per_seat=Decimal("10.00"),
        term_start=date(fy - 1, 7, 1),  # the first day of this fiscal year
        renewal_type=RenewalType.EXPRESS,
    )
    make_contract(
        db,
        a.district,
        name="Network maintenance",
        cost_per_period=Decimal("12000.00"),
        escalator_pct=Decimal("5.00"),
        term_start=date(fy - 1, 9, 1),
        erate_c2_eligible=erate,
    )
    db.commit()
    _scan(db, a.district)
    return Worked(fy=fy, district_id=a.district.id)  # type: ignore[arg-type]


@pytest.fixture
def worked(db: Session, world: World) -> Worked:
    return arrange(db, world.a)


def forecast(client: Any, headers: dict[str, str], query: str = "") -> Any:
    return client.get(f"/api/v1/forecast?{query}", headers=headers)


def _count(db: Session, model: type) -> int:
    fresh(db)
    return int(db.exec(select(func.count()).select_from(model)).one())


def _scenario(db: Session, district_id: int, name: str, **settings: Any) -> Scenario:
    scenario = Scenario(district_id=district_id, name=name, settings=settings)
    db.add(scenario)
    db.commit()
    return scenario


# --- the forecast ------------------------------------------------------------


def test_the_worked_district_by_kind(client, world, worked, token_for):
    fy = worked.fy
    response = forecast(client, token_for(world.a.finance), "years=3")

    assert response.status_code == 200, response.json
    body = response.json
    assert body["district_id"] == world.a.district.id
    assert body["scenario_id"] is None
    assert body["years"] == [fy, fy + 1, fy + 2]
    assert body["fiscal_year_naming"] == "named by the calendar year in which it ends"
    assert body["group_by"] == ["kind"]
    assert body["totals"] == [
        # this year: the license's current term (100 seats × 10.00) and the contract's
        {"fiscal_year": fy, "kind": "license", "amount": "1000.00"},
        {"fiscal_year": fy, "kind": "contract", "amount": "12000.00"},
        # 2 × 650.00 × 1.03 = 2 × 669.50; 1,000.00 × 1.03; 12,000.00 × 1.05
        {"fiscal_year": fy + 1, "kind": "refresh", "amount": "1339.00"},
        {"fiscal_year": fy + 1, "kind": "license", "amount": "1030.00"},
        {"fiscal_year": fy + 1, "kind": "contract", "amount": "12600.00"},
        # 1,000.00 × 1.03²; 12,000.00 × 1.05²
        {"fiscal_year": fy + 2, "kind": "license", "amount": "1060.90"},
        {"fiscal_year": fy + 2, "kind": "contract", "amount": "13230.00"},
    ]
    assert body["by_year"] == [
        {"fiscal_year": fy, "amount": "13000.00", "cap": None, "shortfall": None},
        {"fiscal_year": fy + 1, "amount": "14969.00", "cap": None, "shortfall": None},
        {"fiscal_year": fy + 2, "amount": "14290.90", "cap": None, "shortfall": None},
    ]
    assert body["lines_total"] == "42259.90"
    assert body["deferrals"] == []
    assert body["erate"] == {
        "naming": "E-Rate funding years are named by the year they start",
        "discount_pct": "40.00",
        "share": "0.00",
        "district_net": "42259.90",
        "cycles": [],
    }


def test_totals_are_sums_of_the_forecasts_lines(client, db, world, worked, token_for):
    group_by = "category,school_id,funding_source,kind"
    body = forecast(client, token_for(world.a.it), f"years=3&group_by={group_by}").json
    district = fresh(db).get_one(District, worked.district_id)
    run = services.run_district(db, district, years=3)
    lines = run.forecast.lines

    by_group: dict[tuple[Any, ...], Decimal] = {}
    for line in lines:
        key = (line.fy, line.category, line.school_id, line.funding_source, line.kind)
        by_group[key] = by_group.get(key, Decimal("0")) + line.amount
    shown = {
        (
            t["fiscal_year"],
            t["category"],
            t["school_id"],
            t["funding_source"],
            t["kind"],
        ): Decimal(t["amount"])
        for t in body["totals"]
    }
    assert body["group_by"] == ["category", "school_id", "funding_source", "kind"]
    assert shown == by_group
    assert sum(shown.values()) == Decimal(body["lines_total"])
    assert Decimal(body["lines_total"]) == sum(line.amount for line in lines)
    for year in body["by_year"]:
        assert Decimal(year["amount"]) == sum(
            v for k, v in shown.items() if k[0] == year["fiscal_year"]
        )
    assert shown[(worked.fy + 1, "laptop", world.a.school.id, "", "refresh")] == (
        Decimal("1339.00")
    )


def test_a_scenarios_caps_defer_refreshes_and_report_the_shortfall(
    client, db, world, worked, token_for
):
    fy = worked.fy
    scenario = _scenario(
        db,
        worked.district_id,
        "Tight years",
        caps={str(fy): "10000.00", str(fy + 1): "14000.00"},
    )

    body = forecast(
        client, token_for(world.a.viewer), f"years=3&scenario_id={scenario.id}"
    ).json

    assert body["scenario_id"] == scenario.id
    # this year holds only agreements, which a cap never moves: 3,000.00 over.
    # next year is 969.00 over its cap: both laptops (669.50 each) move into the year
    # after, where each costs 650.00 × 1.03² = 689.585 → 689.59
    assert body["by_year"] == [
        {"fiscal_year": fy, "amount": "13000.00", "cap": "10000.00", "shortfall": "3000.00"},
        {"fiscal_year": fy + 1, "amount": "13630.00", "cap": "14000.00", "shortfall": None},
        {"fiscal_year": fy + 2, "amount": "15670.08", "cap": None, "shortfall": None},
    ]  # fmt: skip
    (deferral,) = body["deferrals"]
    assert deferral == {
        "label": f"Laptop at {world.a.school.name}, bought Jan {fy - 3}",
        "ref": deferral["ref"],
        "category": "laptop",
        "quantity": 2,
        "from_fiscal_year": fy + 1,
        "to_fiscal_year": fy + 2,
        "amount": "1379.18",
    }
    assert deferral["ref"].startswith(f"devices:laptop:{world.a.school.id}:")
    assert body["lines_total"] == "42300.08"


def test_erate_pays_its_discount_of_eligible_maintenance(client, db, world, token_for):
    arrange(db, world.a, erate=True)

    erate = forecast(client, token_for(world.a.finance), "years=3").json["erate"]

    # 40 % of 12,000.00 + 12,600.00 + 13,230.00; the budget is 201.57 × 5,000 students
    assert erate["share"] == "15132.00"
    assert erate["district_net"] == "27127.90"
    assert sum(Decimal(c["used"]) for c in erate["cycles"]) == Decimal("37830.00")
    for cycle in erate["cycles"]:
        assert cycle["budget"] == "1007850.00"
        assert Decimal(cycle["left"]) == Decimal("1007850.00") - Decimal(cycle["used"])


def test_the_cooperative_adds_up_every_district(client, db, world, worked, token_for):
    make_device(
        db,
        world.b.district,
        category=DeviceCategory.LAPTOP,
        purchase_date=date(worked.fy - 3, 3, 1),
        lifespan_months=48,
        purchase_cost=Decimal("500.00"),
    )
    db.commit()
    _scan(db, world.b.district)
    headers = token_for(world.coop_staff)

    coop = forecast(client, headers, "years=3")
    alpha = forecast(client, headers, f"years=3&district_id={world.a.district.id}")

    assert coop.status_code == alpha.status_code == 200
    assert coop.json["district_id"] is None
    assert coop.json["erate"] is None
    assert alpha.json["district_id"] == world.a.district.id
    # Bravo's laptop: 500.00 × 1.03 next year
    assert coop.json["lines_total"] == "42774.90"
    years = {y["fiscal_year"]: y["amount"] for y in coop.json["by_year"]}
    assert years == {
        worked.fy: "13000.00",
        worked.fy + 1: "15484.00",
        worked.fy + 2: "14290.90",
    }


def test_an_admin_sees_the_cooperative_too(client, world, worked, token_for):
    body = forecast(client, token_for(world.admin), "years=3").json

    assert body["district_id"] is None
    assert body["lines_total"] == "42259.90"


def test_a_district_user_naming_another_district_gets_a_404(
    client, world, worked, token_for
):
    headers = token_for(world.a.finance)

    theirs = forecast(client, headers, f"district_id={world.b.district.id}")
    own = forecast(client, headers, f"district_id={world.a.district.id}")

    assert theirs.status_code == 404
    assert error_of(theirs)["code"] == "not_found"
    assert own.status_code == 200


def test_another_districts_scenario_is_a_404(client, db, world, worked, token_for):
    theirs = _scenario(db, world.b.district.id, "Bravo's plan")

    response = forecast(client, token_for(world.a.it), f"scenario_id={theirs.id}")
    missing = forecast(client, token_for(world.a.it), "scenario_id=999999")

    assert response.status_code == missing.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_cooperative_staff_name_a_scenario_with_its_district(
    client, db, world, worked, token_for
):
    alphas = _scenario(db, world.a.district.id, "Alpha's plan")
    headers = token_for(world.coop_staff)

    alone = forecast(client, headers, f"scenario_id={alphas.id}")
    elsewhere = forecast(
        client, headers, f"scenario_id={alphas.id}&district_id={world.b.district.id}"
    )
    right = forecast(
        client, headers, f"scenario_id={alphas.id}&district_id={world.a.district.id}"
    )

    assert alone.status_code == elsewhere.status_code == 422
    assert set(error_of(alone)["fields"]) == {"scenario_id"}
    assert error_of(elsewhere)["fields"] == {
        "scenario_id": "is a scenario of another district"
    }
    assert right.status_code == 200
    assert right.json["scenario_id"] == alphas.id


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("years=16", "years"),
        ("years=0", "years"),
        ("years=many", "years"),
        ("group_by=colour", "group_by"),
        ("group_by=kind,fiscal_year", "group_by"),
        ("limit=5", "limit"),
        ("colour=red", "colour"),
    ],
)
def test_bad_forecast_parameters_are_a_422(client, world, token_for, query, field):
    response = forecast(client, token_for(world.a.it), query)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation"
    assert set(error["fields"]) == {field}


def test_fifteen_years_is_the_longest_horizon(client, world, worked, token_for):
    body = forecast(client, token_for(world.a.it), "years=15").json

    assert body["years"] == [worked.fy + k for k in range(15)]


# --- scenarios ---------------------------------------------------------------

SETTINGS = {
    "lifespans": {"chromebook": 60},
    "inflation_pct": "2.50",
    "headroom_pct": "10",
    "leases": {"laptop": {"years": 3, "rate_pct": "4"}},
    "caps": {"2029": "1200000.00"},
    "max_deferral_months": 18,
}


def _create(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/scenarios", json=body, headers=headers)


@pytest.mark.parametrize("who", ["finance", "it"])
def test_district_finance_and_it_save_a_scenario(client, db, world, token_for, who):
    response = _create(
        client,
        token_for(getattr(world.a, who)),
        name=" 5-year laptops ",
        settings=SETTINGS,
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {
        "id", "district_id", "name", "settings", "version", "created_at", "updated_at",
    }  # fmt: skip
    assert body["district_id"] == world.a.district.id
    assert body["name"] == "5-year laptops"
    assert body["version"] == 1
    assert body["settings"] == {  # percentages as every percent is shown: two decimals
        "lifespans": {"chromebook": 60},
        "inflation_pct": "2.50",
        "headroom_pct": "10.00",
        "leases": {"laptop": {"years": 3, "rate_pct": "4.00"}},
        "caps": {"2029": "1200000.00"},
        "max_deferral_months": 18,
    }
    got = client.get(
        f"/api/v1/scenarios/{body['id']}", headers=token_for(world.a.viewer)
    )
    assert got.json == body


def test_what_a_client_read_it_can_send_back(client, world, token_for):
    headers = token_for(world.a.finance)
    created = _create(client, headers, name="Baseline copy").json

    patched = client.patch(
        f"/api/v1/scenarios/{created['id']}", json=created, headers=headers
    )

    assert patched.status_code == 200, patched.json
    assert patched.json["settings"] == created["settings"]
    assert patched.json["settings"]["caps"] == {}
    assert patched.json["settings"]["inflation_pct"] is None


@pytest.mark.parametrize("who", ["viewer", "coop_staff", "admin"])
def test_others_may_not_save_a_scenario(client, db, world, token_for, who):
    user = getattr(world.a, who, None) or getattr(world, who)
    body: dict[str, Any] = {"name": "Mine"}
    if user.district_id is None:
        body["district_id"] = world.a.district.id

    response = _create(client, token_for(user), **body)

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert _count(db, Scenario) == 0


def test_cooperative_staff_without_a_district_are_refused_too(
    client, db, world, token_for
):
    response = _create(client, token_for(world.coop_staff), name="Mine")

    assert response.status_code == 403
    assert _count(db, Scenario) == 0


def test_a_scenario_for_another_district_is_a_404(client, db, world, token_for):
    response = _create(
        client,
        token_for(world.a.finance),
        name="Theirs",
        district_id=world.b.district.id,
    )

    assert response.status_code == 404
    assert _count(db, Scenario) == 0


def test_a_viewer_may_not_change_or_delete_one(client, db, world, token_for):
    scenario = _scenario(db, world.a.district.id, "Plan")
    headers = token_for(world.a.viewer)

    patched = client.patch(
        f"/api/v1/scenarios/{scenario.id}",
        json={"name": "X", "version": 1},
        headers=headers,
    )
    deleted = client.delete(
        f"/api/v1/scenarios/{scenario.id}?version=1", headers=headers
    )

    assert patched.status_code == deleted.status_code == 403
    fresh(db).refresh(scenario)
    assert (scenario.name, scenario.version) == ("Plan", 1)


def test_two_updates_from_one_version_the_second_is_a_409(client, db, world, token_for):
    scenario = _scenario(db, world.a.district.id, "Plan")
    url = f"/api/v1/scenarios/{scenario.id}"

    first = client.patch(
        url, json={"name": "Four years", "version": 1}, headers=token_for(world.a.it)
    )
    second = client.patch(
        url,
        json={"settings": {"inflation_pct": "4"}, "version": 1},
        headers=token_for(world.a.finance),
    )

    assert first.status_code == 200
    assert first.json["version"] == 2
    assert second.status_code == 409
    error = error_of(second)
    assert error["code"] == "conflict"
    assert error["current_version"] == 2
    assert error["current"]["name"] == "Four years"
    fresh(db).refresh(scenario)
    assert scenario.settings == {}
    assert scenario.version == 2


def test_delete_takes_the_version_read(client, db, world, token_for):
    scenario = _scenario(db, world.a.district.id, "Plan")
    url = f"/api/v1/scenarios/{scenario.id}"
    headers = token_for(world.a.finance)

    missing = client.delete(url, headers=headers)
    stale = client.delete(f"{url}?version=7", headers=headers)
    done = client.delete(f"{url}?version=1", headers=headers)

    assert missing.status_code == 422
    assert error_of(missing)["fields"] == {"version": "is required"}
    assert stale.status_code == 409
    assert error_of(stale)["current_version"] == 1
    assert done.status_code == 204
    assert _count(db, Scenario) == 0
    assert client.get(url, headers=headers).status_code == 404


BAD_SETTINGS = [
    ({"caps": {"2029": "-1"}}, "settings.caps"),
    ({"caps": {"2029": 1000}}, "settings.caps"),  # money is a string, never a number
    ({"caps": {"1066": "1000.00"}}, "settings.caps"),
    ({"lifespans": {"hoverboard": 48}}, "settings.lifespans"),
    ({"lifespans": {"laptop": 0}}, "settings.lifespans"),
    ({"leases": {"laptop": {"years": 0}}}, "settings.leases"),
    ({"leases": {"laptop": {"years": 16}}}, "settings.leases"),
    ({"headroom_pct": "500"}, "settings.headroom_pct"),
    ({"years": 16}, "settings.years"),  # the horizon is the forecast's, not a setting
    ({"colour": "red"}, "settings.colour"),
]


@pytest.mark.parametrize(("settings", "field"), BAD_SETTINGS)
def test_bad_settings_are_a_422_and_nothing_is_saved(
    client, db, world, token_for, settings, field
):
    scenario = _scenario(db, world.a.district.id, "Plan", inflation_pct="3")
    headers = token_for(world.a.finance)

    created = _create(client, headers, name="New", settings=settings)
    patched = client.patch(
        f"/api/v1/scenarios/{scenario.id}",
        json={"settings": settings, "version": 1},
        headers=headers,
    )

    for response in (created, patched):
        assert response.status_code == 422, response.json
        error = error_of(response)
        assert error["code"] == "validation"
        assert error["fields"], error
        assert all(name.startswith(field) for name in error["fields"]), error
    assert _count(db, Scenario) == 1
    fresh(db).refresh(scenario)
    assert (scenario.settings, scenario.version) == ({"inflation_pct": "3"}, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "New", "colour": "red"}, "colour"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Nul\x00"}, "name"),
        ({"name": "Plan"}, "name"),  # another scenario of the district has it
        ({"name": "New", "id": 5}, "id"),
        ({"settings": {}}, "name"),
    ],
)
def test_a_bad_scenario_body_is_a_422_and_nothing_is_saved(
    client, db, world, token_for, body, field
):
    _scenario(db, world.a.district.id, "PLAN")

    response = client.post(
        "/api/v1/scenarios", json=body, headers=token_for(world.a.finance)
    )

    assert response.status_code == 422, response.json
    assert set(error_of(response)["fields"]) == {field}
    assert _count(db, Scenario) == 1


def test_the_list_is_scoped_and_paged(client, db, world, token_for):
    ours = [_scenario(db, world.a.district.id, f"Plan {n}") for n in range(3)]
    theirs = _scenario(db, world.b.district.id, "Bravo plan")

    first = client.get("/api/v1/scenarios?limit=2", headers=token_for(world.a.viewer))
    rest = client.get(
        f"/api/v1/scenarios?limit=2&cursor={first.json['next_cursor']}",
        headers=token_for(world.a.viewer),
    )
    filtered = client.get(
        f"/api/v1/scenarios?district_id={world.b.district.id}",
        headers=token_for(world.coop_staff),
    )
    not_yours = client.get(
        f"/api/v1/scenarios/{theirs.id}", headers=token_for(world.a.viewer)
    )

    assert [s["id"] for s in first.json["items"] + rest.json["items"]] == [
        s.id for s in ours
    ]
    assert rest.json["next_cursor"] is None
    assert [s["id"] for s in filtered.json["items"]] == [theirs.id]
    assert not_yours.status_code == 404


def _events(db: Session, scenario_id: int) -> list[str]:
    fresh(db)
    return list(
        db.exec(
            select(AuditEvent.action)
            .where(
                col(AuditEvent.entity_type) == "scenario",
                col(AuditEvent.entity_id) == scenario_id,
            )
            .order_by(col(AuditEvent.id))
        )
    )


def test_create_update_and_delete_are_audited(client, db, world, token_for):
    headers = token_for(world.a.finance)

    created = _create(client, headers, name="Plan", settings={"headroom_pct": "5"}).json
    url = f"/api/v1/scenarios/{created['id']}"
    client.patch(url, json={"name": "Plan B", "version": 1}, headers=headers)
    client.delete(f"{url}?version=2", headers=headers)

    assert _events(db, created["id"]) == ["create", "update", "delete"]
    update = db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "scenario",
            col(AuditEvent.action) == "update",
        )
    ).one()
    assert update.changes["name"] == ["Plan", "Plan B"]
    assert update.actor_id == world.a.finance.id
    assert update.district_id == world.a.district.id


# --- the OpenAPI document ---------------------------------------------------


def _validate(
    document: dict[str, Any], path: str, method: str, status: str, body: Any
) -> None:
    schema = document["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}
    )
    validator.validate(body)


def test_the_answers_are_what_the_document_says(client, db, world, worked, token_for):
    document = client.get("/api/v1/openapi.json").json
    headers = token_for(world.a.finance)
    scenario = _create(client, headers, name="Plan", settings=SETTINGS).json

    _validate(
        document,
        "/api/v1/forecast",
        "get",
        "200",
        forecast(
            client, headers, f"scenario_id={scenario['id']}&group_by=school_id"
        ).json,
    )
    _validate(
        document,
        "/api/v1/forecast",
        "get",
        "200",
        forecast(client, token_for(world.coop_staff)).json,
    )
    _validate(
        document,
        "/api/v1/scenarios",
        "get",
        "200",
        client.get("/api/v1/scenarios", headers=headers).json,
    )
    _validate(document, "/api/v1/scenarios", "post", "201", scenario)


def test_the_document_says_who_gets_what(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    get = paths["/api/v1/forecast"]["get"]
    assert {"200", "404", "422"} <= set(get["responses"])
    assert "403" not in get["responses"]
    names = {p["name"] for p in get["parameters"]}
    assert names == {"district_id", "years", "scenario_id", "group_by"}
    delete = paths["/api/v1/scenarios/{scenario_id}"]["delete"]
    (version,) = [p for p in delete["parameters"] if p["in"] == "query"]
    assert version["name"] == "version" and version["required"] is True
    assert {"204", "403", "404", "409", "422"} <= set(delete["responses"])
    post = paths["/api/v1/scenarios"]["post"]
    assert {"201", "403", "404", "422"} <= set(post["responses"])
