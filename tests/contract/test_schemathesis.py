"""Schemathesis against a live ``herald api``: no 5xx, no answer outside the published document.

Every operation of ``openapi/openapi.json`` gets a few generated requests (valid and invalid
ones) sent with an admin key, so the authenticated paths run for real; every built-in
response check runs on every answer. Failures are collected across operations and reported
together. Bounded in time: a handful of examples per operation.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS, load_all_checks

from support.harness import Herald, Tenant
from support.processes import free_port, start, stop, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
EXAMPLES_PER_OPERATION = 8
TIME_BUDGET = 90.0

# Stateful checks (resource created, then used) need links between operations and a
# workflow run; everything that judges one response against the document runs here.
# ``positive_data_acceptance`` expects every schema-valid body to succeed, but some rules
# are not JSON Schema's to state (the sender's domain must be verified in this account, a
# webhook URL must resolve to a public address): those answer a documented 422.
NOT_APPLICABLE = {"use_after_free", "ensure_resource_availability", "positive_data_acceptance"}


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


def _checks() -> list[Any]:
    load_all_checks()
    return [check for check in CHECKS.get_all() if check.__name__ not in NOT_APPLICABLE]


async def test_live_server_conforms_to_its_document(
    herald: Herald, live_api: str, settings_env: dict[str, str]
) -> None:
    tenant: Tenant = await herald.create_tenant("sender.example")
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    checks = _checks()
    assert {c.__name__ for c in checks} >= {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    }
    failures: dict[str, str] = {}
    calls = 0
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                base_url=live_api, headers=dict(tenant.headers), checks=checks, timeout=10
            )

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            failures[operation.label] = "".join(traceback.format_exception(exc))[-4000:]
    elapsed = time.monotonic() - started

    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())
    assert calls >= len(operations) * 3
    assert elapsed < TIME_BUDGET, f"schemathesis took {elapsed:.1f}s"
