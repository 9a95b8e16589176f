"""Obligations derived from the inventory by set-based SQL (docs/rules.md#obligations).

One INSERT … SELECT … ON CONFLICT DO UPDATE per kind creates or updates every obligation of
a district; UPDATE statements close the ones whose subject no longer needs a decision.
Rows whose values did not change are not written, so an unchanged rescan writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.agreements.sql import term_end_expr
from lifecycle.budget.fiscal import fiscal_year
from lifecycle.enums import (
    NO_REFRESH_STATUSES,
    AgreementStatus,
    ObligationKind,
    ObligationState,
    RenewalType,
)
from lifecycle.models import (
    Agreement,
    CatalogItem,
    CategoryPolicy,
    Device,
    District,
    License,
    Obligation,
    PriceTier,
    Reminder,
    ServiceContract,
    TermRecord,
)
from lifecycle.money import growth_factor
from lifecycle.scan.binds import DISTRICT, NOW, TODAY, scan_params
from lifecycle.sqlfuncs import (
    add_days,
    among,
    built_once,
    compounded,
    ids_in,
    rowcount,
    upsert_insert,
)

OPEN_STATES = (
    ObligationState.UPCOMING,
    ObligationState.NOTIFIED,
    ObligationState.ACKNOWLEDGED,
    ObligationState.SNOOZED,
)
# Closed because the subject went or stopped needing the decision: derived again if
# it comes back (the other closed states are decisions someone took).
CLOSED_AS_GONE = (ObligationState.RETIRED, ObligationState.LAPSED)
MAX_YEARS = 15
COLUMNS = [
    "district_id", "kind", "subject_type", "subject_id", "term_number", "due_date",
    "decide_by", "estimated_cost", "fiscal_year", "category", "school_id",
    "funding_source", "catalog_item_id", "quantity", "state", "created_at", "updated_at",
]  # fmt: skip
DERIVED = [
    "due_date", "decide_by", "estimated_cost", "fiscal_year", "category", "school_id",
    "funding_source", "catalog_item_id", "quantity",
]  # fmt: skip


# What changes from one district (and night) to the next is bound as parameters, so
# each statement is built once per process and run for every district (`built_once`).
START_MONTH = sa.bindparam("fy_start_month", type_=sa.Integer())
CURRENT_FY = sa.bindparam("current_fy", type_=sa.Integer())
FACTORS = {
    k: sa.bindparam(f"inflation_{k}", type_=sa.Numeric(20, 10))
    for k in range(1, MAX_YEARS + 1)
}


@dataclass(frozen=True)
class Calendar:
    """A district's money calendar for one scan: today, its fiscal years and inflation."""

    today: date
    start_month: int
    inflation_pct: Decimal

    @property
    def current_fy(self) -> int:
        return fiscal_year(self.today, self.start_month)

    def params(self) -> dict[str, Any]:
        """The values of START_MONTH, CURRENT_FY and the inflation factors."""
        return {
            "fy_start_month": self.start_month,
            "current_fy": self.current_fy,
            **{f"inflation_{k}": growth_factor(self.inflation_pct, k) for k in FACTORS},
        }


def fiscal_year_of(day: Any) -> sa.ColumnElement[Any]:
    """FY of a date column, named by its end year; anything overdue is the current FY."""
    year = sa.cast(sa.extract("year", day), sa.Integer)
    month = sa.cast(sa.extract("month", day), sa.Integer)
    later = sa.case((sa.and_(START_MONTH > 1, month >= START_MONTH), 1), else_=0)
    return sa.case((day < TODAY, CURRENT_FY), else_=year + later)


