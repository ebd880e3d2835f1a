"""The scratch database of ``read-100k``: 100,000 patients seeded through SQL.

It lives on the platform's PostgreSQL server under a name of its own
(``pms_patients_bench_100k``, refused if it were a service's database), gets its schema
from the patients service's own ``migrate`` (so it has the same tables and indexes as
``pms_patients``, including any migration added since the last run), and is filled by one
``INSERT ... SELECT FROM generate_series``: registering 100,000 patients through the API
would take the bench many minutes and measure the create path instead.

The rows are deterministic functions of their number: 40 first names, 26 initials and 50
last names (52,000 distinct names, so the default order by name has few ties), unique
emails made of the name and the number, 20 streets in 20 cities, dates of birth between
1930 and 2003, registration dates between 2010 and 2025, each billed (``ACTIVE``, with an
account id). A database that already holds exactly that many patients is reused (only
its audit trail is emptied and its statistics refreshed), since seeding and indexing
100,000 rows costs several seconds of both cores.
"""

import os
import time
from dataclasses import dataclass
from typing import Any

import asyncpg

from pms_cli.infra.urls import database_url
from pms_cli.service_processes import run_to_completion
from pms_cli.services import SERVICES, service_named

SCALE_PATIENTS = 100_000
SCRATCH_DATABASE = "pms_patients_bench_100k"
CONNECT_TIMEOUT_SECONDS = 10.0

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kwame", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tove",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiden", "Bianca", "Carlos", "Daria",
    "Emeka", "Freya", "Gustavo", "Hana", "Igor", "Julia", "Kenji", "Leila", "Marek", "Noor",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Bakker", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okonkwo", "Petrov",
    "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Wagner", "Xu", "Yilmaz",
    "Zielinski", "Andersson", "Brennan", "Costa", "Delgado", "Esposito", "Fontaine",
    "Gallagher", "Horvat", "Iqbal", "Jovanovic", "Kaya", "Larsen", "Mendes", "Novak",
    "Oliveira", "Park", "Romero", "Sato", "Torres", "Ueda", "Vasquez", "Weber", "Young",
    "Zhang",
)  # fmt: skip
STREETS = (
    "Oak Street", "Maple Avenue", "Station Road", "Church Lane", "Mill Road", "High Street",
    "Park Avenue", "River Walk", "Elm Close", "Victoria Road", "Harbour View", "Cedar Drive",
    "Linden Way", "Market Square", "Orchard Lane", "Bridge Street", "Willow Court",
    "Chapel Row", "Kingsway", "Meadow Rise",
)  # fmt: skip
CITIES = (
    "Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Ashford", "Brookfield",
    "Clearwater", "Dunmore", "Eastwick", "Fernhill", "Glenwood", "Hollybrook", "Irvington",
    "Juniper Falls", "Kingsbridge", "Longmeadow", "Millbrook", "Northgate", "Oakridge",
)  # fmt: skip
SEARCH_TERM = "Okonkwo"
"""What ``read-100k`` searches for: one last name of 50, so one patient in 50 matches
(2,000 of 100,000) by name and email: some rows, not most."""


class ScratchDatabaseError(ValueError):
    """The name given for the scratch database is one the platform uses."""


def check_scratch_name(name: str) -> str:
    """``name`` if it is safe to drop: never a service's own database, and marked as the
    bench's, so that no typo can drop ``pms_patients``."""
    platform = {spec.database for spec in SERVICES if spec.database is not None}
    if name in platform or "bench" not in name:
        raise ScratchDatabaseError(f"{name!r} is not a bench scratch database name")
    return name


