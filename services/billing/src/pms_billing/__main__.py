"""``python -m pms_billing [serve|migrate]``: the same command locally and in containers."""

import gc

# Off while the modules below load and the app is built: the start-up makes long-lived
# objects only (pms_platform.server.settle_collector turns it back on).
gc.disable()

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR
from pms_billing.settings import BillingSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(BillingSettings, create_app, MIGRATIONS_DIR)
