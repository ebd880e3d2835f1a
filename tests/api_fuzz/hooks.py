"""Schemathesis hooks (loaded by the fuzz's ``schemathesis.toml``): the rules of valid
input that no JSON Schema can state, applied to the cases schemathesis means to be
valid, and the one "failure" that is the design.

The documents state every rule that a schema can (required fields, lengths, patterns,
ranges, choices); what is left depends on today's date, on another field or on what is
stored: a date of birth or registration not in the future nor before the birth (the
stored one, when an update keeps it), a report range that ends after it starts and is
not too long for its granularity, a page token that the service issued. A "positive"
case that breaks one of those is answered 400, rightly, and schemathesis would call that
a valid request rejected; these hooks bend such a case into the nearest valid one, just
before it is sent (after the stateful phase filled in what a link carries; schemathesis
then checks again which kind of case it is). Negative cases are left alone, so each rule
is still fuzzed from the other side, and every check still runs on every case.

A patient's audit trail outlives the patient: what was done to a deleted record stays
readable (by an ADMIN). That one answer is no "deleted resource still available".
"""

from datetime import UTC, date, datetime
from typing import Any

import schemathesis
from schemathesis import Case, HookContext, Response
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import UseAfterFree

from pms_analytics.periods import Granularity
from pms_analytics.schemas import InvalidReportError, report_range
from pms_billing.service import PageTokenError, decode_page_token
from pms_patients.schemas import EARLIEST_BIRTH_DATE


def _today() -> date:
    return datetime.now(UTC).date()


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _patient_dates(body: dict[str, Any]) -> None:
    """Neither date in the future; registered on or after the birth. An update that
    keeps the stored registered date (leaves it out) gets the earliest date of birth,
    the one no stored registration can be before."""
    today = _today()
    born = _day(body.get("dateOfBirth"))
    if born is not None and born > today:
        born = today
        body["dateOfBirth"] = born.isoformat()
    registered = _day(body.get("registeredDate"))
    if registered is not None:
        registered = min(max(registered, born or registered), today)
        body["registeredDate"] = registered.isoformat()
    elif born is not None:
        body["dateOfBirth"] = EARLIEST_BIRTH_DATE.isoformat()


def _report_range(query: dict[str, Any]) -> None:
    """``from`` not after ``to`` (or today), and a range the granularity allows."""
    first, last = _day(query.get("from")), _day(query.get("to"))
    if first is not None and last is not None and first > last:
        first, last = last, first
    try:
        granularity = Granularity(query.get("granularity") or Granularity.DAY)
    except ValueError:
        return
    try:
        report_range(first, last, granularity, _today())
    except InvalidReportError:
        first = last or _today()
    if first is not None:
        query["from"] = first.isoformat()
    if last is not None:
        query["to"] = last.isoformat()


def _issued_page_token(query: dict[str, Any]) -> None:
    """Only a token that billing could have issued (one a link carried over)."""
    token = query.get("pageToken")
    if not isinstance(token, str) or not token:
        return
    try:
        decode_page_token(token)
    except PageTokenError:
        del query["pageToken"]


@schemathesis.hook
def before_call(_context: HookContext, case: Case[Any], _kwargs: dict[str, Any]) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    path = case.operation.path
    if path.startswith("/patients") and isinstance(case.body, dict):
        _patient_dates(case.body)
    elif path in ("/analytics/registrations", "/analytics/revenue") and case.query:
        _report_range(case.query)
    elif path.endswith("/invoices") and case.method.upper() == "GET" and case.query:
        _issued_page_token(case.query)


@schemathesis.hook
def filter_failure(
    _context: HookContext, failure: Failure, case: Case[Any], _response: Response
) -> bool:
    """Keep every failure but a deleted patient's audit trail being readable."""
    return not (
        isinstance(failure, UseAfterFree) and case.operation.path == "/patients/{patient_id}/audit"
    )
