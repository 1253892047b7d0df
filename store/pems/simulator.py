"""A PEMS (HxGN EAM) simulator: the grid read, the UPDATE write, and control endpoints for faults.

It holds deterministic demo organizations and speaks the contract the client expects, so every
test and the zero-configuration demo run against real HTTP. Its records live in memory only, or,
with a `SimStore` (store/pems/sim_store.py), in a database every process of a data directory
shares, with the memory as a copy that catches up before each read. Faults, churn and the
counters are the process's own. Faults are drawn from a seeded random generator, so a test that
asks for "20% 5xx" gets the same failures every run.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from itertools import islice

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store import demo_data
from store.pems import grid_filters, mapping
from store.pems.sim_store import Loaded, SimStore

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
    # Rows a paged read leaves out unless the filter names their id (`pfs_id = ...`): a grid that
    # briefly misses records, so absence from a paged read proves nothing.
    hidden_ids: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Churn:
    """What PEMS users do while a client pages through a grid: before every grid request of an
    organization, `changes` records change, `adds` are added and `deletes` deleted (drawn from
    `seed`), and the clock moves `seconds` on (a long run, without waiting for it)."""

    changes: int = 0
    adds: int = 0
    deletes: int = 0
    seconds: float = 0.0
    seed: int = 1


@dataclass
class Served:
    """What the grid answered one organization since the last `take_served`: rows, and the ids of
    the readable and of the malformed ones (a test's exact expectation of a run's counts)."""

    rows: int = 0
    ids: set[str] = field(default_factory=set)
    malformed: set[str] = field(default_factory=set)


class PemsSimulator:
    """PEMS with `organizations` x `records` demo PFA records, in memory or kept in `store`.

    With a store, the organizations it does not hold yet are seeded into it (once: a store that
    has them keeps what it has), and the simulator serves every organization the store holds.
    """

    def __init__(self, organizations: list[str], records: int, *, seed: int = 7, api_key: str = "pems-sim-key",
                 tenant: str = "VANGUARD", user: str = "vanguard", churn: Churn | None = None,
                 store: SimStore | None = None) -> None:
        self.api_key, self.tenant, self.user = api_key, tenant, user
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = Faults()
        self.lock = threading.Lock()
        self.clock_offset = timedelta(0)
        self.set_churn(churn or Churn())
        self.injected: Counter = Counter()  # faults injected, by kind
        self.served: dict[str, Served] = {}
        self.version = 0
        self.writes = 0
        self.write_counts: Counter[tuple[str, str]] = Counter()
        self.write_faults: Counter[str] = Counter()  # faults injected into UPDATE requests, by kind
        self._order_cache: dict[tuple, tuple[list, list[str]]] = {}
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self.orgs: dict[str, dict[str, SimRecord]] = {}
        self.next_index: dict[str, int] = {}
        self.store = store
        self._change = None  # the store's open change while one is being made
        self._stored_version, self._generation = -1, None
        if store is not None:
            store.seed(organizations, records, seed=seed)
            with self.lock:
                self._load(store.load())
            return
        for org in organizations:
            self.orgs[org] = {}
            for record in demo_data.generate_records(org, records, seed=seed):
                self._put(org, record, 1, _parse_iso(record["lastModified"]))
            self.next_index[org] = records + 1
        newest = max((r.modified for recs in self.orgs.values() for r in recs.values()), default=None)
        if newest is not None and newest > self.clock():  # PEMS never stamps a change in its future
            self.clock_offset = newest - self.clock() + timedelta(seconds=1)

    # -- state -------------------------------------------------------------------------------
    def _put(self, org: str, data: dict, recordid: int, modified: datetime) -> SimRecord:
        data["lastModified"] = mapping.iso_stamp(modified)
        record = SimRecord(data, recordid, modified)
        self.orgs[org][data["pfaId"]] = record
        if self._change is not None:
            self._change.put(org, data["pfaId"], data, recordid, modified)
        return record

    def _drop(self, org: str, rid: str) -> bool:
        if self.orgs[org].pop(rid, None) is None:
            return False
        if self._change is not None:
            self._change.delete(org, rid)
        return True

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the simulator for a change. With a store, the change is one transaction that
        holds the store (other processes' changes wait), starts by catching up with what they
        changed, and stores what this one changes when the block ends."""
        with self.lock:
            if self.store is None:
                yield
                return
            try:
                with self.store.change() as change:
                    if change.state.generation != self._generation:
                        self._load(change.load())
                    else:
                        self._catch_up(change.since(self._stored_version))
                    self._change = change
                    yield
                    self._change = None
                self._stored_version = change.version
            except BaseException:
                self._generation = None  # the memory may hold what was rolled back: load afresh next time
                raise
            finally:
                self._change = None

    def refresh(self) -> None:
        """Catch up with the store (what other processes changed); nothing without one."""
        if self.store is None:
            return
        with self.lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        state = self.store.state()
        self.clock_offset = state.clock_offset
        if state.generation != self._generation:
            self._load(self.store.load())
        elif state.version != self._stored_version:
            self._catch_up(self.store.changes_since(self._stored_version))

    def _load(self, loaded: Loaded) -> None:
        """Replace the memory with everything the store holds."""
        self.orgs = {org: {} for org in loaded.next_index}
        self._catch_up(loaded)
        self._generation = loaded.state.generation
        self._touch()

    def _catch_up(self, loaded: Loaded) -> None:
        for org, next_index in loaded.next_index.items():
            self.orgs.setdefault(org, {})
            self.next_index[org] = next_index
        for row in loaded.records:
            if row.deleted:
                self.orgs[row.organization].pop(row.id, None)
            else:
                self.orgs[row.organization][row.id] = SimRecord(row.data, row.recordid, row.modified)
        self.seed, self.clock_offset = loaded.state.seed, loaded.state.clock_offset
        self._stored_version = loaded.state.version
        if loaded.records:
            self._touch()

    def _known_answer(self, key: str) -> tuple[int, dict] | None:
        if self._change is not None:
            return self._change.answer(key)
        return self.store.answer(key) if self.store is not None else self._idempotent.get(key)

    def _remember_answer(self, key: str, status: int, body: dict) -> None:
        if self._change is not None:
            self._change.remember(key, status, body)
        else:
            self._idempotent[key] = (status, body)

    def _touch(self) -> None:
        self.version += 1
        self._order_cache.clear()

    def clock(self) -> datetime:
        """PEMS's clock (to the second): it stamps changes and is sent as every answer's `Date`."""
        return (datetime.now(timezone.utc) + self.clock_offset).replace(microsecond=0)

    def _now(self, previous: datetime) -> datetime:
        now = self.clock()
        return now if now > previous else previous + timedelta(seconds=1)

    def change_records(self, org: str, count: int, seed: int | None = None) -> list[str]:
        """Change `count` random records (forecast end, rate or area); return their ids."""
        rng = random.Random(seed if seed is not None else self.rng.random())
        with self._changing():
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
        with self._changing():
            gone = [rid for rid in ids if self._drop(org, rid)]
            self._touch()
        return gone

    def add_records(self, org: str, count: int) -> list[str]:
        with self._changing():
            start = self.next_index[org]
            added = []
            for record in demo_data.generate_records(org, count, seed=self.seed, start=start):
                self._put(org, record, 1, self._now(datetime.min.replace(tzinfo=timezone.utc)))
                added.append(record["pfaId"])
            self.next_index[org] = start + count
            if self._change is not None:
                self._change.set_next_index(org, start + count)
            self._touch()
        return added

    def set_malformed(self, org: str, share: float, seed: int = 1) -> list[str]:
        self.refresh()
        ids = sorted(self.orgs[org])
        chosen = random.Random(seed).sample(ids, int(len(ids) * share))
        self.faults.malformed_ids[org] = set(chosen)
        return chosen

    def snapshot(self, org: str) -> dict[str, tuple[dict, int]]:
        """Every record of `org` as (registry record, recordid): what a perfect mirror holds."""
        with self.lock:
            if self.store is not None:
                self._refresh_locked()
            return {rid: (dict(r.data), r.recordid) for rid, r in self.orgs[org].items()}

    # -- churn and clock -----------------------------------------------------------------------
    def set_churn(self, churn: Churn) -> None:
        with self.lock:
            self.churn = churn
            self._churn_rng = random.Random(churn.seed)
        self.churned: Counter = Counter()

    def advance_clock(self, seconds: float) -> datetime:
        with self.lock:
            if self.store is not None:
                self.clock_offset = self.store.advance_clock(seconds)
            else:
                self.clock_offset += timedelta(seconds=seconds)
        return self.clock()

    def _churn_before_read(self, org: str) -> None:
        """PEMS's users at work between two pages of a read (see `Churn`)."""
        churn = self.churn
        if org not in self.orgs or not (churn.changes or churn.adds or churn.deletes or churn.seconds):
            return
        if churn.seconds:
            self.advance_clock(churn.seconds)
        with self.lock:
            seed = self._churn_rng.randrange(2 ** 31)
            doomed = (random.Random(seed).sample(sorted(self.orgs[org]), min(churn.deletes, len(self.orgs[org])))
                      if churn.deletes else [])
        if doomed:
            self.churned["deletes"] += len(self.delete_records(org, doomed))
        if churn.changes:
            self.churned["changes"] += len(self.change_records(org, churn.changes, seed=seed + 1))
        if churn.adds:
            self.churned["adds"] += len(self.add_records(org, churn.adds))

    def take_served(self, org: str) -> Served:
        """What the grid answered `org` since the last call (and start counting afresh)."""
        with self.lock:
            return self.served.pop(org, Served())

    # -- HTTP ----------------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/axis/restservices/grids", self._grids, methods=["POST"]),
            Route("/axis/restservices/userdefinedscreenservices", self._update, methods=["POST"]),
            Route("/_control/change", self._control_change, methods=["POST"]),
            Route("/_control/delete", self._control_delete, methods=["POST"]),
            Route("/_control/add", self._control_add, methods=["POST"]),
            Route("/_control/faults", self._control_faults, methods=["POST"]),
            Route("/_control/churn", self._control_churn, methods=["POST"]),
            Route("/_control/clock", self._control_clock, methods=["POST"]),
            Route("/_control/records", self._control_records, methods=["GET"]),
            Route("/_control/edit", self._control_edit, methods=["POST"]),
            Route("/_control/writes", self._control_writes, methods=["GET"]),
        ], middleware=[Middleware(_ClockDate, clock=self.clock)])

    async def _grids(self, request: Request) -> Response:
        """A grid page: the rows matching the filter in the sort order, from `CURSOR_POSITION` on.

        Like a real EAM grid, every request is evaluated against the records as they are now: an
        offset into a list that changed since the previous page skips or repeats rows, a key
        filter (`pfs_id > last`) does not.
        """
        self.refresh()
        self._churn_before_read(request.headers.get("organization", ""))
        refused = await self._gate(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            grid = body["GRID"]
            size = int(grid.get("NUMBER_OF_ROWS_FIRST_RETURNED", 100))
            cursor = int(grid.get("CURSOR_POSITION", 0))
            tree = grid_filters.parse(body.get("MULTIADDON_FILTERS"))
            sort = _sort_spec(body.get("ADDON_SORT"))
        except grid_filters.GridFilterError as exc:
            return _alert(400, "INVALID_FILTER", f"The filter is not valid: {exc}")
        except (ValueError, KeyError, TypeError, AttributeError):
            return _alert(400, "INVALID_REQUEST", "The grid request is malformed.")
        org = request.headers.get("organization", "")
        if any(alias == mapping.ORGANIZATION_ALIAS and value != org
               for alias, _, value in grid_filters.conditions(tree)):
            return _alert(400, "INVALID_FILTER", "The organization filter must match the organization header.")
        if org not in self.orgs:
            return _alert(404, "ORGANIZATION_NOT_FOUND", f"Organization {org[:40]} does not exist.")
        if not 1 <= size <= MAX_PAGE or cursor < 0:
            return _alert(400, "INVALID_PAGE", f"Page size must be 1..{MAX_PAGE}.")
        with self.lock:
            try:
                page, more = self._select(org, tree, sort, cursor, size)
            except (grid_filters.GridFilterError, ValueError) as exc:
                return _alert(400, "INVALID_FILTER", f"The filter is not valid: {str(exc)[:200]}")
            rows = self._render_page(org, page)
        return FastJSONResponse({"Result": {"ResultData": {
            "CURRENTCURSORPOSITION": cursor + len(page), "MORERECORDPRESENT": "+" if more else "-",
            "DATARECORD": rows}}})

    def _select(self, org: str, tree: grid_filters.Node, sort: tuple[tuple[str, bool], ...], cursor: int,
                size: int) -> tuple[list[str], bool]:
        """Ids of one page, and whether more match. Starts at the filter's lowest possible sort key
        (an index range scan), then skips `cursor` matches: offset paging works as in EAM."""
        records = self.orgs[org]
        keys, ids = self._ordered(org, sort)
        fields = _FIELDS | {mapping.ORGANIZATION_ALIAS: (lambda item: org, str)}
        test = grid_filters.compile_tree(tree, fields)
        start = 0
        primary, desc = sort[0]
        if not desc:
            bound = grid_filters.lower_bound(tree, primary, fields[primary][1] if primary in _FIELDS else str)
            if bound is not None:
                start = (bisect.bisect_left if bound[1] else bisect.bisect_right)(keys, bound[0])
        named = {value for alias, op, value in grid_filters.conditions(tree) if alias == mapping.ID_ALIAS and op == "="}
        hidden = self.faults.hidden_ids.get(org, set()) - named
        page: list[str] = []
        for rid in islice(ids, start, None):
            if not test((rid, records[rid])):
                continue
            if rid in hidden:
                self.injected["hidden_rows"] += 1
                continue
            if cursor:
                cursor -= 1
                continue
            page.append(rid)
            if len(page) > size:
                break
        return page[:size], len(page) > size

    def _ordered(self, org: str, sort: tuple[tuple[str, bool], ...]) -> tuple[list, list[str]]:
        """(primary sort keys, ids) of every record of `org` in `sort` order, id last; cached until a change."""
        key = (org, sort)
        cached = self._order_cache.get(key)
        if cached is None:
            records = self.orgs[org]

            def value(alias: str, rid: str):
                if alias in _FIELDS:
                    return _FIELDS[alias][0]((rid, records[rid]))
                return str(records[rid].data.get(mapping.KEYS_BY_ALIAS.get(alias, "pfaId"), ""))

            aliases = [alias for alias, _ in sort]
            ids = sorted(records, key=lambda rid: (*(value(a, rid) for a in aliases), rid), reverse=sort[0][1])
            cached = self._order_cache[key] = ([value(aliases[0], rid) for rid in ids], ids)
        return cached

    def _render_page(self, org: str, page: list[str]) -> list[dict]:
        malformed = self.faults.malformed_ids.get(org, set())
        served = self.served.setdefault(org, Served())
        rows = []
        for rid in page:
            bad = rid in malformed
            rows.append({"DATAFIELD": _corrupt(self.orgs[org][rid].fields()) if bad else self.orgs[org][rid].fields()})
            (served.malformed if bad else served.ids).add(rid)
            if bad:
                self.injected["malformed_rows"] += 1
        served.rows += len(rows)
        return rows

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
        with self._changing():
            known = self._known_answer(key) if key else None
            if known is not None:  # the same key reached PEMS meanwhile (another process, a retry)
                return JSONResponse(known[1], status_code=known[0])
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
                self._remember_answer(key, 200, body)
        return await self._answer_write(body)

    # -- write faults and idempotency ----------------------------------------------------------
    def _replay(self, key: str | None) -> Response | None:
        """PEMS's first answer to a known idempotency key (whatever changed since: its recordid
        may be old), or, with `busy_on_replay`, the ErrorAlert PEMS gives while it still processes it."""
        if not key:
            return None
        with self.lock:
            known = self._known_answer(key)
            if known is None:
                return None
            if self.faults.busy_on_replay > 0:
                self.faults.busy_on_replay -= 1
                self.write_faults["busy_on_replay"] += 1
                return _alert(200, "SERVER_BUSY", "A request with this idempotency key is still being processed.")
            status, body = known
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
        with self._changing():
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
            self.injected["latency"] += 1
            await asyncio.sleep(faults.latency_ms / 1000)
        with self.lock:
            draw = self.rng.random()
        if draw < faults.timeout_rate:
            self.injected["timeout"] += 1
            await asyncio.sleep(faults.timeout_seconds)
            return Response("too late", status_code=504)
        draw -= faults.timeout_rate
        if draw < faults.error_rate:
            self.injected["http_5xx"] += 1
            return Response("upstream trouble", status_code=503)
        draw -= faults.error_rate
        if draw < faults.error_alert_rate:
            self.injected["error_alert"] += 1
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
        with self.lock:
            for org, ids in (body.get("hidden") or {}).items():
                self.faults.hidden_ids[org] = set(map(str, ids))
        return JSONResponse({"ok": True, "malformed": chosen})

    async def _control_churn(self, request: Request) -> Response:
        """Set what changes between grid pages (`Churn`'s fields); answer what churned so far."""
        body = await request.json()
        try:
            churn = Churn(**{name: type(getattr(Churn, name))(body[name]) for name in
                             ("changes", "adds", "deletes", "seconds", "seed") if name in body})
        except (TypeError, ValueError):
            return _alert(400, "INVALID_REQUEST", "changes, adds, deletes and seed are integers, seconds a number.")
        previous = dict(self.churned)
        self.set_churn(churn)
        return JSONResponse({"ok": True, "churned": previous})

    async def _control_clock(self, request: Request) -> Response:
        """Move PEMS's clock on by `advance_seconds` (0: just read it)."""
        body = await request.json()
        return JSONResponse({"now": mapping.iso_stamp(self.advance_clock(float(body.get("advance_seconds", 0))))})

    async def _control_records(self, request: Request) -> Response:
        self.refresh()
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


def _sort_spec(block) -> tuple[tuple[str, bool], ...]:
    """`ADDON_SORT` as ((alias, descending), ...): one {ALIAS_NAME, TYPE} or a list of them."""
    items = block if isinstance(block, list) else [block] if block else []
    spec = tuple((str(item["ALIAS_NAME"]), str(item.get("TYPE", "ASC")).upper() == "DESC") for item in items)
    return spec or ((mapping.ID_ALIAS, False),)


# The aliases a grid filter or sort compares as typed values; a row is (id, SimRecord).
_FIELDS = {
    mapping.ID_ALIAS: (lambda item: item[0], str),
    mapping.MODIFIED_ALIAS: (lambda item: item[1].modified, mapping.parse_stamp),
}


class _ClockDate:
    """Sends PEMS's (possibly advanced) clock as the `Date` header of every answer, as a server does."""

    def __init__(self, app, clock) -> None:
        self.app, self.clock = app, clock

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_date(message) -> None:
            if message["type"] == "http.response.start":
                date = format_datetime(self.clock(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        await self.app(scope, receive, send_with_date)


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

