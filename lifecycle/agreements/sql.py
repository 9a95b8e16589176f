"""The term rules of licenses and service contracts as SQL expressions
(docs/rules.md#terms-and-renewal-dates).

What the scan's set-based statements (agreements/advance.py, scan/obligations.py) share,
each the SQL twin of a rule in agreements/rules.py; tests/agreements/test_rules_sql.py
holds the two to the same worked cases.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from lifecycle.enums import RenewalType
from lifecycle.models import Agreement, License, ServiceContract
from lifecycle.sqlfuncs import add_days, add_months

SUBJECTS: dict[str, type[Agreement]] = {"license": License, "contract": ServiceContract}


def term_end_expr(model: type[Agreement], n: Any) -> sa.ColumnElement[Any]:
    """End of term n: start + (initial + (n−1)·renewal) months − 1 day."""
    months = col(model.initial_term_months) + (n - 1) * col(model.renewal_term_months)
    return add_days(add_months(col(model.term_start), months), -1)


def price_expr(model: type[Agreement]) -> Any:
    """The price of the current term: seats × price per seat, or the contract's cost."""
    if model is License:
        return col(License.seats) * col(License.price_per_seat)
    return col(ServiceContract.cost_per_period)


def decide_by_of(model: type[Agreement], term: Any) -> sa.ColumnElement[Any]:
    """The decide-by date of a decision about term `term`.

    Tacit: the term's end − notice days; express: its end; no term (NULL, as a `none`
    agreement has): NULL. `term` appears once in the expression, so an expensive one
    is evaluated once."""
    notice = sa.case(
        (col(model.renewal_type) == RenewalType.TACIT, col(model.notice_days)), else_=0
    )
    return add_days(term_end_expr(model, term), -notice)


def decide_by_expr(model: type[Agreement]) -> sa.ColumnElement[Any]:
    """The decide-by date of the stored decision term."""
    return decide_by_of(model, col(model.decision_term_number))
