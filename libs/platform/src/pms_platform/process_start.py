"""``begin_start_up``: the first thing a service's ``__main__`` does, before it imports
anything else. Keep this module free of imports beyond the standard library's ``gc`` and
``sys``: whatever it imported would load before the collector is off."""

import gc
import sys

DEVELOPMENT_ONLY_RENDERERS = ("rich", "pygments")
"""Packages that libraries import when they are installed: structlog to print exceptions
in colour, httpx for its command line. A service never prints with them, and its image
does not have them; the workspace's environment has them only for the ``pms`` command.
Imported anyway, they cost each service 4 MB of resident memory and 30-60 ms of its start
(measured 2026-12-08), so that a service started from the workspace was heavier than the
same service in its image."""


def begin_start_up() -> None:
    """Turn the collector off while the modules load and the app is built (the start-up
    makes long-lived objects only; :func:`pms_platform.server.settle_collector` turns it
    back on: a quarter of the imports' time went to collections that freed nothing), and
    keep the development-only renderers out of the process (structlog then prints plain
    tracebacks, as it does in the images)."""
    gc.disable()
    for name in DEVELOPMENT_ONLY_RENDERERS:
        # ``None`` in sys.modules makes ``import rich`` raise ImportError, which both
        # libraries take as "not installed". A module already imported stays.
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
