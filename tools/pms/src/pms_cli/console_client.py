"""The web console's typed API client (``console/src/api/generated``), generated from the
OpenAPI documents the services' FastAPI apps produce, as the gateway serves them.

The console talks to the gateway only, so each document is the one ``/api-docs/{service}``
serves (only the forwarded operations, with the gateway's own answers), with its paths made
whole gateway paths (``/patients`` -> ``/api/patients``) so that one client type covers all
services. No server is started: each app is built in this process and asked for its
document. ``openapi-typescript`` (the console's pinned npm package) turns each into a
``<service>.ts``.

``python -m pms_cli.console_client`` regenerates the files; ``--check`` only reports
whether the committed ones are stale (``make lint``), like ``pms proto --check``.
"""

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pms_platform.logging import configure_logging

REPO = Path(__file__).resolve().parents[4]
CONSOLE = REPO / "console"
GENERATED = CONSOLE / "src" / "api" / "generated"
GENERATOR = CONSOLE / "scripts" / "generate-client.mjs"
SERVICES = ("auth", "patients", "billing", "analytics")


def _service_documents(key_dir: Path) -> dict[str, dict[str, Any]]:
    """Each service's own document, from its app built with settings that need no server
    (none of them is connected to: building an app opens nothing)."""
    # Imported here: the launcher's other commands need none of the services.
    from pms_analytics.app import create_app as analytics_app
    from pms_analytics.settings import AnalyticsSettings
    from pms_auth.app import create_app as auth_app
    from pms_auth.settings import AuthSettings
    from pms_billing.app import create_app as billing_app
    from pms_billing.settings import BillingSettings
    from pms_patients.app import create_app as patients_app
    from pms_patients.settings import PatientsSettings

    nowhere = "postgresql+asyncpg://pms:pms@127.0.0.1:1/none"
    return {
        "auth": auth_app(AuthSettings(database_url=nowhere, development_key_dir=key_dir)).openapi(),
        "patients": patients_app(
            PatientsSettings(
                database_url=nowhere, seed_demo_patients=False, background_workers=False
            )
        ).openapi(),
        "billing": billing_app(
            BillingSettings(database_url=nowhere, grpc_port=0, background_workers=False)
        ).openapi(),
        "analytics": analytics_app(AnalyticsSettings(background_workers=False)).openapi(),
    }


def gateway_documents() -> dict[str, dict[str, Any]]:
    """Each service's document as a client of the gateway meets it, its paths whole
    (with the default settings, when no ``PMS_*`` environment variable is set)."""
    from pms_gateway.docs import public_bases, served
    from pms_gateway.settings import GatewaySettings

    settings = GatewaySettings()
    bases = public_bases()
    with tempfile.TemporaryDirectory() as key_dir:
        documents = _service_documents(Path(key_dir))
    return {
        service: whole_paths(served(document, bases[service], settings), bases[service])
        for service, document in documents.items()
    }


def whole_paths(document: dict[str, Any], base: str) -> dict[str, Any]:
    """``document`` with ``base`` moved from its ``servers`` entry into each path."""
    prefix = base.rstrip("/")
    document["paths"] = {prefix + path: item for path, item in document["paths"].items()}
    document["servers"] = [{"url": "/"}]
    return document


def generate(out_dir: Path) -> None:
    """Write ``<service>.ts`` for every service into ``out_dir``."""
    with tempfile.TemporaryDirectory() as documents_dir:
        for service, document in gateway_documents().items():
            path = Path(documents_dir) / f"{service}.json"
            path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        subprocess.run(  # noqa: S603 - our own script, paths we chose
            ["node", str(GENERATOR), documents_dir, str(out_dir)],  # noqa: S607 - node on PATH
            check=True,
            cwd=CONSOLE,
        )


def stale_files(committed: Path, fresh: Path) -> list[str]:
    """The names that differ between the two folders (missing on either side too)."""
    comparison = filecmp.dircmp(committed, fresh)
    stale = comparison.left_only + comparison.right_only + comparison.diff_files
    _, mismatch, errors = filecmp.cmpfiles(committed, fresh, comparison.common_files, shallow=False)
    return sorted(set(stale + mismatch + errors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pms_cli.console_client")
    parser.add_argument("--check", action="store_true", help="only report a stale client")
    arguments = parser.parse_args(argv)
    # The documents must not depend on who runs this: no PMS_* setting of the shell.
    for name in [name for name in os.environ if name.startswith("PMS_")]:
        del os.environ[name]
    # Building auth's app warns of its development signing key: not news here.
    configure_logging("console-client", "ERROR", False)
    if not arguments.check:
        GENERATED.mkdir(parents=True, exist_ok=True)
        generate(GENERATED)
        print(f"console API client written to {GENERATED.relative_to(REPO)}")
        return 0
    with tempfile.TemporaryDirectory() as fresh:
        generate(Path(fresh))
        stale = stale_files(GENERATED, Path(fresh)) if GENERATED.is_dir() else ["(all)"]
    if stale:
        print(
            f"The console's API client is stale ({', '.join(stale)}): run `make console-client`",
            file=sys.stderr,
        )
        return 1
    print("console API client is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
