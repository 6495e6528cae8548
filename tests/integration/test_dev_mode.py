"""``herald dev``: the README's first command, from an empty directory."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from support.processes import free_port, start, stop
from support.redis_server import RedisServer


def test_dev_mode_prints_a_key_and_delivers_signed_mail_to_the_inbox(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    env = {"HERALD_REDIS_URL": redis_server.url, "HERALD_CAPTURE_PORT": str(free_port())}
    dev = start(env, "dev", "--port", str(port), "--json", cwd=tmp_path)
    try:
        assert dev.stdout is not None
        line = dev.stdout.readline()
        assert line, stop(dev)
        info = json.loads(line)
        assert info["api_key"].startswith("hrld_")
        assert "curl" in info["curl"] and info["api_key"] in info["curl"]
        payload = json.loads(info["curl"].split("-d '", 1)[1].rsplit("'", 1)[0])
        sent = httpx.post(
            f"{info['api_url']}/v1/messages",
            headers={"Authorization": f"Bearer {info['api_key']}"},
            json=payload,
        )
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 5
        inbox: list[dict[str, object]] = []
        while time.monotonic() < deadline and not inbox:
            inbox = httpx.get(f"{info['inbox_url']}/messages").json()
            time.sleep(0.1)
        assert inbox, "nothing reached the capture inbox within 5 s"
        assert inbox[0]["dkim"] == "pass"
        assert inbox[0]["rcpt_tos"] == [payload["to"]]
        page = httpx.get(info["inbox_url"])
        assert page.status_code == 200 and payload["subject"] in page.text
        assert (tmp_path / "var" / "herald.db").exists()
    finally:
        stop(dev)
