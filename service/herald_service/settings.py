"""Runtime configuration, read once from ``HERALD_*`` environment variables and ``.env``.

Every setting has a safe default for the embedded single-machine mode; production
overrides them through the environment. Call :func:`get_settings` anywhere; it parses the
environment on first use and returns the same frozen object afterwards.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path
from typing import Literal

import msgspec
from dotenv import dotenv_values

from herald_service.core.dnsbl import Zone
from herald_service.core.durations import parse_duration, parse_schedule
from herald_service.core.relay_routes import RelayRoutes
from herald_service.core.sending_ips import DEFAULT_WARMUP_SCHEDULE, parse_sending_ips
from herald_service.redis_urls import redacted
from herald_service.setting_values import CONVERTERS

DeliveryMode = Literal["mx", "relay", "capture"]
RelayTls = Literal["starttls", "implicit", "opportunistic"]

DEFAULT_DATABASE_URL = "sqlite:///var/herald.db"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ConfigError(ValueError):
    """A ``HERALD_*`` setting has a value Herald cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob Herald has. Field ``foo_bar`` is read from ``HERALD_FOO_BAR``."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    hostname: str = msgspec.field(default_factory=socket.getfqdn)
    secret_key: str | None = None
    dns_nameservers: tuple[str, ...] = ()
    dns_timeout: float = 5.0
    smtp_port: int = 25
    smtp_timeout: float = 30.0
    smtp_destination_concurrency: int = 10
    worker_concurrency: int = 100
    # Renewed by the worker's heartbeat every third of it: a dead worker's recipients are
    # handed out again about this long after it died.
    delivery_lease: float = parse_duration("30s")
    # On SIGTERM, how long the API and workers let work in flight finish before exiting.
    shutdown_timeout: float = parse_duration("25s")
    # Where workers journal SMTP outcomes until committed ("": a directory under the
    # system temp directory, per database); workers on one host must share it.
    outcome_journal_dir: str = ""
    tls_ca_file: str = ""
    mta_sts_port: int = 443
    inbound_host: str = "0.0.0.0"  # noqa: S104 - the return-path MX must be reachable
    inbound_port: int = 25
    delivery_mode: DeliveryMode = "mx"
    # The smarthost: all mail goes there in ``relay`` mode; in ``mx`` mode only what
    # ``relay_routes`` picks (README, "Delivering through a smarthost").
    relay_host: str = ""
    relay_port: int = 587
    relay_username: str = ""
    relay_password: str = ""  # a secret: masked by ``repr``, never logged
    # "" picks ``implicit`` on port 465, ``starttls`` with credentials, else
    # ``opportunistic`` (see :meth:`relay_tls_mode`).
    relay_tls: Literal["", "starttls", "implicit", "opportunistic"] = ""
    # AUTH even where the connection may be unencrypted (a relay on a trusted network).
    relay_insecure_auth: bool = False
    relay_routes: RelayRoutes = RelayRoutes()
    # Traffic shaping rules over the built-in ones (README, "Traffic shaping"); TOML.
    shaping_file: str = ""
    # Accounts of the people who run this server: their admin keys (and the console users
    # who are members of one) may see and lift what is server-wide, such as SMTP AUTH
    # lock-outs (per client address, whichever account the client meant).
    operator_accounts: tuple[str, ...] = ()
    # SMTP submission (``herald submission``): 587 with STARTTLS, 465 with implicit TLS.
    submission_host: str = "0.0.0.0"  # noqa: S104 - applications connect from other hosts
    submission_port: int = 587
    submission_tls_port: int = 465
    submission_cert_file: str = ""
    submission_key_file: str = ""
    # The host name applications are told to connect to (console, ``herald dev``);
    # ``HERALD_HOSTNAME`` when empty.
    submission_public_host: str = ""
    submission_max_sessions: int = 200
    submission_timeout: float = parse_duration("5m")
    submission_max_message_bytes: int = 25 * 1024 * 1024
    # Clients on these networks may submit without AUTH or TLS, as the key
    # ``submission_trusted_key`` (Postfix's mynetworks); empty by default.
    submission_trusted_networks: tuple[str, ...] = ()
    submission_trusted_key: str = ""
    # Lock-out: this many failed AUTHs from one address within the window lock it out.
    submission_lockout_failures: int = 5
    submission_lockout_window: float = parse_duration("10m")
    submission_lockout_duration: float = parse_duration("15m")
    # The API's public base URL: tracked links, open pixels and one-click unsubscribe
    # URLs point there (``herald dev`` sets its own address).
    public_url: str = ""
    # What a tracking event keeps of the client's IP: ``truncate`` (IPv4 /24, IPv6 /48),
    # ``full``, or ``none``.
    tracking_ip_privacy: Literal["truncate", "full", "none"] = "truncate"
    capture_host: str = "127.0.0.1"
    capture_port: int = 2525
    retry_schedule: tuple[float, ...] = parse_schedule("1m,5m,15m,1h,2h,4h")
    retry_max_age: float = parse_duration("72h")
    # How far ahead a message's ``send_at`` may be (``POST /v1/messages``).
    max_schedule_ahead: float = parse_duration("72h")
    # ``127.0.0.10=mta1.example.com,127.0.0.11``: the addresses mail leaves from (each
    # optionally with its EHLO name, filled into ``sending_ip_names``); empty: the system's.
    sending_ips: tuple[str, ...] = ()
    sending_ip_names: tuple[tuple[str, str], ...] = ()
    warmup_schedule: tuple[int, ...] = DEFAULT_WARMUP_SCHEDULE
    dmarc_rua: str = ""
    dkim_rotation_overlap: float = parse_duration("7d")
    domain_check_interval: float = parse_duration("6h")
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_queue_name: str = "herald-webhooks"
    webhook_retry_schedule: tuple[float, ...] = parse_schedule("5s,5m,30m,2h,5h,10h,14h,20h,24h")
    webhook_timeout: float = 15.0
    webhook_disable_after: float = parse_duration("5d")
    webhook_secret_overlap: float = parse_duration("24h")
    webhook_lease: float = parse_duration("2m")
    queue_name: str = "herald-delivery"
    sweep_interval: float = 1.0
    max_request_bytes: int = 30 * 1024 * 1024
    # ``host:port`` of a SpamAssassin ``spamd`` that message checks ask for a score (optional).
    spamd_url: str = ""
    # Requests one API process works on at once; beyond, 503 + Retry-After (0: no limit).
    api_max_in_flight: int = 512
    # A connection must deliver its request headers within this time (else it is closed),
    # and a request body within ``api_body_timeout`` plus one second per
    # ``api_body_min_rate`` bytes received (else 408), as Apache's mod_reqtimeout does.
    api_header_timeout: float = 10.0
    api_body_timeout: float = 20.0
    api_body_min_rate: int = 8192
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"
    # Per-key quotas (a key may override the first three); 0 disables a limit.
    quota_requests_per_second: float = 50.0
    quota_burst: int = 100
    quota_daily_recipients_per_key: int = 50_000
    quota_daily_recipients_per_account: int = 100_000
    # Every refused API key is answered no sooner than this, so refusals look alike.
    auth_failure_floor: float = 0.25
    # How often each API process writes the keys' buffered ``last_used_at``.
    key_usage_flush_interval: float = 5.0
    # Console sessions end this long after sign-in.
    console_session_lifetime: float = parse_duration("12h")
    # Send the console cookie without ``Secure`` also to hosts other than localhost over
    # plain HTTP (a console behind a TLS-terminating proxy needs no such setting).
    console_insecure_cookies: bool = False
    # Offer "Sign in with an API key" on the console's sign-in page: a key with the
    # ``admin`` scope opens an admin session for its account (``herald dev`` turns it on).
    console_key_sign_in: bool = False
    # Retention (``herald prune`` and the workers' duty): how long each kind of data is
    # kept; 0 keeps it forever. Message metadata, stats counters and suppressions stay.
    retention_bodies: float = parse_duration("30d")
    retention_events: float = parse_duration("90d")
    retention_attempts: float = parse_duration("90d")
    retention_webhook_deliveries: float = parse_duration("30d")
    retention_captured: float = parse_duration("7d")
    # How often a delivery worker prunes (0: never; ``herald prune`` still does), and how
    # many rows one short transaction of it touches.
    retention_interval: float = parse_duration("5m")
    retention_batch_size: int = 500

    # The reputation guard: a sending domain whose bounce or complaint rate (rolling 24 h
    # and 7 d windows, at least ``min_volume`` recipients with an outcome) reaches a warn
    # threshold raises ``domain.reputation_warning``; a pause threshold pauses it.
    reputation_min_volume: int = 200
    reputation_bounce_warn: float = 0.02
    reputation_bounce_pause: float = 0.05
    reputation_complaint_warn: float = 0.0008
    reputation_complaint_pause: float = 0.001
    # This many policy blocks (5.7.x, "spam" replies) from one destination within
    # ``reputation_block_window`` hold that domain's mail to it for the cool-down.
    reputation_block_burst: int = 5
    reputation_block_window: float = parse_duration("10m")
    reputation_block_cooldown: float = parse_duration("30m")
    # DNSBL monitoring (README, "Blocklist (DNSBL) monitoring"): the zones every sending
    # IP is checked on (``zone`` or ``zone=CODE,CODE``), how often, and whether a listed
    # IP leaves rotation.
    dnsbl_zones: tuple[Zone, ...] = ()
    dnsbl_interval: float = parse_duration("1h")
    dnsbl_remove_listed: bool = True

    def __repr__(self) -> str:
        """Every setting, with the secret ones masked (so a dump never shows them)."""
        shown = [
            f"{name}={_shown(name, value)}" for name, value in msgspec.structs.asdict(self).items()
        ]
        return f"Settings({', '.join(shown)})"

    def relay_tls_mode(self) -> RelayTls:
        """The relay's TLS: ``starttls`` (required and verified), ``implicit`` (TLS from
        the first byte, verified) or ``opportunistic`` (STARTTLS when offered)."""
        if self.relay_tls:
            return self.relay_tls
        if self.relay_port == 465:
            return "implicit"
        return "starttls" if self.relay_username else "opportunistic"

    def require_secret_key(self) -> str:
        """Return the secret key, or fail with an explanation of how to set one."""
        if not self.secret_key:
            raise ConfigError(
                "HERALD_SECRET_KEY is not set: it encrypts DKIM keys and other secrets at "
                "rest. Generate one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'` and keep it safe."
            )
        return self.secret_key


