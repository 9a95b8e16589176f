"""The pages licenses and service contracts share, parameterised by `AgreementPages`.

licenses/views.py and contracts/views.py keep their blueprints and routes (the URLs
and endpoint names); each route hands over to the matching method here, and the
modules add what differs: CSV columns, the detail page's extras, coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from flask import Response, url_for
from sqlmodel import Session
from werkzeug.routing import BuildError

from lifecycle.agreements import rules
from lifecycle.agreements import services as agreements
from lifecycle.agreements import terms as agreement_terms
from lifecycle.agreements.sql import term_lines
from lifecycle.agreements.term_table import TermView, last_row, view
from lifecycle.auth import get_user, is_district_it, require_district_it
from lifecycle.db import get_session
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.inventory.options import options
from lifecycle.models import Agreement, User
from lifecycle.renewals.queries import obligations_of
from lifecycle.tenancy import get_scoped
from lifecycle.web import listing
from lifecycle.web.edit import (
    done,
    form_values,
    form_version,
    inline_field,
    save_field,
    submit,
)
from lifecycle.web.htmx import is_fragment, posted_from, redirect_to, render
from lifecycle.web.lists import export_csv, load_list, render_list, run_bulk
from lifecycle.web.records import history


def can_edit(user: User) -> bool:
    return is_district_it(user)


def require_edit(user: User) -> None:
    require_district_it(user, "licenses and contracts")


def optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to a page another feature may not have yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def renewal_choices() -> dict[str, Any]:
    return {
        "renewal_types": [(r.value, r.label) for r in RenewalType],
        "statuses": [(s.value, s.label) for s in AgreementStatus],
    }


def term_context(view: Any) -> dict[str, Any]:
    """The term summary and history a detail page and an inline save both show."""
    return {
        "state": view.state,
        "explanation": view.explanation,
        "term_rows": view.rows,
    }


def term_view(session: Session, subject: str, obj: Agreement) -> TermView:
    """Today's term state, its plain explanation and the term history table.

    The current and later terms are priced by the set-based term lines a forecast
    reads (sql.term_lines), so the page shows the numbers the budget uses.
    """
    assert obj.id is not None
    records = {
        r.term_number: rules.Priced(r.price, r.seats)
        for r in agreement_terms.recorded_terms(session, subject, obj.id)
    }
    priced: dict[int, Decimal] = {}

    def price_of(state: rules.TermState, k: int) -> Decimal:
        if not priced:  # once, when the table first asks
            priced.update(_term_prices(session, subject, obj, state, records))
        return priced[k]

    return view(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewal_type=obj.renewal_type,
        notice_days=obj.notice_days,
        today=agreement_terms.district_today(session, obj.district_id),
        records=records,
        cancelled=obj.status is AgreementStatus.CANCELLED,
        price_of=price_of,
    )


def _term_prices(
    session: Session,
    subject: str,
    obj: Agreement,
    state: rules.TermState,
    records: dict[int, rules.Priced],
) -> dict[int, Decimal]:
    """The prices of the terms the table shows from today's on, from the term lines;
    the rules price any the stored fields do not reach yet (a row not scanned since
    it was loaded, or since its term ended)."""
    assert obj.id is not None
    last = last_row(state, renewal_type=obj.renewal_type, records=records)
    lines = term_lines(
        session,
        district_id=obj.district_id,
        until=rules.term(*agreement_terms.lengths_of(obj), last).start,
        subject_type=subject,
        ids=[obj.id],
    )
    current = min(obj.current_term_number or state.number, state.number)
    prices = {
        k: p.price
        for k, p in rules.term_prices(
            current=current,
            now=rules.Priced(agreement_terms.current_price(obj)),
            escalator_pct=agreement_terms.escalator(obj),
            records=records,
            through=max(last, current),
        ).items()
    }
    return prices | {line.number: line.price for line in lines}


@dataclass(frozen=True)
class AgreementPages:
    """What differs between the license pages and the service-contract pages."""

    subject: str  # the audit and term-record subject: "license" | "contract"
    model: type[Agreement]
    blueprint: str  # also the CSV file's name
    id_arg: str  # the URL's id parameter, e.g. "license_id"
    var: str  # the record's name in the templates, e.g. "lic"
    label: str  # how messages name one, e.g. "License"
    name_field: str  # the field that names a record, e.g. "product"
    inline_fields: tuple[str, ...]
    text_fields: tuple[str, ...]
    choices: Callable[[], dict[str, Any]]
    # Apply a (partial) form to the record; raises ValidationFailed or Conflict.
    update_one: Callable[[Any, dict[str, Any] | None], Any]
    # What an inline field's response shows besides the field and the terms.
    field_extras: Callable[[Any, Any], dict[str, Any]]
    verbs: dict[str, str]  # bulk action → what the flash says was done

    # --- plumbing -------------------------------------------------------------------

    def template(self, page: str) -> str:
        return f"agreements/{self.blueprint}/{page}.html"

    def url(self, view: str, ident: int | None = None, **values: Any) -> str:
        if ident is not None:
            values[self.id_arg] = ident
        return url_for(f"{self.blueprint}.{view}", **values)

    def name_of(self, obj: Any) -> str:
        return str(getattr(obj, self.name_field))

    def load(self, ident: int) -> Any:
        """The record if the user may see it, else 404."""
        return get_scoped(get_session(), self.model, ident, get_user())

    def load_to_edit(self, ident: int) -> Any:
        """The record, once the user may change agreements (403) and see it (404)."""
        require_edit(get_user())
        return self.load(ident)

    # --- list and export ------------------------------------------------------------

    def list_page(
        self,
        spec: listing.ListSpec,
        stmt_for: Callable[[User], listing.AnySelect],
        row_key: Callable[[listing.ListQuery], Any] | None = None,
    ) -> Response:
        """A list page, or its results fragment with the count and summary out of band."""
        user = get_user()
        session = get_session()
        query, page, errors = load_list(spec, stmt_for(user), row_key=row_key)
        return render_list(
            self.template("list"),
            errors=errors,
            full=lambda: {
                "opts": options(session, user),
                "funding_sources": agreements.funding_sources(
                    session, user, self.model
                ),
            },
            page=page,
            query=query,
            labels={f.name: f.label for f in spec.filters},
            can_edit=can_edit(user),
            **self.choices(),
        )

    def export(
        self,
        spec: listing.ListSpec,
        stmt_for: Callable[[User], listing.AnySelect],
        header: list[str],
        row: Callable[[Any], Iterable[Any]],
    ) -> Response:
        """The list's filter as CSV, named with the district's date."""
        user = get_user()
        day = agreement_terms.district_today(get_session(), user.district_id or 0)
        stmt = stmt_for(user)
        return export_csv(spec, stmt, header, row, self.blueprint, day=day)

    # --- forms ----------------------------------------------------------------------

    def form(
        self,
        obj: Any,
        values: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        status: int = 200,
        conflict: dict[str, Any] | None = None,
    ) -> Response:
        user = get_user()
        return render(
            self.template("form"),
            "form",
            status=status,
            **{self.var: obj},
            values=values,
            errors=errors or {},
            conflict=conflict,
            opts=options(get_session(), user, district_id=user.district_id),
            **self.choices(),
        )

    def new(self, defaults: dict[str, Any]) -> Response:
        require_edit(get_user())
        return self.form(None, defaults)

    def create(self, create_one: Callable[[], Any]) -> Response:
        require_edit(get_user())
        return submit(
            create_one,
            form=self.form,
            record=None,
            then=lambda obj: done(
                f"{self.label} {self.name_of(obj)} added.",
                self.url("detail", obj.id),
            ),
        )

    def edit(self, ident: int) -> Response:
        obj = self.load_to_edit(ident)
        return self.form(obj, form_values(obj))

    def update(self, ident: int) -> Response:
        obj = self.load_to_edit(ident)
        return submit(
            lambda: self.update_one(obj, None),
            form=self.form,
            record=obj,
            reload=lambda: self.load(ident),
            then=lambda _: done(
                f"{self.label} {self.name_of(obj)} saved.", self.url("detail", ident)
            ),
        )

    # --- detail and click-to-edit ---------------------------------------------------

    def term_view(self, obj: Any) -> TermView:
        return term_view(get_session(), self.subject, obj)

    def detail(self, obj: Any, view: Any, **extra: Any) -> Response:
        """The detail page: terms, the feature's `extra`, history, the edit choices."""
        session = get_session()
        user = get_user()
        return render(
            self.template("detail"),
            **{self.var: obj},
            **term_context(view),
            **extra,
            events=history(session, entity_type=self.subject, entity_id=obj.id),
            obligations=obligations_of(
                session, subject_type=self.subject, subject_id=obj.id
            ),
            obligations_search={"q": self.name_of(obj), "state": "all"},
            can_edit=can_edit(user),
            opts=options(session, user, district_id=obj.district_id),
        )

    def field(self, obj: Any, field: str, *, editing: bool, **extra: Any) -> Response:
        """One field (shown or being edited); after a save, the summaries out of band."""
        view = self.term_view(obj)
        return render(
            self.template("field"),
            status=extra.pop("status", 200),
            **{self.var: obj},
            field=field,
            editing=editing,
            **term_context(view),
            can_edit=can_edit(get_user()),
            **self.field_extras(obj, view),
            **{"error": None, "value": None, "conflict": False, **extra},
        )

    def field_show(self, ident: int, field: str) -> Response:
        obj = self.load(ident)
        return self.field(obj, inline_field(field, self.inline_fields), editing=False)

    def field_edit(self, ident: int, field: str) -> Response:
        obj = self.load_to_edit(ident)
        name = inline_field(field, self.inline_fields)
        if not is_fragment():
            return redirect_to(self.url("edit", ident))
        return self.field(obj, name, editing=True)

    def field_save(self, ident: int, field: str) -> Response:
        obj = self.load_to_edit(ident)
        return save_field(
            obj,
            inline_field(field, self.inline_fields),
            update=self.update_one,
            show=self.field,
            reload=lambda: self.load(ident),
            text_fields=self.text_fields,
        )

    # --- renew, cancel, reinstate, delete, bulk -------------------------------------

    def change_state(self, ident: int, action: str) -> Response:
        """Renew, cancel or reinstate from the detail page."""
        obj = self.load_to_edit(ident)
        user = get_user()
        session = get_session()
        version = form_version()
        kwargs: dict[str, Any] = {"user": user, "subject": self.subject, "obj": obj}
        if action == "renew":
            record = agreement_terms.renew_by_hand(session, **kwargs, version=version)
            what = f"renewed for term {record.term_number}"
        else:
            cancelled = action == "cancel"
            agreement_terms.set_cancelled(
                session, **kwargs, version=version, cancelled=cancelled
            )
            what = "cancelled; its history is kept" if cancelled else "reinstated"
        session.commit()
        return done(f"{self.name_of(obj)} is {what}.", self.url("detail", ident))

    def delete(self, ident: int) -> Response:
        obj = self.load_to_edit(ident)
        session = get_session()
        name = self.name_of(obj)
        agreements.delete_agreement(
            session, user=get_user(), subject=self.subject, obj=obj
        )
        session.commit()
        return done(f"{self.label} {name} deleted.", self.url("index"))

    def bulk(self, action_fn: Callable[..., int]) -> Response:
        """Bulk actions on the selected records: a POST form of checkboxes."""
        require_edit(get_user())
        home = self.url("index")
        return run_bulk(
            action_fn,
            self.verbs,
            self.subject,
            back=partial(posted_from, home),
        )
