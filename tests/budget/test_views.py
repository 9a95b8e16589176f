"""The budget pages: who sees what, the drill-down, scenarios saved, refused and locked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal as D
from unittest.mock import patch

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from lifecycle.models import AuditEvent, BudgetCap, Scenario
from tests.budget.conftest import TODAY
from tests.conftest import fresh, htmx, sign_in, text
from tests.factories import World


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    """The district's today is the fixture's: the pages and the scan agree on it."""
    with (
        patch("lifecycle.budget.services.district_today", return_value=TODAY),
        patch("lifecycle.budget.views.district_today", return_value=TODAY),
    ):
        yield


def _scenario_form(**fields: str) -> dict[str, str]:
    return {"name": "5-year Chromebook cycle", "lifespan_chromebook": "60"} | fields


def test_finance_sees_the_forecast_by_year(client: FlaskClient, stocked: World) -> None:
    page = text(sign_in(client, stocked.a.finance).get("/budget"))
    assert "Budget — Alpha ISD" in page
    assert (
        "FY2027–FY2033" in page
        and "named by the calendar year in which they end" in page
    )
    # 120 Chromebooks at 280.00 in FY2027 (the drill-down link carries the cell)
    assert 'data-series="0" data-kind="refresh" data-value="33600.00"' in page
    assert 'data-testid="budget-svg"' in page


def test_a_district_user_cannot_open_another_districts_budget(
    client: FlaskClient, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    assert c.get(f"/budget?district_id={stocked.b.district.id}").status_code == 404
    assert (
        c.get(f"/budget/cell?fy=2027&district_id={stocked.b.district.id}").status_code
        == 404
    )


def test_coop_staff_see_the_cooperative_and_each_district(
    client: FlaskClient, stocked: World
) -> None:
    c = sign_in(client, stocked.coop_staff)
    whole = text(c.get("/budget"))
    assert "Budget — all member districts" in whole
    assert "Alpha ISD" in whole and "Bravo ISD" in whole  # the district chooser
    one = text(c.get(f"/budget?district_id={stocked.a.district.id}"))
    assert "Budget — Alpha ISD" in one
    assert "New scenario" not in one  # cooperative staff read district budgets only


def test_the_drill_down_lists_what_makes_a_cell(
    client: FlaskClient, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    response = c.get("/budget/cell?fy=2027&cell_kind=refresh&series=0", headers=htmx())
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body  # a fragment for htmx
    assert 'data-testid="drill-total" data-value="33600.00"' in body
    assert "Chromebooks at Alpha ISD High School" in body
    # on to the records: the device list filtered to them
    assert "/devices?category=chromebook" in body.replace("&amp;", "&")
    # without htmx, the same cell is a page of its own
    assert "<h1>Budget detail" in text(c.get("/budget/cell?fy=2027&cell_kind=refresh"))


def test_filters_narrow_the_lines(client: FlaskClient, stocked: World) -> None:
    c = sign_in(client, stocked.a.finance)
    page = text(c.get("/budget?kind=contract"))
    assert 'data-kind="refresh" data-value="33600.00"' not in page
    assert 'data-kind="contract" data-value="10300.00"' in page
    assert "Showing only: Contracts" in page


def test_a_scenario_is_saved_audited_and_shown_beside_the_baseline(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    response = c.post("/budget/scenarios", data=_scenario_form(cap_2027="20000"))
    assert response.status_code == 303, text(response)[:2000]
    scenario = fresh(db).exec(select(Scenario)).one()
    assert scenario.settings == {
        "lifespans": {"chromebook": 60},
        "caps": {"2027": "20000.00"},
    }
    assert db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "scenario",
            col(AuditEvent.action) == "create",
        )
    ).first()
    page = text(c.get(f"/budget?scenario_id={scenario.id}"))
    # bought March 2023 + 60 months: March 2028, FY2028 — nothing left in FY2027 to defer
    assert 'data-series="1" data-kind="refresh" data-value="0"' in page
    assert "5-year Chromebook cycle" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cap_2028", "-1", "at least 0"),
        ("lifespan_chromebook", "0", "at least 1"),
        ("lease_years_chromebook", "0", "at least 1"),
        ("headroom_pct", "500", "at most 200"),
        ("inflation_pct", "ten", "number"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(
    client: FlaskClient,
    db: Session,
    stocked: World,
    field: str,
    value: str,
    message: str,
) -> None:
    c = sign_in(client, stocked.a.finance)
    response = c.post("/budget/scenarios", data=_scenario_form(**{field: value}))
    assert response.status_code == 422
    body = text(response)
    assert f'id="e-{field}"' in body and message in body
    assert fresh(db).exec(select(Scenario)).first() is None


def test_an_unknown_field_is_refused(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    """As every form: a misspelt or forged field must not look saved."""
    c = sign_in(client, stocked.a.finance)
    response = c.post("/budget/scenarios", data=_scenario_form(lifespan_toaster="12"))
    assert response.status_code == 422
    assert "is not a field this form accepts" in text(response)
    assert fresh(db).exec(select(Scenario)).first() is None


def test_the_second_of_two_edits_of_one_version_gets_409(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    c.post("/budget/scenarios", data=_scenario_form())
    scenario = fresh(db).exec(select(Scenario)).one()
    first = c.post(
        f"/budget/scenarios/{scenario.id}",
        data=_scenario_form(version=str(scenario.version), inflation_pct="4"),
    )
    assert first.status_code == 303
    second = c.post(
        f"/budget/scenarios/{scenario.id}",
        data=_scenario_form(version=str(scenario.version), inflation_pct="5"),
    )
    assert second.status_code == 409
    assert 'data-testid="conflict"' in text(second)
    saved = fresh(db).get(Scenario, scenario.id)
    assert saved is not None and saved.settings["inflation_pct"] == "4.00"


def test_a_scenario_is_deleted_after_confirmation(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    c.post("/budget/scenarios", data=_scenario_form())
    scenario = fresh(db).exec(select(Scenario)).one()
    ident, version = scenario.id, scenario.version
    confirm = text(c.get(f"/budget/scenarios/{ident}/delete"))
    assert "Delete the scenario" in confirm

    def stored() -> Scenario | None:
        return fresh(db).exec(select(Scenario).where(col(Scenario.id) == ident)).first()

    stale = c.post(f"/budget/scenarios/{ident}/delete", data={"version": "99"})
    assert stale.status_code == 303 and stored() is not None
    done = c.post(f"/budget/scenarios/{ident}/delete", data={"version": str(version)})
    assert done.status_code == 303
    assert stored() is None


def test_viewers_and_other_districts_cannot_change_scenarios(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    sign_in(client, stocked.a.finance).post("/budget/scenarios", data=_scenario_form())
    scenario = fresh(db).exec(select(Scenario)).one()
    viewer = sign_in(client, stocked.a.viewer)
    assert (
        viewer.post("/budget/scenarios", data=_scenario_form(name="x")).status_code
        == 403
    )
    other = sign_in(client, stocked.b.finance)
    assert other.get(f"/budget/scenarios/{scenario.id}").status_code == 404
    assert (
        other.post(
            f"/budget/scenarios/{scenario.id}", data=_scenario_form(version="1")
        ).status_code
        == 404
    )


def test_the_preview_follows_the_settings(client: FlaskClient, stocked: World) -> None:
    c = sign_in(client, stocked.a.finance)
    body = text(
        c.post("/budget/scenarios/preview", data=_scenario_form(), headers=htmx())
    )
    totals = re.findall(r'data-testid="preview-total" data-value="([0-9.]+)"', body)
    assert totals and D(totals[0]) > 0
    wrong = text(
        c.post("/budget/scenarios/preview", data=_scenario_form(headroom_pct="500"))
    )
    assert "at most 200" in wrong


def test_the_approved_budget_is_the_baselines_cap_and_a_new_scenarios_start(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    c = sign_in(client, stocked.a.finance)
    assert c.post("/budget/approved", data={"cap_2027": "40,000"}).status_code == 303
    assert [
        (cap.fiscal_year, cap.cap) for cap in fresh(db).exec(select(BudgetCap))
    ] == [(2027, D("40000.00"))]
    page = text(c.get("/budget"))
    assert 'data-kind="cap">$40,000' in page
    assert 'value="40000.00"' in text(c.get("/budget/scenarios/new"))
    # the home page shows this year against it
    home = text(c.get("/"))
    assert 'data-testid="home-budget"' in home and "approved $40,000" in home
    # a stale save is refused
    assert (
        c.post("/budget/approved", data={"cap_2027": "1", "version": "99"}).status_code
        == 303
    )
    assert fresh(db).exec(select(sa.func.count()).select_from(BudgetCap)).one() == 1
    assert fresh(db).exec(select(BudgetCap)).one().cap == D("40000.00")


def test_the_workbook_and_the_csv_add_up_to_the_page(
    client: FlaskClient, db: Session, stocked: World
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    c = sign_in(client, stocked.a.finance)
    c.post("/budget/scenarios", data=_scenario_form())
    scenario = fresh(db).exec(select(Scenario)).one()
    page = text(c.get(f"/budget?scenario_id={scenario.id}"))
    grand = {
        int(i): D(v)
        for i, v in re.findall(r'data-testid="grand-(\d)" data-value="([0-9.]+)"', page)
    }
    response = c.get(f"/budget/export.xlsx?scenario_id={scenario.id}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary", "Lines", "Deferred", "Assumptions"]
    rows = list(book["Lines"].iter_rows(values_only=True))
    header = rows[0]
    who, amount = header.index("Scenario"), header.index("Amount")
    sums: dict[str, D] = {}
    for row in rows[1:]:
        if row[who] in ("Baseline", scenario.name):
            sums[str(row[who])] = sums.get(str(row[who]), D(0)) + D(str(row[amount]))
    assert sums == {"Baseline": grand[0], scenario.name: grand[1]}
    lines = list(csv.DictReader(io.StringIO(text(c.get("/budget/lines.csv")))))
    assert sum(D(r["Amount"]) for r in lines) == grand[0]
