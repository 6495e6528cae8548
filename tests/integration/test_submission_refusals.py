"""What SMTP submission refuses, and with which reply: never an open relay, never a
message from a domain the key may not use, never a header smuggled in."""

from __future__ import annotations

import smtplib
import time
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from support.harness import Herald
from support.submission import RunningSubmission, running_submission

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RAW = b"From: app@sender.example\r\nTo: alice@receiver.example\r\nSubject: hi\r\n\r\nhello\r\n"


def _mail(smtp: RunningSubmission, key: str, raw: bytes = RAW) -> tuple[int, bytes]:
    client = smtp.starttls(key)
    try:
        client.mail("app@sender.example")
        client.rcpt("alice@receiver.example")
        return client.data(raw)
    finally:
        client.close()


async def test_auth_before_starttls_and_mail_without_auth_are_refused(
    herald: Herald, tmp_path: Path
) -> None:
    tenant = await herald.create_tenant("sender.example")
    with running_submission(herald, tmp_path) as smtp:
        plain = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        plain.ehlo("client.example")
        assert "auth" not in plain.esmtp_features, "AUTH is not offered before TLS"
        assert "starttls" in plain.esmtp_features
        code, _ = plain.docmd("AUTH", "PLAIN " + _plain(tenant.api_key))
        assert code == 538
        code, reply = plain.mail("app@sender.example")
        assert (code, reply[:5]) == (530, b"5.7.0")
        plain.close()

        secure = smtp.starttls()
        assert "auth" in secure.esmtp_features
        code, reply = secure.mail("app@sender.example")
        assert (code, reply[:5]) == (530, b"5.7.0")
        code, _ = secure.rcpt("alice@receiver.example")
        assert code == 530
        secure.close()


def _plain(key: str) -> str:
    import base64

    return base64.b64encode(b"\0apikey\0" + key.encode()).decode()


