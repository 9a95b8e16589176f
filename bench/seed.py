"""Seed a statewide cooperative FAST: 1,000 districts, a million devices, set-based SQL.

Row values come from small "profile" tables drawn in Python with the demo's
distributions (profiles.py), then one INSERT … SELECT per district and table
(rows.py) picks a profile per row with a deterministic integer hash of the row's id.
Ids are assigned here, so a later step can find a row's profile again (term history)
and pick "1 % of rows" by id. Reference data (catalog, districts, schools, users,
policies) is in reference.py.

On PostgreSQL the row source is generate_series, the big tables' indexes are built
after the load and FK triggers are skipped for it (the rows are consistent by
construction); on SQLite (the smoke test) a recursive CTE does the same at toy sizes.
Run alone it keeps the database for exploring:

    python -m bench.seed --devices 100000 --db-name lifecycle_bench
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col

import lifecycle.models  # noqa: F401  (registers every table)
from lifecycle.models import (
    Cooperative,
    Device,
    District,
    License,
    School,
    ServiceContract,
    TermRecord,
    User,
)

from .common import (
    add_database_args,
    create_database,
    database_url,
    is_postgres,
    stopwatch,
)
from .profiles import (
    BENCH,
    CONTRACT_PROFILES,
    LICENSE_PROFILES,
    contract_profile_rows,
    contract_profiles,
    device_profile_rows,
    device_profiles,
    license_profile_rows,
    license_profiles,
    people,
    people_rows,
)
from .reference import (
    EMAIL_DOMAIN,
    MAKERS,
    PASSWORD,
    allocate,
    create_catalog,
    create_districts,
    create_policies,
    create_schools,
    create_users,
    row_id,
)
from .rows import (
    DistrictInfo,
    insert_contracts,
    insert_devices,
    insert_licenses,
    insert_term_history,
)

__all__ = ["PASSWORD", "DistrictInfo", "SeedReport", "Sizes", "describe", "seed"]


@dataclass(frozen=True)
class Sizes:
    """How much to seed. The big district gets `big_share` of the devices."""

    districts: int = 1000
    devices: int = 1_000_000
    licenses: int = 200_000
    contracts: int = 50_000
    big_devices: int | None = None
    big_share: float = 0.14
    schools: int = 10
    big_schools: int = 70

    @property
    def big(self) -> int:
        if self.districts <= 1:
            return self.devices
        if self.big_devices is not None:
            return min(self.big_devices, self.devices)
        return round(self.devices * self.big_share)


@dataclass
class SeedReport:
    """What was seeded, who to sign in as, and how long each step took."""

    districts: list[DistrictInfo]
    big: DistrictInfo
    average: DistrictInfo
    today: date
    password: str = PASSWORD
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        rows = ", ".join(f"{v:,} {k}" for k, v in self.rows.items())
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        return (
            f"seeded {rows}\n  in {sum(self.seconds.values()):.1f}s ({steps})\n"
            f"  big district: {self.big.name} (id {self.big.id}, "
            f"{self.big.devices:,} devices)\n"
            f"  average district: {self.average.name} (id {self.average.id}, "
            f"{self.average.devices:,} devices)"
        )


# --- bulk-load tuning (PostgreSQL) ----------------------------------------------------


def _secondary_indexes(table: sa.Table) -> list[sa.Index]:
    return [ix for ix in table.indexes if not ix.unique]


def _unique_constraints(table: sa.Table) -> list[sa.UniqueConstraint]:
    return [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]


def _drop_for_load(conn: Connection, table: sa.Table) -> None:
    for ix in _secondary_indexes(table):
        conn.execute(sa.schema.DropIndex(ix, if_exists=True))
    for uq in _unique_constraints(table):
        conn.execute(sa.schema.DropConstraint(uq, if_exists=True))


def _restore_after_load(conn: Connection, table: sa.Table) -> None:
    for uq in _unique_constraints(table):
        conn.execute(sa.schema.AddConstraint(uq))
    for ix in _secondary_indexes(table):
        conn.execute(sa.schema.CreateIndex(ix))


def _skip_fk_triggers(conn: Connection) -> None:
    """Needs a superuser; without one the load just checks every foreign key."""
    try:
        with conn.begin_nested():
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    except sa.exc.DBAPIError:
        pass


def _set_sequence(conn: Connection, table: str) -> None:
    conn.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    )


# --- the whole seed ---------------------------------------------------------------------


def create_schema(engine: Engine) -> None:
    """The app's tables as the models define them (what `lifecycle db upgrade` builds)."""
    SQLModel.metadata.create_all(engine)


