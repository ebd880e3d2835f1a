"""``python -m pms_patients [serve|migrate]``: the same command locally and in containers."""

from pms_platform.process_start import begin_start_up

begin_start_up()  # before the imports below: see its docstring

from pms_patients.app import create_app
from pms_patients.models import MIGRATIONS_DIR
from pms_patients.settings import PatientsSettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(PatientsSettings, create_app, MIGRATIONS_DIR)
