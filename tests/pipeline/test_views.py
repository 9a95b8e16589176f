"""The pipeline pages, fragments, exports and API, as cooperative staff and as each
district role (refused everywhere)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from lifecycle.auth import create_token
from lifecycle.pipeline import services
from tests.conftest import bearer, htmx, sign_in, text
from tests.pipeline.conftest import TODAY, Pipe

ROUTES = (
    "/pipeline",
    "/pipeline/cell?quarter=2027-Q1",
    "/pipeline/estimate.csv",
    "/pipeline/estimate.xlsx",
)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(services, "today_utc", lambda: TODAY)


@pytest.fixture
def coop(client, pipe: Pipe):
    return sign_in(client, pipe.world.coop_staff)


def test_the_page_shows_the_hand_worked_table(coop, pipe: Pipe):
    response = coop.get("/pipeline")
    body = text(response)
    assert response.status_code == 200
    assert 'data-testid="pipeline-svg"' in body and '<title id="pc-title">' in body
    assert 'data-testid="pipeline-grand" data-value="7530.00"' in body
    assert 'data-testid="pipeline-overdue"' in body  # $300 already overdue
    assert "Dell Technologies" in body and "Google" in body
    assert "incl. overdue" in body
    assert '<a href="/pipeline"' in body or 'href="/pipeline"' in body  # the nav link


def test_the_body_alone_for_htmx_and_filters_in_words(coop, pipe: Pipe):
    response = coop.get(
        f"/pipeline?group=item&vendor_id={pipe.dell.id}&quarters=5", headers=htmx()
    )
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body and 'id="pipeline-body"' not in body
    assert "Showing only: vendor Dell Technologies" in body
    assert 'data-testid="pipeline-grand" data-value="6860.00"' in body  # + $330 Q1 2028
    assert "Dell Chromebook 3120 (DELL-3120)" in body
    assert "HX-Request" in response.headers["Vary"]


def test_an_empty_pipeline_says_why(coop, pipe: Pipe):
    body = text(
        coop.get(f"/pipeline?vehicle_id={pipe.vb.id}&district_id={pipe.alpha.id}")
    )
    assert 'data-testid="pipeline-empty"' in body
    assert "No open needs for these filters" in body


@pytest.mark.parametrize(
    "query", ["quarters=9", "quarters=x", "group=school", "sort=cost", "kind=warranty",
              "category=toaster", "vendor_id=0", "colour=red"],
)  # fmt: skip
def test_bad_arguments_are_422(coop, pipe: Pipe, query):
    assert coop.get(f"/pipeline?{query}").status_code == 422


def test_the_drill_down_names_the_districts_with_links(coop, pipe: Pipe):
    response = coop.get(
        f"/pipeline/cell?key={pipe.dell.id}&quarter=2027-Q1", headers=htmx()
    )
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert "Dell Technologies · Q1 2027 (including overdue)" in body
    assert body.index("Bravo ISD") < body.index("Alpha ISD")  # most spend first
    assert f'href="/budget?district_id={pipe.alpha.id}"' in body
    assert 'data-testid="drill-total" data-value="610.00"' in body
    # without htmx, a whole page that links back
    page = text(coop.get(f"/pipeline/cell?key={pipe.dell.id}&quarter=2027-Q1"))
    assert "Back to the pipeline" in page
    assert coop.get("/pipeline/cell?quarter=2030-Q1").status_code == 422


def test_the_csv_estimate_names_no_district(coop, pipe: Pipe):
    response = coop.get(f"/pipeline/estimate.csv?district_id={pipe.alpha.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0][:4] == ["Quarter", "Quarter starts", "Quarter ends", "SKU"]
    assert [r[0] for r in rows[1:]] == ["Q1 2027", "Q2 2027", "Q3 2027"]
    assert sum(Decimal(r[12]) for r in rows[1:]) == Decimal("1220.00")
    assert "Alpha" not in text(response) and "Bravo" not in text(response)


def test_the_csv_keeps_formulas_out(db, coop, pipe: Pipe):
    pipe.dell.name = '=HYPERLINK("http://x")'
    db.commit()
    body = text(coop.get("/pipeline/estimate.csv"))
    assert "'=HYPERLINK" in body


def test_the_workbook_has_typed_cells_and_a_total(coop, pipe: Pipe):
    response = coop.get(f"/pipeline/estimate.xlsx?district_id={pipe.bravo.id}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    flat = " ".join(str(v) for row in values for v in row if v is not None)
    assert "Bravo" not in flat and "one member district" in flat
    header = values[4]
    assert header[10] == "Units" and header[12] == "Estimated spend"
    lines = values[5:-1]
    assert [r[0] for r in lines] == ["Q1 2027", "Q3 2027", "Q4 2027"]
    assert all(isinstance(r[10], int) for r in lines)
    assert sum(Decimal(str(r[12])) for r in lines) == Decimal("6310.00")
    assert values[-1][0] == "Total" and str(values[-1][12]).startswith("=SUM(")


@pytest.mark.parametrize("role", ["it", "finance", "viewer"])
def test_every_district_role_is_refused_everywhere(client, db, pipe: Pipe, role):
    user = getattr(pipe.world.a, role)
    sign_in(client, user)
    for url in ROUTES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Bravo" not in text(response) and "7,530" not in text(response)
    _token, secret = create_token(db, user=user, name="pipeline")
    db.commit()
    response = client.get("/api/v1/pipeline", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json["error"]["code"]


def test_the_nav_shows_the_pipeline_to_coop_staff_only(client, db, pipe: Pipe):
    sign_in(client, pipe.world.a.it)
    assert 'href="/pipeline"' not in text(client.get("/"))
    other = client.application.test_client()
    sign_in(other, pipe.world.admin)
    assert 'href="/pipeline"' in text(other.get("/"))


def test_the_api_gives_the_same_numbers(client, db, pipe: Pipe):
    _token, secret = create_token(db, user=pipe.world.coop_staff, name="pipeline")
    db.commit()
    response = client.get(
        "/api/v1/pipeline?group=category&quarters=4", headers=bearer(secret)
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert [q["key"] for q in body["quarters"]] == [
        "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4",
    ]  # fmt: skip
    assert body["quarters"][0]["end"] == "2027-03-31"
    assert body["total"]["spend"] == "7530.00"
    assert body["total"]["units"] == {"devices": 5, "seats": 200, "contracts": 1}
    assert body["overdue"]["spend"] == "300.00"
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["service"]["cells"][3]["spend"] == "5000.00"
    assert rows["chromebook"]["cells"][0]["districts"] == 2
    bad = client.get("/api/v1/pipeline?group=school", headers=bearer(secret))
    assert bad.status_code == 422 and "group" in bad.json["error"]["fields"]
    unknown = client.get("/api/v1/pipeline?district_id=99999", headers=bearer(secret))
    assert unknown.status_code == 404
