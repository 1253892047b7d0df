"""PEMS client: one HTTP session, the grid paging loop, UPDATE with idempotency, retries, typed errors."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import httpx
import orjson

from store.pems import mapping
from store.pems.errors import MalformedRecord, PemsConflict, PemsOutcomeUnknown, PemsRejected, PemsUnavailable

log = logging.getLogger(__name__)

GRID_PATH = "/axis/restservices/grids"
UPDATE_PATH = "/axis/restservices/userdefinedscreenservices"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Row:
    """One grid row: a registry record and its PEMS recordid, or the reason it could not be read."""

    record_id: str | None
    record: dict | None = None
    pems_record_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class PemsSettings:
    base_url: str
    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    tenant: str = "VANGUARD"
    timeout_seconds: float = 30.0
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    page_size: int = 5000


class PemsClient:
    """Talks to PEMS (or the simulator). Thread-safe for sequential use; one instance per worker."""

    def __init__(self, settings: PemsSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        headers = {"tenant": settings.tenant, "Accept": "application/json"}
        auth = None
        if settings.api_key:
            headers["X-API-KEY"] = settings.api_key
        elif settings.user:
            auth = httpx.BasicAuth(settings.user, settings.password or "")
        self.http = httpx.Client(base_url=settings.base_url, headers=headers, auth=auth,
                                 timeout=settings.timeout_seconds, transport=transport)
        self._jitter = random.Random()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PemsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads ---------------------------------------------------------------------------------
    def iter_rows(self, org: str, *, modified_after: datetime | None = None,
                  record_id: str | None = None) -> Iterator[list[Row]]:
        """Yield the organization's rows page by page (sorted by id), parsed or marked malformed.

        The next page is requested (and parsed) in a helper thread while the caller works on the
        current one, so PEMS's latency overlaps with writing to the database.
        """
        cursor = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pems-page") as pool:
            pending = pool.submit(self._fetch_page, org, cursor, modified_after, record_id)
            while True:
                rows, more = pending.result()
                cursor += len(rows)
                if more:
                    pending = pool.submit(self._fetch_page, org, cursor, modified_after, record_id)
                yield rows
                if not more:
                    return

    def _fetch_page(self, org: str, cursor: int, modified_after: datetime | None,
                    record_id: str | None) -> tuple[list[Row], bool]:
        data = self._post(GRID_PATH, self._grid_body(org, cursor, modified_after, record_id), org)
        result = _result_data(data)
        records = result.get("DATARECORD") or []
        if not isinstance(records, list):
            raise PemsRejected("PEMS answered a grid page without a DATARECORD list")
        return [_read_row(item) for item in records], bool(records) and result.get("MORERECORDPRESENT") == "+"

    def get_record(self, org: str, record_id: str) -> Row | None:
        for page in self.iter_rows(org, record_id=record_id):
            for row in page:
                if row.record_id == record_id:
                    return row
        return None

    def _grid_body(self, org: str, cursor: int, modified_after: datetime | None, record_id: str | None) -> dict:
        filters = [{"SEQNUM": 1, "JOINER": "AND",
                    "ADDON_FILTER": {"ALIAS_NAME": mapping.ORGANIZATION_ALIAS, "OPERATOR": "=", "VALUE": org}}]
        if modified_after is not None:
            filters.append({"SEQNUM": 2, "JOINER": "AND", "ADDON_FILTER": {
                "ALIAS_NAME": mapping.MODIFIED_ALIAS, "OPERATOR": ">", "VALUE": mapping.format_stamp(modified_after)}})
        if record_id is not None:
            filters.append({"SEQNUM": 3, "JOINER": "AND", "ADDON_FILTER": {
                "ALIAS_NAME": mapping.ID_ALIAS, "OPERATOR": "=", "VALUE": record_id}})
        return {
            "GRID": {"GRID_NAME": "PFA", "NUMBER_OF_ROWS_FIRST_RETURNED": self.settings.page_size,
                     "CURSOR_POSITION": cursor},
            "ADDON_SORT": {"ALIAS_NAME": mapping.ID_ALIAS, "TYPE": "ASC"},
            "MULTIADDON_FILTERS": {"MULTIADDON_FILTER": filters},
            "REQUEST_TYPE": "LIST.HEAD_DATA.STORED",
        }

    # -- writes --------------------------------------------------------------------------------
    def update_record(self, org: str, record_id: str, pems_record_id: int, changes: dict,
                      idempotency_key: str) -> Row:
        """Apply `changes` (registry keys) if PEMS still has `pems_record_id`; return the new record.

        The idempotency key makes retries safe: PEMS answers a replay with its first answer. A
        retry refused after an attempt whose answer was lost raises `PemsOutcomeUnknown`, not
        `PemsRejected`: PEMS may hold the change (it may still be processing the first attempt).
        """
        body = {"UPDATE": {"ORGANIZATION": org, mapping.ID_ALIAS: record_id,
                           mapping.RECORD_ID_ALIAS: str(pems_record_id), "FIELD": mapping.render_changes(changes)}}
        data = self._post(UPDATE_PATH, body, org, {"Idempotency-Key": idempotency_key}, write=True)
        records = _result_data(data).get("DATARECORD") or []
        if not records:
            raise PemsRejected(f"PEMS accepted the update of {record_id} but returned no record")
        row = _read_row(records[0])
        if row.error:
            raise PemsRejected(f"PEMS returned an unreadable record for {record_id}: {row.error}")
        return row

    # -- transport -----------------------------------------------------------------------------
    def _post(self, path: str, body: dict, org: str, extra_headers: dict | None = None, *,
              write: bool = False) -> dict:
        headers = {"organization": org, **(extra_headers or {})}
        last_problem = "no attempt made"
        maybe_applied = False  # an earlier attempt may have reached PEMS and been applied
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = self.http.post(path, json=body, headers=headers)
            except httpx.TimeoutException as exc:
                last_problem = "timed out"
                maybe_applied |= not isinstance(exc, httpx.ConnectTimeout)
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__})"
                maybe_applied |= not isinstance(exc, httpx.ConnectError)
            else:
                payload = _json_or_none(response)
                if isinstance(payload, dict) and payload.get("ErrorAlert"):
                    error = _alert_error(payload["ErrorAlert"], response.status_code)
                    if write and maybe_applied and not isinstance(error, PemsConflict):
                        raise PemsOutcomeUnknown(f"PEMS {last_problem}, then refused the retry: {error.message}",
                                                 pems_code=error.details.get("pems_code")) from error
                    raise error
                if response.status_code in RETRY_STATUSES:
                    maybe_applied |= response.status_code >= 500  # 429: refused before any work
                    last_problem = f"HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise PemsRejected(f"PEMS answered HTTP {response.status_code}")
                elif not isinstance(payload, dict):
                    last_problem = "the answer was not JSON"
                else:
                    return payload
            if attempt < self.settings.max_attempts:
                delay = self.settings.backoff_seconds * 2 ** (attempt - 1) * (0.5 + self._jitter.random())
                log.info("PEMS %s %s; retrying in %.2fs (attempt %d)", path, last_problem, delay, attempt)
                time.sleep(delay)
        raise PemsUnavailable(f"PEMS {last_problem} after {self.settings.max_attempts} attempts")


def _json_or_none(response: httpx.Response):
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _alert_error(alerts, status: int) -> PemsRejected:
    first = alerts[0] if isinstance(alerts, list) and alerts and isinstance(alerts[0], dict) else {}
    name, message = str(first.get("Name", "")), str(first.get("Message", "PEMS refused the request"))
    if status == 409 or name == "RECORD_CHANGED":
        return PemsConflict(message[:300], pems_code=name)
    return PemsRejected(f"PEMS refused the request: {message[:300]}", pems_code=name, status=status)


def _result_data(payload: dict) -> dict:
    try:
        result = payload["Result"]["ResultData"]
    except (KeyError, TypeError):
        raise PemsRejected("PEMS answered without Result.ResultData") from None
    if not isinstance(result, dict):
        raise PemsRejected("PEMS answered with a malformed ResultData")
    return result


def _read_row(item) -> Row:
    fields = item.get("DATAFIELD") if isinstance(item, dict) else None
    try:
        record, pems_record_id = mapping.parse_row(fields)
    except MalformedRecord as exc:
        return Row(record_id=exc.details.get("record"), error=exc.message)
    return Row(record_id=record["pfaId"], record=record, pems_record_id=pems_record_id)
