"""What one API key may grant another: never more than it holds itself.

A key with the ``admin`` scope manages the account's keys. Without a bound, a key
restricted to one sending domain, or without ``read``, or with a low rate, could mint a
key without those restrictions and so escape its own. :meth:`Grantor.excesses` says where
a wanted key goes beyond the key making the change: scopes, sending domains and quotas.
The same rule applies to keys it changes (itself included) and revokes.
"""

from __future__ import annotations

from msgspec import Struct


class KeyLimits(Struct, frozen=True, kw_only=True):
    """Per-key quota overrides; None means the server's default."""

    requests_per_second: float | None = None
    burst: int | None = None
    daily_recipients: int | None = None


class KeyGrant(Struct, frozen=True, kw_only=True):
    """What a key may do: its scopes, its sending domains (empty: every domain of the
    account, subdomains included) and its quota overrides."""

    scopes: frozenset[str]
    domains: frozenset[str] = frozenset()
    limits: KeyLimits = KeyLimits()


class Excess(Struct, frozen=True):
    """One way a wanted key goes beyond its grantor: the request field and why."""

    field: str
    message: str


def _effective(override: float | None, default: float) -> float:
    return default if override is None else override


def _covered(domain: str, domains: frozenset[str]) -> bool:
    """True when ``domain`` is one of ``domains`` or a subdomain of one (as sending is)."""
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _listed(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


class Grantor(Struct, frozen=True):
    """A key acting on keys, with the server's default limits (0: no limit) that its
    own unset limits stand for."""

    grant: KeyGrant
    defaults: KeyLimits

    def inherit(self, wanted: KeyLimits) -> KeyLimits:
        """``wanted`` with each unset limit taken from the grantor's own override, so a
        key made by a limited key keeps that limit even if the server default rises."""
        own = self.grant.limits
        return KeyLimits(
            requests_per_second=own.requests_per_second
            if wanted.requests_per_second is None
            else wanted.requests_per_second,
            burst=own.burst if wanted.burst is None else wanted.burst,
            daily_recipients=own.daily_recipients
            if wanted.daily_recipients is None
            else wanted.daily_recipients,
        )

    def excesses(self, wanted: KeyGrant) -> list[Excess]:
        """Every way ``wanted`` exceeds the grantor (empty: it is within)."""
        return [
            *self._scope_excess(wanted),
            *self._domain_excess(wanted),
            *self._limit_excess(wanted),
        ]

    def _scope_excess(self, wanted: KeyGrant) -> list[Excess]:
        extra = wanted.scopes - self.grant.scopes
        if not extra:
            return []
        message = (
            f"this key may grant only its own scopes ({_listed(self.grant.scopes)}), "
            f"not {_listed(extra)}"
        )
        return [Excess("scopes", message)]

    def _domain_excess(self, wanted: KeyGrant) -> list[Excess]:
        own = self.grant.domains
        if not own:
            return []
        if not wanted.domains:
            message = f"this key is restricted to {_listed(own)}: name some of them"
            return [Excess("domains", message)]
        outside = frozenset(d for d in wanted.domains if not _covered(d, own))
        if not outside:
            return []
        message = f"{_listed(outside)} outside this key's domains ({_listed(own)})"
        return [Excess("domains", message)]

    def _limit_excess(self, wanted: KeyGrant) -> list[Excess]:
        own, defaults, asked = self.grant.limits, self.defaults, wanted.limits
        excesses = []
        rate = _effective(own.requests_per_second, defaults.requests_per_second or 0)
        if rate > 0:
            wanted_rate = _effective(asked.requests_per_second, defaults.requests_per_second or 0)
            if not 0 < wanted_rate <= rate:
                excesses.append(
                    Excess("quotas.requests_per_second", f"at most {rate:g}, this key's own rate")
                )
            burst = _effective(own.burst, defaults.burst or 1)
            if _effective(asked.burst, defaults.burst or 1) > burst:
                excesses.append(Excess("quotas.burst", f"at most {burst:g}, this key's own burst"))
        cap = _effective(own.daily_recipients, defaults.daily_recipients or 0)
        if cap > 0:
            wanted_cap = _effective(asked.daily_recipients, defaults.daily_recipients or 0)
            if not 0 < wanted_cap <= cap:
                excesses.append(
                    Excess(
                        "quotas.daily_recipients",
                        f"between 1 and {cap:g}, this key's own daily cap (0 means no cap)",
                    )
                )
        return excesses
