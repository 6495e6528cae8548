"""Record rendering and the per-record checks, on answers built by hand."""

from __future__ import annotations

import pytest

from herald_service.dns import Answer
from herald_service.domains.checks import check_dkim, check_dmarc, check_mx, check_spf
from herald_service.domains.records import spf_value
from herald_service.domains.service import normalize_domain_name
from herald_service.errors import InvalidRequest
from herald_service.mail.dkim_keys import generate_rsa, split_txt, txt_record_value
from herald_service.settings import Settings
from herald_service.storage.models import DkimKey

SETTINGS = Settings(hostname="mta.herald.example", sending_ips=("192.0.2.10", "2001:db8::25"))


def test_long_txt_values_split_into_255_byte_strings() -> None:
    value = txt_record_value("rsa", generate_rsa().public_key)
    strings = split_txt(value)
    assert len(value) > 255
    assert len(strings) == 2
    assert all(len(s.encode()) <= 255 for s in strings)
    assert "".join(strings) == value


def test_spf_lists_the_sending_ips_and_fails_hard() -> None:
    assert spf_value(SETTINGS) == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all"
    assert spf_value(Settings(hostname="mta.example")) == "v=spf1 a:mta.example -all"


@pytest.mark.parametrize(
    ("published", "status"),
    [
        (["v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all"], "verified"),
        (["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"], "verified"),
        (["google-site-verification=x", "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all"], "verified"),
        (["v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"], "mismatch"),
        (["v=spf1 ip4:192.0.2.11 ip6:2001:db8::25 -all"], "mismatch"),
        (["v=spf1 ip4:192.0.2.10 -all", "v=spf1 ip6:2001:db8::25 -all"], "mismatch"),
        (["google-site-verification=x"], "missing"),
        ([], "missing"),
    ],
)
def test_spf_check(published: list[str], status: str) -> None:
    result = check_spf(Answer(tuple(published)), SETTINGS)
    assert result.status == status
    assert result.found == published


def test_mx_check() -> None:
    assert check_mx(Answer(("10 mta.herald.example",)), SETTINGS).status == "verified"
    assert check_mx(Answer(("10 mx.other.example",)), SETTINGS).status == "mismatch"
    assert check_mx(Answer(), SETTINGS).status == "missing"
    assert check_mx(Answer(error="SERVFAIL"), SETTINGS).status == "error"


def test_dkim_check_compares_the_published_key() -> None:
    pair, other = generate_rsa(), generate_rsa()
    key = DkimKey(algorithm="rsa", public_key=pair.public_key, selector="s")
    published = txt_record_value("rsa", pair.public_key)
    assert check_dkim(Answer((published,)), key).status == "verified"
    # Whitespace inside p= (as some DNS consoles split it) still matches.
    spaced = published[:60] + " " + published[60:]
    assert check_dkim(Answer((spaced,)), key).status == "verified"
    wrong = check_dkim(Answer((txt_record_value("rsa", other.public_key),)), key)
    assert wrong.status == "mismatch"
    assert wrong.found == [txt_record_value("rsa", other.public_key)]
    assert check_dkim(Answer(("v=DKIM1; k=ed25519; p=" + pair.public_key,)), key).status == (
        "mismatch"
    )
    assert check_dkim(Answer(), key).status == "missing"


def test_dmarc_check_accepts_any_policy_of_the_progression() -> None:
    for policy in ("none", "quarantine; pct=25", "reject"):
        result = check_dmarc(Answer((f"v=DMARC1; p={policy}; rua=mailto:d@x.example",)))
        assert result.status == "verified"
    assert check_dmarc(Answer(("v=DMARC1; p=maybe",))).status == "mismatch"
    assert check_dmarc(Answer(("v=DMARC1; p=none", "v=DMARC1; p=reject"))).status == "mismatch"
    assert check_dmarc(Answer()).status == "missing"


@pytest.mark.parametrize(
    "bad", ["localhost", "exa mple.com", "-bad.example", "a..example", "x.123", "ex_ample.com", ""]
)
def test_domain_names_are_validated(bad: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        normalize_domain_name(bad)
    assert raised.value.errors[0].field == "name"


def test_domain_names_are_normalised() -> None:
    assert normalize_domain_name(" Sender.Example. ") == "sender.example"
    assert normalize_domain_name("bücher.example") == "xn--bcher-kva.example"
