"""Text PostgreSQL cannot store is refused before it reaches the database: 400 naming the
field over REST, INVALID_ARGUMENT over gRPC; nothing is written."""

import uuid

import grpc
import pytest

from pms_contracts.billing_service_pb2 import BillingRequest
from pms_platform.validation import UNSTORABLE_TEXT_MESSAGE

from .conftest import Billing

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["Jane\u0000Roe", "Jane \u202eeoR"])
async def test_create_billing_account_with_unstorable_text_is_invalid_argument(
    billing: Billing, name: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await billing.stub.CreateBillingAccount(
            BillingRequest(patientId=str(uuid.uuid4()), name=name, email="jane@example.com"),
            timeout=5,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in (raised.value.details() or "")
    assert await billing.account_count() == 0


async def test_an_invoice_with_a_nul_in_its_description_is_400_and_not_issued(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="Jane Roe", email="jane@example.com"), timeout=5
    )
    response = await billing.http.post(
        f"/billing/accounts/{patient_id}/invoices",
        json={"amountMinor": 4_200, "currency": "USD", "description": "X\u0000ray"},
        headers=billing.auth(),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"description": UNSTORABLE_TEXT_MESSAGE}
    listed = await billing.http.get(
        f"/billing/accounts/{patient_id}/invoices", headers=billing.auth()
    )
    assert listed.json()["invoices"] == []
