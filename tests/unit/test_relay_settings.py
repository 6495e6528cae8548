"""The smarthost's settings: TLS modes, credentials, routes, and the refusals at startup."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herald_queue.relay import relay_plan
from herald_service.core.relay_routes import RelayRoutes, parse_relay_routes
from herald_service.settings import ConfigError, Settings, load_settings

NO_ENV_FILE = Path("/nonexistent")
RELAY = {"HERALD_DELIVERY_MODE": "relay", "HERALD_RELAY_HOST": "smtp.relay.example"}
CREDENTIALS = {"HERALD_RELAY_USERNAME": "herald", "HERALD_RELAY_PASSWORD": "s3cret-Pa55"}


def load(**environ: str) -> Settings:
    return load_settings(environ, env_file=NO_ENV_FILE)


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        (RELAY, "opportunistic"),  # as before credentials existed: encrypt when offered
        (RELAY | CREDENTIALS, "starttls"),
        (RELAY | CREDENTIALS | {"HERALD_RELAY_PORT": "465"}, "implicit"),
        (RELAY | {"HERALD_RELAY_PORT": "465"}, "implicit"),
        (RELAY | CREDENTIALS | {"HERALD_RELAY_TLS": "implicit"}, "implicit"),
        (RELAY | {"HERALD_RELAY_TLS": "starttls"}, "starttls"),
    ],
)
def test_the_tls_mode_follows_the_port_and_the_credentials(
    environ: dict[str, str], mode: str
) -> None:
    assert load(**environ).relay_tls_mode() == mode


def test_the_relay_plan_carries_tls_and_credentials() -> None:
    plan = relay_plan(load(**RELAY, **CREDENTIALS))
    assert [(h.name, h.addresses) for h in plan.route.hosts] == [
        ("smtp.relay.example", ("smtp.relay.example",))
    ]
    assert (plan.port, plan.require_verified_tls, plan.implicit_tls) == (587, True, False)
    assert plan.credentials is not None and plan.credentials.username == "herald"
    implicit = relay_plan(load(**RELAY, HERALD_RELAY_PORT="465"))
    assert (implicit.require_verified_tls, implicit.implicit_tls, implicit.credentials) == (
        False,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (RELAY | CREDENTIALS | {"HERALD_RELAY_TLS": "opportunistic"}, "in clear"),
        ({"HERALD_DELIVERY_MODE": "relay"}, "HERALD_RELAY_HOST is not set"),
        ({"HERALD_RELAY_ROUTES": "recipient:example.com"}, "HERALD_RELAY_HOST is not set"),
        (RELAY | {"HERALD_RELAY_USERNAME": "herald"}, "set together"),
        (RELAY | {"HERALD_RELAY_TLS": "sometimes"}, "relay_tls"),
        (RELAY | {"HERALD_RELAY_ROUTES": "example.com"}, "recipient:DOMAIN or sender:DOMAIN"),
        (RELAY | {"HERALD_RELAY_ROUTES": "recipient:bad domain!"}, "HERALD_RELAY_ROUTES"),
    ],
)
def test_a_relay_that_cannot_work_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(**environ)


def test_auth_over_a_possibly_clear_connection_needs_an_explicit_yes() -> None:
    environ = RELAY | CREDENTIALS | {"HERALD_RELAY_TLS": "opportunistic"}
    settings = load(**environ, HERALD_RELAY_INSECURE_AUTH="1")
    plan = relay_plan(settings)
    assert plan.credentials is not None and plan.credentials.allow_plaintext


def test_worker_refuses_to_start_with_auth_in_clear(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environ |= RELAY | CREDENTIALS | {"HERALD_RELAY_TLS": "opportunistic"}
    environ["HERALD_SECRET_KEY"] = "x" * 32
    herald = Path(sys.executable).with_name("herald")
    done = subprocess.run(
        [str(herald), "worker", "--burst"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "herald: configuration error: HERALD_RELAY_TLS=opportunistic" in done.stderr
    assert "s3cret-Pa55" not in done.stderr + done.stdout


def test_the_password_is_masked_wherever_settings_or_plans_are_printed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load(**RELAY, **CREDENTIALS, HERALD_SECRET_KEY="k" * 32)
    plan = relay_plan(settings)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings %s plan %r", settings, plan)
    shown = caplog.text + repr(settings) + str(plan)
    assert "relay_password='***'" in shown and "secret_key='***'" in shown
    assert "herald" in shown  # the user name is no secret
    assert "s3cret-Pa55" not in shown and "k" * 32 not in shown
    assert "relay_password=''" in repr(Settings())  # an unset secret shows as unset


def test_routes_parse_recipient_and_sender_domains() -> None:
    routes = parse_relay_routes(" recipient:Example.COM, sender:corp.example.;recipient:b.test ")
    assert routes == RelayRoutes(frozenset({"example.com", "b.test"}), frozenset({"corp.example"}))
    assert routes.takes("example.com", "other.example")
    assert routes.takes("elsewhere.example", "corp.example")
    assert not routes.takes("sub.example.com", "sub.corp.example")  # exact domains only
    assert not parse_relay_routes("") and not RelayRoutes()
    assert load(**RELAY, HERALD_RELAY_ROUTES="sender:corp.example").relay_routes == RelayRoutes(
        senders=frozenset({"corp.example"})
    )
