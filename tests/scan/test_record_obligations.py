"""Detail pages of devices, licenses and contracts list the obligations that concern them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.renewals.test_actions_data import arrange, sign_in


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district, school_id=world.a.school.id)


def _panel(html: str) -> str:
    start = html.index('aria-labelledby="obligations-title"')
    return html[start : html.index("</section>", start)]


def test_device_page_lists_its_refresh_and_warranty(client, world, arranged):
    sign_in(client, world.a.it)
    html = client.get(f"/devices/{arranged.device.id}").get_data(as_text=True)
    panel = _panel(html)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>", panel)
    # soonest first: the warranty ends in 100 days, the refresh in ~8 months
    assert rows == ["Warranty", "Refresh"]
    link = re.search(r'href="([^"]*/renewals[^"]*)"', panel)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query == {"q": [arranged.device.asset_tag], "state": ["all"]}


def test_license_and_contract_pages_list_their_renewal_decisions(
    client, world, arranged
):
    sign_in(client, world.a.it)
    for url in (
        f"/licenses/{arranged.license.id}",
        f"/contracts/{arranged.contract.id}",
    ):
        panel = _panel(client.get(url).get_data(as_text=True))
        assert re.search(r"<td>(License|Contract) renewal</td>", panel), url
        assert "FY" in panel


def test_a_record_the_scan_has_not_seen_says_what_happens(client, db, world):
    device = factories.make_device(db, world.a.district)
    db.commit()
    sign_in(client, world.a.it)
    panel = _panel(client.get(f"/devices/{device.id}").get_data(as_text=True))
    assert "<table" not in panel
    assert "lifecycle scan" in panel and "Run scan now" in panel
    # a viewer cannot run the scan, so is not told to
    sign_in(client, world.a.viewer)
    panel = _panel(client.get(f"/devices/{device.id}").get_data(as_text=True))
    assert "lifecycle scan" in panel and "Run scan now" not in panel


def test_only_the_records_own_obligations_show(client, db, world, arranged):
    other = factories.make_device(db, world.a.district, asset_tag="OTHER-1")
    db.commit()
    sign_in(client, world.a.it)
    panel = _panel(client.get(f"/devices/{other.id}").get_data(as_text=True))
    assert "<table" not in panel
