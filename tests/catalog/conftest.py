"""A small catalog for the editing tests: one vendor, one vehicle, one item with tiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from lifecycle.models import CatalogItem, ContractVehicle, Vendor
from tests import factories
from tests.api.conftest import token_for  # noqa: F401  (the API tests here use it)


@dataclass
class Shelf:
    vendor: Vendor
    vehicle: ContractVehicle
    item: CatalogItem


@pytest.fixture
def shelf(db: Session, world: factories.World) -> Shelf:
    vendor = factories.make_vendor(db, name="Dell Technologies")
    vehicle = factories.make_vehicle(
        db,
        world.coop,
        vendor,
        contract_number="R99-TECH-2025",
        title="Student computing devices",
        lead_agency="Region 99 ESC",
        term_start=date.today() - timedelta(days=700),
        term_end=date.today() + timedelta(days=400),
    )
    item = factories.make_catalog_item(
        db,
        vehicle,
        sku="DELL-3120",
        name="Dell Chromebook 3120",
        list_price=Decimal("520.00"),
        tiers=[(1, "520.00"), (250, "495.00"), (1000, "470.00")],
    )
    db.commit()
    return Shelf(vendor, vehicle, item)
