"""Schemathesis against a live ``herald api``: the server and its published document agree.

Every operation of ``openapi/openapi.json`` gets the schema's examples, the coverage phase
(boundary values, every constraint violated in turn, undeclared methods, missing headers)
and a few fuzzed requests, sent with an admin key so the authenticated paths run for real.
Every check runs on every answer except the stateful ones (they need a workflow of linked
operations). Failures are collected across operations and reported together. Bounded: a
few fuzzed examples per operation, and the run must stay within
``SECONDS_PER_OPERATION`` for each operation of the document.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from herald_service.api.nul_guard import MESSAGE as NUL_MESSAGE
from support.harness import Herald, Tenant
from support.processes import free_port, start, stop, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
EXAMPLES_PER_OPERATION = 6
# A guard against a runaway contract run, not a speed goal (those live in loadtests/): on
# the shared 2-core machines a normal run takes 50-60 s for 33 operations, so the bound
# leaves room for that noise while still catching a run that hangs or explodes.
SECONDS_PER_OPERATION = 3.0

# Stateful checks: a resource is created, then used or deleted, through links between
# operations in a workflow run.
STATEFUL = {"use_after_free", "ensure_resource_availability"}

# Rules no JSON Schema can state, by operation: the fields a schema-valid request may still
# be refused for, with a 4xx naming them. Address syntax (an addr-spec or a name-addr), a
# sending domain verified in this account, a webhook URL resolving to a public address,
# header names Herald writes itself, executable attachment types, cross-field rules (at
# least one recipient and some content; inline parts need html; send_at neither past nor
# too far ahead, nor with sandbox), and opaque cursors.
_ADDRESS = r"(from|to|cc|bcc|reply_to)(\[\d+\])?(\.email|\.name)?"
_SEND = (
    rf"{_ADDRESS}|text|attachments(\[\d+\]\.(filename|content_id))?"
    r"|headers\..+|unsubscribe(\.url|\.mailto)?|send_at"
    r"|subject|html|template_id|template_alias|template_data(\..+)?"
    r"|ip_pool"  # a pool of that name must exist
)
# A template's parts must compile; rendering needs the variables its template uses.
_TEMPLATE_PARTS = r"subject|html|text|alias"
# The sends share one Idempotency-Key example: a key first used on another send (the batch
# claims it even when each of its messages is refused) is refused for a different request.
_KEY_REUSED = r"|Idempotency-Key"
BEYOND_SCHEMA: dict[str, str] = {
    "POST /v1/messages": _SEND + _KEY_REUSED,
    "POST /v1/messages/check": _SEND,
    "POST /v1/messages/batch": rf"messages\[\d+\]\.({_SEND}){_KEY_REUSED}",
    "POST /v3/mail/send": r"Idempotency-Key|from(\.email|\.name)?"
    r"|reply_to(_list)?(\[\d+\])?(\.email|\.name)?"
    r"|content(\[\d+\]\.value)?"
    r"|personalizations(\[\d+\]\.(to|cc|bcc)(\[\d+\])?(\.email|\.name)?)?"
    r"|attachments(\[\d+\]\.(filename|content_id))?|(personalizations\[\d+\]\.)?headers\..+"
    r"|template_id|(personalizations\[\d+\]\.)?(subject|send_at|dynamic_template_data(\..+)?)"
    r"|ip_pool_name",
    "POST /v1/templates": _TEMPLATE_PARTS,
    "PATCH /v1/templates/{template_id}": _TEMPLATE_PARTS,
    "POST /v1/templates/{template_id}/render": r"subject|html|text|template_data(\..+)?",
    "GET /v1/templates": r"cursor",
    "POST /v1/domains": r"name",
    "PATCH /v1/domains/{domain_id}": r"ip_pool",
    "POST /v1/api-keys": r"domains(\[\d+\])?",
    "POST /v1/webhooks": r"url",
    "POST /v1/suppressions": r"email",
    "GET /v1/suppressions/{email}": r"email",
    "DELETE /v1/suppressions/{email}": r"email",
    "GET /v1/events": r"type|cursor",
    "GET /v1/messages": r"cursor",
    "GET /v1/suppressions": r"cursor",
    "GET /v1/webhooks/{webhook_id}/deliveries": r"cursor",
    # A date or an RFC 3339 timestamp, from before to, and at most 366 days (48 hours).
    "GET /v1/stats": r"from|to",
}


# JSON Schema counts 5.0 as an integer; Herald's types are strict JSON types, and an
# integer is written without a fraction (5), as every JSON encoder writes one.
INTEGER_AS_FLOAT = re.compile(r"Expected `int[^`]*`, got `float`")
# JSON Schema has no way to say "a string without NUL"; the API refuses one in any field of
# any operation (api/nul_guard.py), naming the field.
NUL_REFUSED = re.compile(re.escape(NUL_MESSAGE))


def _refused_beyond_schema(case: schemathesis.Case, response: Any) -> bool:
    """True for a 400/422 whose every error is one of the refusals described above."""
    pattern = BEYOND_SCHEMA.get(case.operation.label, "(?!)")
    if response.status_code not in (400, 422):
        return False
    try:
        errors = json.loads(response.content).get("errors") or []
    except ValueError:
        return False
    named = [(str(e.get("field") or ""), str(e.get("message"))) for e in errors]
    return bool(named) and all(
        re.fullmatch(pattern, field)
        or INTEGER_AS_FLOAT.match(message)
        or NUL_REFUSED.match(message)
        for field, message in named
    )


def positive_data_acceptance_within_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except refusals for a rule JSON Schema cannot state."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        if _refused_beyond_schema(case, response):
            return None
        raise Failure(  # with the answer, so a refusal can be told from a defect
            operation=case.operation.label,
            title="Schema-valid request rejected",
            message=f"{response.status_code}: {response.text[:1000]}",
        ) from None


# Operations that refuse a schema-violating item on its own: a 200 whose answer counts a
# refused item is the rejection there (the batch's other messages are still sent).
PER_ITEM = {"POST /v1/messages/batch"}


def _negates_only_what_is_ignored_or_replaced(case: Any) -> bool:
    """Whether every mutation of a negative ``case`` is an extra query parameter (ignored,
    as HTTP APIs commonly do, and as the engine's own check allows when it is the only
    one) or a missing ``Authorization`` header, which :func:`exercise` always sends."""
    mutations = getattr(getattr(case.meta, "phase", None), "data", None)
    mutations = getattr(mutations, "mutations", ())

    def replaced_or_ignored(mutation: Any) -> bool:
        if mutation.parameter_location == ParameterLocation.QUERY:
            return tuple(mutation.keywords) == ("additionalProperties",)
        if mutation.parameter_location == ParameterLocation.HEADER:
            named = (mutation.parameter, mutation.original_value)  # values may be lists
            return tuple(mutation.keywords) == ("required",) and "Authorization" in named
        return False

    return bool(mutations) and all(replaced_or_ignored(m) for m in mutations)


def negative_data_rejection_or_refused_item(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection``, where a refused item of a batch counts as a rejection,
    and a case negated only by what the API ignores or the test replaces is not negative."""
    if _negates_only_what_is_ignored_or_replaced(case):
        return None
    if case.operation.label in PER_ITEM and response.status_code == 200:
        try:
            refused = json.loads(response.content).get("refused", 0)
        except ValueError:
            refused = 0
        if refused:
            return None
    return negative_data_rejection(ctx, response, case)  # type: ignore[no-any-return]


