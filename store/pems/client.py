"""PEMS client: one HTTP session, the grid paging loop, UPDATE with idempotency, retries, typed errors."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
import orjson

from store.pems import grid_filters, mapping
from store.pems.errors import MalformedRecord, PemsConflict, PemsOutcomeUnknown, PemsRejected, PemsUnavailable

log = logging.getLogger(__name__)

GRID_PATH = "/axis/restservices/grids"
UPDATE_PATH = "/axis/restservices/userdefinedscreenservices"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ID_BATCH = 100  # ids per targeted read: one filter group each


@dataclass(frozen=True)
class Row:
    """One grid row: a registry record and its PEMS recordid, or the reason it could not be read."""

    record_id: str | None
    record: dict | None = None
    pems_record_id: int | None = None
    error: str | None = None
    modified: datetime | None = None  # the row's change stamp, when readable (malformed rows too)


@dataclass(frozen=True)
class Page:
    """One grid answer: its rows and PEMS's clock when it answered (the HTTP `Date`; None without one)."""

    rows: list[Row]
    server_time: datetime | None = None


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
    name: str | None = None  # what logs and sync runs call this PEMS (e.g. the built-in simulator of a data dir)

    @property
    def display_name(self) -> str:
        """`name`, else the base URL without any credentials in it."""
        if self.name:
            return self.name
        url = httpx.URL(self.base_url)
        return str(url.copy_with(username=None, password=None)) if url.userinfo else self.base_url


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
        # Requests PEMS may have answered that this client never read (a read timeout or a broken
        # connection after sending): what PEMS served can then exceed what a sync counted as fetched.
        self.answers_lost = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PemsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads ---------------------------------------------------------------------------------
    def iter_pages(self, org: str, *, modified_after: datetime | None = None) -> Iterator[Page]:
        """Every row of the organization (or those changed after `modified_after`), page by page.

        Pages are read by key, never by offset: each request asks for the rows after the last key
        seen (`pfs_id > last`; for changes, `(pfs_lastmodified, pfs_id) > (last stamp, last id)`),
        so records that PEMS adds, changes or deletes meanwhile cannot shift a live row out of the
        read. A record changed during a read of changes moves behind the key and comes again.
        The next page is requested (and parsed) in a helper thread while the caller works on the
        current one, so PEMS's latency overlaps with writing to the database.
        """
        organization = (mapping.ORGANIZATION_ALIAS, "=", org)
        if modified_after is None:
            return self._iter_keyset(org, [[organization]], [mapping.ID_ALIAS], _after_id)
        since = (mapping.MODIFIED_ALIAS, ">", mapping.format_stamp(modified_after))
        return self._iter_keyset(org, [[organization, since]], [mapping.MODIFIED_ALIAS, mapping.ID_ALIAS],
                                 _after_stamp_and_id)

    def iter_rows(self, org: str, *, modified_after: datetime | None = None) -> Iterator[list[Row]]:
        """`iter_pages` without the clock: the rows of each page."""
        return (page.rows for page in self.iter_pages(org, modified_after=modified_after))

    def read_records(self, org: str, record_ids: list[str]) -> list[Row]:
        """A targeted read: the rows PEMS has for these ids (absent ones are simply not returned),
        `ID_BATCH` ids per request."""
        wanted = sorted(set(record_ids))
        found: list[Row] = []
        for start in range(0, len(wanted), ID_BATCH):
            groups = [[(mapping.ORGANIZATION_ALIAS, "=", org), (mapping.ID_ALIAS, "=", rid)]
                      for rid in wanted[start:start + ID_BATCH]]
            for page in self._iter_keyset(org, groups, [mapping.ID_ALIAS], _after_id):
                found.extend(page.rows)
        return found

    def get_record(self, org: str, record_id: str) -> Row | None:
        return next((row for row in self.read_records(org, [record_id]) if row.record_id == record_id), None)

    def _iter_keyset(self, org: str, groups: list[list[grid_filters.Condition]], sort: list[str],
                     after: Callable[[Row], list[list[grid_filters.Condition]] | None]) -> Iterator[Page]:
        """Pages of `groups`, sorted by `sort`; each next page is `groups AND after(last row)`."""
        previous = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pems-page") as pool:
            pending = pool.submit(self._fetch_page, org, groups, sort)
            while True:
                page, more = pending.result()
                if more:
                    key = next((k for k in map(after, reversed(page.rows)) if k is not None), None)
                    if key is None or key == previous:
                        raise PemsRejected("PEMS sent a page whose rows carry no readable key past the last one; "
                                           "the read cannot go on without skipping or repeating rows")
                    previous = key
                    pending = pool.submit(self._fetch_page, org, grid_filters.conjoin(groups, key), sort)
                yield page
                if not more:
                    return

    def _fetch_page(self, org: str, groups: list[list[grid_filters.Condition]], sort: list[str]) -> tuple[Page, bool]:
        data, response = self._send(GRID_PATH, self._grid_body(groups, sort), org)
        result = _result_data(data)
        records = result.get("DATARECORD") or []
        if not isinstance(records, list):
            raise PemsRejected("PEMS answered a grid page without a DATARECORD list")
        page = Page([_read_row(item) for item in records], _server_time(response))
        return page, bool(records) and result.get("MORERECORDPRESENT") == "+"

    def _grid_body(self, groups: list[list[grid_filters.Condition]], sort: list[str]) -> dict:
        order = [{"ALIAS_NAME": alias, "TYPE": "ASC"} for alias in sort]
        return {
            "GRID": {"GRID_NAME": "PFA", "NUMBER_OF_ROWS_FIRST_RETURNED": self.settings.page_size,
                     "CURSOR_POSITION": 0},
            "ADDON_SORT": order[0] if len(order) == 1 else order,
            "MULTIADDON_FILTERS": grid_filters.render(groups),
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
        return self._send(path, body, org, extra_headers, write=write)[0]

    def _send(self, path: str, body: dict, org: str, extra_headers: dict | None = None, *,
              write: bool = False) -> tuple[dict, httpx.Response]:
        headers = {"organization": org, **(extra_headers or {})}
        last_problem = "no attempt made"
        maybe_applied = False  # an earlier attempt may have reached PEMS and been applied
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = self.http.post(path, json=body, headers=headers)
            except httpx.TimeoutException as exc:
                last_problem = "timed out"
                maybe_applied |= not isinstance(exc, httpx.ConnectTimeout)
                self.answers_lost += not isinstance(exc, httpx.ConnectTimeout)
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__})"
                maybe_applied |= not isinstance(exc, httpx.ConnectError)
                self.answers_lost += not isinstance(exc, httpx.ConnectError)
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
                    return payload, response
            if attempt < self.settings.max_attempts:
                delay = self.settings.backoff_seconds * 2 ** (attempt - 1) * (0.5 + self._jitter.random())
                log.info("PEMS %s %s; retrying in %.2fs (attempt %d)", path, last_problem, delay, attempt)
                time.sleep(delay)
        raise PemsUnavailable(f"PEMS {last_problem} after {self.settings.max_attempts} attempts")


