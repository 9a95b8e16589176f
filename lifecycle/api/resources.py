"""API resources of the foundation: districts, schools, vendors, vehicles, catalog, me, jobs."""

from __future__ import annotations

from flask import Response, jsonify, request
from sqlmodel import col, select

from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    body_as,
    dump,
    filters,
    one,
    operation,
    page,
)
from lifecycle.auth import get_user, require_roles
from lifecycle.catalog.services import item_read, tiers_by_item
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, ItemKind, Role
from lifecycle.home.services import get_job
from lifecycle.models import (
    CatalogItem,
    CatalogItemRead,
    ContractVehicle,
    ContractVehicleRead,
    District,
    DistrictRead,
    DistrictUpdate,
    School,
    SchoolCreate,
    SchoolRead,
    SchoolUpdate,
    UserRead,
    Vendor,
    VendorCreate,
    VendorRead,
    VendorUpdate,
)
from lifecycle.models.jobs import JobRead, JobRecord
from lifecycle.org import services as org
from lifecycle.tenancy import get_scoped, scoped
from lifecycle.web.errors import NotFound
from lifecycle.web.paging import id_page, parse_limit

COOP_WRITERS = require_roles(Role.COOP_STAFF, Role.ADMIN)

# --- districts ---------------------------------------------------------------


@operation(
    "/districts",
    "GET",
    summary="List member districts you can see",
    tag="districts",
    response=DistrictRead,
    many=True,
    query=[QueryParam("state", str)],
)
def list_districts() -> Response:
    user = get_user()
    return page(
        get_session(),
        scoped(select(District), District, user),
        District,
        DistrictRead,
        [QueryParam("state", str)],
    )


@operation(
    "/districts/<int:district_id>",
    "GET",
    summary="Get a district",
    tag="districts",
    response=DistrictRead,
)
def get_district(district_id: int) -> Response:
    return one(
        DistrictRead, get_scoped(get_session(), District, district_id, get_user())
    )


@operation(
    "/districts/<int:district_id>",
    "PATCH",
    summary="Change a district's settings (admin)",
    tag="districts",
    request=DistrictUpdate,
    response=DistrictRead,
)
@require_roles(Role.ADMIN)
def patch_district(district_id: int) -> Response:
    session = get_session()
    district = get_scoped(session, District, district_id, get_user())
    org.update_district(
        session, district=district, data=body_as(DistrictUpdate, DistrictRead, district)
    )
    session.commit()
    return one(DistrictRead, district)


# --- schools -----------------------------------------------------------------

SCHOOL_FILTERS = [QueryParam("district_id", int), QueryParam("level", str)]


@operation(
    "/schools",
    "GET",
    summary="List schools and sites",
    tag="schools",
    response=SchoolRead,
    many=True,
    query=SCHOOL_FILTERS,
)
def list_schools() -> Response:
    user = get_user()
    return page(
        get_session(),
        scoped(select(School), School, user),
        School,
        SchoolRead,
        SCHOOL_FILTERS,
    )


@operation(
    "/schools/<int:school_id>",
    "GET",
    summary="Get a school",
    tag="schools",
    response=SchoolRead,
)
def get_school(school_id: int) -> Response:
    return one(SchoolRead, get_scoped(get_session(), School, school_id, get_user()))


@operation(
    "/schools",
    "POST",
    summary="Add a school (district IT)",
    tag="schools",
    request=SchoolCreate,
    response=SchoolRead,
    status=201,
)
def create_school() -> Response:
    session = get_session()
    user = get_user()
    data = body_as(SchoolCreate, SchoolRead, district_id=user.district_id)
    school = org.create_school(session, user=user, data=data)
    session.commit()
    return one(SchoolRead, school, status=201)


@operation(
    "/schools/<int:school_id>",
    "PATCH",
    summary="Change a school (district IT)",
    tag="schools",
    request=SchoolUpdate,
    response=SchoolRead,
)
def patch_school(school_id: int) -> Response:
    session = get_session()
    user = get_user()
    school = get_scoped(session, School, school_id, user)
    org.update_school(
        session,
        user=user,
        school=school,
        data=body_as(SchoolUpdate, SchoolRead, school),
    )
    session.commit()
    return one(SchoolRead, school)


@operation(
    "/schools/<int:school_id>",
    "DELETE",
    summary="Delete a school created by mistake",
    tag="schools",
    status=204,
)
def delete_school(school_id: int) -> Response:
    session = get_session()
    user = get_user()
    school = get_scoped(session, School, school_id, user)
    org.delete_school(session, user=user, school=school)
    session.commit()
    return Response(status=204)


# --- vendors -----------------------------------------------------------------


