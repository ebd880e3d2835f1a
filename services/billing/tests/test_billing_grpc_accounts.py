"""CreateBillingAccount (the original's contract) and GetBillingAccount over real gRPC."""

import asyncio
import uuid

import grpc
import pytest
from sqlalchemy import select

from pms_billing.models import Account
from pms_contracts.billing_service_pb2 import BillingRequest, GetBillingAccountRequest

from .conftest import Billing

pytestmark = pytest.mark.integration


def new_request(
    patient_id: str, name: str = "John Doe", email: str = "john@example.com"
) -> BillingRequest:
    return BillingRequest(patientId=patient_id, name=name, email=email)


# --- The original's wire format, written out by field number (no generated code). ---


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | 0x80 if value else low)
        if not value:
            return bytes(out)


def _string_field(number: int, value: str) -> bytes:
    data = value.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _string_fields(data: bytes) -> dict[int, str]:
    """Decode a message made only of string fields into ``field number -> value``."""
    fields: dict[int, str] = {}
    position = 0

    def read_varint() -> int:
        nonlocal position
        shift = result = 0
        while True:
            byte = data[position]
            position += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while position < len(data):
        tag = read_varint()
        assert tag & 7 == 2, "only length-delimited fields expected"
        length = read_varint()
        fields[tag >> 3] = data[position : position + length].decode()
        position += length
    return fields


async def test_create_billing_account_stores_an_active_account_and_answers_its_id(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())

    response = await billing.stub.CreateBillingAccount(new_request(patient_id), timeout=5)

    assert response.status == "ACTIVE"
    async with billing.database.transaction() as session:
        stored = (await session.scalars(select(Account))).one()
    assert str(stored.id) == response.accountId
    assert (str(stored.patient_id), stored.name, stored.email, stored.status) == (
        patient_id,
        "John Doe",
        "john@example.com",
        "ACTIVE",
    )
    assert await billing.outbox_types() == ["ACCOUNT_CREATED"]


async def test_create_billing_account_again_returns_the_same_account_and_stores_no_other(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())

    first = await billing.stub.CreateBillingAccount(new_request(patient_id), timeout=5)
    again = await billing.stub.CreateBillingAccount(
        new_request(patient_id, name="Other Name"), timeout=5
    )

    assert again == first
    assert await billing.account_count() == 1
    assert await billing.outbox_types() == ["ACCOUNT_CREATED"]


async def test_twenty_concurrent_creations_for_one_patient_make_exactly_one_account(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())

    answers = await asyncio.gather(
        *(billing.stub.CreateBillingAccount(new_request(patient_id), timeout=10) for _ in range(20))
    )

    assert len({answer.accountId for answer in answers}) == 1
    assert {answer.status for answer in answers} == {"ACTIVE"}
    assert await billing.account_count() == 1
    assert await billing.outbox_types() == ["ACCOUNT_CREATED"]


async def test_a_client_knowing_only_the_original_field_numbers_and_method_path_is_served(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())
    request = (
        _string_field(1, patient_id)
        + _string_field(2, "Jöhn Doe")
        + _string_field(3, "john@example.com")
    )
    raw_call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = billing.channel.unary_unary(
        "/BillingService/CreateBillingAccount",
        request_serializer=None,
        response_deserializer=None,
    )

    answer = await raw_call(request, timeout=5)

    assert isinstance(answer, bytes)
    fields = _string_fields(answer)
    assert set(fields) == {1, 2}
    assert fields[2] == "ACTIVE"
    assert uuid.UUID(fields[1])
    async with billing.database.transaction() as session:
        stored = (await session.scalars(select(Account))).one()
    assert (str(stored.id), str(stored.patient_id), stored.name) == (
        fields[1],
        patient_id,
        "Jöhn Doe",
    )


@pytest.mark.parametrize(
    ("patient_id", "email", "mentioned"),
    [
        ("", "john@example.com", "patientId"),
        ("12345", "john@example.com", "patientId"),
        (str(uuid.uuid4()), "not-an-email", "email"),
        (str(uuid.uuid4()), "", "email"),
    ],
)
async def test_bad_arguments_are_invalid_argument_with_a_message_and_store_nothing(
    billing: Billing, patient_id: str, email: str, mentioned: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await billing.stub.CreateBillingAccount(new_request(patient_id, email=email), timeout=5)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert mentioned in (raised.value.details() or "")
    assert await billing.account_count() == 0
    assert await billing.outbox_types() == []


async def test_get_billing_account_answers_the_stored_account(billing: Billing) -> None:
    patient_id = str(uuid.uuid4())
    created = await billing.stub.CreateBillingAccount(new_request(patient_id), timeout=5)

    account = await billing.stub.GetBillingAccount(
        GetBillingAccountRequest(patient_id=patient_id), timeout=5
    )

    assert (account.account_id, account.patient_id, account.status) == (
        created.accountId,
        patient_id,
        "ACTIVE",
    )
    assert (account.name, account.email) == ("John Doe", "john@example.com")
    assert account.created_at.seconds > 0
    assert not account.HasField("closed_at")


async def test_get_billing_account_of_an_unknown_patient_is_not_found(billing: Billing) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await billing.stub.GetBillingAccount(
            GetBillingAccountRequest(patient_id=str(uuid.uuid4())), timeout=5
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_get_billing_account_with_a_malformed_id_is_invalid_argument(
    billing: Billing,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await billing.stub.GetBillingAccount(GetBillingAccountRequest(patient_id="nope"), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_request_id_sent_in_metadata_comes_back_in_the_trailers(
    billing: Billing,
) -> None:
    call = billing.stub.CreateBillingAccount(
        new_request(str(uuid.uuid4())), timeout=5, metadata=(("x-request-id", "req-42"),)
    )
    await call

    trailers = await call.trailing_metadata()
    assert trailers is not None
    assert dict(trailers)["x-request-id"] == "req-42"
