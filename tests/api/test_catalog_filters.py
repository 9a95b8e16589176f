"""Enum filters are validated, not passed to the database."""


def test_an_unknown_kind_is_a_422_naming_the_choices(client, world, token_for):
    headers = token_for(world.a.it)
    response = client.get("/api/v1/catalog-items?kind=bogus", headers=headers)
    assert response.status_code == 422
    assert "device, license, service" in response.get_json()["error"]["fields"]["kind"]
    ok = client.get(
        "/api/v1/catalog-items?kind=device&category=chromebook", headers=headers
    )
    assert ok.status_code == 200
