"""Who sees and changes what through the API (docs/rules.md#tenancy-and-access)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from lifecycle.enums import ObligationKind
from lifecycle.models import District, JobRecord, Obligation, School
from tests.api.conftest import error_of, fresh
from tests.factories import make_device, make_license, make_school


@pytest.mark.parametrize("who", ["it", "finance", "viewer"])
def test_a_district_user_lists_only_their_own_schools_and_district(
    client, world, db, token_for, who
):
    make_school(db, world.b.district)
    db.commit()
    headers = token_for(getattr(world.a, who))

    schools = client.get("/api/v1/schools", headers=headers).json["items"]
    districts = client.get("/api/v1/districts", headers=headers).json["items"]
    # Asking for the other district by filter does not widen the scope.
    other = client.get(
        f"/api/v1/schools?district_id={world.b.district.id}", headers=headers
    ).json["items"]

    assert [s["id"] for s in schools] == [world.a.school.id]
    assert [d["id"] for d in districts] == [world.a.district.id]
    assert other == []


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_cooperative_staff_and_admins_read_every_district(
    client, world, token_for, who
):
    headers = token_for(getattr(world, who))

    districts = client.get("/api/v1/districts", headers=headers).json["items"]
    schools = client.get("/api/v1/schools", headers=headers).json["items"]
    one = client.get(f"/api/v1/districts/{world.b.district.id}", headers=headers)

    assert {d["id"] for d in districts} == {world.a.district.id, world.b.district.id}
    assert {s["id"] for s in schools} == {world.a.school.id, world.b.school.id}
    assert one.status_code == 200
    assert one.json["name"] == "Bravo ISD"


def test_another_districts_school_is_a_404_on_get_patch_and_delete(
    client, world, db, token_for
):
    theirs = world.b.school
    headers = token_for(world.a.it)

    got = client.get(f"/api/v1/schools/{theirs.id}", headers=headers)
    patched = client.patch(
        f"/api/v1/schools/{theirs.id}",
        json={"name": "Taken over", "version": theirs.version},
        headers=headers,
    )
    deleted = client.delete(f"/api/v1/schools/{theirs.id}", headers=headers)

    assert [got.status_code, patched.status_code, deleted.status_code] == [404] * 3
    assert error_of(got)["code"] == "not_found"
    stored = fresh(db).get(School, theirs.id)
    assert stored is not None
    assert stored.name == theirs.name


def test_another_district_is_a_404_for_a_district_user(client, world, token_for):
    response = client.get(
        f"/api/v1/districts/{world.b.district.id}", headers=token_for(world.a.viewer)
    )

    assert response.status_code == 404


def test_district_it_adds_a_school_to_their_own_district(client, world, db, token_for):
    response = client.post(
        "/api/v1/schools",
        json={"name": "Alpha STEM Academy", "level": "middle", "enrollment": 640},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 201
    body = response.json
    assert body["district_id"] == world.a.district.id
    assert body["version"] == 1
    stored = fresh(db).get(School, body["id"])
    assert (stored.name, stored.level, stored.enrollment) == (
        "Alpha STEM Academy",
        "middle",
        640,
    )


def test_district_it_cannot_add_a_school_to_another_district(
    client, world, db, token_for
):
    response = client.post(
        "/api/v1/schools",
        json={"name": "Planted", "district_id": world.b.district.id},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 404
    assert fresh(db).exec(select(School).where(School.name == "Planted")).all() == []


def test_a_second_school_with_the_same_name_is_a_422(client, world, token_for):
    response = client.post(
        "/api/v1/schools",
        json={"name": world.a.school.name.upper()},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    assert "name" in error_of(response)["fields"]


@pytest.mark.parametrize("who", ["a.finance", "a.viewer", "coop_staff", "admin"])
def test_only_district_it_creates_schools(client, world, db, token_for, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)

    response = client.post(
        "/api/v1/schools",
        json={"name": "Not allowed", "district_id": world.a.district.id},
        headers=token_for(user),
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert (
        fresh(db).exec(select(School).where(School.name == "Not allowed")).all() == []
    )


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_read_only_district_roles_cannot_change_or_delete_a_school(
    client, world, db, token_for, who
):
    school = world.a.school
    headers = token_for(getattr(world.a, who))

    patched = client.patch(
        f"/api/v1/schools/{school.id}",
        json={"name": "Renamed", "version": school.version},
        headers=headers,
    )
    deleted = client.delete(f"/api/v1/schools/{school.id}", headers=headers)

    assert (patched.status_code, deleted.status_code) == (403, 403)
    assert fresh(db).get(School, school.id).name == school.name


@pytest.mark.parametrize("who", ["coop_staff", "a.it"])
def test_only_admins_change_a_districts_settings(client, world, db, token_for, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    district = world.a.district

    response = client.patch(
        f"/api/v1/districts/{district.id}",
        json={"fy_start_month": 1, "version": district.version},
        headers=token_for(user),
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert fresh(db).get(District, district.id).fy_start_month == 7


def test_an_admin_changes_a_districts_settings(client, world, db, token_for):
    district = world.a.district

    response = client.patch(
        f"/api/v1/districts/{district.id}",
        json={
            "fy_start_month": 1,
            "reminder_thresholds": [30, 90, 60],
            "erate_c2_discount_pct": "80",
            "version": district.version,
        },
        headers=token_for(world.admin),
    )

    assert response.status_code == 200
    body = response.json
    assert body["fy_start_month"] == 1
    assert body["reminder_thresholds"] == [90, 60, 30]
    assert body["version"] == district.version + 1
    stored = fresh(db).get(District, district.id)
    assert stored.fy_start_month == 1
    assert stored.reminder_thresholds == [90, 60, 30]


def test_deleting_a_school_still_used_by_a_device_is_a_409(
    client, world, db, token_for
):
    school = world.a.school
    make_device(db, world.a.district, school_id=school.id)
    db.commit()

    response = client.delete(
        f"/api/v1/schools/{school.id}", headers=token_for(world.a.it)
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert "1 devices" in error["message"]
    assert fresh(db).get(School, school.id) is not None


def test_deleting_a_school_still_used_by_a_license_is_a_409(
    client, world, db, token_for
):
    school = world.a.school
    make_license(db, world.a.district, school_id=school.id)
    db.commit()

    response = client.delete(
        f"/api/v1/schools/{school.id}", headers=token_for(world.a.it)
    )

    assert response.status_code == 409
    assert fresh(db).get(School, school.id) is not None


def test_a_school_created_by_mistake_is_deleted(client, world, db, token_for):
    school_id = make_school(db, world.a.district, name="Typo Elementry").id
    db.commit()
    headers = token_for(world.a.it)

    response = client.delete(f"/api/v1/schools/{school_id}", headers=headers)

    assert response.status_code == 204
    assert response.data == b""
    assert (
        client.get(f"/api/v1/schools/{school_id}", headers=headers).status_code == 404
    )
    assert fresh(db).get(School, school_id) is None


def test_deleting_a_school_only_a_stale_obligation_points_at_works(
    client, world, db, token_for
):
    # Obligations are derived by the scan; one left pointing at a school whose
    # devices moved away must not turn the delete into a server error.
    school_id = make_school(db, world.a.district, name="Typo Elementry").id
    device = make_device(db, world.a.district)
    obligation = Obligation(
        district_id=world.a.district.id,
        kind=ObligationKind.REFRESH,
        subject_type="device",
        subject_id=device.id,
        due_date=date(2027, 7, 15),
        decide_by=date(2027, 7, 15),
        fiscal_year=2028,
        school_id=school_id,
    )
    db.add(obligation)
    db.commit()

    response = client.delete(
        f"/api/v1/schools/{school_id}", headers=token_for(world.a.it)
    )

    assert response.status_code == 204
    fresh(db)
    assert db.get(School, school_id) is None
    assert db.get(Obligation, obligation.id).school_id is None


def test_a_job_of_another_district_is_a_404(client, world, db, token_for):
    job = JobRecord(kind="scan", district_id=world.b.district.id, user_id=world.b.it.id)
    db.add(job)
    db.commit()

    mine = client.get(f"/api/v1/jobs/{job.id}", headers=token_for(world.b.viewer))
    theirs = client.get(f"/api/v1/jobs/{job.id}", headers=token_for(world.a.it))

    assert mine.status_code == 200
    assert mine.json["state"] == "queued"
    assert theirs.status_code == 404
