"""How each ``HERALD_*`` string becomes a setting's value: lists, networks, durations,
schedules and the files and formats with rules of their own. A converter raises
``ValueError`` with a message that names what was expected; :func:`load_settings` adds the
variable's name. Settings missing here are converted by msgspec from their annotation."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from herald_service.core.dnsbl import parse_zones
from herald_service.core.durations import parse_duration, parse_schedule
from herald_service.core.relay_routes import parse_relay_routes
from herald_service.core.sending_ips import parse_sending_ips, parse_warmup_schedule
from herald_service.core.shaping import parse_shaping
from herald_service.redis_urls import check_redis_url


def _shaping_file(raw: str) -> str:
    """The path of a shaping file that parses (read again by :mod:`herald_service.shaping`)."""
    try:
        parse_shaping(Path(raw).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {raw}: {exc.strerror}") from exc
    return raw


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.replace(";", ",").split(",") if part.strip())


def _sending_ips(raw: str) -> tuple[str, ...]:
    return tuple(ip.address for ip in parse_sending_ips(raw))


def _networks(raw: str) -> tuple[str, ...]:
    """CIDRs such as ``127.0.0.0/8,::1/128``, each checked and normalized."""
    try:
        return tuple(str(ipaddress.ip_network(n, strict=False)) for n in _split_list(raw))
    except ValueError as exc:
        raise ValueError(f"not a network (use CIDRs such as 10.1.0.0/16): {exc}") from exc


CONVERTERS: dict[str, Callable[[str], object]] = {
    "redis_url": check_redis_url,
    "dns_nameservers": _split_list,
    "relay_routes": parse_relay_routes,
    "shaping_file": _shaping_file,
    "operator_accounts": _split_list,
    "sending_ips": _sending_ips,
    "warmup_schedule": parse_warmup_schedule,
    "webhook_allow_networks": _networks,
    "submission_trusted_networks": _networks,
    "submission_timeout": parse_duration,
    "submission_lockout_window": parse_duration,
    "submission_lockout_duration": parse_duration,
    "webhook_retry_schedule": parse_schedule,
    "webhook_timeout": parse_duration,
    "webhook_disable_after": parse_duration,
    "webhook_secret_overlap": parse_duration,
    "webhook_lease": parse_duration,
    "retry_schedule": parse_schedule,
    "retry_max_age": parse_duration,
    "max_schedule_ahead": parse_duration,
    "smtp_timeout": parse_duration,
    "dns_timeout": parse_duration,
    "sweep_interval": parse_duration,
    "dkim_rotation_overlap": parse_duration,
    "domain_check_interval": parse_duration,
    "auth_failure_floor": parse_duration,
    "key_usage_flush_interval": parse_duration,
    "console_session_lifetime": parse_duration,
    "delivery_lease": parse_duration,
    "shutdown_timeout": parse_duration,
    "api_header_timeout": parse_duration,
    "api_body_timeout": parse_duration,
    "reputation_block_window": parse_duration,
    "reputation_block_cooldown": parse_duration,
    "retention_bodies": parse_duration,
    "retention_events": parse_duration,
    "retention_attempts": parse_duration,
    "retention_webhook_deliveries": parse_duration,
    "retention_captured": parse_duration,
    "retention_interval": parse_duration,
    "dnsbl_zones": parse_zones,
    "dnsbl_interval": parse_duration,
}
