"""Latency versus throughput as a PNG (matplotlib, drawn off-screen).

For the read through the gateway and straight at the patients service: the fixed-rate
runs (latency corrected for coordinated omission) as lines, p50 and p99, and the
closed-loop runs (1, 16, 64 connections) as points labelled with their connections.
"""

from pathlib import Path
from typing import Any

SERIES = (("read", "gateway", "tab:blue"), ("read-direct", "direct", "tab:orange"))


def plot_latency_throughput(results: dict[str, Any], path: Path) -> Path | None:
    """Draw the figure into ``path``; ``None`` when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results.get("scenarios", {})
    figure, axes = plt.subplots(figsize=(9, 5.5), dpi=110)
    drawn = False
    for name, where, colour in SERIES:
        scenario = scenarios.get(name, {})
        if scenario.get("status") != "measured":
            continue
        fixed = sorted(
            scenario.get("fixed_rate_runs", {}).get(where, []), key=lambda run: run["ok_rate"]
        )
        if fixed:
            rates = [run["ok_rate"] for run in fixed]
            axes.plot(
                rates,
                [run["latency_ms"].get("p50") for run in fixed],
                "-o",
                color=colour,
                label=f"{name} fixed rate p50",
            )
            axes.plot(
                rates,
                [run["latency_ms"].get("p99") for run in fixed],
                "--o",
                color=colour,
                label=f"{name} fixed rate p99",
            )
            drawn = True
        closed = scenario.get("runs", [])
        if closed:
            axes.scatter(
                [run["ok_rate"] for run in closed],
                [run["latency_ms"].get("p99") for run in closed],
                marker="s",
                color=colour,
                facecolors="none",
                label=f"{name} closed loop p99",
            )
            for run in closed:
                axes.annotate(
                    f"{run['connections']}c",
                    (run["ok_rate"], run["latency_ms"].get("p99")),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=8,
                    color=colour,
                )
            drawn = True
    if not drawn:
        plt.close(figure)
        return None
    meta = results.get("meta", {})
    axes.set_yscale("log")
    axes.set_xlabel("throughput (2xx responses per second)")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(
        f"GET /api/patients: latency vs throughput ({meta.get('mode', '')}, "
        f"{meta.get('started_at', '')})",
        fontsize=10,
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
