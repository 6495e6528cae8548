"""The examples of ``sdk/README.md`` run as written against ``herald dev``: each Python
block, in order, with the key and address ``herald dev`` printed, and only the names a
block leaves to the reader's application (``orders``, ``render``...) provided here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from herald import Herald
from support.processes import free_port, start, stop
from support.redis_server import RedisServer

README = Path(__file__).resolve().parents[2] / "sdk" / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def blocks() -> list[str]:
    return BLOCK.findall(README.read_text())


@pytest.fixture
def dev(tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``herald dev`` in an empty directory; its printed details."""
    port = free_port()
    env = {
        "HERALD_REDIS_URL": redis_server.url,
        "HERALD_CAPTURE_PORT": str(free_port()),
        "HERALD_SUBMISSION_PORT": str(free_port()),
        "HERALD_SUBMISSION_TLS_PORT": str(free_port()),
    }
    process: subprocess.Popen[str] = start(env, "dev", "--port", str(port), "--json", cwd=tmp_path)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, stop(process)
        info = json.loads(line)
        monkeypatch.setenv("HERALD_API_KEY", info["api_key"])
        monkeypatch.setenv("HERALD_BASE_URL", info["api_url"])
        monkeypatch.chdir(tmp_path)
        yield info
    finally:
        stop(process)


def the_readers_names(client: Herald) -> dict[str, Any]:
    """What the examples take from the application around them."""
    Path("invoices").mkdir(exist_ok=True)
    Path("invoices/2031-001.pdf").write_bytes(b"%PDF-1.4 an invoice")
    Path("logo.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    domain_id = client.domains.list()[0].id
    order = SimpleNamespace(email="ann@example.net", receipt="2 items, 42 EUR")
    return {
        "client": client,
        "domain_id": domain_id,
        "orders": [order, SimpleNamespace(email="bob@example.net", receipt="1 item")],
        "csv_bytes": b"item,price\nbook,42\n",
        "render": lambda name: f"<p>Welcome ({name})</p>",
        "store_secret": lambda secret: None,
        "suppress": lambda address, code: None,
        "WEBHOOK_SECRET": "whsec_" + "A" * 43,
        "user": SimpleNamespace(id=42),
    }


def test_every_example_runs(dev: dict[str, Any]) -> None:
    found = blocks()
    assert len(found) >= 12
    with Herald() as client:
        names = the_readers_names(client)
        for number, block in enumerate(found, 1):
            code = block.replace("hrld_...", dev["api_key"]).replace(
                "http://127.0.0.1:8000", dev["api_url"]
            )
            namespace = dict(names)
            try:
                exec(compile(code, f"sdk/README.md block {number}", "exec"), namespace)
                for name, value in list(namespace.items()):
                    if name.startswith("test_") and callable(value):
                        value()  # a block that shows a test runs it
            except Exception as exc:
                raise AssertionError(f"block {number} failed:\n{code}") from exc
        sent = client.messages.list(limit=100).data
        assert len(sent) >= 8  # the sends of the examples reached the server
