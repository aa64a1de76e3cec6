"""Harvesting COUNTER reports from a vendor's SUSHI server (COUNTER API, R5 and R5.1).

`harvest(session, credential, "TR", begin, end)` asks
``{base_url}/reports/tr?customer_id=…&requestor_id=…&api_key=…&begin_date=YYYY-MM&end_date=YYYY-MM``,
retries when the server is busy or queues the report (HTTP 429 and 5xx, network
errors, SUSHI 1010/1011/1020), and imports the answer through the import service
(source ``sushi``): a harvest replaces the same months of an earlier one, never doubles.
An answer carrying only SUSHI exceptions is no report: the result says what the codes
mean, except 3030 (no usage in those months), which is stored as an empty batch.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from costshare.audit.services import record
from costshare.counter import R5_REPORTS, CounterError, SushiException, read_report
from costshare.db import utcnow
from costshare.errors import ServiceError
from costshare.usage.figures import MAX_MONTHS, Window
from costshare.usage.importing import DuplicateImport, Imported, UsageImportError, import_usage
from costshare.usage.models import SushiCredential

#: Seconds to wait before each retry (a busy server, a queued report).
RETRY_DELAYS = (5.0, 20.0)
#: The longest Retry-After a server may ask us to honour.
MAX_RETRY_AFTER = 60.0
#: Seconds to wait for an answer: servers build large reports slowly, a page cannot wait long.
TIMEOUT = 90.0
DEFAULT_LIMIT = 50 * 1024 * 1024

#: What the SUSHI exception codes mean, for the person harvesting.
MESSAGES = {
    0: "information from the server",
    1000: "the SUSHI service is not available",
    1010: "the SUSHI service is busy",
    1011: "the report is queued for processing; harvest again later",
    1020: "too many requests were made to the SUSHI service",
    1030: "the server lacks information to answer: check the customer id and requestor id",
    2000: "the requestor is not authorized: check the requestor id and the API key",
    2010: "the requestor may not see this institution's usage: check the customer id",
    2011: "the server supplies no global reports",
    2020: "the API key is invalid: check it with the vendor",
    2030: "the IP address is not authorized for this server",
    3000: "the server does not supply this report",
    3010: "the server does not supply this release of the report",
    3020: "the dates asked for are invalid",
    3030: "no usage in the months asked for",
    3031: "the usage of these months is not ready yet: harvest again later",
    3032: "the usage of these months is no longer available",
    3040: "the server returned part of the data only",
    3050: "the server did not recognise a parameter",
    3060: "a report filter value is invalid",
    3061: "report filter values do not fit together",
    3062: "a report attribute value is invalid",
    3063: "the server does not supply components",
    3070: "a report filter the server requires is missing",
    3071: "a report attribute the server requires is missing",
    3080: "more was asked for than the server's limit",
}
#: Codes after which asking again later can succeed.
RETRY_CODES = frozenset({1000, 1010, 1011, 1020})
#: Codes that say "no usage": the empty answer is stored, replacing those months.
NO_USAGE_CODES = frozenset({3030})
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

Fetch = Callable[[str], "Response"]


@dataclass
class Response:
    status: int
    body: bytes
    retry_after: float | None = None


@dataclass
class HarvestResult:
    """What one harvest did: `ok` (imported, or nothing new), a sentence, the import."""

    ok: bool
    message: str
    imported: Imported | None = None
    attempts: int = 1
    duplicate: bool = False


def code_of(exception: SushiException) -> int | None:
    try:
        return int(str(exception.code))
    except (TypeError, ValueError):
        return None


def describe(exception: SushiException) -> str:
    """Say what one SUSHI exception means, with the server's own words."""
    code = code_of(exception)
    meaning = MESSAGES.get(code, "") if code is not None else ""
    own = " — ".join(p for p in (exception.message, exception.data) if p)
    head = f"SUSHI {exception.code}" if exception.code is not None else "SUSHI exception"
    text = f"{head}: {meaning}" if meaning else head
    return f"{text} ({own})" if own else text


def request_url(credential: SushiCredential, report_id: str, window: Window, key: bool) -> str:
    """Return the report's URL; with `key` False the API key is left out (for messages)."""
    params = {"customer_id": credential.customer_id}
    if credential.requestor_id:
        params["requestor_id"] = credential.requestor_id
    if key and credential.api_key:
        params["api_key"] = credential.api_key
    if credential.platform:
        params["platform"] = credential.platform
    params["begin_date"] = f"{window.begin:%Y-%m}"
    params["end_date"] = f"{window.end:%Y-%m}"
    return f"{credential.base_url.rstrip('/')}/reports/{report_id.lower()}?{urlencode(params)}"


