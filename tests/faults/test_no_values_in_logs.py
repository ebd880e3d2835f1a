"""Database errors on every write path leave no patient detail, password or hash in any
service's log, nor in the answers.

Auth, patients and billing run as the processes users run (``python -m pms_<name>
serve``, JSON logs to a file each). Once they have started, every table of their
databases gets a trigger that fails each write with a message quoting the row, which is
what PostgreSQL's own errors do (a unique violation's ``DETAIL``, a bad value's text).
Then each write path is called with values that appear nowhere else, and every log line
is searched for them.
"""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest

from pms_auth.models import MIGRATIONS_DIR as AUTH_MIGRATIONS
from pms_billing.models import MIGRATIONS_DIR as BILLING_MIGRATIONS
from pms_contracts.billing_service_pb2 import BillingRequest
from pms_contracts.billing_service_pb2_grpc import BillingServiceStub
from pms_patients.models import MIGRATIONS_DIR as PATIENTS_MIGRATIONS
from pms_platform.db import asyncpg_url
from pms_testing.databases import DatabaseFactory
from pms_testing.kafka import TopicFactory
from pms_testing.processes import ServiceProcess, free_port
from pms_testing.tokens import bearer

FAIL_EVERY_WRITE = """
CREATE FUNCTION fail_every_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'provoked failure for %', row_to_json(COALESCE(NEW, OLD))::text;
END $$;
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT tablename FROM pg_tables
                WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('CREATE TRIGGER fail_every_write BEFORE INSERT OR UPDATE OR DELETE
                        ON %I FOR EACH ROW EXECUTE FUNCTION fail_every_write()', name);
    END LOOP;
END $$;
"""

UNIQUE = uuid.uuid4().hex[:10]
SENT = {
    "name": f"Zebedee Quillfeather{UNIQUE}",
    "email": f"zq.{UNIQUE}@example.com",
    "address": f"77 Nowhere Close {UNIQUE}",
    "date_of_birth": "1933-07-29",
    "password": f"Secret-{UNIQUE}-pass",
}


class Services:
    def __init__(self, tmp_path: Path) -> None:
        self.logs = tmp_path
        self.auth_port, self.patients_port = free_port(), free_port()
        self.billing_port, self.billing_grpc_port = free_port(), free_port()
        self.databases: list[str] = []

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.auth_port}/.well-known/jwks.json"

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def error_lines(self, service: str) -> list[dict[str, object]]:
        """The lines of ``service``'s log that carry a stack trace."""
        lines = [
            json.loads(line) for line in (self.logs / f"{service}.log").read_text().splitlines()
        ]
        return [line for line in lines if "exception" in line]

    def everything_logged(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.logs.glob("*.log")))


@pytest.fixture
async def services(
    tmp_path: Path,
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
) -> AsyncIterator[Services]:
    running = Services(tmp_path)
    auth_db = await database_factory(AUTH_MIGRATIONS)
    patients_db = await database_factory(PATIENTS_MIGRATIONS)
    billing_db = await database_factory(BILLING_MIGRATIONS)
    running.databases = [auth_db, patients_db, billing_db]
    processes = [
        ServiceProcess(
            "pms_auth",
            running.auth_port,
            {
                "PMS_AUTH_HTTP_PORT": str(running.auth_port),
                "PMS_AUTH_DATABASE_URL": auth_db,
                "PMS_AUTH_DEVELOPMENT_KEY_DIR": str(tmp_path / "keys"),
                "PMS_AUTH_ARGON2_MEMORY_COST_KIB": "1024",
                "PMS_AUTH_ARGON2_TIME_COST": "1",
            },
            log_file=tmp_path / "auth.log",
        ),
        ServiceProcess(
            "pms_billing",
            running.billing_port,
            {
                "PMS_BILLING_HTTP_PORT": str(running.billing_port),
                "PMS_BILLING_GRPC_PORT": str(running.billing_grpc_port),
                "PMS_BILLING_DATABASE_URL": billing_db,
                "PMS_BILLING_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
                "PMS_BILLING_AUTH_JWKS_URL": running.jwks_url,
                "PMS_BILLING_BACKGROUND_WORKERS": "false",
            },
            log_file=tmp_path / "billing.log",
        ),
        ServiceProcess(
            "pms_patients",
            running.patients_port,
            {
                "PMS_PATIENTS_HTTP_PORT": str(running.patients_port),
                "PMS_PATIENTS_DATABASE_URL": patients_db,
                "PMS_PATIENTS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
                "PMS_PATIENTS_PATIENT_TOPIC": await kafka_topic_factory(partitions=1),
                "PMS_PATIENTS_BILLING_GRPC_TARGET": f"127.0.0.1:{running.billing_grpc_port}",
                "PMS_PATIENTS_AUTH_JWKS_URL": running.jwks_url,
                "PMS_PATIENTS_SEED_DEMO_PATIENTS": "false",
                "PMS_PATIENTS_BACKGROUND_WORKERS": "false",
            },
            log_file=tmp_path / "patients.log",
        ),
    ]
    try:
        for process in processes:
            await process.start()
        yield running
    finally:
        for process in reversed(processes):
            await process.stop()


