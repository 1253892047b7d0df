"""An API client over the real app (ASGI, lifespan run) on a seeded two-organization database."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.auth.passwords import hash_password
from nlq.config import Settings
from store import accounts, demo_data, mirror

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)  # once per run: argon2 is slow on purpose
USERS = {"admin_a": {"ORG_A": "admin"}, "editor_a": {"ORG_A": "editor"}, "viewer_a": {"ORG_A": "viewer"},
         "editor_b": {"ORG_B": "editor"}, "admin_b": {"ORG_B": "admin"}}


@dataclass
class Api:
    client: httpx.AsyncClient
    app: object
    urls: object
    tokens: dict[str, str] = field(default_factory=dict)

    async def login(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = await self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def get(self, user: str, path: str, **kw) -> httpx.Response:
        return await self.client.get(path, headers=await self.login(user), **kw)

    async def post(self, user: str, path: str, json=None, **kw) -> httpx.Response:
        return await self.client.post(path, json=json, headers=await self.login(user), **kw)


def seed(url: str, records: int = 200) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for org in ("ORG_A", "ORG_B"):
            accounts.upsert_organization(conn, org, f"Test {org}")
            with conn.transaction():
                mirror.copy_records(conn, demo_data.generate_records(org, records))
        for username, roles in USERS.items():
            user_id = accounts.insert_user(conn, username, _HASH, username)
            for org, role in roles.items():
                accounts.upsert_membership(conn, user_id, org, role)
        mirror.refresh_kpis(conn)


@pytest.fixture
async def api(db):
    seed(db.app)
    app = create_app(Settings(), db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield Api(client=client, app=app, urls=db)
