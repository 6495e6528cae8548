"""A key grants only what it holds: scopes, sending domains and quotas (pure rule)."""

from __future__ import annotations

import pytest

from herald_service.core.key_grants import Grantor, KeyGrant, KeyLimits

ALL = frozenset({"send", "read", "admin"})
DEFAULTS = KeyLimits(requests_per_second=50, burst=100, daily_recipients=50_000)
NO_DEFAULT_LIMITS = KeyLimits(requests_per_second=0, burst=100, daily_recipients=0)


def grant(scopes: str = "send,read,admin", domains: str = "", **limits: float | None) -> KeyGrant:
    return KeyGrant(
        scopes=frozenset(scopes.split(",")),
        domains=frozenset(d for d in domains.split(",") if d),
        limits=KeyLimits(**limits),  # type: ignore[arg-type]
    )


# (case, grantor's key, wanted key, server defaults, fields named as excesses)
CASES: list[tuple[str, KeyGrant, KeyGrant, KeyLimits, list[str]]] = [
    ("same grant", grant(), grant(), DEFAULTS, []),
    ("fewer scopes", grant(), grant("send"), DEFAULTS, []),
    ("scope it lacks", grant("send,admin"), grant("send,read"), DEFAULTS, ["scopes"]),
    ("unrestricted grants a restriction", grant(), grant(domains="a.example"), DEFAULTS, []),
    ("restricted grants unrestricted", grant(domains="a.example"), grant(), DEFAULTS, ["domains"]),
    (
        "restricted grants its own domain",
        grant(domains="a.example,b.example"),
        grant(domains="b.example"),
        DEFAULTS,
        [],
    ),
    (
        "restricted grants a subdomain",
        grant(domains="a.example"),
        grant(domains="mail.a.example"),
        DEFAULTS,
        [],
    ),
    (
        "restricted grants another domain",
        grant(domains="a.example"),
        grant(domains="a.example,b.example"),
        DEFAULTS,
        ["domains"],
    ),
    (
        "look-alike is not a subdomain",
        grant(domains="a.example"),
        grant(domains="evila.example"),
        DEFAULTS,
        ["domains"],
    ),
    ("default limits both", grant(), grant(), DEFAULTS, []),
    ("lower rate", grant(), grant(requests_per_second=5, burst=10), DEFAULTS, []),
    (
        "rate above the default it holds",
        grant(),
        grant(requests_per_second=51),
        DEFAULTS,
        ["quotas.requests_per_second"],
    ),
    (
        "default rate above its own",
        grant(requests_per_second=5),
        grant(),
        DEFAULTS,
        ["quotas.requests_per_second"],
    ),
    (
        "burst above its own",
        grant(requests_per_second=5, burst=10),
        grant(requests_per_second=5, burst=11),
        DEFAULTS,
        ["quotas.burst"],
    ),
    (
        "any rate when it has none",
        grant(),
        grant(requests_per_second=1e6, burst=1_000_000),
        NO_DEFAULT_LIMITS,
        [],
    ),
    (
        "a rate from a key without rate limit",
        grant(requests_per_second=5),
        grant(),
        NO_DEFAULT_LIMITS,
        ["quotas.requests_per_second"],
    ),
    ("lower daily cap", grant(daily_recipients=100), grant(daily_recipients=99), DEFAULTS, []),
    (
        "higher daily cap",
        grant(daily_recipients=100),
        grant(daily_recipients=101),
        DEFAULTS,
        ["quotas.daily_recipients"],
    ),
    (
        "no daily cap from a capped key",
        grant(daily_recipients=100),
        grant(daily_recipients=0),
        DEFAULTS,
        ["quotas.daily_recipients"],
    ),
    (
        "daily cap above the default it holds",
        grant(),
        grant(daily_recipients=50_001),
        DEFAULTS,
        ["quotas.daily_recipients"],
    ),
    (
        "any daily cap when uncapped",
        grant(daily_recipients=0),
        grant(daily_recipients=0),
        DEFAULTS,
        [],
    ),
    (
        "everything at once",
        grant(
            "send,admin", domains="a.example", requests_per_second=1, burst=1, daily_recipients=1
        ),
        grant("send,read,admin", requests_per_second=2, burst=2, daily_recipients=2),
        DEFAULTS,
        [
            "scopes",
            "domains",
            "quotas.requests_per_second",
            "quotas.burst",
            "quotas.daily_recipients",
        ],
    ),
]


@pytest.mark.parametrize(
    ("holder", "wanted", "defaults", "fields"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_excesses_name_every_field_beyond_the_grantor(
    holder: KeyGrant, wanted: KeyGrant, defaults: KeyLimits, fields: list[str]
) -> None:
    excesses = Grantor(holder, defaults).excesses(wanted)
    assert [e.field for e in excesses] == fields
    assert all(e.message for e in excesses)


INHERIT: list[tuple[str, KeyLimits, KeyLimits, KeyLimits]] = [
    ("nothing to inherit", KeyLimits(), KeyLimits(burst=3), KeyLimits(burst=3)),
    (
        "unset limits take the grantor's overrides",
        KeyLimits(requests_per_second=5, daily_recipients=10),
        KeyLimits(burst=3),
        KeyLimits(requests_per_second=5, burst=3, daily_recipients=10),
    ),
    (
        "given limits stay",
        KeyLimits(requests_per_second=5, burst=9, daily_recipients=10),
        KeyLimits(requests_per_second=1, burst=2, daily_recipients=0),
        KeyLimits(requests_per_second=1, burst=2, daily_recipients=0),
    ),
]


@pytest.mark.parametrize(
    ("own", "wanted", "expected"), [c[1:] for c in INHERIT], ids=[c[0] for c in INHERIT]
)
def test_unset_limits_inherit_the_grantors_overrides(
    own: KeyLimits, wanted: KeyLimits, expected: KeyLimits
) -> None:
    grantor = Grantor(KeyGrant(scopes=ALL, limits=own), DEFAULTS)
    assert grantor.inherit(wanted) == expected


def test_inherited_limits_are_within_the_grantor() -> None:
    own = KeyLimits(requests_per_second=5, burst=10, daily_recipients=100)
    grantor = Grantor(KeyGrant(scopes=ALL, limits=own), DEFAULTS)
    inherited = grantor.inherit(KeyLimits())
    assert grantor.excesses(KeyGrant(scopes=ALL, limits=inherited)) == []