async def test_wrong_revoked_and_send_less_keys_get_535(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    reader = await api.post(
        "/v1/api-keys", headers=tenant.headers, json={"name": "reader", "scopes": ["read"]}
    )
    revoked = await api.post(
        "/v1/api-keys", headers=tenant.headers, json={"name": "old", "scopes": ["send"]}
    )
    assert reader.status_code == revoked.status_code == 201, reader.text
    gone = await api.delete(f"/v1/api-keys/{revoked.json()['id']}", headers=tenant.headers)
    assert gone.status_code == 204
    with running_submission(herald, tmp_path) as smtp:
        for key, needle in [
            ("hk_live_not_a_key", b"invalid"),
            (revoked.json()["key"], b"invalid"),
            (reader.json()["key"], b"'send' scope"),
        ]:
            client = smtp.starttls()
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login("apikey", key)
            assert refused.value.smtp_code == 535
            assert needle in refused.value.smtp_error
            client.close()
        assert _mail(smtp, tenant.api_key)[0] == 250, "the account's own key still works"


async def test_from_on_a_domain_the_key_may_not_use_is_refused(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    await herald.create_tenant("other.example")  # another account's verified domain
    restricted = await api.post(
        "/v1/api-keys",
        headers=tenant.headers,
        json={"name": "r", "scopes": ["send"], "domains": ["sender.example"]},
    )
    assert restricted.status_code == 201, restricted.text
    foreign = RAW.replace(b"From: app@sender.example", b"From: ceo@other.example")
    no_from = RAW.replace(b"From: app@sender.example\r\n", b"")
    two_from = b"From: a@sender.example\r\n" + RAW
    with running_submission(herald, tmp_path) as smtp:
        code, reply = _mail(smtp, tenant.api_key, foreign)
        assert (code, reply[:5]) == (553, b"5.7.1"), reply
        code, reply = _mail(smtp, restricted.json()["key"], foreign)
        assert (code, reply[:5]) == (553, b"5.7.1"), reply
        assert _mail(smtp, tenant.api_key, no_from)[0] == 550
        assert _mail(smtp, tenant.api_key, two_from)[0] == 550
    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    assert listed["data"] == [], "nothing refused was stored"


async def test_oversize_messages_and_header_injection_are_refused(
    herald: Herald,
    api: AsyncTestClient,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    tenant = await herald.create_tenant("sender.example")
    injected = [
        RAW.replace(b"Subject: hi\r\n", b"Subject: hi\rBcc: victim@example.com\r\n"),
        RAW.replace(b"Subject: hi\r\n", b"Subject: hi\r\nnot a header line\r\n"),
        RAW.replace(b"Subject: hi\r\n", b"Subject: hi\x00\r\n"),
        RAW.replace(b"Subject: hi\r\n", b"Subject: hi\r\nSubject: two\r\n"),
    ]
    with running_submission(herald, tmp_path, submission_max_message_bytes=2000) as smtp:
        client = smtp.starttls(tenant.api_key)
        assert client.esmtp_features["size"] == "2000"
        client.close()
        big = RAW + b"x" * 70 + b"\r\n"
        code, reply = _mail(smtp, tenant.api_key, big * 40)
        assert code == 552, reply
        for raw in injected:
            code, reply = _mail(smtp, tenant.api_key, raw)
            assert (code, reply[:5]) == (550, b"5.6.0"), (raw, reply)
    listed = (await api.get("/v1/messages", headers=tenant.headers)).json()
    assert listed["data"] == []


async def test_recipients_are_checked_one_by_one(herald: Herald, tmp_path: Path) -> None:
    tenant = await herald.create_tenant("sender.example")
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.starttls(tenant.api_key)
        client.mail("app@sender.example")
        assert client.rcpt("not-an-address")[0] == 553
        code, reply = client.rcpt("someone@example.invalid")
        assert (code, reply[:5]) == (550, b"5.1.2")
        assert client.rcpt("alice@receiver.example")[0] == 250
        assert client.data(RAW)[0] == 250
        client.close()


async def test_repeated_failures_lock_the_address_out_until_it_expires(
    herald: Herald, tmp_path: Path
) -> None:
    tenant = await herald.create_tenant("sender.example")
    changes = {
        "submission_lockout_failures": 3,
        "submission_lockout_window": 60.0,
        "submission_lockout_duration": 1.5,
    }
    with running_submission(herald, tmp_path, **changes) as smtp:
        for _ in range(3):  # one AUTH each (smtplib's login() would try two mechanisms)
            client = smtp.starttls()
            assert client.docmd("AUTH", "PLAIN " + _plain("hk_live_guess"))[0] == 535
            client.close()
        client = smtp.starttls()
        code, reply = client.docmd("AUTH", "PLAIN " + _plain(tenant.api_key))
        assert (code, reply[:5]) == (421, b"4.7.0"), "even the right key: locked out"
        client.close()
        locked = smtp.call(smtp.lockout.locked())
        assert [entry.address for entry in locked] == ["127.0.0.1"]
        time.sleep(1.6)
        assert smtp.call(smtp.lockout.locked()) == []
        assert _mail(smtp, tenant.api_key)[0] == 250, "the lock expired"


async def test_a_paused_domain_is_refused_over_smtp_with_the_reason(
    herald: Herald, tmp_path: Path
) -> None:
    from support.paused import pause_domain

    tenant = await herald.create_tenant("sender.example")
    await pause_domain(herald.settings.database_url, tenant.account_id, tenant.domain_id)
    with running_submission(herald, tmp_path) as smtp:
        client = smtp.starttls(tenant.api_key)
        try:
            code, reply = client.mail("app@sender.example")
            if code == 250:
                client.rcpt("alice@receiver.example")
                code, reply = client.data(RAW)
        finally:
            client.close()
    assert code == 553, reply
    assert reply.startswith(b"5.7.1")
    assert b"sender.example is paused" in reply and b"bounce rate" in reply
