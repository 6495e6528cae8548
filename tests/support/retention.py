"""Rows of every kind retention prunes, stored at chosen ages, for the retention tests
and the retention benchmark."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from herald_service.core.ids import new_id
from herald_service.storage.models import (
    CapturedMessage,
    DeliveryAttempt,
    Event,
    Message,
    Recipient,
    StatsCounter,
    Suppression,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

RAW = b"From: app@sender.example\r\nSubject: Hi\r\n\r\n" + b"body " * 200


def endpoint(engine: Engine, account_id: str) -> str:
    """A webhook endpoint of ``account_id``; its id."""
    endpoint_id = new_id("wh")
    with Session(engine) as session, session.begin():
        session.add(
            WebhookEndpoint(
                id=endpoint_id,
                account_id=account_id,
                url="https://hooks.example/",
                secret_encrypted=b"x",
            )
        )
    return endpoint_id


def message(
    engine: Engine,
    account_id: str,
    domain_id: str,
    at: datetime,
    statuses: tuple[str, ...] = ("delivered",),
    *,
    endpoint_id: str | None = None,
    webhook_status: str = "succeeded",
    sandbox: bool = False,
) -> str:
    """A message accepted at ``at`` with one recipient per status, each with an attempt
    and an event at ``at``, and with ``endpoint_id`` a webhook delivery of each event
    (with one attempt); the message's id."""
    message_id = new_id("msg")
    with Session(engine) as session, session.begin():
        session.add(
            Message(
                id=message_id,
                account_id=account_id,
                domain_id=domain_id,
                from_email="app@sender.example",
                subject="Hi",
                message_id_header=f"<{message_id}@sender.example>",
                raw=RAW,
                created_at=at,
                sandbox=sandbox,
            )
        )
        session.flush()
        for number, status in enumerate(statuses):
            recipient = Recipient(
                message_id=message_id,
                email=f"r{number}@receiver.example",
                domain="receiver.example",
                kind="to",
                status=status,
                updated_at=at,
            )
            session.add(recipient)
            session.flush()
            session.add(DeliveryAttempt(recipient_id=recipient.id, at=at, outcome=status))
            event_id = new_id("evt")
            session.add(
                Event(
                    id=event_id,
                    account_id=account_id,
                    message_id=message_id,
                    recipient=recipient.email,
                    type=f"message.{status}",
                    at=at,
                )
            )
            if endpoint_id is not None:
                delivery_id = new_id("whd")
                session.add(
                    WebhookDelivery(
                        id=delivery_id,
                        endpoint_id=endpoint_id,
                        account_id=account_id,
                        event_id=event_id,
                        event_type=f"message.{status}",
                        status=webhook_status,
                        created_at=at,
                        updated_at=at,
                    )
                )
                session.flush()
                session.add(WebhookAttempt(delivery_id=delivery_id, at=at, status_code=200))
    return message_id


def captured(engine: Engine, at: datetime) -> int:
    """A message in the capture inbox received at ``at``; its id."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = CapturedMessage(
            received_at=at, mail_from="b@sender.example", rcpt_tos=["r@receiver.example"], raw=RAW
        )
        session.add(row)
    return row.id


def counters(engine: Engine, account_id: str, granularity: str, bucket: datetime) -> None:
    """A stats counter row of ``account_id`` for ``bucket``."""
    with Session(engine) as session, session.begin():
        session.add(
            StatsCounter(
                account_id=account_id,
                granularity=granularity,
                tag="",
                bucket=bucket,
                domain="sender.example",
                stripe=0,
                delivered=3,
            )
        )


def suppression(engine: Engine, account_id: str, at: datetime) -> None:
    """A suppressed address of ``account_id``, suppressed at ``at``."""
    with Session(engine) as session, session.begin():
        session.add(
            Suppression(
                id=new_id("sup"),
                account_id=account_id,
                email="gone@receiver.example",
                reason="bounce",
                created_at=at,
            )
        )


def count(engine: Engine, model: type, *where: object) -> int:
    """Rows of ``model`` (matching ``where``)."""
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()  # type: ignore[arg-type]


def ago(now: datetime, **delta: float) -> datetime:
    """``now`` minus ``delta`` (``days=100``)."""
    return now - timedelta(**delta)
