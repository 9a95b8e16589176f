from tests.conftest import login


def test_home_for_district_user_shows_own_counts(client, world, db):
    from tests.factories import make_device

    make_device(db, world.a.district)
    make_device(db, world.a.district)
    make_device(db, world.b.district)
    db.commit()
    login(client, world.a.it.email)
    body = client.get("/").get_data(as_text=True)
    assert "Alpha ISD" in body
    assert ">2<" in body