def _after_id(row: Row) -> list[list[grid_filters.Condition]] | None:
    return None if row.record_id is None else [[(mapping.ID_ALIAS, ">", row.record_id)]]


def _after_stamp_and_id(row: Row) -> list[list[grid_filters.Condition]] | None:
    """`(stamp, id) > (s, last)`, written as `stamp > s OR (stamp = s AND id > last)`."""
    if row.record_id is None or row.modified is None:
        return None
    stamp = mapping.format_stamp(row.modified)
    return [[(mapping.MODIFIED_ALIAS, ">", stamp)],
            [(mapping.MODIFIED_ALIAS, "=", stamp), (mapping.ID_ALIAS, ">", row.record_id)]]


def _server_time(response: httpx.Response) -> datetime | None:
    """PEMS's clock from the `Date` header (the earliest, should a proxy have added another)."""
    moments = []
    for value in response.headers.get_list("date"):
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            moments.append(moment)
    return min(moments) if moments else None


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
        return Row(record_id=exc.details.get("record"), error=exc.message, modified=_raw_stamp(fields))
    stamp = record.get("lastModified")
    modified = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    return Row(record_id=record["pfaId"], record=record, pems_record_id=pems_record_id, modified=modified)


def _raw_stamp(fields) -> datetime | None:
    """The change stamp of a row that could not be read as a whole (a key to page on, a stamp to re-read from)."""
    try:
        text = next(f["FIELDVALUE"] for f in fields if f["FIELDNAME"] == mapping.MODIFIED_ALIAS)
        return mapping.parse_stamp(text.strip())
    except (StopIteration, TypeError, KeyError, AttributeError, ValueError):
        return None