_SECRETS = frozenset({"secret_key", "relay_password"})
_MASKED = "'***'"


def _shown(name: str, value: object) -> str:
    if name in _SECRETS and value:
        return _MASKED
    return repr(redacted(value) if name == "redis_url" and isinstance(value, str) else value)


def _check_relay(settings: Settings) -> None:
    """Refuse a relay set-up that cannot work, or that could send its password in clear."""
    if (settings.delivery_mode == "relay" or settings.relay_routes) and not settings.relay_host:
        raise ConfigError(
            "HERALD_RELAY_HOST is not set: HERALD_DELIVERY_MODE=relay and "
            "HERALD_RELAY_ROUTES send mail through it"
        )
    if bool(settings.relay_username) != bool(settings.relay_password):
        raise ConfigError("HERALD_RELAY_USERNAME and HERALD_RELAY_PASSWORD are set together")
    if (
        settings.relay_username
        and settings.relay_tls_mode() == "opportunistic"
        and not settings.relay_insecure_auth
    ):
        raise ConfigError(
            "HERALD_RELAY_TLS=opportunistic would send HERALD_RELAY_PASSWORD in clear when "
            "the relay offers no STARTTLS: use starttls or implicit, or set "
            "HERALD_RELAY_INSECURE_AUTH=1 for a relay on a network you trust"
        )


