"""``pms bench --target`` against a gateway without ``/health/ready``: a real HTTP server
offering only the original system's public contract (``original_like_gateway.py``), with
its process watched by PID. Runs wrk for real (installed with apt on first use as root);
no PostgreSQL, Kafka or platform is needed, so no port of ours is taken."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FOREIGN = "not measured (foreign target)"
SERVER = Path(__file__).with_name("original_like_gateway.py")
PMS = Path(sys.executable).with_name("pms")
BENCH_LIMIT_SECONDS = 600  # a hung run fails the test instead of the whole suite


@pytest.fixture
def original_like_gateway() -> Iterator[tuple[str, int]]:
    """Its base URL and PID."""
    server = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def _bench(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PMS), "bench", *arguments],
        capture_output=True,
        text=True,
        timeout=BENCH_LIMIT_SECONDS,
        check=False,
    )


def _needs_wrk() -> None:
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is not installed and cannot be (apt-get needs root)")


def test_the_bench_measures_reads_and_watched_resources_of_a_gateway_without_health_ready(
    original_like_gateway: tuple[str, int], tmp_path: Path
) -> None:
    _needs_wrk()
    url, pid = original_like_gateway
    run = _bench(
        "--target",
        url,
        "--no-start",
        "--quick",
        "--seconds",
        "1",
        "--scenarios",
        "read,read-direct,ceiling,read-100k,events,replay,resources",
        "--no-install-oha",
        "--min-patients",
        "0",
        "--watch-pid",
        f"gateway={pid}",
        "--out",
        str(tmp_path),
    )
    assert run.returncode == 0, run.stderr[-4000:]
    results: dict[str, Any] = json.loads((tmp_path / "latest.json").read_text())
    scenarios = results["scenarios"]

    read = scenarios["read"]
    assert read["status"] == "measured"
    assert read["peak_ok_rate"] > 0
    assert all(set(r["statuses"]) == {"200"} for r in read["runs"]), read["runs"]
    assert read["cpu_seconds_per_1000_requests"]["gateway"] > 0

    for name in ("read-direct", "ceiling", "read-100k", "events", "replay"):
        assert scenarios[name]["status"].startswith(FOREIGN), (name, scenarios[name])
    resources = scenarios["resources"]
    assert set(resources["rss_mb_idle"]) == {"gateway"}
    assert resources["rss_mb_idle"]["gateway"] > 0
    assert resources["cold_start"]["status"].startswith(FOREIGN)
    assert results["meta"]["watched_processes"] == {"gateway": [pid]}
    assert results["meta"]["platform"].startswith("foreign")

    markdown = (tmp_path / "latest.md").read_text()
    assert f"{FOREIGN}: reads our patients service" in markdown


def test_a_foreign_target_that_refuses_the_login_is_not_ready_with_a_clear_message(
    original_like_gateway: tuple[str, int], tmp_path: Path
) -> None:
    url, _ = original_like_gateway
    run = _bench("--target", url, "--no-start", "--password", "wrong", "--out", str(tmp_path))
    assert run.returncode == 1
    assert "no /health/ready: checked as a foreign target" in run.stderr
    assert "answered 401" in run.stderr
    assert "Traceback" not in run.stderr