def once_per_operation(check: Any) -> Any:
    """``check`` until it has passed on a 2xx answer of an operation, then no more there.

    ``ignored_auth`` repeats a successful request without and with a wrong key; the
    engine confirms that once per operation, and so does this (a wrong key costs an
    Argon2 verification: a few hundred of them would be most of the run).
    """
    confirmed: set[str] = set()

    def checked(ctx: Any, response: Any, case: Any) -> bool | None:
        if case.operation.label in confirmed:
            return None
        result = check(ctx, response, case)
        if 200 <= response.status_code < 300:
            confirmed.add(case.operation.label)
        return result  # type: ignore[no-any-return]

    checked.__name__ = check.__name__
    return checked


def _checks() -> list[Any]:
    load_all_checks()
    replaced = {
        positive_data_acceptance: positive_data_acceptance_within_schema,
        negative_data_rejection: negative_data_rejection_or_refused_item,
        ignored_auth: once_per_operation(ignored_auth),
    }
    return [
        replaced.get(check, check) for check in CHECKS.get_all() if check.__name__ not in STATEFUL
    ]


@pytest.fixture
def live_api(settings_env: dict[str, str]) -> Iterator[str]:
    """``herald api`` as a child process on a free loopback port; yields its base URL."""
    port = free_port()
    process = start(settings_env, "api", "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stderr = stop(process)
        assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_live_server_conforms_to_its_document(
    herald: Herald, live_api: str, settings_env: dict[str, str]
) -> None:
    tenant: Tenant = await herald.create_tenant("sender.example")
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    checks = _checks()
    names = {c.__name__ for c in checks}
    assert {"not_a_server_error", "unsupported_method"} <= names
    assert "positive_data_acceptance_within_schema" in names
    assert "negative_data_rejection_or_refused_item" in names
    hypothesis_settings = settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    failures: dict[str, str] = {}
    calls = 0
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    def exercise(case: schemathesis.Case) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(
            base_url=live_api, headers=dict(tenant.headers), checks=checks, timeout=10
        )

    for operation in operations:
        test = create_test(
            operation=operation,
            test_func=exercise,
            config=HypothesisTestConfig(
                project=schema.config,
                modes=list(HypothesisTestMode),
                settings=hypothesis_settings,
            ),
        )
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            failures[operation.label] = "".join(traceback.format_exception(exc))[-4000:]
    elapsed = time.monotonic() - started

    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())
    assert calls >= len(operations) * 10
    budget = SECONDS_PER_OPERATION * len(operations)
    assert elapsed < budget, f"schemathesis took {elapsed:.1f}s (budget {budget:.1f}s)"
