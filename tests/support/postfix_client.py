"""A throw-away Postfix that relays all its mail through an SMTP submission server.

Configured as an application server's Postfix would be to send through a provider:
``relayhost = [host]:port``, SASL authentication (``smtp_sasl_password_maps`` holding the
credentials) and ``smtp_tls_security_level = encrypt``, so that nothing is sent before
STARTTLS. The instance lives under one temporary directory (its own config_directory,
queue_directory and data_directory), listens on 127.0.0.1 only, on a free port, for mail to
inject, and is stopped and removed by :meth:`PostfixClient.stop`. Running ``postfix start``
needs root; ``scripts/test`` installs Postfix (``ensure_postfix`` in scripts/lib.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from simnet.ports import free_port_for

POSTFIX = Path("/usr/sbin/postfix")

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
tlsmgr    unix  - - n 1000? 1 tlsmgr
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {hostname}
mydomain = {hostname}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
relayhost = [{relay_host}]:{relay_port}
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = hash:{root}/etc/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
smtp_tls_security_level = encrypt
smtp_tls_CAfile = {root}/etc/ca.pem
smtp_tls_loglevel = 1
smtpd_tls_security_level = none
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
biff = no
"""


def _is_failure(line: str) -> bool:
    """Whether a log line reports a deferred or bounced delivery or refused credentials."""
    failures = (" status=deferred ", " status=bounced ", "SASL authentication failed")
    return any(marker in line for marker in failures)


class PostfixError(RuntimeError):
    """Postfix is missing, did not start, or did not relay its mail as expected."""


def _require_postfix() -> None:
    if not POSTFIX.exists() or shutil.which("postmap", path="/usr/sbin") is None:
        raise PostfixError(
            "Postfix is not installed: scripts/test installs it (ensure_postfix in scripts/lib.sh)"
        )
    if os.geteuid() != 0:
        raise PostfixError("starting a Postfix instance (postfix start) needs root")


class PostfixClient:
    """A private Postfix relaying everything to ``[relay_host]:relay_port``, authenticating
    as ``username``/``password`` after STARTTLS and trusting the CA certificates in
    ``ca_file``."""

    def __init__(
        self,
        relay_host: str,
        relay_port: int,
        username: str,
        password: str,
        ca_file: Path,
        *,
        hostname: str = "app.client.example",
    ) -> None:
        _require_postfix()
        self._dir = tempfile.TemporaryDirectory(prefix="herald-postfix-client-")
        self.root = Path(self._dir.name)
        # Postfix's daemons run as the postfix user and must reach the queue inside.
        self.root.chmod(0o755)
        self.config = self.root / "etc"
        self.config.mkdir()
        (self.root / "queue").mkdir()
        (self.root / "data").mkdir()
        shutil.chown(self.root / "data", user="postfix")
        self.port = free_port_for(["127.0.0.1"])
        self._started = False
        try:
            self._start(relay_host, relay_port, username, password, ca_file, hostname)
        except BaseException:
            self.stop()
            raise

    def _start(
        self,
        relay_host: str,
        relay_port: int,
        username: str,
        password: str,
        ca_file: Path,
        hostname: str,
    ) -> None:
        shutil.copyfile(ca_file, self.config / "ca.pem")
        passwords = self.config / "sasl_passwd"
        passwords.write_text(f"[{relay_host}]:{relay_port} {username}:{password}\n")
        passwords.chmod(0o600)
        (self.config / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (self.config / "main.cf").write_text(
            MAIN_CF.format(
                root=self.root, hostname=hostname, relay_host=relay_host, relay_port=relay_port
            )
        )
        self._run("postmap", "-c", str(self.config), f"hash:{passwords}")
        self._run("postfix", "-c", str(self.config), "start")
        self._started = True
        deadline = time.monotonic() + 15
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=2) as probe:
                    probe.noop()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    message = f"Postfix's smtpd does not answer: {exc}\n{self.log()}"
                    raise PostfixError(message) from exc
                time.sleep(0.1)

    def _run(self, command: str, *args: str) -> str:
        done = subprocess.run(
            [f"/usr/sbin/{command}", *args], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise PostfixError(f"{command} {' '.join(args)} failed: {done.stderr}\n{self.log()}")
        return done.stdout

    def __enter__(self) -> PostfixClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def submit(self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        """Hand ``raw`` to the instance over SMTP, as an application on the host would."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
            smtp.sendmail(mail_from, list(rcpt_tos), raw)

    def sendmail(self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        """Hand ``raw`` to the instance with its ``sendmail`` command (postdrop + pickup)."""
        done = subprocess.run(
            ["/usr/sbin/sendmail", "-C", str(self.config), "-f", mail_from, "-i", "--", *rcpt_tos],
            input=raw,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise PostfixError(f"sendmail failed: {done.stderr.decode(errors='replace')}")

    def queue(self) -> list[dict[str, Any]]:
        """The messages in the instance's queue (``postqueue -j``), each a JSON object."""
        out = self._run("postqueue", "-c", str(self.config), "-j")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def log(self) -> str:
        """The instance's log."""
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def relayed(self) -> list[str]:
        """The log lines of deliveries the relay host accepted (``status=sent``)."""
        return [line for line in self.log().splitlines() if " status=sent " in line]

    def wait_relayed(self, count: int, timeout: float = 30.0) -> list[str]:
        """Wait until ``count`` deliveries were accepted by the relay host and the queue is
        empty; raise as soon as one is deferred or bounced, or the relay host refuses the
        credentials, with Postfix's reason."""
        deadline = time.monotonic() + timeout
        while True:
            failed = [line for line in self.log().splitlines() if _is_failure(line)]
            if failed:
                raise PostfixError("Postfix could not relay:\n" + "\n".join(failed))
            sent = self.relayed()
            if len(sent) >= count and not self.queue():
                return sent
            if time.monotonic() > deadline:
                raise PostfixError(
                    f"{len(sent)} of {count} relayed after {timeout}s; queue: {self.queue()}\n"
                    f"{self.log()[-4000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the instance and remove every file of it."""
        if self._started:
            subprocess.run(
                ["/usr/sbin/postfix", "-c", str(self.config), "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            self._started = False
            # master exits asynchronously; wait for it before removing its queue.
            deadline = time.monotonic() + 10
            while self._running() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._dir.cleanup()

    def _running(self) -> bool:
        status = subprocess.run(
            ["/usr/sbin/postfix", "-c", str(self.config), "status"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return status.returncode == 0
