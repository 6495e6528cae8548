"""``openapi/openapi.json`` is the API's published contract: current, valid OpenAPI 3.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from herald_service.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "openapi" / "openapi.json"
REGENERATE = "run `.venv/bin/herald openapi > openapi/openapi.json` and commit the result"


@pytest.fixture(scope="module")
def generated() -> str:
    """The document as `herald openapi` prints it now, generated in this process."""
    result = CliRunner().invoke(main, ["openapi"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The committed document."""
    loaded: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return loaded


def test_committed_document_matches_the_app(generated: str) -> None:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing: {REGENERATE}"
    committed = COMMITTED.read_text(encoding="utf-8")
    if committed != generated:
        old, new = json.loads(committed), json.loads(generated)
        changed = sorted(
            path
            for path in set(old.get("paths", {})) | set(new.get("paths", {}))
            if old.get("paths", {}).get(path) != new.get("paths", {}).get(path)
        )
        pytest.fail(
            f"openapi/openapi.json is out of date with the app (paths differing: {changed}); "
            + REGENERATE,
            pytrace=False,
        )


def test_generation_is_deterministic(generated: str) -> None:
    again = CliRunner().invoke(main, ["openapi"], catch_exceptions=False).output
    assert again == generated
    assert generated.endswith("}\n")
    assert json.dumps(json.loads(generated), indent=2, sort_keys=True) + "\n" == generated


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        pytest.fail(f"openapi/openapi.json is not valid OpenAPI 3.1: {exc}", pytrace=False)


def test_errors_are_documented_as_problem_details(document: dict[str, Any]) -> None:
    send = document["paths"]["/v1/messages"]["post"]
    assert set(send["responses"]) >= {"202", "400", "401", "422"}
    for status, response in send["responses"].items():
        if status.startswith(("4", "5")):
            assert list(response["content"]) == ["application/problem+json"], status
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, status
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_api_key_auth_is_documented(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    for path in ("/v1/messages", "/v1/messages/{message_id}"):
        for method, operation in document["paths"][path].items():
            assert operation.get("security") == [{"bearer": []}], (method, path)
