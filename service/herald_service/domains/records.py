"""The DNS records a sending domain needs, with the status of the last verification."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import msgspec

from herald_service.core.states import PUBLISHED_KEY_STATES, DkimKeyStatus, RecordStatus
from herald_service.mail.dkim_keys import split_txt, txt_record_value
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey, Domain


class DnsRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One DNS record to publish, and what the last verification found for it.

    ``strings`` is ``value`` cut into the <= 255-byte character-strings a TXT record is
    made of (publish them as one record; most DNS consoles do the cutting themselves).
    ``status``: ``pending`` (not checked yet), ``verified``, ``missing``, ``mismatch``, or
    ``error`` (the lookup itself failed; try again). ``required`` records decide whether
    the domain is verified; the others are advice that mailbox providers reward.
    """

    type: str
    host: str
    value: str
    purpose: str
    required: bool = True
    strings: list[str] = msgspec.field(default_factory=list)
    status: str = RecordStatus.PENDING.value
    found: list[str] = msgspec.field(default_factory=list)
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the record across verifications."""
        return (self.type, self.host, self.value)


class DmarcStage(msgspec.Struct, frozen=True):
    """One step of the DMARC progression from monitoring to enforcement."""

    stage: str
    value: str
    when: str


def spf_value(settings: Settings) -> str:
    """``v=spf1`` listing the sending IPs explicitly, ending in ``-all``."""
    mechanisms = [
        f"ip6:{ip}" if ipaddress.ip_address(ip.split("/")[0]).version == 6 else f"ip4:{ip}"
        for ip in settings.sending_ips
    ]
    return "v=spf1 " + " ".join(mechanisms or [f"a:{settings.hostname}"]) + " -all"


def dmarc_report_address(domain: Domain, settings: Settings) -> str:
    """Where aggregate (rua) reports go."""
    return settings.dmarc_rua or f"dmarc-reports@{domain.name}"


def dmarc_progression(domain: Domain, settings: Settings) -> list[DmarcStage]:
    """The DMARC records to move through, from ``p=none`` to ``p=reject``."""
    rua = f"rua=mailto:{dmarc_report_address(domain, settings)}"
    return [
        DmarcStage(
            "monitor",
            f"v=DMARC1; p=none; {rua}; adkim=r; aspf=r",
            "Publish first. Read the aggregate reports for 2 to 4 weeks until every "
            "legitimate source of mail for the domain passes SPF or DKIM aligned.",
        ),
        DmarcStage(
            "quarantine-partial",
            f"v=DMARC1; p=quarantine; pct=25; sp=quarantine; {rua}; adkim=r; aspf=r",
            "When reports show no legitimate failures: a quarter of failing mail goes to "
            "spam. Raise pct to 50 and 100 over the following weeks.",
        ),
        DmarcStage(
            "quarantine",
            f"v=DMARC1; p=quarantine; pct=100; sp=quarantine; {rua}; adkim=r; aspf=r",
            "All failing mail goes to spam. Stay here for 2 to 4 weeks.",
        ),
        DmarcStage(
            "reject",
            f"v=DMARC1; p=reject; sp=reject; {rua}; adkim=r; aspf=r",
            "Failing mail is refused outright: the goal. adkim=s is possible when no "
            "subdomain sends with this domain's signature.",
        ),
    ]


def _txt(host: str, value: str, purpose: str, required: bool, detail: str = "") -> DnsRecord:
    return DnsRecord(
        type="TXT",
        host=host,
        value=value,
        purpose=purpose,
        required=required,
        strings=split_txt(value),
        detail=detail,
    )


def _dkim_detail(key: DkimKey) -> str:
    """What the record of a published DKIM key is for, by the key's state."""
    if key.status == DkimKeyStatus.ACTIVE:
        return "DKIM key used for signing."
    if key.status == DkimKeyStatus.PENDING:
        return "New DKIM key from a rotation: signing switches to it once it verifies."
    until = key.retire_at.isoformat() if key.retire_at else "the overlap ends"
    return f"Previous DKIM key: keep it published until {until}, then remove it."