def inflation(fy: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """(1 + inflation)^(whole fiscal years ahead), as exact decimal factors."""
    # CASE x WHEN …: PostgreSQL evaluates x once, not once per WHEN
    return sa.case(
        FACTORS,
        value=fy - CURRENT_FY,
        else_=sa.literal(Decimal(1), sa.Numeric(20, 10)),
    )


def calendar_for(session: Session, district_id: int, today: date) -> Calendar:
    found = session.execute(
        sa.select(col(District.fy_start_month), col(District.inflation_pct)).where(
            col(District.id) == district_id
        )
    ).one_or_none()
    if found is None:
        raise LookupError(f"no district {district_id}")
    start_month, inflation_pct = found
    return Calendar(today, start_month, Decimal(inflation_pct))


def _cents(expr: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(sa.func.round(expr, 2), sa.Numeric(14, 2))


KEY = ["district_id", "subject_type", "subject_id", "kind", "term_number"]
# What each derivation selects: COLUMNS but the kind and subject, which it is run for.
SELECTED = [name for name in COLUMNS if name not in ("kind", "subject_type")]
RENEWAL_KINDS: dict[type[Agreement], tuple[ObligationKind, str]] = {
    License: (ObligationKind.LICENSE_RENEWAL, "license"),
    ServiceContract: (ObligationKind.CONTRACT_RENEWAL, "contract"),
}


def _upsert_stmt(
    session: Session, select: sa.Select[Any], kind: ObligationKind, subject: str
) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of the obligations of one kind about one subject
    table that `select` derives (its columns labelled with the SELECTED names).

    Rows already stored with the same values are left out before the INSERT: ON
    CONFLICT would lock each conflicting row, dirtying its page, even when its WHERE
    then skips the update — and an unchanged rescan must not write. They are compared
    with a snapshot of the district's stored rows taken once (a CTE PostgreSQL keeps as
    such), not with the table the statement is inserting into: where statistics say
    that table is (nearly) empty, the planner reads it again for every derived row,
    new rows' pages included, and a big district's first scan grows quadratic.
    """
    given = {name: select.selected_columns[name] for name in SELECTED}
    given |= {"kind": sa.literal(kind.value), "subject_type": sa.literal(subject)}
    labelled = select.with_only_columns(
        *[given[name].label(f"d_{name}") for name in COLUMNS]
    )
    derived = labelled.subquery("derived")
    c = {name: derived.c[f"d_{name}"] for name in COLUMNS}
    stored = (
        sa.select(*[getattr(Obligation, name) for name in KEY + DERIVED])
        .where(
            col(Obligation.district_id) == DISTRICT,
            col(Obligation.subject_type) == subject,
            col(Obligation.kind) == kind,
            ~among(col(Obligation.state), CLOSED_AS_GONE),
        )
        .cte("stored")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    same = sa.exists().where(
        *[stored.c[name] == c[name] for name in KEY],
        *[stored.c[name].is_not_distinct_from(c[name]) for name in DERIVED],
    )
    fresh = sa.select(*c.values()).where(~same)
    insert = upsert_insert(session, Obligation).from_select(COLUMNS, fresh)
    excluded = insert.excluded
    changed = sa.or_(
        *[
            getattr(Obligation, name).is_distinct_from(getattr(excluded, name))
            for name in DERIVED
        ],
        among(col(Obligation.state), CLOSED_AS_GONE),
    )
    reopened = sa.case(
        (
            among(col(Obligation.state), CLOSED_AS_GONE),
            ObligationState.UPCOMING,
        ),
        else_=col(Obligation.state),
    )
    stmt = insert.on_conflict_do_update(
        index_elements=KEY,
        set_={
            **{name: getattr(excluded, name) for name in DERIVED},
            "state": reopened,
            "updated_at": excluded.updated_at,
        },
        where=changed,
    )
    return stmt.execution_options(preserve_rowcount=True)


def _derived(**columns: Any) -> list[sa.ColumnElement[Any]]:
    """The columns of an obligation a derivation selects, each labelled with its name
    (`_upsert_stmt` takes them by name: a reordering cannot swap two dates); the
    state and timestamps of a new obligation are added here."""
    columns |= {
        "state": sa.literal(ObligationState.UPCOMING.value),
        "created_at": NOW,
        "updated_at": NOW,
    }
    if sorted(columns) != sorted(SELECTED):
        raise ValueError(f"an obligation has {SELECTED}, not {sorted(columns)}")
    return [expr.label(name) for name, expr in columns.items()]


def _device_refresh_select() -> sa.Select[Any]:
    """Refresh obligations, priced at the district's own tier for each cohort (§3.4).

    The tier price is looked up once per cohort (replacement item × fiscal year), not
    once per device."""
    due = col(Device.refresh_due)
    dev = (
        sa.select(
            col(Device.id).label("id"),
            col(Device.district_id).label("district_id"),
            due.label("due"),
            col(Device.category).label("category"),
            col(Device.school_id).label("school_id"),
            col(Device.funding_source).label("funding_source"),
            col(Device.purchase_cost).label("purchase_cost"),
            sa.func.coalesce(
                col(CategoryPolicy.replacement_item_id), col(Device.catalog_item_id)
            ).label("item_id"),
            fiscal_year_of(due).label("fy"),
        )
        .select_from(Device)
        .outerjoin(
            CategoryPolicy,
            sa.and_(
                col(CategoryPolicy.district_id) == DISTRICT,
                col(CategoryPolicy.category) == col(Device.category),
            ),
        )
        .where(
            col(Device.district_id) == DISTRICT,
            due.is_not(None),
            ~among(col(Device.status), NO_REFRESH_STATUSES),
        )
        .cte("dev")
    )
    counted = (
        sa.select(dev.c.item_id, dev.c.fy, sa.func.count().label("qty"))
        .where(dev.c.item_id.is_not(None))
        .group_by(dev.c.item_id, dev.c.fy)
        .subquery("counted")
    )
    tier_price = (
        sa.select(col(PriceTier.unit_price))
        .where(
            col(PriceTier.catalog_item_id) == counted.c.item_id,
            col(PriceTier.min_qty) <= counted.c.qty,
        )
        .order_by(col(PriceTier.min_qty).desc())
        .limit(1)
        .scalar_subquery()
    )
    cohort = (
        sa.select(
            counted.c.item_id,
            counted.c.fy,
            sa.func.coalesce(tier_price, col(CatalogItem.list_price)).label("unit"),
        )
        .select_from(
            counted.outerjoin(CatalogItem, col(CatalogItem.id) == counted.c.item_id)
        )
        .cte("cohort")
    )
    unit = sa.func.coalesce(cohort.c.unit, dev.c.purchase_cost, 0)
    return (
        sa.select(
            *_derived(
                district_id=dev.c.district_id,
                subject_id=dev.c.id,
                term_number=sa.literal(0),
                due_date=dev.c.due,
                decide_by=dev.c.due,
                estimated_cost=_cents(unit * inflation(dev.c.fy)),
                fiscal_year=dev.c.fy,
                category=dev.c.category,
                school_id=dev.c.school_id,
                funding_source=dev.c.funding_source,
                catalog_item_id=dev.c.item_id,
                quantity=sa.literal(1),
            )
        )
        .select_from(dev)
        .outerjoin(
            cohort, sa.and_(cohort.c.item_id == dev.c.item_id, cohort.c.fy == dev.c.fy)
        )
    )


def _warranty_select() -> sa.Select[Any]:
    """Upcoming warranty ends: extend the warranty or accept the risk (no cost estimate)."""
    end = col(Device.warranty_end)
    return sa.select(
        *_derived(
            district_id=col(Device.district_id),
            subject_id=col(Device.id),
            term_number=sa.literal(0),
            due_date=end,
            decide_by=end,
            estimated_cost=sa.literal(Decimal("0.00"), sa.Numeric(14, 2)),
            fiscal_year=fiscal_year_of(end),
            category=col(Device.category),
            school_id=col(Device.school_id),
            funding_source=col(Device.funding_source),
            catalog_item_id=col(Device.catalog_item_id),
            quantity=sa.literal(1),
        )
    ).where(
        col(Device.district_id) == DISTRICT,
        end >= TODAY,
        ~among(col(Device.status), NO_REFRESH_STATUSES),
    )


def _renewal_select(model: type[Agreement], *, committed: bool) -> sa.Select[Any]:
    """A renewal decision: the open one at the end of the decision term, or (committed)
    the current term of a tacit agreement whose notice date has passed.

    The renewal costs in the fiscal year its new term starts (§3.4): the day after the
    end. It costs the new term's price (rules.term_prices): the last final price — the
    decision term's own when it was renewed ahead at a price on record, else today's —
    compounded over every term from it, however many
    (docs/rules.md#contract-prices-and-the-term-history).
    """
    n = col(model.current_term_number)
    k = col(model.decision_term_number)
    number = n if committed else k
    term_end = term_end_expr(model, number)
    where = [
        col(model.district_id) == DISTRICT,
        col(model.status) == AgreementStatus.ACTIVE,
        k.is_not(None),
        n.is_not(None),
    ]
    if committed:
        where += [col(model.renewal_type) == RenewalType.TACIT, k > n]
    _, subject = RENEWAL_KINDS[model]
    if model is License:
        own = ["seats", "price_per_seat", "school_id", "catalog_item_id"]
    else:
        own = [
            "cost_per_period", "escalator_pct", "coverage_category",
            "coverage_school_id",
        ]  # fmt: skip
    renewed = sa.and_(col(TermRecord.subject_type) == subject, number > n)
    recorded = {
        field: sa.select(getattr(TermRecord, field))
        .where(
            renewed,
            col(TermRecord.subject_id) == col(model.id),
            col(TermRecord.term_number) == number,
        )
        .scalar_subquery()
        for field in ("price", "seats")
    }
    # The term's dates once per agreement, in a CTE PostgreSQL keeps as such: the fiscal
    # year and the inflation factor refer to them many times, and PostgreSQL computes a
    # repeated expression (here a month addition) each time it appears.
    term = (
        sa.select(
            *[
                getattr(model, name)
                for name in ["district_id", "id", "funding_source", *own]
            ],
            number.label("number"),
            (number + 1 - n).label("ahead"),
            add_days(term_end, 1).label("starts"),
            (
                add_days(term_end, -col(model.notice_days))
                if committed
                else col(model.decide_by)
            ).label("decide"),
            recorded["price"].label("renewed_price"),
            recorded["seats"].label("renewed_seats"),
        )
        .where(*where)
        .cte(f"{subject}_term")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    t = term.c
    fy = fiscal_year_of(t.starts)
    if model is License:
        # a license term costs what the term before it does: seats × price per seat
        price = sa.func.coalesce(t.renewed_price, t.seats * t.price_per_seat)
        cost = _cents(price * inflation(fy))
        quantity: Any = sa.func.coalesce(t.renewed_seats, t.seats)
        category: Any = sa.literal("license")
        school: Any = t.school_id
        item: Any = t.catalog_item_id
    else:
        growth = 1 + t.escalator_pct / 100
        base = sa.func.coalesce(t.renewed_price, t.cost_per_period)
        steps = sa.case((t.renewed_price.is_not(None), 1), else_=t.ahead)
        cost = _cents(base * compounded(growth, steps))
        quantity = sa.literal(1)
        category = sa.func.coalesce(t.coverage_category, "service")
        school = t.coverage_school_id
        item = sa.cast(sa.null(), sa.Integer())
    return (
        sa.select(
            *_derived(
                district_id=t.district_id,
                subject_id=t.id,
                term_number=t.number,
                due_date=t.starts,
                decide_by=t.decide,
                estimated_cost=cost,
                fiscal_year=fy,
                category=category,
                school_id=school,
                funding_source=t.funding_source,
                catalog_item_id=item,
                quantity=quantity,
            )
        )
        .select_from(term)
        # dates past the calendar are NULL: a far-off stored term start has no renewal
        .where(t.starts.is_not(None), t.decide.is_not(None))
    )


@dataclass
class ObligationChanges:
    written: int = 0
    closed: int = 0
    reopened_from_snooze: int = 0


def _closing_select() -> sa.CompoundSelect[Any]:
    """Open obligations whose subject no longer needs the decision, with their new state.

    Read first, written only when something closes (on most nights nothing does): one
    branch per subject table, each joining only its own obligations to its subjects.
    The first rule that applies names the new state: a retired, lost or deleted device,
    a refresh nobody needs, a warranty end cleared or passed, a term renewed, an
    agreement no longer active or gone.
    """
    subject_id = col(Obligation.subject_id)

    def branch(
        subject: str, model: Any, rules: list[tuple[sa.ColumnElement[bool], str]]
    ) -> sa.Select[Any]:
        new_state = sa.case(*rules).label("state")
        return (
            sa.select(col(Obligation.id).label("id"), new_state)
            .select_from(Obligation)
            .outerjoin(
                model,
                sa.and_(
                    col(model.id) == subject_id, col(model.district_id) == DISTRICT
                ),
            )
            .where(
                col(Obligation.district_id) == DISTRICT,
                col(Obligation.subject_type) == subject,
                among(col(Obligation.state), OPEN_STATES),
                sa.or_(*[applies for applies, _ in rules]),
            )
        )

    retired, lapsed = ObligationState.RETIRED.value, ObligationState.LAPSED.value
    device_gone = sa.or_(
        col(Device.id).is_(None),
        among(col(Device.status), NO_REFRESH_STATUSES),
    )
    branches = [
        branch(
            "device",
            Device,
            [
                (device_gone, retired),
                (
                    sa.and_(
                        col(Obligation.kind) == ObligationKind.REFRESH,
                        col(Device.refresh_due).is_(None),
                    ),
                    retired,
                ),
                (
                    sa.and_(
                        col(Obligation.kind) == ObligationKind.WARRANTY,
                        col(Device.warranty_end).is_(None),
                    ),
                    retired,
                ),
                (
                    sa.and_(
                        col(Obligation.kind) == ObligationKind.WARRANTY,
                        # the stored due date, or a warranty end since corrected
                        # to a past day (the upsert derives no row to update it)
                        sa.or_(
                            col(Obligation.due_date) < TODAY,
                            col(Device.warranty_end) < TODAY,
                        ),
                    ),
                    lapsed,
                ),
            ],
        )
    ]
    for subject, model in (("license", License), ("contract", ServiceContract)):
        # renewed: the agreement went on past the term, or an express one was
        # renewed ahead (the open decision is a later term's now)
        renewed = sa.or_(
            col(model.current_term_number) > col(Obligation.term_number),
            sa.and_(
                col(model.renewal_type) == RenewalType.EXPRESS,
                col(model.decision_term_number) > col(Obligation.term_number),
            ),
        )
        inactive = sa.or_(
            col(model.id).is_(None), col(model.status) != AgreementStatus.ACTIVE
        )
        branches.append(
            branch(
                subject,
                model,
                [(renewed, ObligationState.DONE.value), (inactive, lapsed)],
            )
        )
    return sa.union_all(*branches)


def _close(session: Session, params: dict[str, Any]) -> int:
    """Move the obligations `_closing_select` finds to their new state; how many moved."""
    closing = built_once(session, "closing obligations", lambda _: _closing_select())
    found: dict[str, list[int]] = {}
    for obligation_id, state in session.connection().execute(closing, params):
        found.setdefault(state, []).append(obligation_id)
    closed = 0
    for state, ids in found.items():
        closed += rowcount(
            session.execute(
                sa.update(Obligation)
                .where(
                    ids_in(session, col(Obligation.id), ids),
                    col(Obligation.state).in_(OPEN_STATES),
                )
                .values(state=state, updated_at=params["p_now"])
                .execution_options(synchronize_session=False)
            )
        )
    return closed


def _wake_snoozed_stmt() -> Any:
    notified = sa.exists().where(
        col(Reminder.obligation_id) == col(Obligation.id),
        col(Reminder.term_number) == col(Obligation.term_number),
    )
    return (
        sa.update(Obligation)
        .where(
            col(Obligation.district_id) == DISTRICT,
            col(Obligation.state) == ObligationState.SNOOZED,
            col(Obligation.snoozed_until) <= TODAY,
        )
        .values(
            state=sa.case(
                (notified, ObligationState.NOTIFIED), else_=ObligationState.UPCOMING
            ),
            snoozed_until=None,
            updated_at=NOW,
        )
        .execution_options(synchronize_session=False)
    )


def _upserts(session: Session) -> list[Any]:
    upserts = [
        (_device_refresh_select(), ObligationKind.REFRESH, "device"),
        (_warranty_select(), ObligationKind.WARRANTY, "device"),
    ]
    for model, (kind, subject) in RENEWAL_KINDS.items():
        for committed in (False, True):
            upserts.append((_renewal_select(model, committed=committed), kind, subject))
    return [_upsert_stmt(session, *upsert) for upsert in upserts]


def derive_obligations(
    session: Session, *, district_id: int, today: date
) -> ObligationChanges:
    """Create, update and close every obligation of one district; idempotent."""
    cal = calendar_for(session, district_id, today)
    params = {**scan_params(district_id, today), **cal.params()}
    run = session.connection().execute  # Core: the parameters are not ORM values
    changes = ObligationChanges()
    for stmt in built_once(session, "obligation upserts", _upserts):
        changes.written += rowcount(run(stmt, params), session)
    changes.closed = _close(session, params)
    wake = built_once(session, "wake snoozed", lambda _: _wake_snoozed_stmt())
    changes.reopened_from_snooze = rowcount(run(wake, params))
    return changes
