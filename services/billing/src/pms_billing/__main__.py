"""``python -m pms_billing [serve|migrate]``: the same command locally and in containers."""

from pms_platform.process_start import begin_start_up

begin_start_up()  # before the imports below: see its docstring

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR
from pms_billing.settings import BillingSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(BillingSettings, create_app, MIGRATIONS_DIR)
