"""The lifecycle scan of one district: terms, refresh dates, then obligations (docs/architecture.md#the-scan-is-set-based-sql).

Set-based from start to end and idempotent: running it twice changes nothing the second
time, so a retried job, a duplicate tick or a second worker is harmless.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from lifecycle.agreements.advance import AgreementChanges, advance_agreements
from lifecycle.scan.obligations import ObligationChanges, derive_obligations
from lifecycle.scan.refresh import recompute_device_refresh


@dataclass
class ScanResult:
    district_id: int
    agreements: AgreementChanges
    devices_refreshed: int
    obligations: ObligationChanges

    @property
    def changed(self) -> int:
        a = self.agreements
        return (
            a.initialised + a.renewed + a.lapsed + a.ended + a.decide_by_moved
            + self.devices_refreshed + self.obligations.written + self.obligations.closed
            + self.obligations.reopened_from_snooze
        )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            **{f"terms_{k}": v for k, v in asdict(self.agreements).items()},
            "devices_refreshed": self.devices_refreshed,
            "obligations_written": self.obligations.written,
            "obligations_closed": self.obligations.closed,
            "snoozes_ended": self.obligations.reopened_from_snooze,
        }


def scan_district(session: Session, *, district_id: int, today: date) -> ScanResult:
    """Bring one district's derived data to `today`; the caller commits once."""
    plan_once(session)
    agreements = advance_agreements(session, district_id=district_id, today=today)
    refreshed = recompute_device_refresh(session, district_id=district_id)
    obligations = derive_obligations(session, district_id=district_id, today=today)
    return ScanResult(district_id, agreements, refreshed, obligations)


def plan_once(session: Session) -> None:
    """For the rest of this transaction, PostgreSQL plans each prepared statement once.

    The scan's statements are built once and differ between districts only in bound
    values; psycopg prepares a statement its connection has run five times. PostgreSQL
    would still plan many of them again on every run when it judges that a plan made
    for the values might be cheaper — for the few hundred rows of one district it never
    is by enough to pay for the planning (bench/scan.py: about a tenth of the database
    time of an unchanged rescan). The plans stay robust for the biggest district:
    every statement reads one district through its indexes and compares with stored
    rows through a snapshot taken once (see obligations._upsert_stmt).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "SET LOCAL plan_cache_mode = force_generic_plan"
        )