def _sql_array(values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"ARRAY[{quoted}]::text[]"


def seed_sql(count: int) -> str:
    """One statement that inserts patients 1..``count`` (see the module's docstring)."""
    if count < 1:
        raise ValueError("the seed needs at least one patient")
    firsts, lasts = len(FIRST_NAMES), len(LAST_NAMES)
    return f"""\
INSERT INTO patients (id, name, email, address, date_of_birth, registered_date,
                      created_at, updated_at, version, billing_account_id, billing_status,
                      billing_attempts, billing_next_attempt_at)
SELECT gen_random_uuid(),
       first || ' ' || chr(65 + (n / {firsts * lasts} % 26)::int) || '. ' || last,
       lower(first) || '.' || lower(last) || '.' || n || '@example.org',
       (1 + n * 37 % 998) || ' ' || street || ', ' || city,
       born,
       registered,
       registered + make_interval(secs => n % 86400),
       registered + make_interval(secs => n % 86400),
       1,
       gen_random_uuid()::text,
       'ACTIVE',
       0,
       registered + make_interval(secs => n % 86400)
  FROM (SELECT n,
               ({_sql_array(FIRST_NAMES)})[1 + n % {firsts}] AS first,
               ({_sql_array(LAST_NAMES)})[1 + (n / {firsts}) % {lasts}] AS last,
               ({_sql_array(STREETS)})[1 + abs(hashint8(n)::bigint) % {len(STREETS)}] AS street,
               ({_sql_array(CITIES)})[1 + abs(hashint8(-n)::bigint) % {len(CITIES)}] AS city,
               DATE '1930-01-01' + (n * 7919 % 27000)::int AS born,
               DATE '2010-01-01' + (n * 104729 % 5800)::int AS registered
          FROM generate_series(1::bigint, {count}) AS n) AS seed
"""  # noqa: S608 - only this module's constants and an int go in


@dataclass(frozen=True)
class ScratchDatabase:
    """The prepared scratch database: its URL for the service, how many patients it
    holds, and whether this run seeded it (else it was reused)."""

    name: str
    service_url: str
    patients: int
    seeded: bool
    prepare_seconds: float
    found: int | None = None  # patients it held before (None: no database or no table)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "patients": self.patients,
            "seeded_now": self.seeded,
            "patients_found": self.found,
            "prepare_seconds": round(self.prepare_seconds, 1),
        }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)


async def _patients_in(url: str) -> int | None:
    """How many patients the database holds; ``None`` when it has no such table."""
    connection = await _connect(url)
    try:
        table = await connection.fetchval("SELECT to_regclass('public.patients')")
        if table is None:
            return None
        return int(await connection.fetchval("SELECT count(*) FROM patients"))
    finally:
        await connection.close()


async def _recreate(admin_url: str, name: str) -> None:
    admin = await _connect(admin_url)
    try:
        # FORCE: a scratch service left running by a crashed run must not keep it alive.
        await admin.execute(f"DROP DATABASE IF EXISTS {_quoted(check_scratch_name(name))} (FORCE)")
        await admin.execute(f"CREATE DATABASE {_quoted(name)}")
    finally:
        await admin.close()


async def _exists(admin_url: str, name: str) -> bool:
    admin = await _connect(admin_url)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def migrate(service_url: str) -> None:
    """The patients service's own ``migrate``, pointed at the scratch database."""
    spec = service_named("patients")
    environment = {**os.environ, f"{spec.env_prefix}DATABASE_URL": service_url}
    await run_to_completion(spec, "migrate", environment)


async def _seed(url: str, count: int) -> None:
    connection = await _connect(url)
    try:
        await connection.execute(seed_sql(count))
        # What autovacuum would soon do on its own (mid-measurement): the visibility map
        # for index-only counts and fresh statistics for the planner.
        await connection.execute("VACUUM (ANALYZE) patients")
    finally:
        await connection.close()


async def _reset_for_reuse(url: str) -> None:
    connection = await _connect(url)
    try:
        # Earlier runs' reads left their audit rows; start each run from the same table.
        await connection.execute("TRUNCATE audit_log")
        await connection.execute("ANALYZE patients")  # a new migration may add an index
    finally:
        await connection.close()


async def prepare_scratch_database(
    admin_url: str, name: str = SCRATCH_DATABASE, count: int = SCALE_PATIENTS
) -> ScratchDatabase:
    """The scratch database with exactly ``count`` patients, migrated: reused when it
    already holds them, else dropped, created, migrated, seeded and analysed."""
    started = time.monotonic()
    name = check_scratch_name(name)
    plain_url = database_url(admin_url, name, driver="postgresql")
    service_url = database_url(admin_url, name)
    found = await _patients_in(plain_url) if await _exists(admin_url, name) else None
    reuse = found == count
    if reuse:
        await migrate(service_url)
        await _reset_for_reuse(plain_url)
    else:
        await _recreate(admin_url, name)
        await migrate(service_url)
        await _seed(plain_url, count)
    patients = await _patients_in(plain_url) or 0
    seconds = time.monotonic() - started
    return ScratchDatabase(name, service_url, patients, not reuse, seconds, found)