def fetch(url: str, limit: int = DEFAULT_LIMIT, timeout: float = TIMEOUT) -> Response:
    """GET the URL; an HTTP error status is a Response too (its body may hold exceptions)."""
    request = urllib.request.Request(  # noqa: S310 - the base URL is checked to be http(s)
        url, headers={"Accept": "application/json", "User-Agent": "costshare-sushi/1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Response(answer.status, _read(answer, limit), _retry_after(answer.headers))
    except urllib.error.HTTPError as error:
        body = _read(error, limit) if error.fp is not None else b""
        return Response(error.code, body, _retry_after(error.headers))


def _read(stream: Any, limit: int) -> bytes:
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise HarvestFailed(
            f"the answer is larger than {limit // (1024 * 1024)} MB: harvest fewer months at once"
        )
    return body


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER) if value is not None else None
    except ValueError:
        return None


class HarvestFailed(Exception):
    """The harvest cannot go on; the message says why."""


def _exceptions_of(body: bytes) -> list[SushiException]:
    """Return the SUSHI exceptions an answer carries (none when it is not SUSHI JSON)."""
    try:
        return list(read_report(body, "sushi.json").summary.exceptions)
    except CounterError:
        return []


def clean_period(report_id: str, begin: dt.date | None, end: dt.date | None) -> Window:
    """Check what a harvest asks for; return the months."""
    if report_id not in R5_REPORTS:
        raise ServiceError(
            f"Choose a COUNTER R5 report (TR, DR, PR, IR or a standard view); not {report_id!r}.",
            field="report",
        )
    if begin is None:
        raise ServiceError("Give the first month as YYYY-MM.", field="begin")
    if end is None:
        raise ServiceError("Give the last month as YYYY-MM.", field="end")
    window = Window(begin, end)
    if end < begin:
        raise ServiceError("The last month comes before the first.", field="end")
    if window.size > MAX_MONTHS:
        raise ServiceError(f"Harvest at most {MAX_MONTHS} months at once.", field="end")
    return window


def harvest(
    session: Session,
    credential: SushiCredential,
    report_id: str,
    begin: dt.date | None,
    end: dt.date | None,
    *,
    user_id: int | None = None,
    fetcher: Fetch | None = None,
    delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> HarvestResult:
    """Harvest one report for one member and period, and import it (see the module)."""
    window = clean_period(report_id, begin, end)
    get = fetcher or fetch
    url = request_url(credential, report_id, window, key=True)
    shown = request_url(credential, report_id, window, key=False)
    attempts = 0
    result: HarvestResult
    while True:
        attempts += 1
        try:
            outcome = _attempt(session, credential, report_id, window, get(url), user_id)
        except (urllib.error.URLError, OSError) as error:
            outcome = _network_failure(error)
        except HarvestFailed as error:
            outcome = HarvestResult(False, f"Harvest failed: {error}.")
        if isinstance(outcome, HarvestResult):
            result = outcome
            break
        if attempts > len(delays):
            result = HarvestResult(
                False, f"Harvest failed after {attempts} attempts: {outcome.reason}."
            )
            break
        sleep(outcome.wait if outcome.wait is not None else delays[attempts - 1])
    result.attempts = attempts
    credential.last_harvest_at = utcnow()
    credential.last_harvest_status = result.message[:2000]
    record(
        session,
        "sushi.harvest",
        credential,
        f"SUSHI harvest of {report_id} {window.label} for {credential.member.code} from"
        f" {credential.vendor.name}: {result.message}",
        after={"url": shown, "ok": result.ok, "attempts": attempts},
        user_id=user_id,
    )
    session.flush()
    return result


def _network_failure(error: OSError) -> HarvestResult | _Retry:
    """A timeout or a dropped connection is asked again; an unknown name or a refusal is not."""
    reason = getattr(error, "reason", error)
    if isinstance(reason, socket.gaierror):
        return HarvestResult(
            False, f"Harvest failed: the server's name is not known ({reason}): check the base URL."
        )
    if isinstance(reason, ConnectionRefusedError | ssl.SSLError):
        return HarvestResult(
            False, f"Harvest failed: the server refused the connection ({reason})."
        )
    return _Retry(f"the SUSHI server did not answer ({reason})")


@dataclass
class _Retry:
    reason: str
    wait: float | None = None


def _attempt(
    session: Session,
    credential: SushiCredential,
    report_id: str,
    window: Window,
    answer: Response,
    user_id: int | None,
) -> HarvestResult | _Retry:
    if answer.status in RETRY_STATUS:
        return _Retry(f"the server answered HTTP {answer.status}", answer.retry_after)
    exceptions = _exceptions_of(answer.body)
    if answer.status != 200:
        said = "; ".join(describe(e) for e in exceptions)
        return HarvestResult(
            False,
            f"Harvest failed: the server answered HTTP {answer.status}"
            + (f": {said}" if said else "")
            + ".",
        )
    codes = {code_of(e) for e in exceptions}
    has_items = _has_items(answer.body)
    if not has_items and codes & RETRY_CODES:
        return _Retry("; ".join(describe(e) for e in exceptions), answer.retry_after)
    if not has_items and exceptions and not codes & NO_USAGE_CODES:
        said = "; ".join(describe(e) for e in exceptions)
        return HarvestResult(False, f"Nothing harvested: {said}.")
    filename = (
        f"{credential.member.code}_{credential.vendor.name}_{report_id}"
        f"_{window.begin:%Y-%m}_{window.end:%Y-%m}.json"
    ).replace("/", "-")
    try:
        imported = import_usage(
            session,
            answer.body,
            filename=filename,
            member=credential.member,
            platform=credential.platform,
            source_kind="sushi",
            user_id=user_id,
        )
    except DuplicateImport as duplicate:
        return HarvestResult(
            True,
            f"The server sent the same report as batch {duplicate.batch.id}: nothing new.",
            duplicate=True,
        )
    except UsageImportError as error:
        return HarvestResult(False, f"Harvest failed: {error.message}")
    warning = "; ".join(describe(e) for e in exceptions)
    message = imported.sentence() + (f" Server notes: {warning}." if warning else "")
    return HarvestResult(True, message, imported)


def _has_items(body: bytes) -> bool:
    """Tell whether a SUSHI answer holds report items (records), without keeping them."""
    try:
        report = read_report(body, "sushi.json")
        with report:
            for _ in report.records():
                return True
    except CounterError:
        return False
    return False