def expected_records(domain: Domain, settings: Settings) -> list[DnsRecord]:
    """Every record to publish for ``domain``, without verification results."""
    spf = spf_value(settings)
    return [
        DnsRecord(
            type="MX",
            host=domain.return_path_host,
            value=f"10 {settings.hostname}",
            purpose="return_path",
            strings=[f"10 {settings.hostname}"],
            detail="Bounces (the envelope sender) come back to Herald through this MX.",
        ),
        _txt(domain.return_path_host, spf, "spf", True, "SPF of the return-path domain."),
        *_dkim_records(domain),
        _txt(
            f"_dmarc.{domain.name}",
            dmarc_progression(domain, settings)[0].value,
            "dmarc",
            False,
            "Start at p=none and follow dmarc_progression; any valid DMARC record passes.",
        ),
        _txt(
            domain.name,
            spf,
            "spf_from",
            False,
            "SPF for the From domain itself. If it already has an SPF record, add the "
            "ip4:/ip6: mechanisms to it instead of publishing a second one.",
        ),
        *_ptr_records(settings),
        *_tracking_records(domain, settings),
    ]


def tracking_target(settings: Settings) -> str:
    """The name a domain's tracking host points at: the host of ``HERALD_PUBLIC_URL``
    (``HERALD_HOSTNAME`` when unset)."""
    return urlsplit(settings.public_url).hostname or settings.hostname


def _tracking_records(domain: Domain, settings: Settings) -> list[DnsRecord]:
    """The CNAME of the domain's own tracking host, when it asked for one."""
    if not domain.tracking_host:
        return []
    target = tracking_target(settings)
    return [
        DnsRecord(
            type="CNAME",
            host=domain.tracking_host,
            value=target,
            purpose="tracking",
            required=False,
            strings=[target],
            detail="Tracked links, the open pixel and unsubscribe URLs use this host once "
            "it verifies (until then HERALD_PUBLIC_URL); it must serve Herald's API over "
            "HTTPS (a certificate for this name on your proxy).",
        )
    ]


def _dkim_records(domain: Domain) -> list[DnsRecord]:
    """A TXT record per published key; only the ``active`` ones are required."""
    records = []
    for key in domain.dkim_keys:
        if key.status not in PUBLISHED_KEY_STATES:
            continue
        records.append(
            _txt(
                f"{key.selector}._domainkey.{domain.name}",
                txt_record_value(key.algorithm, key.public_key),
                "dkim",
                key.status == DkimKeyStatus.ACTIVE,
                _dkim_detail(key),
            )
        )
    return records


def _ptr_records(settings: Settings) -> list[DnsRecord]:
    """The reverse DNS each sending IP needs (advice: its owner sets it, not the domain's)."""
    return [
        DnsRecord(
            type="PTR",
            host=ipaddress.ip_address(ip).reverse_pointer,
            value=settings.hostname,
            purpose="ptr",
            required=False,
            strings=[settings.hostname],
            detail=f"Reverse DNS of sending IP {ip}; its name must resolve back to {ip} "
            "(FCrDNS). Set by whoever owns the address (hosting provider).",
        )
        for ip in settings.sending_ips
    ]


def dns_records(domain: Domain, settings: Settings) -> list[DnsRecord]:
    """The records to publish, each with the result of the domain's last verification."""
    checked: dict[tuple[str, str, str], dict[str, Any]] = {
        (r["type"], r["host"], r["value"]): r for r in domain.check_report.get("records", [])
    }
    records = []
    for record in expected_records(domain, settings):
        result = checked.get(record.key)
        if result is not None:
            record = msgspec.structs.replace(
                record,
                status=result["status"],
                found=list(result.get("found", [])),
                detail=result.get("detail") or record.detail,
            )
        records.append(record)
    return records
