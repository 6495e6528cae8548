"""``herald dev``: the README's first command, from an empty directory."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from support.console import csrf_of
from support.processes import free_port, start, stop
from support.redis_server import RedisServer


class Lines:
    """The lines a child writes to a pipe, collected by a thread as they come."""

    def __init__(self, pipe: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 30.0, after: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` in the lines from index ``after`` on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if match := re.search(pattern, line):
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no line matched {pattern!r}:\n{''.join(self.lines[-40:])}")


def _inbox(info: dict[str, Any], timeout: float = 10.0, at_least: int = 1) -> list[Any]:
    deadline = time.monotonic() + timeout
    inbox: list[Any] = []
    while time.monotonic() < deadline and len(inbox) < at_least:
        inbox = httpx.get(f"{info['inbox_url']}/messages").json()
        time.sleep(0.1)
    return inbox


def _submit_over_smtp(info: dict[str, Any]) -> None:
    """Send one message with the SMTP settings ``herald dev`` printed."""
    smtp = info["smtp"]
    assert smtp["password"] == info["api_key"] and smtp["username"] == "apikey"
    context = ssl.create_default_context(cafile=smtp["certificate"])
    with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
        client.starttls(context=context)
        client.login(smtp["username"], smtp["password"])
        client.sendmail(
            "hello@dev.herald.example",
            ["smtp@example.com"],
            b"From: hello@dev.herald.example\r\nTo: smtp@example.com\r\n\r\nhi\r\n",
        )


def _child_pid(parent: int, command: str) -> int:
    """The pid of ``parent``'s child process running ``herald COMMAND`` (from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and command.encode() in argv:
            return int(entry.name)
    raise AssertionError(f"no child of {parent} runs {command!r}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_dev_mode_prints_a_key_and_delivers_signed_mail_to_the_inbox(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    env = {
        "HERALD_REDIS_URL": redis_server.url,
        "HERALD_CAPTURE_PORT": str(free_port()),
        "HERALD_SUBMISSION_PORT": str(free_port()),
        "HERALD_SUBMISSION_TLS_PORT": str(free_port()),
    }
    dev = start(env, "dev", "--port", str(port), "--json", cwd=tmp_path)
    try:
        assert dev.stdout is not None
        line = dev.stdout.readline()
        assert line, stop(dev)
        info = json.loads(line)
        assert info["api_key"].startswith("hrld_")
        assert info["account_id"].startswith("acct_")
        assert info["redis"] == {"url": redis_server.url, "started": False}  # reused
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
        _submit_over_smtp(info)
        smtp_mail = [m for m in _inbox(info, at_least=2) if m["rcpt_tos"] == ["smtp@example.com"]]
        assert len(smtp_mail) == 1 and smtp_mail[0]["dkim"] == "pass", "sent over SMTP"
        page = httpx.get(info["inbox_url"])
        assert page.status_code == 302
        assert info["console_inbox_url"].endswith(page.headers["location"])
        console = httpx.get(info["console_url"])
        assert console.status_code == 303
        assert console.headers["location"].startswith("/console/sign-in")
        with httpx.Client(base_url=info["api_url"]) as browser:  # the printed key signs in
            form = browser.get("/console/sign-in")
            data = {"api_key": info["api_key"], "csrf_token": csrf_of(form.text)}
            assert browser.post("/console/sign-in/key", data=data).status_code == 303
            assert browser.get("/console").status_code == 200
        assert (tmp_path / "var" / "herald.db").exists()
    finally:
        log = stop(dev)
    assert "Running upgrade" not in log and "alembic" not in log  # no migration chatter


def test_dev_mode_restarts_a_killed_worker_and_keeps_delivering(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    env = {"HERALD_REDIS_URL": redis_server.url, "HERALD_CAPTURE_PORT": str(free_port())}
    dev = start(env, "dev", "--port", str(port), "--json", cwd=tmp_path)
    assert dev.stdout is not None and dev.stderr is not None
    log = Lines(dev.stderr)
    try:
        line = dev.stdout.readline()
        assert line, "".join(log.lines)
        info = json.loads(line)
        payload = json.loads(info["curl"].split("-d '", 1)[1].rsplit("'", 1)[0])
        headers = {"Authorization": f"Bearer {info['api_key']}"}
        worker_pid = _child_pid(dev.pid, "worker")
        api_pid = _child_pid(dev.pid, "api")

        os.kill(worker_pid, signal.SIGKILL)
        log.wait_for(r"delivery worker exited \(killed by SIGKILL\); restarting it in 1 s")
        restarted = log.wait_for(r"restarted the delivery worker \(pid (\d+), restart 1\)")
        assert int(restarted.group(1)) == _child_pid(dev.pid, "worker") != worker_pid
        assert dev.poll() is None and _alive(api_pid), "herald dev stopped with its worker"

        payload["subject"] = "After the worker was restarted"
        sent = httpx.post(f"{info['api_url']}/v1/messages", headers=headers, json=payload)
        assert sent.status_code == 202, sent.text
        inbox = _inbox(info)
        assert [m["subject"] for m in inbox] == [payload["subject"]]

        # A second crash soon after: the back-off doubles.
        mark = len(log.lines)
        os.kill(int(restarted.group(1)), signal.SIGKILL)
        log.wait_for(
            r"delivery worker exited \(killed by SIGKILL\); restarting it in 2 s", after=mark
        )
        log.wait_for(r"restarted the delivery worker \(pid \d+, restart 2\)", after=mark)

        # SIGTERM still stops everything, children included.
        children = [api_pid, _child_pid(dev.pid, "worker"), _child_pid(dev.pid, "webhooks-worker")]
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(20) == 0
        assert not any(_alive(pid) for pid in children)
    finally:
        stop(dev)  # SIGTERM: herald dev stops its children too
