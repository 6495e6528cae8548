"""Delivery plans, and the one that sends mail through the smarthost (``HERALD_RELAY_*``).

The relay's plan is built once per worker from the settings: its host (recorded as each
attempt's ``mx``), port, TLS mode and credentials. Its replies are judged like an MX host's:
a 5xx bounces the recipient, a 4xx or no answer defers it; a refused login defers every
recipient with the reason (:mod:`herald_queue.smtp_auth`).
"""

from __future__ import annotations

from msgspec import Struct

from herald_queue.mx import MailHost, Route
from herald_queue.smtp_auth import Credentials
from herald_service.settings import Settings


class Plan(Struct, frozen=True):
    """How to reach one recipient domain: the route, the port, the TLS the connection must
    have and the credentials it logs in with."""

    route: Route
    port: int
    require_verified_tls: bool = False
    implicit_tls: bool = False
    credentials: Credentials | None = None


def relay_plan(settings: Settings) -> Plan:
    """The plan for mail sent through ``HERALD_RELAY_HOST``.

    ``starttls`` requires STARTTLS with a certificate valid for the relay's name (trusting
    ``HERALD_TLS_CA_FILE`` too), ``implicit`` speaks verified TLS from the first byte, and
    ``opportunistic`` encrypts when the relay offers STARTTLS.
    """
    host = MailHost(settings.relay_host, (settings.relay_host,))
    tls = settings.relay_tls_mode()
    credentials = None
    if settings.relay_username:
        credentials = Credentials(
            settings.relay_username, settings.relay_password, settings.relay_insecure_auth
        )
    return Plan(
        Route(hosts=(host,)),
        settings.relay_port,
        require_verified_tls=tls == "starttls",
        implicit_tls=tls == "implicit",
        credentials=credentials,
    )
