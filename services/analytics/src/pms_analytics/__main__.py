"""``python -m pms_analytics [serve|migrate|rebuild]``: the same command locally and in
containers (``rebuild``: see :mod:`pms_analytics.rebuild`)."""

import gc

# Off while the modules below load and the app is built: the start-up makes long-lived
# objects only (pms_platform.server.settle_collector turns it back on).
gc.disable()

from pms_analytics.app import create_app
from pms_analytics.models import MIGRATIONS_DIR
from pms_analytics.rebuild import rebuild_command
from pms_analytics.settings import AnalyticsSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(
        AnalyticsSettings, create_app, MIGRATIONS_DIR, extra_commands={"rebuild": rebuild_command}
    )