@operation(
    "/vendors",
    "GET",
    summary="List vendors",
    tag="vendors",
    response=VendorRead,
    many=True,
    query=[QueryParam("name", str)],
)
def list_vendors() -> Response:
    get_user()
    return page(
        get_session(), select(Vendor), Vendor, VendorRead, [QueryParam("name", str)]
    )


@operation(
    "/vendors/<int:vendor_id>",
    "GET",
    summary="Get a vendor",
    tag="vendors",
    response=VendorRead,
)
def get_vendor(vendor_id: int) -> Response:
    get_user()
    vendor = get_session().get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("No such vendor.")
    return one(VendorRead, vendor)


@operation(
    "/vendors",
    "POST",
    summary="Add a vendor (cooperative staff)",
    tag="vendors",
    request=VendorCreate,
    response=VendorRead,
    status=201,
)
@COOP_WRITERS
def create_vendor() -> Response:
    session = get_session()
    vendor = org.create_vendor(session, data=body_as(VendorCreate, VendorRead))
    session.commit()
    return one(VendorRead, vendor, status=201)


@operation(
    "/vendors/<int:vendor_id>",
    "PATCH",
    summary="Change a vendor (cooperative staff)",
    tag="vendors",
    request=VendorUpdate,
    response=VendorRead,
)
@COOP_WRITERS
def patch_vendor(vendor_id: int) -> Response:
    session = get_session()
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("No such vendor.")
    org.update_vendor(
        session, vendor=vendor, data=body_as(VendorUpdate, VendorRead, vendor)
    )
    session.commit()
    return one(VendorRead, vendor)


# --- vehicles and catalog ----------------------------------------------------

VEHICLE_FILTERS = [QueryParam("vendor_id", int), QueryParam("contract_number", str)]


@operation(
    "/vehicles",
    "GET",
    summary="List cooperative contract vehicles",
    tag="catalog",
    response=ContractVehicleRead,
    many=True,
    query=VEHICLE_FILTERS,
)
def list_vehicles() -> Response:
    get_user()
    return page(
        get_session(),
        select(ContractVehicle),
        ContractVehicle,
        ContractVehicleRead,
        VEHICLE_FILTERS,
    )


@operation(
    "/vehicles/<int:vehicle_id>",
    "GET",
    summary="Get a contract vehicle",
    tag="catalog",
    response=ContractVehicleRead,
)
def get_vehicle(vehicle_id: int) -> Response:
    get_user()
    vehicle = get_session().get(ContractVehicle, vehicle_id)
    if vehicle is None:
        raise NotFound("No such contract vehicle.")
    return one(ContractVehicleRead, vehicle)


ITEM_FILTERS = [
    QueryParam("vehicle_id", int),
    QueryParam("kind", ItemKind),
    QueryParam("category", DeviceCategory),
    QueryParam("active", bool),
]


@operation(
    "/catalog-items",
    "GET",
    summary="List catalog items with their price tiers",
    tag="catalog",
    response=CatalogItemRead,
    many=True,
    query=ITEM_FILTERS,
)
def list_catalog_items() -> Response:
    get_user()
    session = get_session()
    stmt = apply_filters(
        select(CatalogItem), CatalogItem, filters(ITEM_FILTERS), ITEM_FILTERS
    )
    result = id_page(
        session,
        stmt,
        col(CatalogItem.id),
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    tiers = tiers_by_item(session, [i.id for i in result.items])
    items = [
        item_read(i, tiers.get(i.id, [])).model_dump(mode="json") for i in result.items
    ]
    return jsonify({"items": items, "next_cursor": result.next_cursor})


@operation(
    "/catalog-items/<int:item_id>",
    "GET",
    summary="Get a catalog item and its tiers",
    tag="catalog",
    response=CatalogItemRead,
)
def get_catalog_item(item_id: int) -> Response:
    get_user()
    session = get_session()
    item = session.get(CatalogItem, item_id)
    if item is None:
        raise NotFound("No such catalog item.")
    tiers = tiers_by_item(session, [item_id])
    return jsonify(item_read(item, tiers.get(item_id, [])).model_dump(mode="json"))


# --- me and jobs -------------------------------------------------------------


@operation(
    "/users/me",
    "GET",
    summary="The user the token belongs to",
    tag="users",
    response=UserRead,
)
def me() -> Response:
    return one(UserRead, get_user())


@operation(
    "/jobs/<int:job_id>",
    "GET",
    summary="A background job's state, progress and result",
    tag="jobs",
    response=JobRead,
)
def get_job_api(job_id: int) -> Response:
    record: JobRecord = get_job(get_session(), job_id=job_id, user=get_user())
    return jsonify(dump(JobRead, record))
