"""A PEMS (HxGN EAM) simulator: the grid read, the UPDATE write, and control endpoints for faults.

It holds deterministic demo organizations in memory and speaks the contract the client expects,
so every test and the zero-configuration demo run against real HTTP. Faults are drawn from a
seeded random generator, so a test that asks for "20% 5xx" gets the same failures every run.
"""

from __future__ import annotations

import asyncio
import base64
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store import demo_data
from store.pems import mapping

MAX_PAGE = 10_000


@dataclass
class SimRecord:
    data: dict
    recordid: int
    modified: datetime
    rendered: list | None = None

    def fields(self) -> list[dict]:
        if self.rendered is None:
            self.rendered = mapping.render_record(self.data, self.recordid)
        return self.rendered


@dataclass
class Faults:
    """What to break. Rates are shares of requests (0..1); malformed ids are fixed per seed."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
    error_alert_rate: float = 0.0
    stale_recordid: bool = False
    drop_after_write: int = 0
    slow_after_write: int = 0
    busy_on_replay: int = 0
    refuse_writes: int = 0
    malformed_ids: dict[str, set[str]] = field(default_factory=dict)


class PemsSimulator:
    """In-memory PEMS with `organizations` x `records` demo PFA records."""

    def __init__(self, organizations: list[str], records: int, *, seed: int = 7, api_key: str = "pems-sim-key",
                 tenant: str = "VANGUARD", user: str = "vanguard") -> None:
        self.api_key, self.tenant, self.user = api_key, tenant, user
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = Faults()
        self.lock = threading.Lock()
        self.version = 0
        self.writes = 0
        self.write_counts: Counter[tuple[str, str]] = Counter()
        self.write_faults: Counter[str] = Counter()  # faults injected into UPDATE requests, by kind
        self._order_cache: dict[tuple, list[str]] = {}
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self.orgs: dict[str, dict[str, SimRecord]] = {}
        self.next_index: dict[str, int] = {}
        for org in organizations:
            self.orgs[org] = {}
            for record in demo_data.generate_records(org, records, seed=seed):
                self._put(org, record, 1, _parse_iso(record["lastModified"]))
            self.next_index[org] = records + 1

    # -- state -------------------------------------------------------------------------------
    def _put(self, org: str, data: dict, recordid: int, modified: datetime) -> SimRecord:
        data["lastModified"] = mapping.iso_stamp(modified)
        record = SimRecord(data, recordid, modified)
        self.orgs[org][data["pfaId"]] = record
        return record

    def _touch(self) -> None:
        self.version += 1
        self._order_cache.clear()

    def _now(self, previous: datetime) -> datetime:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return now if now > previous else previous + timedelta(seconds=1)

    def change_records(self, org: str, count: int, seed: int | None = None) -> list[str]:
        """Change `count` random records (forecast end, rate or area); return their ids."""
        rng = random.Random(seed if seed is not None else self.rng.random())
        with self.lock:
            ids = rng.sample(sorted(self.orgs[org]), min(count, len(self.orgs[org])))
            for rid in ids:
                rec = self.orgs[org][rid]
                data = dict(rec.data)
                end = datetime.fromisoformat(data.get("forecastEnd", "2026-01-01"))
                data["forecastEnd"] = (end + timedelta(days=rng.randrange(1, 60))).date().isoformat()
                if data.get("source") == "Rental" and data.get("monthlyRate"):
                    data["monthlyRate"] = round(data["monthlyRate"] * 1.05, 2)
                self._put(org, data, rec.recordid + 1, self._now(rec.modified))
            self._touch()
        return ids

    def delete_records(self, org: str, ids: list[str]) -> list[str]:
        with self.lock:
            gone = [rid for rid in ids if self.orgs[org].pop(rid, None) is not None]
            self._touch()
        return gone

    def add_records(self, org: str, count: int) -> list[str]:
        with self.lock:
            start = self.next_index[org]
            added = []
            for record in demo_data.generate_records(org, count, seed=self.seed, start=start):
                self._put(org, record, 1, self._now(datetime.min.replace(tzinfo=timezone.utc)))
                added.append(record["pfaId"])
            self.next_index[org] = start + count
            self._touch()
        return added

    def set_malformed(self, org: str, share: float, seed: int = 1) -> list[str]:
        ids = sorted(self.orgs[org])
        chosen = random.Random(seed).sample(ids, int(len(ids) * share))
        self.faults.malformed_ids[org] = set(chosen)
        return chosen

    def snapshot(self, org: str) -> dict[str, tuple[dict, int]]:
        """Every record of `org` as (registry record, recordid): what a perfect mirror holds."""
        with self.lock:
            return {rid: (dict(r.data), r.recordid) for rid, r in self.orgs[org].items()}

    # -- HTTP ----------------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/axis/restservices/grids", self._grids, methods=["POST"]),
            Route("/axis/restservices/userdefinedscreenservices", self._update, methods=["POST"]),
            Route("/_control/change", self._control_change, methods=["POST"]),
            Route("/_control/delete", self._control_delete, methods=["POST"]),
            Route("/_control/add", self._control_add, methods=["POST"]),
            Route("/_control/faults", self._control_faults, methods=["POST"]),
            Route("/_control/records", self._control_records, methods=["GET"]),
            Route("/_control/edit", self._control_edit, methods=["POST"]),
            Route("/_control/writes", self._control_writes, methods=["GET"]),
        ])

    async def _grids(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            grid = body["GRID"]
            size = int(grid.get("NUMBER_OF_ROWS_FIRST_RETURNED", 100))
            cursor = int(grid.get("CURSOR_POSITION", 0))
            filters = _filters(body.get("MULTIADDON_FILTERS"))
            sort = body.get("ADDON_SORT") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return _alert(400, "INVALID_REQUEST", "The grid request is malformed.")
        org = request.headers.get("organization", "")
        if filters.get((mapping.ORGANIZATION_ALIAS, "=")) not in (None, org):
            return _alert(400, "INVALID_FILTER", "The organization filter must match the organization header.")
        if org not in self.orgs:
            return _alert(404, "ORGANIZATION_NOT_FOUND", f"Organization {org[:40]} does not exist.")
        if not 1 <= size <= MAX_PAGE or cursor < 0:
            return _alert(400, "INVALID_PAGE", f"Page size must be 1..{MAX_PAGE}.")
        try:
            after = filters.get((mapping.MODIFIED_ALIAS, ">"))
            after = mapping.parse_stamp(after) if after else None
        except ValueError:
            return _alert(400, "INVALID_FILTER", "The last-modified filter is not a PEMS date.")
        with self.lock:
            ids = self._ordered(org, after, filters.get((mapping.ID_ALIAS, "=")),
                                sort.get("ALIAS_NAME", mapping.ID_ALIAS), sort.get("TYPE", "ASC") == "DESC")
            page = ids[cursor:cursor + size]
            malformed = self.faults.malformed_ids.get(org, set())
            rows = [{"DATAFIELD": _corrupt(self.orgs[org][rid].fields()) if rid in malformed
                     else self.orgs[org][rid].fields()} for rid in page]
        more = cursor + len(page) < len(ids)
        return FastJSONResponse({"Result": {"ResultData": {
            "CURRENTCURSORPOSITION": cursor + len(page), "MORERECORDPRESENT": "+" if more else "-",
            "TOTALCOUNT": len(ids), "DATARECORD": rows}}})

    def _ordered(self, org: str, after: datetime | None, only: str | None, alias: str, desc: bool) -> list[str]:
        key = (org, after, only, alias, desc)
        cached = self._order_cache.get(key)
        if cached is None:
            records = self.orgs[org]
            ids = [rid for rid, r in records.items() if (after is None or r.modified > after) and (only is None or rid == only)]
            sort_key = mapping.KEYS_BY_ALIAS.get(alias, "pfaId")
            ids.sort(key=lambda rid: (str(records[rid].data.get(sort_key, "")), rid), reverse=desc)
            cached = self._order_cache[key] = ids
        return cached

    async def _update(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return self._count_refused_write(refused)
        key = request.headers.get("Idempotency-Key")
        replayed = self._replay(key) or self._refuse_write()
        if replayed is not None:
            return replayed
        try:
            update = (await request.json())["UPDATE"]
            org, rid = update["ORGANIZATION"], update[mapping.ID_ALIAS]
            sent_recordid = int(update[mapping.RECORD_ID_ALIAS])
            changes = mapping.parse_changes(update["FIELD"])
        except ClientDisconnect:  # the client died while sending: nothing to do, nobody to answer
            return Response(status_code=400)
        except (ValueError, KeyError, TypeError):
            return _alert(400, "INVALID_REQUEST", "The UPDATE request is malformed.")
        with self.lock:
            record = self.orgs.get(org, {}).get(rid)
            if record is None:
                return _alert(404, "RECORD_NOT_FOUND", f"Record {rid[:40]} does not exist.")
            if sent_recordid != record.recordid or self.faults.stale_recordid:
                self.write_faults["stale_recordid"] += 1
                return _alert(409, "RECORD_CHANGED", f"Record {rid} was changed by another user.")
            data = {**record.data, **{k: v for k, v in changes.items() if v is not None}}
            for k, v in changes.items():
                if v is None:
                    data.pop(k, None)
            if data.get("forecastStart") and data.get("forecastEnd") and data["forecastEnd"] < data["forecastStart"]:
                return _alert(422, "VALIDATION", "Forecast end is before forecast start.")
            updated = self._put(org, data, record.recordid + 1, self._now(record.modified))
            self._touch()
            self.writes += 1
            self.write_counts[(org, rid)] += 1
            body = {"Result": {"ResultData": {"DATARECORD": [{"DATAFIELD": updated.fields()}]}}}
            if key:
                self._idempotent[key] = (200, body)
        return await self._answer_write(body)

    # -- write faults and idempotency ----------------------------------------------------------
    def _replay(self, key: str | None) -> Response | None:
        """PEMS's first answer to a known idempotency key (whatever changed since: its recordid
        may be old), or, with `busy_on_replay`, the ErrorAlert PEMS gives while it still processes it."""
        if not key:
            return None
        with self.lock:
            if key not in self._idempotent:
                return None
            if self.faults.busy_on_replay > 0:
                self.faults.busy_on_replay -= 1
                self.write_faults["busy_on_replay"] += 1
                return _alert(200, "SERVER_BUSY", "A request with this idempotency key is still being processed.")
            status, body = self._idempotent[key]
        return JSONResponse(body, status_code=status)

    def _refuse_write(self) -> Response | None:
        """With `refuse_writes`, an UPDATE is answered 503 before PEMS does anything (reads still work)."""
        with self.lock:
            if self.faults.refuse_writes <= 0:
                return None
            self.faults.refuse_writes -= 1
            self.write_faults["5xx"] += 1
        return Response("update service unavailable", status_code=503)

    async def _answer_write(self, body: dict) -> Response:
        """The answer to an applied write, unless a fault loses it (502) or holds it past the timeout."""
        with self.lock:
            drop, slow = self.faults.drop_after_write > 0, self.faults.slow_after_write > 0
            if drop:
                self.faults.drop_after_write -= 1
                self.write_faults["lost_answer"] += 1
            elif slow:
                self.faults.slow_after_write -= 1
                self.write_faults["answer_after_timeout"] += 1
        if drop:
            return Response("applied, but the answer was lost", status_code=502)
        if slow:
            await asyncio.sleep(self.faults.timeout_seconds)
            return Response("applied, answered too late", status_code=504)
        return JSONResponse(body)

    def _count_refused_write(self, refused: Response) -> Response:
        kind = {504: "timeout", 503: "5xx", 200: "error_alert"}.get(refused.status_code)
        if kind:
            with self.lock:
                self.write_faults[kind] += 1
        return refused

    def edit_record(self, org: str, rid: str, changes: dict) -> int | None:
        """Another PEMS user edits a record: its fields change and its recordid moves on."""
        with self.lock:
            record = self.orgs.get(org, {}).get(rid)
            if record is None:
                return None
            updated = self._put(org, {**record.data, **changes}, record.recordid + 1, self._now(record.modified))
            self._touch()
            return updated.recordid

    def writes_of(self, org: str) -> dict[str, int]:
        """UPDATE writes PEMS applied per record of `org` (idempotent replays and edits not counted)."""
        with self.lock:
            return {rid: n for (o, rid), n in self.write_counts.items() if o == org}

    async def _gate(self, request: Request) -> Response | None:
        """Authentication, tenant, and the injected latency / 5xx / timeout / ErrorAlert faults."""
        if not self._authorized(request):
            return _alert(401, "UNAUTHORIZED", "Invalid credentials.")
        if request.headers.get("tenant") != self.tenant:
            return _alert(401, "INVALID_TENANT", "Unknown tenant.")
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        with self.lock:
            draw = self.rng.random()
        if draw < faults.timeout_rate:
            await asyncio.sleep(faults.timeout_seconds)
            return Response("too late", status_code=504)
        draw -= faults.timeout_rate
        if draw < faults.error_rate:
            return Response("upstream trouble", status_code=503)
        draw -= faults.error_rate
        if draw < faults.error_alert_rate:
            return _alert(200, "SERVER_BUSY", "The grid service rejected the request.")
        return None

    def _authorized(self, request: Request) -> bool:
        if request.headers.get("X-API-KEY") == self.api_key:
            return True
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return user == self.user and password == self.api_key
        return False

    async def _control_change(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"ids": self.change_records(body["org"], int(body["count"]), body.get("seed"))})

    async def _control_delete(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"ids": self.delete_records(body["org"], list(body["ids"]))})

    async def _control_add(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"ids": self.add_records(body["org"], int(body["count"]))})

    async def _control_faults(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            for name in ("latency_ms", "error_rate", "timeout_rate", "timeout_seconds", "error_alert_rate",
                         "stale_recordid", "drop_after_write", "slow_after_write", "busy_on_replay",
                         "refuse_writes"):
                if name in body:
                    setattr(self.faults, name, type(getattr(self.faults, name))(body[name]))
            if "seed" in body:
                self.rng = random.Random(body["seed"])
        chosen = {org: self.set_malformed(org, float(share), int(body.get("seed", 1)))
                  for org, share in (body.get("malformed") or {}).items()}
        return JSONResponse({"ok": True, "malformed": chosen})

    async def _control_records(self, request: Request) -> Response:
        org = request.query_params.get("org", "")
        if org not in self.orgs:
            return _alert(404, "ORGANIZATION_NOT_FOUND", "Unknown organization.")
        return JSONResponse({rid: {"data": data, "recordid": recordid} for rid, (data, recordid) in self.snapshot(org).items()})

    async def _control_edit(self, request: Request) -> Response:
        body = await request.json()
        recordid = self.edit_record(body["org"], body["id"], dict(body["changes"]))
        if recordid is None:
            return _alert(404, "RECORD_NOT_FOUND", "Unknown record.")
        return JSONResponse({"id": body["id"], "recordid": recordid})

    async def _control_writes(self, request: Request) -> Response:
        return JSONResponse(self.writes_of(request.query_params.get("org", "")))


def _filters(block) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for item in (block or {}).get("MULTIADDON_FILTER", []):
        f = item["ADDON_FILTER"]
        found[(f["ALIAS_NAME"], f["OPERATOR"])] = f["VALUE"]
    return found


class FastJSONResponse(JSONResponse):
    """orjson rendering: a 5,000-row grid page is 120,000 small objects."""

    def render(self, content) -> bytes:
        return orjson.dumps(content)


def _alert(status: int, name: str, message: str) -> JSONResponse:
    return JSONResponse({"ErrorAlert": [{"Name": name, "Message": message}]}, status_code=status)


def _corrupt(fields: list[dict]) -> list[dict]:
    """A row PEMS might really send: a date that is not a date, a rate that is not a number."""
    bad = {"pfs_f_startdate": "31/31/2026", "pfs_f_rental": "twelve hundred"}
    return [{**f, "FIELDVALUE": bad.get(f["FIELDNAME"], f["FIELDVALUE"])} for f in fields]


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

