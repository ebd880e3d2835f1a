"""The start of a served process: the garbage collector off while it starts, then on
with the start-up's objects set aside (``pms_platform.server.settle_collector``), and no
development-only renderer loaded (``pms_platform.process_start``)."""

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest
import uvicorn

from pms_platform import server
from pms_platform.http_app import create_service_app
from pms_platform.settings import ServiceSettings

SERVICES = ["gateway", "auth", "patients", "billing", "analytics"]


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.enable()


def test_settling_sets_aside_the_live_objects_and_turns_the_collector_on(
    collector_restored: None,
) -> None:
    gc.disable()
    app = create_service_app(ServiceSettings(), title="t", description="")

    server.settle_collector()

    assert gc.isenabled()
    assert gc.get_threshold()[0] == server.YOUNG_GENERATION_THRESHOLD
    assert gc.get_freeze_count() > 10_000  # FastAPI's app, pydantic's schemas, this test
    assert not any(app is obj for obj in gc.get_objects())  # no collection walks it now


def test_serve_settles_the_collector_before_uvicorn_runs(
    monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    seen: dict[str, object] = {}

    def run(app: object, **options: object) -> None:
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())

    monkeypatch.setattr(uvicorn, "run", run)
    gc.disable()
    app = create_service_app(ServiceSettings(), title="t", description="")
    server.serve(app, ServiceSettings())

    assert seen["enabled"] is True
    assert isinstance(seen["frozen"], int)
    assert seen["frozen"] > 10_000


# Runs ``python -m pms_<service>`` in a fresh interpreter with an unknown command, so
# that argparse stops it right after the imports. It prints how many collections ran
# once the service's modules began to load (FastAPI is the first library they load, and
# nothing else loads it), whether the collector is on, how many modules loaded, and how
# many of them are rich's or pygments' (installed in the workspace for the ``pms`` command).
_PROBE = """
import gc, runpy, sys
runs = []
def count(phase, info):
    if phase == "start" and "fastapi" in sys.modules:
        runs.append(1)
gc.callbacks.append(count)
sys.argv = ["pms_{service}", "no-such-command"]
try:
    runpy.run_module("pms_{service}", run_name="__main__")
except SystemExit:
    pass
renderers = [m for m, module in sys.modules.items()
             if module is not None and m.split(".")[0] in ("rich", "pygments")]
print(len(runs), gc.isenabled(), len(sys.modules), len(renderers))
"""


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_loads_its_modules_without_collecting(service: str) -> None:
    probe = _PROBE.replace("{service}", service)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )

    collections, enabled, modules, _ = result.stdout.splitlines()[-1].split()
    assert int(modules) > 300, result.stderr  # the app's modules were imported
    assert (collections, enabled) == ("0", "False")


def test_the_development_only_renderers_are_installed_here() -> None:
    """The next test means something only where they could be imported."""
    result = subprocess.run(
        [sys.executable, "-c", "import rich.traceback, pygments"], check=False, timeout=60
    )

    assert result.returncode == 0


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_loads_no_development_only_renderer(service: str) -> None:
    probe = _PROBE.replace("{service}", service)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )

    *_, modules, renderers = result.stdout.splitlines()[-1].split()
    assert int(modules) > 300, result.stderr
    assert renderers == "0"
