"""The peer stack: a private Postfix (+ OpenDKIM milter) relaying to ``smtp-sink``.

Everything lives under one temporary directory: Postfix's config_directory,
queue_directory and data_directory, OpenDKIM's configuration, key and socket. Postfix
listens on 127.0.0.1 only, on a free port, and relays everything to the sink. The
machine's own Postfix/OpenDKIM (if the package install started them) are stopped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Literal

import msgspec

from loadtests.peer_config import MAIN_CF, MASTER_CF, OPENDKIM_CONF
from loadtests.procs import machine_busy
from loadtests.sink import SmtpSink, free_port, wait_port
from loadtests.verify import Verdict, verify_dumps

Signing = Literal["none", "unix", "inet"]
PEER_DOMAIN = "peer.bench.example"
RECIPIENT = "rcpt@sink.bench.example"  # the sink takes any address
WARM_RECIPIENT = "warm@sink.bench.example"  # of untimed messages sent first
SELECTOR = "peer"
PACKAGES = ("postfix", "opendkim", "opendkim-tools")


class PeerResult(msgspec.Struct, frozen=True):
    """One run of the peer stack."""

    variant: str
    messages: int
    accepted_per_s: float
    delivered_per_s: float
    submit_seconds: float
    e2e_seconds: float
    verdict: Verdict
    # Busy CPU of the whole machine from the first connection to the last message at the
    # sink, per message (other work on the machine included).
    machine_cpu_ms: float = 0.0


def ensure_installed() -> None:
    """Install Postfix and OpenDKIM from the OS packages when absent; stop what they start."""
    needed = ["/usr/sbin/postfix", "/usr/sbin/smtp-sink", "/usr/sbin/smtp-source"]
    needed += ["/usr/sbin/opendkim", "/usr/sbin/opendkim-genkey"]
    if all(Path(p).exists() for p in needed):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # "No configuration": the package must not set up (or start) a system mail server.
    subprocess.run(
        ["debconf-set-selections"],
        input=b"postfix postfix/main_mailer_type select No configuration\n",
        check=False,
    )
    subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", *PACKAGES], env=env, check=True, capture_output=True
    )
    stop_system_services()


def stop_system_services() -> None:
    """Stop a system-wide Postfix or OpenDKIM in case the package install started one."""
    if Path("/etc/postfix/main.cf").exists():
        subprocess.run(["postfix", "stop"], check=False, capture_output=True)
    subprocess.run(["service", "opendkim", "stop"], check=False, capture_output=True)


class PostfixPeer:
    """A private Postfix instance (with or without OpenDKIM) in front of ``sink``."""

    def __init__(self, sink: SmtpSink, signing: Signing) -> None:
        self.signing = signing
        self._dir = tempfile.TemporaryDirectory(prefix="herald-peer-")
        self.root = Path(self._dir.name)
        self.root.chmod(0o755)
        self.config = self.root / "etc"
        self.config.mkdir()
        (self.root / "queue").mkdir()
        (self.root / "data").mkdir()
        shutil.chown(self.root / "data", user="postfix")
        self.dkim_records: dict[str, bytes] = {}
        self._opendkim: subprocess.Popen[bytes] | None = None
        try:
            self._start(sink)
        except BaseException:
            self.stop()
            raise

    def _start(self, sink: SmtpSink) -> None:
        milters = ""
        if self.signing != "none":
            milter = self._start_opendkim(self.signing)
            milters = (
                f"smtpd_milters = {milter}\nnon_smtpd_milters = {milter}\n"
                "milter_default_action = tempfail\n"
            )
        self.port = free_port()
        (self.config / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (self.config / "main.cf").write_text(
            MAIN_CF.format(root=self.root, domain=PEER_DOMAIN, sink_port=sink.port, milters=milters)
        )
        started = subprocess.run(
            ["postfix", "-c", str(self.config), "start"], check=False, capture_output=True
        )
        if started.returncode != 0:
            raise RuntimeError(f"postfix did not start:\n{self.maillog()[-2000:]}")
        wait_port(self.port)

    def _start_opendkim(self, signing: Signing) -> str:
        dkim_dir = self.root / "dkim"
        dkim_dir.mkdir()
        subprocess.run(
            ["opendkim-genkey", "-b", "2048", "-d", PEER_DOMAIN, "-s", SELECTOR, "-D", dkim_dir],
            check=True,
            capture_output=True,
        )
        shutil.chown(dkim_dir, user="opendkim")
        shutil.chown(dkim_dir / f"{SELECTOR}.private", user="opendkim")
        txt = (dkim_dir / f"{SELECTOR}.txt").read_text()
        value = "".join(part for part in txt.split('"')[1::2])
        self.dkim_records[f"{SELECTOR}._domainkey.{PEER_DOMAIN}"] = value.encode()
        port = free_port()
        path = dkim_dir / "opendkim.sock"
        if signing == "unix":
            socket, milter = f"local:{path}", f"unix:{path}"
        else:
            socket, milter = f"inet:{port}@127.0.0.1", f"inet:127.0.0.1:{port}"
        conf = self.root / "opendkim.conf"
        conf.write_text(
            OPENDKIM_CONF.format(
                domain=PEER_DOMAIN, selector=SELECTOR, root=self.root, socket=socket
            )
        )
        self._opendkim = subprocess.Popen(
            ["opendkim", "-f", "-x", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._opendkim.poll() is not None:
                err = self._opendkim.stderr.read() if self._opendkim.stderr else b""
                raise RuntimeError(f"opendkim exited: {err.decode(errors='replace')}")
            if signing == "unix" and path.exists():
                break
            if signing == "inet":
                try:
                    wait_port(port, timeout=0.2)
                    break
                except RuntimeError:
                    pass
            time.sleep(0.05)
        return milter

    def maillog(self) -> str:
        """Postfix's log of this instance."""
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop Postfix and OpenDKIM and remove every file of the instance."""
        if (self.config / "main.cf").exists():
            subprocess.run(
                ["postfix", "-c", str(self.config), "stop"], check=False, capture_output=True
            )
        if self._opendkim is not None:
            self._opendkim.terminate()
            try:
                self._opendkim.wait(10)
            except subprocess.TimeoutExpired:
                self._opendkim.kill()
                self._opendkim.wait()
        # master exits asynchronously; give it a moment before removing its queue.
        pid_file = self.root / "queue" / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self._dir.cleanup()


def message_file(directory: Path, size: int = 3000, domain: str = PEER_DOMAIN) -> Path:
    """A ~``size``-byte message (headers + text) from ``bench@domain`` for ``smtp-source -F``."""
    line = "The quick brown fox jumps over the lazy dog, then reads its invoice again."
    body = "\n".join([line] * (size // (len(line) + 1)))
    text = (
        f"From: Bench <bench@{domain}>\nTo: Someone <{RECIPIENT}>\n"
        f"Subject: Your receipt\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"\n{body}\n"
    )
    path = directory / "message.txt"
    path.write_text(text)
    return path


def smtp_source(
    port: int, messages: int, sessions: int, source: Path, sender: str, to: str = RECIPIENT
) -> None:
    """Send ``messages`` copies of ``source`` to 127.0.0.1:``port`` over ``sessions``
    parallel SMTP sessions, each kept open (``-d``); the recipients are ``to`` numbered
    from 1 (``-N``: see :func:`source_recipients`). Raises if any reply is not positive."""
    command = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-N", "-d"]
    command += ["-F", str(source), "-f", sender, "-t", to, "-M", "client.bench.example"]
    done = subprocess.run(
        [*command, f"127.0.0.1:{port}"], check=False, capture_output=True, timeout=600
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise RuntimeError(f"smtp-source exited with {done.returncode}:\n{output}")


def source_recipients(messages: int, to: str = RECIPIENT) -> list[str]:
    """The recipients :func:`smtp_source` numbers ``to`` into for ``messages`` messages."""
    return [f"{i}{to}" for i in range(1, messages + 1)]


def run_peer(
    work: Path, signing: Signing, messages: int, sessions: int = 20, warmup: int = 0
) -> PeerResult:
    """Submit ``messages`` over SMTP with ``sessions`` parallel sessions; time and verify.
    ``warmup`` messages to other recipients go first, untimed, and must arrive too."""
    work.mkdir(parents=True, exist_ok=True)
    sink = SmtpSink(work / f"sink-{signing}")
    peer: PostfixPeer | None = None
    try:
        peer = PostfixPeer(sink, signing)
        source, sender = message_file(work), f"bench@{PEER_DOMAIN}"
        if warmup:
            smtp_source(peer.port, warmup, sessions, source, sender, WARM_RECIPIENT)
        total = warmup + messages
        if warmup and not sink.wait_for(warmup, timeout=300):
            raise RuntimeError(f"peer ({signing}): warm-up lost\n{peer.maillog()[-3000:]}")
        start, busy = time.perf_counter(), machine_busy()
        smtp_source(peer.port, messages, sessions, source, sender)
        submitted = time.perf_counter()
        if not sink.wait_for(total, timeout=300):
            raise RuntimeError(
                f"peer ({signing}): only {sink.count}/{total} arrived\n{peer.maillog()[-3000:]}"
            )
        arrived, busy = sink.last_arrival, machine_busy() - busy
        sink.wait_quiet(1.0, timeout=10)
        expected = source_recipients(warmup, WARM_RECIPIENT) + source_recipients(messages)
        required = ("rsa-sha256",) if signing != "none" else ()
        verdict = verify_dumps(sink.dumps(), expected, peer.dkim_records, required)
        return PeerResult(
            variant=f"postfix+opendkim ({signing} socket)" if signing != "none" else "postfix",
            messages=messages,
            accepted_per_s=messages / (submitted - start),
            delivered_per_s=messages / (arrived - start),
            submit_seconds=submitted - start,
            e2e_seconds=arrived - start,
            verdict=verdict,
            machine_cpu_ms=busy * 1000 / messages,
        )
    finally:
        if peer is not None:
            peer.stop()
        sink.stop()
        shutil.rmtree(work / f"sink-{signing}", ignore_errors=True)