_FRACTIONS = (
    "reputation_bounce_warn",
    "reputation_bounce_pause",
    "reputation_complaint_warn",
    "reputation_complaint_pause",
)


def _check(settings: Settings) -> Settings:
    """Refuse values that parse but make no sense together."""
    for name in _FRACTIONS:
        if not 0 < getattr(settings, name) <= 1:
            raise ConfigError(
                f"HERALD_{name.upper()}: a fraction above 0 and at most 1 (0.05 is 5 %)"
            )
    for kind in ("bounce", "complaint"):
        if getattr(settings, f"reputation_{kind}_warn") > getattr(
            settings, f"reputation_{kind}_pause"
        ):
            name = f"HERALD_REPUTATION_{kind.upper()}"
            raise ConfigError(f"{name}_WARN is above {name}_PAUSE: a warning must come first")
    return settings


def load_settings(environ: dict[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over an optional ``.env``."""
    source: dict[str, str] = {}
    dotenv_path = env_file if env_file is not None else Path(".env")
    if dotenv_path.is_file():
        source.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    source.update(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        raw = source.get(f"HERALD_{name.upper()}")
        if raw is None or raw == "" or name == "sending_ip_names":
            continue
        convert = CONVERTERS.get(name)
        try:
            values[name] = convert(raw) if convert else raw
        except ValueError as exc:
            raise ConfigError(f"HERALD_{name.upper()}: {exc}") from exc
    if "sending_ips" in values:  # parsed above: the names given with the addresses
        ips = parse_sending_ips(source["HERALD_SENDING_IPS"])
        values["sending_ip_names"] = tuple((ip.address, ip.ehlo_name) for ip in ips if ip.ehlo_name)
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
    _check_relay(settings)
    return _check(settings)


@cache
def get_settings() -> Settings:
    """The process-wide settings, parsed on first call."""
    return load_settings()
