"""The figures the targets and the report are made of, read from a JSON-shaped result
(a run's, or a saved ``.json`` rendered again): peaks, ratios, the fixed-rate run at half
the gateway's peak, the CPU per request of a process, the search's latency at scale.

Every reader answers ``None`` for a figure that was not measured (a skipped or failed
scenario, an older result without it) rather than raising.
"""

import math
from typing import Any

from pms_cli.bench.stats import ratio

SCALE_SCENARIO = "read-100k"
HALF_PEAK = 0.5


def scenario(results: dict[str, Any], name: str) -> dict[str, Any]:
    found = results.get("scenarios", {}).get(name)
    return found if isinstance(found, dict) else {}


def measured(data: dict[str, Any]) -> bool:
    return data.get("status") == "measured"


def number(value: Any) -> float | None:
    """``value`` as a float, or ``None`` if it is missing, not a number, or NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def peak(results: dict[str, Any], name: str) -> float | None:
    data = scenario(results, name)
    return number(data.get("peak_ok_rate")) if measured(data) else None


def ceiling_rate(results: dict[str, Any], key: str = "rate") -> float | None:
    """pgbench's best rate of the page + count (``rate``), with the audit insert
    (``rate_with_audit``), or of the create's SQL (``rate_create``)."""
    data = scenario(results, "ceiling")
    return number(data.get(key)) if measured(data) else None


def key_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    read, direct = peak(results, "read"), peak(results, "read-direct")
    return {
        "gateway_over_direct": ratio(read, direct),
        "direct_over_ceiling": ratio(direct, ceiling_rate(results)),
        "direct_over_ceiling_with_audit": ratio(direct, ceiling_rate(results, "rate_with_audit")),
        "gateway_over_ceiling": ratio(read, ceiling_rate(results)),
    }


def half_peak_run(
    results: dict[str, Any], name: str = "read", where: str = "gateway"
) -> dict[str, Any] | None:
    """The fixed-rate run at half of the closed-loop peak: the one marked so, or, in a
    result written before runs were marked, the one at that rate."""
    data = scenario(results, name)
    runs = data.get("fixed_rate_runs", {}).get(where, []) if measured(data) else []
    for run in runs:
        if run.get("peak_fraction") == HALF_PEAK:
            return dict(run)
    best = peak(results, name)
    if best is None:
        return None
    rate = max(1.0, float(round(best * HALF_PEAK)))
    return next((dict(run) for run in runs if run.get("target_rate") == rate), None)


def patients_in_table(results: dict[str, Any], name: str) -> int | None:
    """The table size a read scenario read (before: the run's one figure in ``meta``)."""
    value = scenario(results, name).get("patients_in_table")
    if value is None and name != SCALE_SCENARIO:
        value = results.get("meta", {}).get("patients_in_table")
    return int(value) if isinstance(value, int) else None


def _closed_loop_run(data: dict[str, Any], connections: int) -> dict[str, Any] | None:
    return next(
        (
            run
            for run in data.get("runs", [])
            if run.get("connections") == connections and run.get("target_rate") is None
        ),
        None,
    )


def cpu_ms_per_request(
    data: dict[str, Any], process: str, connections: int | None = None
) -> float | None:
    """CPU milliseconds ``process`` spent per request (= CPU seconds per 1,000): of the
    closed-loop run at ``connections`` if it has its own figure, else of the scenario."""
    if not measured(data):
        return None
    run = _closed_loop_run(data, connections) if connections is not None else None
    if run is not None and process in run.get("cpu_seconds_per_1000_requests", {}):
        return number(run["cpu_seconds_per_1000_requests"][process])
    return number(data.get("cpu_seconds_per_1000_requests", {}).get(process))


def scale_connections(results: dict[str, Any]) -> int | None:
    """The connections of the default page's (first) run at scale."""
    runs = scenario(results, SCALE_SCENARIO).get("runs", [])
    value = runs[0].get("connections") if runs else None
    return value if isinstance(value, int) else None


def scale_cpu(results: dict[str, Any]) -> dict[str, float | None]:
    """The patients process's CPU per default page at scale, at the normal table size
    (``read-direct``, the run with as many connections), and their ratio."""
    connections = scale_connections(results)
    at_scale = cpu_ms_per_request(scenario(results, SCALE_SCENARIO), "patients", connections)
    normal = cpu_ms_per_request(scenario(results, "read-direct"), "patients", connections)
    return {"at_scale": at_scale, "normal": normal, "ratio": ratio(at_scale, normal)}


def search_at_scale(results: dict[str, Any]) -> dict[str, Any] | None:
    """The search run at scale (latency, connections, 2xx share, CPU per request by
    process), its term and how many patients it matches."""
    data = scenario(results, SCALE_SCENARIO)
    search = data.get("search", {}) if measured(data) else {}
    runs = search.get("runs", [])
    if not runs:
        return None
    cpu = search.get("cpu_seconds_per_1000_requests") or runs[0].get(
        "cpu_seconds_per_1000_requests", {}
    )
    return {
        **runs[0],
        "matches": search.get("matches"),
        "term": search.get("term"),
        "cpu_seconds_per_1000_requests": cpu,
    }
