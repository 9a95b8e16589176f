"""Schools: district IT keeps them true; other roles read; other districts stay out."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlmodel import select

from lifecycle.enums import DeviceCategory, DeviceStatus, ObligationKind
from lifecycle.models import AuditEvent, Device, Obligation, School
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx


def _page(response) -> str:
    return response.get_data(as_text=True)


def _school(db, school_id):
    return fresh(db).get(School, school_id)


# --- list --------------------------------------------------------------------


def test_the_list_shows_the_districts_schools_with_their_counts(client, world, db):
    a = world.a
    factories.make_device(db, a.district, school_id=a.school.id)
    factories.make_device(db, a.district, school_id=a.school.id)
    factories.make_license(db, a.district, school_id=a.school.id)
    factories.make_school(db, a.district, name="Zephyr Elementary", level="Elementary")
    db.commit()
    sign_in(client, a.viewer)

    response = client.get("/schools")

    page = _page(response)
    assert response.status_code == 200 and "<html" in page
    assert "Alpha ISD High School" in page and "Zephyr Elementary" in page
    assert "Bravo ISD High School" not in page
    assert 'data-testid="school-count">2 schools' in page
    row = page[page.index("Alpha ISD High School") :].split("</tr>")[0]
    assert '<td class="num">2</td><td class="num">1</td>' in row
    assert "Add a school" not in page  # a viewer reads only


def test_active_search_answers_a_fragment_with_the_count_out_of_band(client, world, db):
    factories.make_school(db, world.a.district, name="Maple 50% Academy", code="M_1")
    factories.make_school(db, world.a.district, name="Oak Middle", code="201")
    db.commit()
    sign_in(client, world.a.it)

    response = client.get("/schools?q=50%", headers=htmx())

    page = _page(response)
    assert response.status_code == 200
    assert "<html" not in page and 'id="results"' in page
    assert "HX-Request" in response.headers["Vary"]
    assert "Maple 50% Academy" in page and "Oak Middle" not in page
    assert 'id="school-count"' in page and 'hx-swap-oob="true"' in page
    assert "1 school<" in page
    # % and _ are literal characters, not wildcards
    assert "Oak Middle" not in _page(client.get("/schools?q=M_", headers=htmx()))
    assert "Oak Middle" in _page(client.get("/schools?q=20", headers=htmx()))


def test_sorting_marks_the_column_and_pages_follow_the_sort(client, world, db):
    for n in range(60):
        factories.make_school(db, world.a.district, name=f"S{n:03d}", enrollment=n)
    db.commit()
    sign_in(client, world.a.it)

    first = _page(client.get("/schools?sort=-enrollment"))

    assert 'aria-sort="descending"' in first
    assert first.index("S059") < first.index("S058")
    assert "Alpha ISD High School" not in first  # no enrollment: sorts last
    nxt = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = _page(client.get(nxt.replace("&amp;", "&")))
    assert "S009" in second and "Alpha ISD High School" in second
    assert "S059" not in second


def test_a_bad_filter_value_is_a_422_with_a_message(client, world):
    sign_in(client, world.coop_staff)

    response = client.get("/schools?district_id=abc&sort=nope")

    assert response.status_code == 422
    page = _page(response)
    assert "District must be a whole number" in page
    assert "is not a column this list can sort on" in page


def test_cooperative_staff_read_every_districts_schools(client, world):
    sign_in(client, world.coop_staff)

    page = _page(client.get("/schools"))
    only_b = _page(client.get(f"/schools?district_id={world.b.district.id}"))

    assert "Alpha ISD High School" in page and "Bravo ISD High School" in page
    assert ">District<" in page  # the district column
    assert "Alpha ISD High School" not in only_b
    assert "Add a school" not in page


def test_csv_export_streams_the_filtered_list(client, world, db):
    factories.make_school(db, world.a.district, name="=cmd|' /C calc'!A0")
    factories.make_device(db, world.a.district, school_id=world.a.school.id)
    db.commit()
    sign_in(client, world.a.finance)

    response = client.get("/schools/export.csv?sort=name", buffered=True)

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(_page(response))))
    assert rows[0] == SCHOOL_CSV_HEADER
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["Alpha ISD High School"][1] == "Alpha ISD"
    assert by_name["Alpha ISD High School"][6] == "1"
    assert "'=cmd|' /C calc'!A0" in by_name  # never a live formula
    assert not any("Bravo" in r[1] for r in rows[1:])


SCHOOL_CSV_HEADER = [
    "id", "district", "name", "code", "level", "enrollment", "devices", "licenses",
]  # fmt: skip


def test_an_empty_list_says_what_to_do(client, world, db):
    for school in fresh(db).exec(select(School)).all():
        db.delete(school)
    db.commit()
    sign_in(client, world.a.it)

    page = _page(client.get("/schools"))

    assert "No schools or sites yet." in page
    assert "Add the first school" in page


# --- create, edit, delete ----------------------------------------------------


def test_district_it_adds_a_school_to_their_own_district(client, world, db):
    sign_in(client, world.a.it)
    form = _page(client.get("/schools/new"))
    assert 'name="name"' in form and 'for="f-name"' in form

    response = client.post(
        "/schools",
        data={
            "name": "  Cedar Elementary ",
            "code": "105",
            "level": "Elementary",
            "enrollment": "480",
        },
    )

    assert response.status_code == 303
    school = (
        fresh(db).exec(select(School).where(School.name == "Cedar Elementary")).one()
    )
    assert school.district_id == world.a.district.id
    assert (school.code, school.level, school.enrollment) == ("105", "Elementary", 480)
    assert response.headers["Location"].endswith(f"/schools/{school.id}")
    detail = _page(client.get(f"/schools/{school.id}"))
    assert "Cedar Elementary added." in detail
    assert "Create" in detail and "History" in detail  # the audit trail


def test_a_district_posted_to_the_school_form_is_refused(client, world, db):
    # A school always joins your own district: the form has no such field.
    sign_in(client, world.a.it)

    response = client.post(
        "/schools",
        data={"name": "Cedar Elementary", "district_id": str(world.b.district.id)},
    )

    assert response.status_code == 422
    assert "District id is not a field this form accepts" in _page(response)
    assert (
        not fresh(db)
        .exec(select(School).where(School.name == "Cedar Elementary"))
        .all()
    )


def test_invalid_or_duplicate_names_are_a_422_that_keeps_the_input(client, world):
    sign_in(client, world.a.it)

    blank = client.post("/schools", data={"name": "", "enrollment": "-3"})
    duplicate = client.post(
        "/schools", data={"name": "alpha isd high school"}, headers=htmx()
    )

    assert blank.status_code == 422
    page = _page(blank)
    assert "Name is required" in page and "Enrollment must be at least 0" in page
    assert 'value="-3"' in page
    assert duplicate.status_code == 422
    fragment = _page(duplicate)
    assert "<html" not in fragment and 'id="school-form"' in fragment
    assert "is already the name of another school in your district" in fragment


def test_an_edit_saves_and_clears_fields_and_is_audited(client, world, db):
    school = world.a.school
    school.code, school.level = "900", "High"
    db.add(school)
    db.commit()
    sign_in(client, world.a.it)
    assert 'value="900"' in _page(client.get(f"/schools/{school.id}/edit"))

    response = client.post(
        f"/schools/{school.id}",
        data={"name": "Alpha Early College HS", "code": "", "level": "High",
              "enrollment": "1200", "version": "2"},
    )  # fmt: skip

    assert response.status_code == 303, _page(response)
    stored = _school(db, school.id)
    assert (stored.name, stored.code, stored.enrollment) == (
        "Alpha Early College HS",
        "",
        1200,
    )
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "school", AuditEvent.entity_id == school.id
        )
    ).all()
    renamed = ["Alpha ISD High School", "Alpha Early College HS"]
    assert any(e.changes.get("name") == renamed for e in events)


def test_a_stale_edit_is_a_409_with_the_current_values(client, world, db):
    school = world.a.school
    sign_in(client, world.a.it)
    client.post(f"/schools/{school.id}", data={"name": "Renamed", "version": "1"})

    response = client.post(
        f"/schools/{school.id}",
        data={"name": "My stale name", "version": "1"},
        headers=htmx(),
    )

    assert response.status_code == 409
    page = _page(response)
    assert 'data-testid="conflict"' in page and "<strong>Renamed</strong>" in page
    assert 'value="My stale name"' in page  # your entry is kept
    assert 'name="version" value="2"' in page  # saving again is possible
    assert _school(db, school.id).name == "Renamed"


def test_delete_asks_first_then_deletes_an_unused_school(client, world, db):
    spare = factories.make_school(db, world.a.district, name="Portable Annex")
    db.commit()
    # a stale obligation still naming it (its device moved; no scan since)
    stale = Obligation(
        district_id=world.a.district.id,
        kind=ObligationKind.REFRESH,
        subject_type="device",
        subject_id=factories.make_device(db, world.a.district).id,
        due_date=date(2027, 6, 30),
        decide_by=date(2027, 6, 30),
        fiscal_year=2027,
        school_id=spare.id,
    )
    db.add(stale)
    db.commit()
    sign_in(client, world.a.it)

    confirm = _page(client.get(f"/schools/{spare.id}/delete"))
    fragment = client.post(f"/schools/{spare.id}/delete", headers=htmx())

    assert "Delete Portable Annex?" in confirm and 'method="post"' in confirm
    assert fragment.status_code == 204
    assert fragment.headers["HX-Redirect"].endswith("/schools")
    assert _school(db, spare.id) is None
    assert fresh(db).get(Obligation, stale.id).school_id is None  # detached


def test_deleting_a_school_still_in_use_is_refused_with_a_409(client, world, db):
    school = world.a.school
    factories.make_device(db, world.a.district, school_id=school.id)
    factories.make_contract(
        db, world.a.district, coverage="site", coverage_school_id=school.id
    )
    db.commit()
    sign_in(client, world.a.it)

    confirm = _page(client.get(f"/schools/{school.id}/delete"))
    response = client.post(f"/schools/{school.id}/delete", headers=htmx())

    assert "still has 1 device, 0 licenses and 1 site contract." in confirm
    assert "cannot be deleted yet" in confirm
    assert response.status_code == 409
    page = _page(response)
    assert "<html" not in page and 'data-testid="delete-refused"' in page
    assert "still has 2 devices, licenses or contracts" in page
    assert "move them to another school first" in page
    assert _school(db, school.id) is not None


@pytest.mark.parametrize("who", ["a.finance", "a.viewer", "coop_staff", "admin"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/schools/new"),
        ("POST", "/schools"),
        ("GET", "/schools/{id}/edit"),
        ("POST", "/schools/{id}"),
        ("GET", "/schools/{id}/delete"),
        ("POST", "/schools/{id}/delete"),
    ],
)
def test_only_district_it_changes_schools(client, world, db, who, method, url):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    sign_in(client, user)
    school_id = world.a.school.id

    response = client.open(
        url.format(id=school_id),
        method=method,
        data={"name": "Hijacked", "version": "1"} if method == "POST" else None,
    )

    assert response.status_code == 403
    assert "Only district IT staff can change schools." in _page(response)
    assert _school(db, school_id).name == "Alpha ISD High School"


@pytest.mark.parametrize(
    "url",
    ["/schools/{id}", "/schools/{id}/edit", "/schools/{id}/delete"],
)
def test_another_districts_school_is_not_found(client, world, url):
    sign_in(client, world.a.it)
    target = url.format(id=world.b.school.id)

    for headers in ({}, htmx()):
        response = client.get(target, headers=headers)
        assert response.status_code == 404
        assert "Bravo" not in _page(response)
    post = client.post(
        f"/schools/{world.b.school.id}", data={"name": "x", "version": "1"}
    )
    assert post.status_code == 404


# --- detail ------------------------------------------------------------------


def test_the_detail_page_counts_what_is_assigned_to_the_school(client, world, db):
    a = world.a
    for category, status in [
        (DeviceCategory.CHROMEBOOK, DeviceStatus.IN_SERVICE),
        (DeviceCategory.CHROMEBOOK, DeviceStatus.SPARE),
        (DeviceCategory.PROJECTOR, DeviceStatus.IN_SERVICE),
    ]:
        factories.make_device(
            db, a.district, school_id=a.school.id, category=category, status=status
        )
    factories.make_device(db, a.district)  # not at this school
    factories.make_license(db, a.district, school_id=a.school.id, seats=250)
    db.commit()
    sign_in(client, a.viewer)

    page = _page(client.get(f"/schools/{a.school.id}"))

    devices = page.split('data-testid="count-devices"')[1].split("</div>")[0]
    assert ">3<" in devices and "2 in service" in devices
    licenses = page.split('data-testid="count-licenses"')[1].split("</div>")[0]
    assert ">1<" in licenses and "250 seats" in licenses
    assert page.index("Chromebook") < page.index("Projector")
    assert "Edit" not in page.split("<h1")[1].split("</div>")[0]
    assert db.exec(select(Device)).first() is not None
