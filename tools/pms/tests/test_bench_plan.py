"""Options of `pms bench`: scenarios, modes, the URLs derived from the target."""

import pytest

from pms_cli.bench.cleanup import _registered_by_the_bench
from pms_cli.bench.plan import FULL, QUICK, SCENARIOS, BenchOptions, parse_scenarios
from pms_cli.bench.scenarios import not_measured_on_foreign


def test_scenarios_are_kept_in_the_suites_order() -> None:
    assert parse_scenarios("all") == SCENARIOS
    assert parse_scenarios("login, read") == ("read", "login")


def test_unknown_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        parse_scenarios("read,write")


def test_quick_mode_is_shorter_and_seconds_can_be_overridden() -> None:
    assert BenchOptions(quick=True).plan == QUICK
    assert BenchOptions().plan == FULL
    assert BenchOptions(quick=True, seconds=1).plan.seconds == 1
    assert QUICK.seconds < FULL.seconds


def test_direct_urls_default_to_ours_only_for_the_local_gateway() -> None:
    local = BenchOptions()
    assert local.direct_patients_url == "http://127.0.0.1:4000"
    assert local.direct_auth_url == "http://127.0.0.1:4005"
    remote = BenchOptions(target="http://java-gateway.test:4004")
    assert remote.direct_patients_url is None
    assert not remote.target_is_local
    given = BenchOptions(target="http://127.0.0.1:8080", patients_url="http://127.0.0.1:9000")
    assert given.direct_patients_url == "http://127.0.0.1:9000"
    assert given.target_is_local
    assert not given.target_is_default_gateway


def test_a_foreign_target_on_our_gateways_port_gets_none_of_our_services_urls() -> None:
    java = BenchOptions(foreign_target=True)
    assert java.target_is_default_gateway
    assert java.direct_patients_url is None
    assert java.direct_auth_url is None
    given = BenchOptions(foreign_target=True, patients_url="http://127.0.0.1:4000")
    assert given.direct_patients_url == "http://127.0.0.1:4000"


def test_scenarios_needing_our_internals_are_not_measured_on_a_foreign_target() -> None:
    foreign = BenchOptions(foreign_target=True)
    for name in ("read-direct", "ceiling", "read-100k", "events", "replay", "console"):
        status = not_measured_on_foreign(name, foreign)
        assert status is not None
        assert status.startswith("not measured (foreign target): ")
    for name in ("read", "create", "mixed", "login", "resources"):
        assert not_measured_on_foreign(name, foreign) is None
    assert not_measured_on_foreign("ceiling", BenchOptions()) is None
    direct = BenchOptions(foreign_target=True, patients_url="http://127.0.0.1:4000")
    assert not_measured_on_foreign("read-direct", direct) is None


def test_the_scale_scenario_is_in_the_default_set_after_the_other_reads() -> None:
    assert "read-100k" in parse_scenarios("all")
    assert parse_scenarios("create,read-100k,read") == ("read", "read-100k", "create")
    for plan in (QUICK, FULL):
        assert plan.scale_connections == (16,)
        assert plan.search_connections == 1
        assert 0.5 in plan.rate_fractions


def test_a_cleanup_deletes_only_what_the_bench_registered_even_without_search() -> None:
    # The original has no search: its list answers every patient, the demo ones too.
    assert _registered_by_the_bench("bench-ab12cd34c16-3-7@example.com", "ab12cd34")
    assert _registered_by_the_bench("bench-ab12cd34c16-3-7@example.com", "")
    assert not _registered_by_the_bench("bench-seed-12-x@example.com", "")
    assert not _registered_by_the_bench("john.doe@example.com", "")
    assert not _registered_by_the_bench("bench-ffff0000c16-1@example.com", "ab12cd34")
