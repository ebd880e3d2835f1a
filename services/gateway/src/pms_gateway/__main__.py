"""``python -m pms_gateway [serve]``: the same command locally and in containers."""

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.server import run_service_command

if __name__ == "__main__":
    run_service_command(GatewaySettings, create_app)
