"""Choices the device forms and filters offer."""

from __future__ import annotations

from lifecycle.inventory.options import funding_sources
from tests import factories


def test_funding_sources_are_the_districts_own_distinct_and_sorted(db, world):
    for source in ("Title I", "ESSER III", "", "General fund", "ESSER III", "E-Rate"):
        factories.make_device(db, world.a.district, funding_source=source)
    factories.make_device(db, world.b.district, funding_source="Bond 2024")
    db.commit()

    mine = funding_sources(db, world.a.it, None)
    theirs = funding_sources(db, world.b.it, None)
    named = funding_sources(db, world.coop_staff, world.a.district.id)
    everyone = funding_sources(db, world.coop_staff, None)

    assert mine == ["E-Rate", "ESSER III", "General fund", "Title I"]
    assert theirs == ["Bond 2024"]
    assert named == mine
    assert everyone == sorted([*mine, "Bond 2024"])
    # another district's id from a district's staff: nothing of theirs
    assert funding_sources(db, world.b.it, world.a.district.id) == []


def test_a_district_without_funding_sources_offers_none(db, world):
    factories.make_device(db, world.a.district)
    db.commit()

    assert funding_sources(db, world.a.it, None) == []
