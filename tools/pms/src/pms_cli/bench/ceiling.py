"""Scenario ``ceiling``: PostgreSQL's own rate for the queries behind one list request.

pgbench runs, on the same server and database (``pms_patients``), exactly what the
patients service's ``find_page`` sends for the default page (the first 50 by name, then
the count), with prepared statements as asyncpg uses them. The platform's read rate is
then stated as a fraction of this. A second script adds what the service also writes per
list (its audit entry: one row naming the 50 patients), inside a transaction that is
rolled back so that the audit trail is left untouched.
"""

import asyncio
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# What SQLAlchemy sends for the default page (every column of ``patients``), then the count.
PAGE_QUERY = (
    "SELECT id, name, email, address, date_of_birth, registered_date, created_at,\n"
    "       updated_at, version, billing_account_id, billing_status, billing_attempts,\n"
    "       billing_next_attempt_at\n"
    "  FROM patients ORDER BY name ASC, id ASC LIMIT 50 OFFSET 0;\n"
)
COUNT_QUERY = "SELECT count(*) AS count_1 FROM patients;\n"
AUDIT_INSERT = (
    "INSERT INTO audit_log (user_id, user_email, user_role, action, patient_ids, query,\n"
    "                       outcome, request_id)\n"
    "VALUES ('bench', 'bench@example.com', 'ADMIN', 'LIST',\n"
    "        ARRAY(SELECT id FROM patients ORDER BY name, id LIMIT 50), '{}', 'OK', 'pgbench');\n"
)
READ_SCRIPT = PAGE_QUERY + COUNT_QUERY
READ_WITH_AUDIT_SCRIPT = "BEGIN;\n" + PAGE_QUERY + COUNT_QUERY + AUDIT_INSERT + "ROLLBACK;\n"
# What the patients service writes for one create (its registration statement: the
# patient, its event in the outbox, its audit entry; then billing's answer recorded),
# in one transaction, rolled back: no event reaches the relay, no row stays.
CREATE_SCRIPT = (
    "\\set n random(1, 2000000000)\n"
    "BEGIN;\n"
    "WITH patient AS (\n"
    "    INSERT INTO patients (id, name, email, address, date_of_birth, registered_date,\n"
    "                          version, billing_status, billing_attempts,\n"
    "                          billing_next_attempt_at)\n"
    "    VALUES (gen_random_uuid(), 'Ceiling Person',\n"
    "            'ceiling-' || :n || '-' || :client_id || '@bench.invalid', '1 Road',\n"
    "            '1990-01-01', '2024-01-01', 1, 'PENDING', 0, now())\n"
    "    ON CONFLICT DO NOTHING RETURNING id\n"
    "), event AS (\n"
    "    INSERT INTO outbox_events (topic, key, value, headers)\n"
    "    SELECT 'patient', id::text, convert_to(repeat('x', 200), 'UTF8'),\n"
    '           \'{"event-id": "e", "event-type": "PATIENT_CREATED"}\'::jsonb FROM patient\n'
    "    RETURNING pg_notify('outbox_events', '')\n"
    "), audit AS (\n"
    "    INSERT INTO audit_log (user_id, user_email, user_role, action, patient_ids, query,\n"
    "                           outcome, request_id)\n"
    "    SELECT 'bench', 'bench@example.com', 'ADMIN', 'CREATE', ARRAY[id], NULL, 'SUCCESS',\n"
    "           'pgbench' FROM patient\n"
    ")\n"
    "SELECT patient.id::text AS created, (SELECT count(*) FROM event) AS recorded\n"
    "  FROM patient \\gset\n"
    "UPDATE patients SET billing_account_id = 'ceiling', billing_status = 'ACTIVE'\n"
    " WHERE id = :created::uuid;\n"
    "ROLLBACK;\n"
)

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    tps: float
    latency_ms: float
    failed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "tps": round(self.tps, 1),
            "latency_ms": round(self.latency_ms, 3),
            "failed": self.failed,
        }


def parse_pgbench(output: str, clients: int) -> PgbenchResult:
    tps = _TPS.search(output)
    latency = _LATENCY.search(output)
    if tps is None:
        raise ValueError("pgbench printed no tps line:\n" + output[-2000:])
    failed = _FAILED.search(output)
    return PgbenchResult(
        clients=clients,
        tps=float(tps[1]),
        latency_ms=float(latency[1]) if latency else float("nan"),
        failed=int(failed[1]) if failed else 0,
    )


def connection_arguments(postgres_url: str, database: str) -> tuple[list[str], dict[str, str]]:
    """pgbench's ``-h -p -U`` and ``PGPASSWORD`` from an admin URL of the server."""
    url = urlsplit(postgres_url)
    arguments = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        arguments += ["-U", unquote(url.username)]
    environment = {"PGPASSWORD": unquote(url.password)} if url.password else {}
    return [*arguments, database], environment


async def run_pgbench(
    pgbench: str,
    postgres_url: str,
    script: str,
    clients: int,
    seconds: float,
    database: str = "pms_patients",
) -> PgbenchResult:
    connection, environment = connection_arguments(postgres_url, database)
    with tempfile.TemporaryDirectory(prefix="pms-bench-") as folder:
        script_file = Path(folder) / "script.sql"
        script_file.write_text(script)
        process = await asyncio.create_subprocess_exec(
            pgbench,
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(max(1, round(seconds))),
            "-f",
            str(script_file),
            *connection,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **environment},
        )
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"pgbench exited with {process.returncode}:\n{text[-2000:]}")
    return parse_pgbench(text, clients)
