"""``python -m pms_auth [serve|migrate]``: the same command locally and in containers."""

import gc

# Off while the modules below load and the app is built: the start-up makes long-lived
# objects only (pms_platform.server.settle_collector turns it back on).
gc.disable()

from pms_auth.app import create_app
from pms_auth.models import MIGRATIONS_DIR
from pms_auth.settings import AuthSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(AuthSettings, create_app, MIGRATIONS_DIR)
