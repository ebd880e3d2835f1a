"""Options of `pms bench`: scenarios, modes, the URLs derived from the target."""

import pytest

from pms_cli.bench.plan import FULL, QUICK, SCENARIOS, BenchOptions, parse_scenarios


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


def test_the_scale_scenario_is_in_the_default_set_after_the_other_reads() -> None:
    assert "read-100k" in parse_scenarios("all")
    assert parse_scenarios("create,read-100k,read") == ("read", "read-100k", "create")
    for plan in (QUICK, FULL):
        assert plan.scale_connections == (16,)
        assert plan.search_connections == 1
        assert 0.5 in plan.rate_fractions