async def fail_every_write(database_url: str) -> None:
    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        await connection.execute(FAIL_EVERY_WRITE)
    finally:
        await connection.close()


async def test_no_value_sent_to_a_failing_write_reaches_a_log_or_an_answer(
    services: Services,
) -> None:
    auth = services.url(services.auth_port)
    patients = services.url(services.patients_port)
    billing = services.url(services.billing_port)
    answers: dict[str, httpx.Response] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        # What the failing writes will act on, made while writes still work.
        login = await client.post(
            f"{auth}/login", json={"email": "testuser@test.com", "password": "password123"}
        )
        assert login.status_code == 200, login.text
        admin = bearer(login.json()["token"])
        registered = await client.post(
            f"{patients}/patients",
            json={
                "name": "Before Triggers",
                "email": f"before.{UNIQUE}@example.com",
                "address": "1 Early Road",
                "dateOfBirth": "1990-01-01",
                "registeredDate": "2024-01-01",
            },
            headers=admin,
        )
        assert registered.status_code == 201, registered.text
        patient_id = registered.json()["id"]
        assert registered.json()["billingStatus"] == "ACTIVE"
        invoice = await client.post(
            f"{billing}/billing/accounts/{patient_id}/invoices",
            json={"amountMinor": 1200, "currency": "EUR"},
            headers=admin,
        )
        assert invoice.status_code == 201, invoice.text
        invoice_id = invoice.json()["id"]
        user = await client.post(
            f"{auth}/users",
            json={
                "email": f"staff.{UNIQUE}@example.com",
                "password": "Staff-pass-123456",
                "role": "CLINICIAN",
            },
            headers=admin,
        )
        assert user.status_code == 201, user.text
        user_id = user.json()["id"]
        for database_url in services.databases:
            await fail_every_write(database_url)

        patient = {
            "name": SENT["name"],
            "email": SENT["email"],
            "address": SENT["address"],
            "dateOfBirth": SENT["date_of_birth"],
            "registeredDate": "2024-04-04",
        }
        calls = {
            "patients create": client.post(f"{patients}/patients", json=patient, headers=admin),
            "patients update": client.put(
                f"{patients}/patients/{patient_id}", json=patient, headers=admin
            ),
            "patients delete": client.delete(f"{patients}/patients/{patient_id}", headers=admin),
            "billing invoice": client.post(
                f"{billing}/billing/accounts/{patient_id}/invoices",
                json={"amountMinor": 700, "currency": "EUR", "description": SENT["name"]},
                headers=admin,
            ),
            "billing pay": client.post(
                f"{billing}/billing/invoices/{invoice_id}/pay",
                headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
            ),
            "billing void": client.post(
                f"{billing}/billing/invoices/{invoice_id}/void",
                json={"reason": SENT["address"]},
                headers=admin,
            ),
            "auth login": client.post(
                f"{auth}/login", json={"email": SENT["email"], "password": SENT["password"]}
            ),
            "auth refresh": client.post(
                f"{auth}/refresh", json={"refreshToken": login.json()["refreshToken"]}
            ),
            "auth user create": client.post(
                f"{auth}/users",
                json={"email": SENT["email"], "password": SENT["password"], "role": "CLINICIAN"},
                headers=admin,
            ),
            "auth user update": client.patch(
                f"{auth}/users/{user_id}", json={"role": "ANALYST"}, headers=admin
            ),
            "auth password": client.post(
                f"{auth}/users/{user_id}/password",
                json={"password": SENT["password"]},
                headers=admin,
            ),
        }
        for name, call in calls.items():
            answers[name] = await call
    async with grpc.aio.insecure_channel(f"127.0.0.1:{services.billing_grpc_port}") as channel:
        request = BillingRequest(
            patientId=str(uuid.uuid4()), name=SENT["name"], email=SENT["email"]
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await BillingServiceStub(channel).CreateBillingAccount(request, timeout=10)

    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(
        answers, 500
    )
    assert refused.value.code() == grpc.StatusCode.INTERNAL
    logged = services.everything_logged()
    assert "provoked failure" not in logged  # the database's message, quoting the row
    said = (
        logged + "".join(answer.text for answer in answers.values()) + str(refused.value.details())
    )
    for field, value in SENT.items():
        assert value not in said, field
    assert "$argon2" not in said
    # One line per error, not the app's and then the server's copy of the same trace.
    for service in ("patients", "billing", "auth"):
        failed = sum(name.startswith(service) for name in answers) + (service == "billing")
        assert len(services.error_lines(service)) == failed, service
