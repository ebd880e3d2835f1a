"""``python -m pms_analytics [serve|migrate|rebuild]``: the same command locally and in
containers (``rebuild``: see :mod:`pms_analytics.rebuild`)."""

from pms_platform.process_start import begin_start_up

begin_start_up()  # before the imports below: see its docstring

from pms_analytics.app import create_app
from pms_analytics.models import MIGRATIONS_DIR
from pms_analytics.rebuild import rebuild_command
from pms_analytics.settings import AnalyticsSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(
        AnalyticsSettings, create_app, MIGRATIONS_DIR, extra_commands={"rebuild": rebuild_command}
    )