def seed(
    engine: Engine,
    sizes: Sizes,
    *,
    today: date | None = None,
    random_seed: int = 2026,
    derive: bool = True,
    log: bool = False,
) -> SeedReport:
    """Fill an empty schema; returns who to sign in as and how long each step took.

    With `derive`, devices carry the refresh date a write through the app stores; without
    it they are left empty for the first scan to fill, as `lifecycle seed-demo` does.
    Licenses and contracts always come with their original start only (and part of
    their term history), so the first scan derives their current terms.
    """
    today = today or date.today()
    rng = random.Random(random_seed)
    pg = is_postgres(engine)
    seconds: dict[str, float] = {}

    def say(message: str) -> None:
        if log:
            print(f"  … {message}", flush=True)

    with stopwatch() as elapsed, Session(engine, expire_on_commit=False) as session:
        coop = Cooperative(name="Texas Statewide Technology Cooperative (bench)")
        session.add(coop)
        session.flush()
        catalog = create_catalog(session, row_id(coop))
        districts = create_districts(session, row_id(coop), sizes.districts, rng)
        conn = session.connection()
        school_ranges = create_schools(
            conn, districts, schools=sizes.schools, big_schools=sizes.big_schools
        )
        emails = create_users(conn, districts)
        create_policies(conn, districts, catalog)
        BENCH.drop_all(conn)
        BENCH.create_all(conn)
        conn.execute(
            sa.insert(device_profiles), device_profile_rows(rng, catalog, today)
        )
        conn.execute(sa.insert(people), people_rows(rng))
        conn.execute(
            sa.insert(license_profiles), license_profile_rows(rng, catalog, today)
        )
        conn.execute(
            sa.insert(contract_profiles), contract_profile_rows(rng, catalog, today)
        )
        session.commit()
        seconds["reference data"] = elapsed()
    say(f"reference data in {seconds['reference data']:.1f}s")

    infos = _plan(districts, school_ranges, emails, sizes, rng)
    bulk: list[sa.Table] = [
        SQLModel.metadata.tables[name]
        for name in ("devices", "licenses", "service_contracts", "term_records")
    ]
    with engine.begin() as conn:
        if pg:
            # The rows are consistent by construction: skip per-row FK triggers and
            # build the big tables' indexes once, after the load.
            _skip_fk_triggers(conn)
            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
            conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
            for table in bulk:
                _drop_for_load(conn, table)
        with stopwatch() as elapsed:
            first = 1
            for i, info in enumerate(infos):
                insert_devices(conn, info, first, i % len(MAKERS), derive=derive)
                first += info.devices
            seconds["devices"] = elapsed()
        say(f"{sizes.devices:,} devices in {seconds['devices']:.1f}s")
        with stopwatch() as elapsed:
            first_license = first_contract = 1
            for info in infos:
                insert_licenses(conn, info, first_license)
                insert_contracts(conn, info, first_contract)
                first_license += info.licenses
                first_contract += info.contracts
            insert_term_history(conn, License, license_profiles, 7, LICENSE_PROFILES)
            insert_term_history(
                conn, ServiceContract, contract_profiles, 0, CONTRACT_PROFILES
            )
            seconds["licenses and contracts"] = elapsed()
        say(f"licenses and contracts in {seconds['licenses and contracts']:.1f}s")
        with stopwatch() as elapsed:
            if pg:
                for table in bulk:
                    _restore_after_load(conn, table)
                for name in ("devices", "licenses", "service_contracts"):
                    _set_sequence(conn, name)
            BENCH.drop_all(conn)
            seconds["indexes"] = elapsed()
        say(f"indexes in {seconds['indexes']:.1f}s")
    with stopwatch() as elapsed:
        vacuum_analyze(engine)
        seconds["vacuum analyze"] = elapsed()
    say(f"VACUUM ANALYZE in {seconds['vacuum analyze']:.1f}s")
    big = infos[0]
    others = sorted(infos[1:] or infos, key=lambda d: d.devices)
    report = SeedReport(
        districts=infos,
        big=big,
        average=others[len(others) // 2],
        today=today,
        seconds=seconds,
    )
    report.rows = row_counts(engine)
    return report


def _plan(
    districts: list[tuple[District, str]],
    school_ranges: dict[int, tuple[int, int]],
    emails: dict[int, tuple[str, str]],
    sizes: Sizes,
    rng: random.Random,
) -> list[DistrictInfo]:
    """Rows per district: the big one first, the rest around the average (±50 %)."""
    rest = len(districts) - 1
    weights = [rng.uniform(0.5, 1.5) for _ in range(rest)]
    devices = [sizes.big, *allocate(sizes.devices - sizes.big, weights)]
    # Agreements grow with a district, but far slower than its device count.
    scale = [math.sqrt(max(d, 1)) for d in devices]
    licenses = allocate(sizes.licenses, scale)
    contracts = allocate(sizes.contracts, scale)
    out = []
    for i, (district, prefix) in enumerate(districts):
        district_id = row_id(district)
        it, finance = emails[district_id]
        out.append(
            DistrictInfo(
                id=district_id,
                nces_id=district.nces_id,
                name=district.name,
                tag_prefix=prefix,
                devices=devices[i],
                licenses=licenses[i],
                contracts=contracts[i],
                schools=school_ranges[district_id],
                it_email=it,
                finance_email=finance,
            )
        )
    return out


def describe(engine: Engine, today: date | None = None) -> SeedReport:
    """The report of a database seeded earlier (for --reuse), read back from its rows."""
    counts: dict[str, dict[int, int]] = {}
    with Session(engine) as session:
        for name, model in (
            ("devices", Device),
            ("licenses", License),
            ("contracts", ServiceContract),
        ):
            stmt = sa.select(col(model.district_id), sa.func.count()).group_by(
                col(model.district_id)
            )
            counts[name] = {int(d): int(n) for d, n in session.execute(stmt)}
        schools = {
            int(d): (int(first), int(n))
            for d, first, n in session.execute(
                sa.select(
                    col(School.district_id),
                    sa.func.min(col(School.id)),
                    sa.func.count(),
                ).group_by(col(School.district_id))
            )
        }
        rows = session.execute(
            sa.select(
                col(District.id), col(District.nces_id), col(District.name)
            ).order_by(col(District.id))
        ).all()
        prefixes = dict(
            session.execute(
                sa.select(
                    col(Device.district_id),
                    sa.func.min(col(Device.asset_tag)),
                ).group_by(col(Device.district_id))
            ).all()
        )
    infos = [
        DistrictInfo(
            id=int(i),
            nces_id=nces,
            name=name,
            tag_prefix=str(prefixes.get(i, "D-")).split("-")[0],
            devices=counts["devices"].get(i, 0),
            licenses=counts["licenses"].get(i, 0),
            contracts=counts["contracts"].get(i, 0),
            schools=schools.get(i, (0, 0)),
            it_email=f"it.{nces}@{EMAIL_DOMAIN}",
            finance_email=f"finance.{nces}@{EMAIL_DOMAIN}",
        )
        for i, nces, name in rows
    ]
    big = max(infos, key=lambda d: d.devices)
    others = sorted((d for d in infos if d is not big), key=lambda d: d.devices)
    report = SeedReport(
        districts=infos,
        big=big,
        average=others[len(others) // 2] if others else big,
        today=today or date.today(),
    )
    report.rows = row_counts(engine)
    return report


def vacuum_analyze(engine: Engine) -> None:
    """Planner statistics (and, on PostgreSQL, the visibility map) for the new rows."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if is_postgres(engine) else "ANALYZE"))


def row_counts(engine: Engine) -> dict[str, int]:
    tables = {
        "districts": District,
        "schools": School,
        "devices": Device,
        "licenses": License,
        "contracts": ServiceContract,
        "term records": TermRecord,
        "users": User,
    }
    with Session(engine) as session:
        return {
            name: int(
                session.execute(
                    sa.select(sa.func.count()).select_from(model)
                ).scalar_one()
            )
            for name, model in tables.items()
        }


def sizes_from(args: argparse.Namespace) -> Sizes:
    return Sizes(
        districts=args.districts,
        devices=args.devices,
        licenses=args.licenses,
        contracts=args.contracts,
        big_devices=args.big_devices,
    )


def add_size_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--districts", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--licenses", type=int, default=200_000)
    parser.add_argument("--contracts", type=int, default=50_000)
    parser.add_argument(
        "--big-devices",
        type=int,
        default=None,
        help="devices of the big district (default 14 %% of --devices)",
    )
    parser.add_argument(
        "--underived",
        action="store_true",
        help="leave devices' refresh dates empty for the first scan to fill "
        "(as seed-demo does) instead of storing them as app writes do",
    )


def bench_parser(description: str, db_name: str) -> argparse.ArgumentParser:
    """A benchmark's command line: the seed's sizes and the database's arguments."""
    parser = argparse.ArgumentParser(description=description)
    add_size_args(parser)
    add_database_args(parser, db_name)
    return parser


def seeded(args: argparse.Namespace, what: str) -> tuple[str, SeedReport]:
    """The database the arguments name, and what is in it: a kept one as it is
    (--reuse), else a new one seeded at the arguments' sizes (`what`: the rows to
    announce, e.g. "devices, licenses")."""
    if args.reuse:
        url = database_url(args.server_url, args.db_name)
        engine = sa.create_engine(url)
        report = describe(engine)
    else:
        sizes = sizes_from(args)
        counts = {
            "devices": sizes.devices,
            "licenses": sizes.licenses,
            "contracts": sizes.contracts,
        }
        named = ", ".join(f"{counts[w.strip()]:,} {w.strip()}" for w in what.split(","))
        print(f"Seeding {named} over {sizes.districts:,} districts…")
        url = create_database(args.server_url, args.db_name)
        engine = sa.create_engine(url)
        create_schema(engine)
        report = seed(engine, sizes, derive=not args.underived, log=True)
        print(report.describe())
    engine.dispose()
    return url, report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_size_args(parser)
    add_database_args(parser, "lifecycle_bench")
    args = parser.parse_args(argv)
    sizes = sizes_from(args)
    url = create_database(args.server_url, args.db_name)
    engine = sa.create_engine(url)
    create_schema(engine)
    report = seed(engine, sizes, derive=not args.underived, log=True)
    print(report.describe())
    print(f"database: {url}")
    print(f"sign in as {report.big.it_email} / {PASSWORD}")
    print(json.dumps({"big_district_id": report.big.id}))
    engine.dispose()


if __name__ == "__main__":
    main()
