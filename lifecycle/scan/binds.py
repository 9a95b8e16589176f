"""Bind parameters of the scan's statements.

The scan's statements are built once per process (`sqlfuncs.built_once`) and run for
every district and night; what differs from one run to the next is bound here.
(Not named after columns: SQLAlchemy reserves those names in INSERT and UPDATE.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from lifecycle.models import UtcDateTime, utcnow

DISTRICT = sa.bindparam("p_district_id", type_=sa.Integer())
TODAY = sa.bindparam("p_today", type_=sa.Date())
NOW = sa.bindparam("p_now", type_=UtcDateTime())


def scan_params(district_id: int, today: date) -> dict[str, Any]:
    """The values of DISTRICT, TODAY and NOW for one run."""
    return {"p_district_id": district_id, "p_today": today, "p_now": utcnow()}
