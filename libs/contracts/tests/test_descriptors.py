"""The names the original system depends on: packages, services, methods, fields."""

from concurrent import futures

import grpc

from pms_contracts import billing_service_pb2, billing_service_pb2_grpc, patient_event_pb2


def test_billing_service_has_no_proto_package() -> None:
    file = billing_service_pb2.DESCRIPTOR

    assert file.package == ""
    service = file.services_by_name["BillingService"]
    assert service.full_name == "BillingService"
    method = service.methods_by_name["CreateBillingAccount"]
    assert method.full_name == "BillingService.CreateBillingAccount"
    assert method.input_type.full_name == "BillingRequest"
    assert method.output_type.full_name == "BillingResponse"


def test_billing_field_names_and_numbers_are_the_originals() -> None:
    def fields(descriptor: object) -> dict[str, int]:
        return {f.name: f.number for f in descriptor.fields}  # type: ignore[attr-defined]

    assert fields(billing_service_pb2.BillingRequest.DESCRIPTOR) == {
        "patientId": 1,
        "name": 2,
        "email": 3,
    }
    assert fields(billing_service_pb2.BillingResponse.DESCRIPTOR) == {"accountId": 1, "status": 2}


def test_patient_event_is_in_package_patient_events_with_the_original_fields_first() -> None:
    descriptor = patient_event_pb2.PatientEvent.DESCRIPTOR

    assert descriptor.full_name == "patient.events.PatientEvent"
    assert {f.name: f.number for f in descriptor.fields} == {
        "patientId": 1,
        "name": 2,
        "email": 3,
        "event_type": 4,
        "event_id": 5,
        "occurred_at": 6,
        "address": 7,
        "date_of_birth": 8,
        "registered_date": 9,
    }
    occurred_at = descriptor.fields_by_name["occurred_at"].message_type
    assert occurred_at is not None
    assert occurred_at.full_name == "google.protobuf.Timestamp"


class _FixedBilling(billing_service_pb2_grpc.BillingServiceServicer):
    def CreateBillingAccount(
        self, request: billing_service_pb2.BillingRequest, context: object
    ) -> billing_service_pb2.BillingResponse:
        return billing_service_pb2.BillingResponse(
            accountId=f"acc-{request.patientId}", status="ACTIVE"
        )


def test_generated_server_answers_a_client_that_only_knows_the_raw_method_path() -> None:
    """A client that names the method by its raw path, as the original's Java stub does."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    # Implements only the original's RPC, as the original's server does; the others
    # answer UNIMPLEMENTED.
    servicer = _FixedBilling()  # type: ignore[abstract]
    billing_service_pb2_grpc.add_BillingServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            create_billing_account = channel.unary_unary(
                "/BillingService/CreateBillingAccount",
                request_serializer=billing_service_pb2.BillingRequest.SerializeToString,
                response_deserializer=billing_service_pb2.BillingResponse.FromString,
            )
            response = create_billing_account(
                billing_service_pb2.BillingRequest(patientId="p-1"), timeout=5
            )
    finally:
        server.stop(grace=None)

    assert response == billing_service_pb2.BillingResponse(accountId="acc-p-1", status="ACTIVE")
