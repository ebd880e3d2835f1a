"""``pms status``: each service's readiness and each dependency's state, at a glance, with
the URLs ``pms up`` printed before its logs scrolled them away."""

import asyncio

import httpx
from rich.console import Console
from rich.table import Table

from pms_cli.infra.status import infra_status
from pms_cli.services import ServiceSpec, platform_ports


async def _readiness(client: httpx.AsyncClient, spec: ServiceSpec) -> tuple[str, str]:
    try:
        response = await client.get(f"{spec.base_url}/health/ready")
    except httpx.TransportError:
        return "[red]not running[/red]", ""
    components = response.json().get("components", {})
    detail = ", ".join(f"{name} {state}" for name, state in components.items())
    if response.status_code == 200:
        return "[green]ready[/green]", detail
    return "[yellow]not ready[/yellow]", detail


async def show_status(console: Console) -> None:
    ports = platform_ports()  # where this platform's services listen
    specs = ports.services
    async with httpx.AsyncClient(timeout=2.0) as client:
        results = await asyncio.gather(*(_readiness(client, spec) for spec in specs))
    table = Table(title="Services")
    # URLs are shown whole, to be copied; the components fold when the terminal is narrow.
    table.add_column("service", no_wrap=True)
    table.add_column("URL", no_wrap=True, min_width=max(len(spec.base_url) for spec in specs))
    table.add_column("state", no_wrap=True)
    table.add_column("components", overflow="fold")
    for spec, (state, detail) in zip(specs, results, strict=True):
        table.add_row(spec.name, spec.base_url, state, detail)
    console.print(table)
    gateway = ports.gateway_url
    console.print(
        f"Everything goes through the gateway: [bold]{gateway}[/bold], its documentation"
        f" at [bold]{gateway}/docs[/bold] (each service's own at <URL>/docs)."
    )
    infra = Table(title="Dependencies")
    for column in ("component", "state", "address"):
        infra.add_column(column)
    for component in await infra_status():
        infra.add_row(component.component.value, component.condition, component.address)
    console.print(infra)
