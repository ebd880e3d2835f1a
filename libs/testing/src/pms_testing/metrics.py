"""``metric_value``: one sample read out of Prometheus text."""


def metric_value(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus text; 0.0 when absent."""
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
