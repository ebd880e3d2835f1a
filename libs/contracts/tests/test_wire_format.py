"""Golden bytes: our messages encode exactly as the original's field numbers dictate.

The expected bytes are built by hand from the protobuf wire format (never with
``SerializeToString``), so renumbering a field, changing its type or renaming
a package breaks these tests.
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from pms_contracts import billing_service_pb2, patient_event_pb2

LENGTH_DELIMITED = 2
VARINT = 0


def varint(value: int) -> bytes:
    """Base-128 varint: 7 bits per byte, least significant first, high bit = more."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def tag(field_number: int, wire_type: int) -> bytes:
    return varint(field_number << 3 | wire_type)


def string_field(field_number: int, value: str) -> bytes:
    """A ``string`` field: tag (wire type 2), varint length, UTF-8 bytes."""
    data = value.encode()
    return tag(field_number, LENGTH_DELIMITED) + varint(len(data)) + data


def message_field(field_number: int, encoded: bytes) -> bytes:
    """A sub-message field: tag (wire type 2), varint length, the message's bytes."""
    return tag(field_number, LENGTH_DELIMITED) + varint(len(encoded)) + encoded


def varint_field(field_number: int, value: int) -> bytes:
    return tag(field_number, VARINT) + varint(value)


PATIENT_ID = "4f0c2f9e-8a1b-4c3d-9e2f-1a2b3c4d5e6f"
NAME = "Jöhn Doe"  # a non-ASCII letter: lengths are in bytes, not characters
EMAIL = "john.doe@example.com"

ORIGINAL_EVENT_BYTES = (
    string_field(1, PATIENT_ID)
    + string_field(2, NAME)
    + string_field(3, EMAIL)
    + string_field(4, "PATIENT_CREATED")
)


def test_varint_helper_matches_the_protobuf_spec_examples() -> None:
    assert varint(1) == b"\x01"
    assert varint(150) == b"\x96\x01"
    assert varint(300) == b"\xac\x02"


def test_billing_request_encodes_fields_1_to_3_as_strings() -> None:
    request = billing_service_pb2.BillingRequest(patientId=PATIENT_ID, name=NAME, email=EMAIL)
    expected = string_field(1, PATIENT_ID) + string_field(2, NAME) + string_field(3, EMAIL)

    assert request.SerializeToString(deterministic=True) == expected
    assert billing_service_pb2.BillingRequest.FromString(expected) == request


def test_billing_response_encodes_fields_1_and_2_as_strings() -> None:
    response = billing_service_pb2.BillingResponse(accountId="12345", status="ACTIVE")
    expected = string_field(1, "12345") + string_field(2, "ACTIVE")

    assert response.SerializeToString(deterministic=True) == expected
    assert billing_service_pb2.BillingResponse.FromString(expected) == response


def test_original_format_patient_event_encodes_fields_1_to_4_as_strings() -> None:
    event = patient_event_pb2.PatientEvent(
        patientId=PATIENT_ID, name=NAME, email=EMAIL, event_type="PATIENT_CREATED"
    )

    assert event.SerializeToString(deterministic=True) == ORIGINAL_EVENT_BYTES
    assert patient_event_pb2.PatientEvent.FromString(ORIGINAL_EVENT_BYTES) == event


def test_extended_patient_event_encodes_extensions_as_fields_5_to_9() -> None:
    event = patient_event_pb2.PatientEvent(
        patientId=PATIENT_ID,
        name=NAME,
        email=EMAIL,
        event_type="PATIENT_UPDATED",
        event_id="0b8e7c1a-2d3f-4e5a-8b9c-0d1e2f3a4b5c",
        occurred_at=Timestamp(seconds=1_700_000_000, nanos=500),
        address="123 Main St, Springfield",
        date_of_birth="1985-06-15",
        registered_date="2024-01-10",
    )
    expected = (
        string_field(1, PATIENT_ID)
        + string_field(2, NAME)
        + string_field(3, EMAIL)
        + string_field(4, "PATIENT_UPDATED")
        + string_field(5, "0b8e7c1a-2d3f-4e5a-8b9c-0d1e2f3a4b5c")
        + message_field(6, varint_field(1, 1_700_000_000) + varint_field(2, 500))
        + string_field(7, "123 Main St, Springfield")
        + string_field(8, "1985-06-15")
        + string_field(9, "2024-01-10")
    )

    assert event.SerializeToString(deterministic=True) == expected
    assert patient_event_pb2.PatientEvent.FromString(expected) == event


