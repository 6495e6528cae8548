"""Herald as an operator runs it, on loopback: API and delivery workers as child processes.

A throw-away PostgreSQL database (created and dropped), a private Redis with AOF
(``appendfsync everysec``), the test DNS server publishing the sink as the recipient
domain's MX, and a tenant with a verified domain (RSA-2048 + Ed25519 DKIM keys).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from herald_service.accounts.service import create_account
from herald_service.domains.service import add_domain, dns_records
from herald_service.keys.service import create_api_key
from herald_service.settings import load_settings
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade
from loadtests.loadgen import RECIPIENT_DOMAIN
from loadtests.peer import ensure_installed
from loadtests.sink import SmtpSink, free_port, wait_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from simnet.dns import DNSServer

ADMIN_URL = os.environ.get(
    "HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SENDER_DOMAIN = "sender.bench.example"
HERALD = [sys.executable, "-m", "herald_service"]


class Postgres:
    """A database created for one run and dropped (with force) at its end."""

    def __init__(self) -> None:
        admin = make_url(ADMIN_URL)
        self.name = f"herald_bench_{secrets.token_hex(4)}"
        self._admin = make_engine(admin.render_as_string(False), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        engine = make_engine(self.url)
        upgrade(engine)
        engine.dispose()

    def drop(self) -> None:
        """Drop the database."""
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


class Redis:
    """A private redis-server with the append-only file fsynced every second."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--dir", str(directory),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process.pid

    def used_memory(self) -> int:
        """``used_memory`` from INFO."""
        client = redis.Redis.from_url(self.url)
        try:
            return int(client.info("memory")["used_memory"])
        finally:
            client.close()

    def command_calls(self) -> dict[str, int]:
        """Calls per command since the server started (INFO commandstats)."""
        client = redis.Redis.from_url(self.url)
        try:
            stats = client.info("commandstats")
        finally:
            client.close()
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    def stop(self) -> None:
        """Terminate the server."""
        self._process.terminate()
        self._process.wait(10)


class Tenant:
    """The account, key and verified domain the load sends as."""

    def __init__(
        self, api_key: str, domain: str, records: dict[str, bytes], mx: dict[str, str]
    ) -> None:
        self.api_key = api_key
        self.domain = domain
        self.records = records
        self.mx = mx


async def _create_tenant(env: dict[str, str]) -> Tenant:
    settings = load_settings(env, env_file=Path("/nonexistent"))
    engine = make_async_engine(settings.database_url)
    try:
        async with async_session_factory(engine).begin() as session:
            account = await create_account(session, "benchmark")
            _, token = await create_api_key(session, account.id, ("send", "read"))
            domain = await add_domain(session, settings, account.id, SENDER_DOMAIN, verified=True)
            records = dns_records(domain, settings)
    finally:
        await engine.dispose()
    txt = {r.host.lower(): r.value.encode() for r in records if r.type == "TXT"}
    mx = {r.host.lower(): r.value for r in records if r.type == "MX"}
    return Tenant(token, SENDER_DOMAIN, txt, mx)


class HeraldStack:
    """Everything Herald needs, started; :meth:`stop` removes all of it."""

    def __init__(
        self, work: Path, api_workers: int, delivery_workers: int, worker_nice: int = 0
    ) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="herald-bench-", dir=work))
        self._dir.chmod(0o755)  # the sink runs as an unprivileged user
        ensure_installed()  # smtp-sink comes with Postfix
        self.sink = SmtpSink(self._dir / "sink")
        self.dns = DNSServer().start()
        self.dns.add_mx(RECIPIENT_DOMAIN, [(10, "mx.sink.bench.example")])
        self.dns.add_a("mx.sink.bench.example", "127.0.0.1")
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.others: list[subprocess.Popen[bytes]] = []  # started with spawn()
        try:
            self.postgres = Postgres()
            (self._dir / "redis").mkdir()
            self.redis = Redis(self._dir / "redis")
            self.api_port = free_port()
            self.env = self._environment(self.postgres, self.redis)
            self._publish_tenant(asyncio.run(_create_tenant(self.env)))
            self._start_processes(api_workers, delivery_workers, worker_nice)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _environment(self, postgres: Postgres, redis_server: Redis) -> dict[str, str]:
        return {
            "HERALD_DATABASE_URL": postgres.url,
            "HERALD_REDIS_URL": redis_server.url,
            "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
            "HERALD_HOSTNAME": "mta.herald.bench.example",
            "HERALD_DNS_NAMESERVERS": self.dns.address,
            "HERALD_SMTP_PORT": str(self.sink.port),
            "HERALD_QUEUE_NAME": "herald-bench",
            # Measure capacity, not the per-key quotas (0: no limit).
            "HERALD_QUOTA_REQUESTS_PER_SECOND": "0",
            "HERALD_QUOTA_DAILY_RECIPIENTS_PER_KEY": "0",
            "HERALD_QUOTA_DAILY_RECIPIENTS_PER_ACCOUNT": "0",
        }

    def _publish_tenant(self, tenant: Tenant) -> None:
        """Publish the tenant's DNS records, including the return-path MX, so the
        workers' periodic re-check keeps the domain verified."""
        self.tenant = tenant
        for host, value in tenant.records.items():
            self.dns.add_txt(host, value)
        for host, mx_value in tenant.mx.items():
            preference, exchange = mx_value.split()
            self.dns.add_mx(host, [(int(preference), exchange)])

    def _start_processes(self, api_workers: int, delivery_workers: int, worker_nice: int) -> None:
        self.api = self._popen("api", "--port", str(self.api_port), "--workers", str(api_workers))
        nice = str(worker_nice)
        self.workers = [self._popen("worker", "--nice", nice) for _ in range(delivery_workers)]

    def _popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        child_env.update(self.env)
        child_env.update(env or {})
        with (self._dir / "herald.log").open("ab") as log:
            return subprocess.Popen(
                [*HERALD, *args], env=child_env, cwd=self._dir, stdout=log, stderr=log
            )

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start one more ``herald ARGS`` with the stack's settings plus ``env``, logging
        where the API and workers do; :meth:`stop` stops it with them."""
        process = self._popen(*args, env=env)
        self.others.append(process)
        return process

    @property
    def directory(self) -> Path:
        """The stack's own temporary directory (removed by :meth:`stop`)."""
        return self._dir

    @property
    def base_url(self) -> str:
        """The API's URL."""
        return f"http://127.0.0.1:{self.api_port}"

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.api is not None
            if self.api.poll() is not None:
                raise RuntimeError(f"herald api exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"herald api not ready after 60s:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        """The end of the API's and workers' output."""
        path = self._dir / "herald.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        """Stop every process, drop the database, remove the files."""
        processes = [*self.others, *self.workers, *([self.api] if self.api else [])]
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.drop()
        self.dns.stop()
        self.sink.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
