"""The pgbench scripts of the database ceiling and reading pgbench's report."""

import pytest

from pms_cli.bench.ceiling import (
    READ_SCRIPT,
    READ_WITH_AUDIT_SCRIPT,
    connection_arguments,
    parse_pgbench,
)

PGBENCH_OUTPUT = """\
pgbench (15.8 (Debian 15.8-0+deb12u1))
transaction type: /tmp/script.sql
number of clients: 16
number of transactions actually processed: 44321
number of failed transactions: 0 (0.000%)
latency average = 3.611 ms
initial connection time = 20.315 ms
tps = 4430.912288 (without initial connection time)
"""


def test_pgbench_report_gives_tps_latency_and_failures() -> None:
    result = parse_pgbench(PGBENCH_OUTPUT, clients=16)
    assert result.tps == pytest.approx(4430.912288)
    assert result.latency_ms == pytest.approx(3.611)
    assert result.failed == 0
    assert result.to_json() == {"clients": 16, "tps": 4430.9, "latency_ms": 3.611, "failed": 0}


def test_pgbench_without_tps_is_an_error() -> None:
    with pytest.raises(ValueError, match="no tps"):
        parse_pgbench("connection to server failed", clients=1)


def test_the_read_script_is_the_services_page_query_then_the_count() -> None:
    statements = [s.strip() for s in READ_SCRIPT.split(";") if s.strip()]
    assert len(statements) == 2
    assert statements[0].endswith("FROM patients ORDER BY name ASC, id ASC LIMIT 50 OFFSET 0")
    assert statements[1] == "SELECT count(*) AS count_1 FROM patients"


def test_the_audit_variant_rolls_back_so_the_audit_trail_is_untouched() -> None:
    assert READ_WITH_AUDIT_SCRIPT.startswith("BEGIN;")
    assert READ_WITH_AUDIT_SCRIPT.rstrip().endswith("ROLLBACK;")
    assert "INSERT INTO audit_log" in READ_WITH_AUDIT_SCRIPT


def test_connection_arguments_come_from_the_admin_url() -> None:
    arguments, environment = connection_arguments(
        "postgresql://pms:p%40ss@127.0.0.1:54329/postgres", "pms_patients"
    )
    assert arguments == ["-h", "127.0.0.1", "-p", "54329", "-U", "pms", "pms_patients"]
    assert environment == {"PGPASSWORD": "p@ss"}
