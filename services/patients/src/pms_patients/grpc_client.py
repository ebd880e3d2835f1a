"""The billing service's gRPC contract as the patients service calls it.

grpcio is imported by the first call, with the channel, not at start-up: it is the
biggest library of the service (~13 MB resident; a few tens of ms of CPU) and only a
registration (or the retry of one) calls billing, so a service that has not registered
anyone yet, as after a restart, needs none of it.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pms_contracts.billing_service_pb2 import BillingRequest
from pms_platform.logging import get_logger
from pms_platform.request_context import REQUEST_ID_METADATA, current_request_id

if TYPE_CHECKING:  # the generated stubs name the asyncio stub's type only for checkers
    import grpc

    from pms_contracts.billing_service_pb2_grpc import BillingServiceAsyncStub

_log = get_logger("pms.patients.billing")


class BillingUnavailableError(Exception):
    """Billing did not create the account in time (down, slow or refusing)."""


@dataclass(frozen=True)
class BillingAccount:
    account_id: str
    status: str


CHANNEL_OPTIONS = (
    # gRPC's defaults wait up to 30 s before resolving billing's name again and up to 120 s
    # before reconnecting: a lookup that failed once (a container joining the network, a
    # Service's DNS not ready yet) or a billing restart would fail every call, and delay
    # every retry of a pending account, for that long.
    ("grpc.dns_min_time_between_resolutions_ms", 1000),
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 5000),
)


class BillingClient:
    """One channel (HTTP/2, multiplexed) for the life of the service; every call has a
    deadline, so a slow billing service delays no request by more than that.

    Built with the app, the channel is opened by the first call (inside the running
    event loop, which grpc.aio binds it to) and closed by :meth:`close`."""

    def __init__(self, target: str, deadline_seconds: float) -> None:
        self._target = target
        self._channel: grpc.aio.Channel | None = None
        self._stub: BillingServiceAsyncStub | None = None
        self._deadline = deadline_seconds

    def _opened(self) -> "BillingServiceAsyncStub":
        if self._stub is None:
            import grpc  # the first call: see the module's docstring

            from pms_contracts.billing_service_pb2_grpc import BillingServiceStub

            self._channel = grpc.aio.insecure_channel(self._target, options=CHANNEL_OPTIONS)
            self._stub = BillingServiceStub(self._channel)
        return self._stub

    async def create_account(self, patient_id: str, name: str, email: str) -> BillingAccount:
        request = BillingRequest(patientId=patient_id, name=name, email=email)
        metadata = ((REQUEST_ID_METADATA, current_request_id() or ""),)
        stub = self._opened()
        import grpc  # loaded by _opened: a look-up in sys.modules

        try:
            response = await stub.CreateBillingAccount(
                request, timeout=self._deadline, metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            _log.warning("billing call failed", code=error.code().name, patient_id=patient_id)
            raise BillingUnavailableError(error.code().name) from None
        return BillingAccount(account_id=response.accountId, status=response.status)

    async def close(self) -> None:
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            await channel.close()
