"""District isolation (docs/rules.md#tenancy-and-access): every query for district data goes through here.

District users see only their own district; cooperative staff and administrators read
across districts. Anything outside the caller's scope answers 404, never 403, so ids
of other districts' records are not even confirmed to exist.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel, col, select

from lifecycle.enums import Role
from lifecycle.models import District, User
from lifecycle.web.errors import Forbidden, NotFound

M = TypeVar("M", bound=SQLModel)
S = TypeVar("S")


def district_filter(user: User) -> int | None:
    """The one district a user is confined to, or None for cross-district readers."""
    if Role(user.role).is_district:
        if user.district_id is None:
            # a district role without a district sees nothing rather than everything
            return -1
        return user.district_id
    return None


def scoped(stmt: S, model: type[SQLModel], user: User) -> S:
    """Restrict a SELECT over `model` to the rows `user` may see."""
    district_id = district_filter(user)
    if district_id is None:
        return stmt
    query = cast(Select[Any], stmt)
    if model is District:
        return cast(S, query.where(col(District.id) == district_id))
    column = getattr(model, "district_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} is not district data; do not scope it")
    return cast(S, query.where(column == district_id))


def get_scoped(session: Session, model: type[M], ident: int, user: User) -> M:
    """Load one record the user may see, or raise NotFound (404)."""
    pk = getattr(model, "id")  # noqa: B009
    obj = session.exec(scoped(select(model).where(pk == ident), model, user)).first()
    if obj is None:
        raise NotFound()
    return obj


def writable_district(user: User, district_id: int | None = None) -> int:
    """The district a user may change inventory in; only district IT writes inventory."""
    if Role(user.role) is not Role.DISTRICT_IT or user.district_id is None:
        raise Forbidden("Only district IT staff can change a district's inventory.")
    if district_id is not None and district_id != user.district_id:
        raise NotFound()
    return user.district_id