def original_patient_event_class() -> type[Message]:
    """``patient.events.PatientEvent`` as the original system knows it: fields 1-4 only.

    Built from a descriptor in a private pool, independent of our ``.proto``.
    """
    file = descriptor_pb2.FileDescriptorProto(
        name="original/patient_event.proto", package="patient.events", syntax="proto3"
    )
    message = file.message_type.add(name="PatientEvent")
    for number, name in enumerate(("patientId", "name", "email", "event_type"), start=1):
        message.field.add(
            name=name,
            number=number,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("patient.events.PatientEvent")
    )


def test_an_original_consumer_decodes_fields_1_to_4_of_an_extended_event() -> None:
    extended = patient_event_pb2.PatientEvent(
        patientId=PATIENT_ID,
        name=NAME,
        email=EMAIL,
        event_type="PATIENT_CREATED",
        event_id="0b8e7c1a-2d3f-4e5a-8b9c-0d1e2f3a4b5c",
        occurred_at=Timestamp(seconds=1_700_000_000),
        address="123 Main St, Springfield",
        date_of_birth="1985-06-15",
        registered_date="2024-01-10",
    )
    data = extended.SerializeToString(deterministic=True)

    # The original's four fields come first, encoded exactly as before.
    assert data.startswith(ORIGINAL_EVENT_BYTES)

    original_cls = original_patient_event_class()
    original = original_cls.FromString(data)
    assert original.patientId == PATIENT_ID  # type: ignore[attr-defined]
    assert original.name == NAME  # type: ignore[attr-defined]
    assert original.email == EMAIL  # type: ignore[attr-defined]
    assert original.event_type == "PATIENT_CREATED"  # type: ignore[attr-defined]

    # Fields 5-9 are kept as unknown fields and survive a re-serialization by
    # the original type, so nothing is lost when an old service relays the event.
    relayed = original.SerializeToString(deterministic=True)
    assert relayed == data
    assert patient_event_pb2.PatientEvent.FromString(relayed) == extended


# BillingRequest(patientId="p-1", name="Ann", email="a@b.c"), written out once:
# 0a 03 "p-1" | 12 03 "Ann" | 1a 05 "a@b.c"
BILLING_REQUEST_GOLDEN_HEX = "0a03702d311203416e6e1a056140622e63"

# PatientEvent(patientId="p-1", name="Ann", email="a@b.c", event_type="PATIENT_DELETED"):
# 0a 03 "p-1" | 12 03 "Ann" | 1a 05 "a@b.c" | 22 0f "PATIENT_DELETED"
PATIENT_EVENT_GOLDEN_HEX = "0a03702d311203416e6e1a056140622e63220f50415449454e545f44454c45544544"


def test_billing_request_matches_the_literal_golden_hex() -> None:
    request = billing_service_pb2.BillingRequest(patientId="p-1", name="Ann", email="a@b.c")

    assert request.SerializeToString(deterministic=True).hex() == BILLING_REQUEST_GOLDEN_HEX
    assert (
        billing_service_pb2.BillingRequest.FromString(bytes.fromhex(BILLING_REQUEST_GOLDEN_HEX))
        == request
    )


def test_patient_event_matches_the_literal_golden_hex() -> None:
    event = patient_event_pb2.PatientEvent(
        patientId="p-1", name="Ann", email="a@b.c", event_type="PATIENT_DELETED"
    )

    assert event.SerializeToString(deterministic=True).hex() == PATIENT_EVENT_GOLDEN_HEX
    assert patient_event_pb2.PatientEvent.FromString(bytes.fromhex(PATIENT_EVENT_GOLDEN_HEX)) == (
        event
    )
