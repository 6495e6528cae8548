"""Traffic shaping rules: how fast and over how many connections mail may go to a
destination, and which replies mean "slow down".

A *destination* is a named rule matched by recipient domain (``gmail.com``) or by the
suffix of an MX host name (every ``*.google.com`` MX shares Gmail's budget, whatever the
recipient domain). Its limits are connections at once (per worker process), messages per
connection, and messages (recipients) per minute and per hour. Built-in rules cover the
big mailbox providers; ``HERALD_SHAPING_FILE`` (TOML, format in the README, "Traffic
shaping") overrides or adds to them. A destination no rule matches is not limited at all
(and costs nothing to check) until it says "slow down": then its rate is halved from
``[adaptive] default_per_minute`` for a cool-down, as a matched destination's is.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct

from herald_service.core.durations import parse_duration

SLOW_DOWN_ENHANCED = frozenset({"4.7.28"})
"""Enhanced codes that mean "you send too fast" on their own (Gmail's ``4.7.28``)."""
SLOW_DOWN_CODES = frozenset({421})
"""Reply codes that mean "come back later, slower" on their own (RFC 5321 ``421``)."""
SLOW_DOWN_WORDING = (
    "rate limit",
    "rate-limit",
    "ratelimit",
    "rate limited",
    "too many",
    "try again later",
    "try later",
    "temporarily deferred",
    "throttl",
    "slow down",
    "exceeded",
    "unusual rate",
    "server busy",
)
"""Wording that makes another 4xx reply a "slow down" when its enhanced code is a policy
one (``4.7.x``: ``451 4.7.0 ... rate limit``) or absent; ``451 4.3.0 Temporary failure,
try again later`` is a server's own trouble, not a request to slow down."""

MIN_FACTOR = 1 / 16
"""Repeated slow-downs halve a rate down to this fraction of its base, no further."""

_RULE_KEYS = frozenset(
    {"domains", "mx_suffixes", "connections", "messages_per_connection", "per_minute", "per_hour"}
)
_ADAPTIVE_KEYS = frozenset({"cooldown", "default_per_minute", "max_wait", "halve_every"})
_TOP_KEYS = frozenset({"builtin", "adaptive", "destinations"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$")


class Rule(Struct, frozen=True, kw_only=True):
    """One destination's limits; 0 means "no limit" for each of them."""

    name: str
    domains: tuple[str, ...] = ()
    mx_suffixes: tuple[str, ...] = ()
    connections: int = 0
    messages_per_connection: int = 0
    per_minute: int = 0
    per_hour: int = 0

    @property
    def limits_rate(self) -> bool:
        """Whether sending there takes from a shared budget."""
        return bool(self.per_minute or self.per_hour)


class Adaptive(Struct, frozen=True, kw_only=True):
    """How "slow down" replies are answered, and how long a batch waits for its budget."""

    cooldown: float = 600.0
    """How long a halved rate lasts (renewed by each further halving)."""
    default_per_minute: int = 600
    """The base a destination without a per-minute rule is halved from."""
    max_wait: float = 30.0
    """A batch whose budget frees within this many seconds waits; a later one is deferred."""
    halve_every: float = 60.0
    """A destination's rate is halved at most this often (a burst of 421s halves it once)."""


class ShapingRules(Struct, frozen=True):
    """Every destination rule, and how they are matched."""

    rules: tuple[Rule, ...] = ()
    adaptive: Adaptive = Adaptive()

    def by_name(self, name: str) -> Rule | None:
        """The rule called ``name``."""
        return next((r for r in self.rules if r.name == name), None)

    def matcher(self) -> Matcher:
        """A matcher over these rules (build once, use per batch)."""
        return Matcher(self.rules)


class Matcher:
    """Finds the rule of a recipient domain and its MX hosts: a dictionary lookup, then
    the MX suffixes, longest first."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._domains: dict[str, Rule] = {}
        suffixes: list[tuple[str, Rule]] = []
        for rule in rules:
            for domain in rule.domains:
                self._domains.setdefault(domain, rule)
            suffixes.extend((suffix, rule) for suffix in rule.mx_suffixes)
        self._suffixes = sorted(suffixes, key=lambda pair: -len(pair[0]))

    def match(self, domain: str, mx_hosts: Iterable[str] = ()) -> Rule | None:
        """The rule for mail to ``domain`` (lower case) through ``mx_hosts``, if any."""
        rule = self._domains.get(domain)
        if rule is not None or not self._suffixes:
            return rule
        for host in mx_hosts:
            name = host.lower().rstrip(".")
            for suffix, candidate in self._suffixes:
                if name == suffix or name.endswith("." + suffix):
                    return candidate
        return None


BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(
        name="gmail",
        domains=("gmail.com", "googlemail.com"),
        mx_suffixes=("google.com", "googlemail.com"),
        connections=20,
        messages_per_connection=100,
        per_minute=1200,
        per_hour=36000,
    ),
    Rule(
        name="outlook",
        domains=("outlook.com", "hotmail.com", "live.com", "msn.com"),
        mx_suffixes=("outlook.com",),  # *.mail.protection.outlook.com: Microsoft 365 too
        connections=10,
        messages_per_connection=50,
        per_minute=600,
        per_hour=18000,
    ),
    Rule(
        name="yahoo",
        domains=("yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com"),
        mx_suffixes=("yahoodns.net",),
        connections=10,
        messages_per_connection=20,
        per_minute=300,
        per_hour=12000,
    ),
    Rule(
        name="icloud",
        domains=("icloud.com", "me.com", "mac.com"),
        mx_suffixes=("icloud.com",),
        connections=10,
        messages_per_connection=50,
        per_minute=300,
        per_hour=10000,
    ),
    Rule(
        name="gmx",
        domains=("gmx.net", "gmx.de", "gmx.com", "web.de"),
        mx_suffixes=("gmx.net", "web.de"),
        connections=5,
        messages_per_connection=50,
        per_minute=200,
        per_hour=6000,
    ),
)


def _count(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: a whole number, not {value!r}")
    if value < 0:
        raise ValueError(f"{where}: {value} is negative (0 means no limit)")
    return value


def _names(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: a list of domain names")
    names = tuple(v.strip().lower().rstrip(".") for v in value)
    for name in names:
        if not _HOST.match(name):
            raise ValueError(f"{where}: {name!r} is not a domain name")
    return names


def _duration(where: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f'{where}: a duration such as "10m", not {value!r}')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value)
    else:
        raise ValueError(f'{where}: a duration such as "10m", not {value!r}')
    if seconds < 0:
        raise ValueError(f"{where}: negative")
    return seconds


def _unknown(where: str, table: Mapping[str, Any], known: frozenset[str]) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise ValueError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")


def _table(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: a table")
    return value


def _rule(name: str, table: dict[str, Any], base: Rule | None) -> Rule:
    where = f"destinations.{name}"
    if not _NAME.match(name):
        raise ValueError(f"{where}: a name of lower-case letters, digits, '.', '_' or '-'")
    _unknown(where, table, _RULE_KEYS)
    fields: dict[str, Any] = {}
    for key in ("domains", "mx_suffixes"):
        if key in table:
            fields[key] = _names(f"{where}.{key}", table[key])
    for key in ("connections", "messages_per_connection", "per_minute", "per_hour"):
        if key in table:
            fields[key] = _count(f"{where}.{key}", table[key])
    merged = {**_fields(base), **fields} if base is not None else fields
    rule = Rule(name=name, **{k: v for k, v in merged.items() if k != "name"})
    if not rule.domains and not rule.mx_suffixes:
        raise ValueError(f"{where}: give domains or mx_suffixes (what it matches)")
    return rule


def _fields(rule: Rule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in rule.__struct_fields__}


def parse_shaping(text: str) -> ShapingRules:
    """The rules of a ``HERALD_SHAPING_FILE`` (TOML) over the built-in ones; ValueError
    naming the key at fault (unknown keys, negative numbers, wrong types)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc
    _unknown("the shaping file", document, _TOP_KEYS)
    builtin = document.get("builtin", True)
    if not isinstance(builtin, bool):
        raise ValueError("builtin: true or false")
    rules = {r.name: r for r in BUILTIN_RULES} if builtin else {}
    for name, table in _table("destinations", document.get("destinations", {})).items():
        rules[name] = _rule(name, _table(f"destinations.{name}", table), rules.get(name))
    adaptive_table = _table("adaptive", document.get("adaptive", {}))
    _unknown("adaptive", adaptive_table, _ADAPTIVE_KEYS)
    adaptive: dict[str, Any] = {}
    for key in ("cooldown", "max_wait", "halve_every"):
        if key in adaptive_table:
            adaptive[key] = _duration(f"adaptive.{key}", adaptive_table[key])
    if "default_per_minute" in adaptive_table:
        per_minute = _count("adaptive.default_per_minute", adaptive_table["default_per_minute"])
        if per_minute == 0:
            raise ValueError("adaptive.default_per_minute: at least 1")
        adaptive["default_per_minute"] = per_minute
    return ShapingRules(tuple(rules.values()), Adaptive(**adaptive))


DEFAULT_RULES = ShapingRules(BUILTIN_RULES)


def is_slow_down(code: int | None, enhanced_code: str, text: str) -> bool:
    """Whether a reply asks the sender to slow down: ``421``, ``4.7.28``, or a 4xx with a
    ``4.7.x`` code (or none) whose text speaks of rates (:data:`SLOW_DOWN_WORDING`). No
    reply at all (a timeout) is not."""
    if code is None or not 400 <= code < 500:
        return False
    if code in SLOW_DOWN_CODES or enhanced_code in SLOW_DOWN_ENHANCED:
        return True
    if enhanced_code and not enhanced_code.startswith("4.7."):
        return False
    lowered = text.lower()
    return any(words in lowered for words in SLOW_DOWN_WORDING)


def halved(factor: float) -> float:
    """The rate factor after one more "slow down" (1.0 is the full rate)."""
    return max(MIN_FACTOR, factor / 2)


def effective_per_minute(rule: Rule | None, adaptive: Adaptive, factor: float) -> int:
    """Messages per minute to a destination whose rate is at ``factor`` of its base (the
    rule's per-minute limit, or the adaptive default); 0: no limit."""
    if factor >= 1.0:
        return rule.per_minute if rule is not None else 0
    base = rule.per_minute if rule is not None and rule.per_minute else adaptive.default_per_minute
    return max(1, math.floor(base * factor))


def effective_per_hour(rule: Rule | None, factor: float) -> int:
    """Messages per hour at ``factor`` of the rule's hourly limit; 0: no limit."""
    if rule is None or not rule.per_hour:
        return 0
    return max(1, math.floor(rule.per_hour * min(1.0, factor)))


def waiting_text(name: str, limit: str, wait: float) -> str:
    """The reason a batch is deferred for its budget, as its attempt records it."""
    later = f"{math.ceil(wait / 60)} min" if wait >= 90 else f"{math.ceil(wait)} s"
    return f"shaping: {name} budget of {limit} used; next try in {later}"
