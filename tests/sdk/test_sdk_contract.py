"""The SDK's models agree with ``openapi/openapi.json``, and the SDK installs on its own."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

import herald
from herald import models
from herald.attachments import AttachmentBody
from herald.resources._batch import _BatchBody
from herald.resources.domains import _TrackingChange, _UpdateBody
from herald.resources.messages import _SendBody

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]

# SDK response model -> the document's schema it reads.
RESPONSE_MODELS: dict[type[msgspec.Struct], str] = {
    models.SendResult: "MessageAccepted",
    models.Message: "MessageOut",
    models.MessageSummary: "MessageSummary",
    models.MessagePage: "MessageList",
    models.RecipientSummary: "RecipientSummary",
    models.Recipient: "RecipientOut",
    models.Attempt: "AttemptOut",
    models.Event: "EventOut",
    models.EventLogEntry: "EventLogItem",
    models.EventPage: "EventList",
    models.Domain: "DomainOut",
    models.DomainList: "DomainList",
    models.DomainTracking: "DomainTracking",
    models.DnsRecord: "DnsRecord",
    models.DkimKey: "DkimKeyOut",
    models.DmarcStage: "DmarcStage",
    models.DomainReputation: "DomainReputation",
    models.ReputationWindow: "ReputationWindow",
    models.ReputationThresholds: "ReputationThresholds",
    models.DomainEvent: "DomainEventOut",
    models.ResumeResult: "ResumeResult",
    models.QueueDestinationList: "QueueDestinationList",
    models.QueueDestination: "QueueDestination",
    models.DestinationRule: "DestinationRule",
    models.DestinationReply: "LastReply",
    models.WebhookEndpoint: "WebhookOut",
    models.WebhookEndpointList: "WebhookList",
    models.WebhookSecret: "SecretOut",
    models.WebhookDelivery: "WebhookDeliveryOut",
    models.WebhookDeliveryPage: "WebhookDeliveryList",
    models.WebhookAttempt: "WebhookAttemptOut",
    models.ApiKey: "ApiKeyCreated",
    models.ApiKeyList: "ApiKeyList",
    models.KeyQuotas: "KeyQuotas",
    models.Suppression: "SuppressionOut",
    models.SuppressionPage: "SuppressionPage",
    models.SmtpSettings: "SmtpSettings",
    models.SmtpLockout: "LockoutOut",
    models.SmtpLockoutList: "LockoutList",
    models.IpPool: "IpPoolOut",
    models.IpPoolList: "IpPoolList",
    models.SendingIp: "SendingIpOut",
    models.Warmup: "WarmupOut",
    models.IpListingList: "IpListingList",
    models.IpListing: "IpListings",
    models.ZoneListing: "ZoneListing",
    models.Template: "TemplateOut",
    models.TemplateSummary: "TemplateSummary",
    models.TemplatePage: "TemplatePage",
    models.TemplateVersion: "TemplateVersionOut",
    models.TemplateVersionList: "TemplateVersionList",
    models.RenderedTemplate: "RenderedTemplate",
    models.MessageCheck: "MessageCheck",
    models.CheckFinding: "CheckFinding",
    models.CheckSummary: "CheckSummary",
    models.StatsReport: "StatsReport",
    models.StatsGroup: "StatsGroup",
    models.StatsCounts: "StatsCounts",
    models.StatsRates: "StatsRates",
    models.StatsLatency: "StatsLatency",
    models.Problem: "Problem",
    models.FieldError: "FieldError",
    models.RetryResult: "RetryDeferredResult",
}
# Models that are dataclasses (a list of results of two kinds, which msgspec cannot describe).
DATACLASS_MODELS: dict[type, str] = {models.BatchResult: "BatchResults"}
# Schemas read through a model of a superset of them (ApiKey also carries ``key``).
COVERED_BY = {"ApiKeyOut": "ApiKeyCreated"}


def _fields(model: type[msgspec.Struct]) -> tuple[msgspec.inspect.Field, ...]:
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


def _json_names(model: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in _fields(model)}


@pytest.mark.parametrize("model", list(RESPONSE_MODELS), ids=lambda m: m.__name__)
def test_response_models_read_every_documented_field(model: type[msgspec.Struct]) -> None:
    schema = SCHEMAS[RESPONSE_MODELS[model]]
    assert _json_names(model) == set(schema["properties"])
    # A field the SDK insists on is one the server always sends.
    required_here = {f.encode_name for f in _fields(model) if f.required}
    assert required_here <= set(schema.get("required", []))


@pytest.mark.parametrize("model", list(DATACLASS_MODELS), ids=lambda m: m.__name__)
def test_dataclass_models_read_every_documented_field(model: type) -> None:
    schema = SCHEMAS[DATACLASS_MODELS[model]]
    names = {f.name for f in dataclasses.fields(model)}
    assert names == set(schema["properties"]) == set(schema["required"])


def test_every_response_schema_of_the_api_has_a_model() -> None:
    read = set(RESPONSE_MODELS.values()) | set(COVERED_BY) | set(DATACLASS_MODELS.values())
    operations = 0
    for path, methods in DOCUMENT["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in methods.items():
            operations += 1
            for status, response in operation["responses"].items():
                for content in response.get("content", {}).values():
                    name = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
                    assert not name or name in read, (method, path, status, name)
    assert operations >= 28


def test_request_bodies_match_the_document() -> None:
    assert _json_names(_SendBody) == set(SCHEMAS["SendMessageRequest"]["properties"])
    assert _json_names(AttachmentBody) == set(SCHEMAS["AttachmentIn"]["properties"])
    assert _json_names(models.Unsubscribe) == set(SCHEMAS["Unsubscribe"]["properties"])
    assert _json_names(_BatchBody) == set(SCHEMAS["SendBatchRequest"]["properties"])
    assert _json_names(models.Tracking) == set(SCHEMAS["TrackingIn"]["properties"])
    assert _json_names(_UpdateBody) == set(SCHEMAS["UpdateDomainRequest"]["properties"])
    assert _json_names(_TrackingChange) == set(SCHEMAS["TrackingChange"]["properties"])


def test_fresh_venv_installs_only_the_sdk_and_its_dependencies(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    quiet = ["--disable-pip-version-check"]
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", *quiet, str(ROOT / "sdk")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=json", *quiet],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    allowed = {
        "herald-sdk", "httpx", "msgspec", "httpcore", "anyio", "idna", "certifi", "h11",
        "sniffio", "typing-extensions", "exceptiongroup", "pip", "setuptools",
    }  # fmt: skip
    assert {"herald-sdk", "httpx", "msgspec"} <= installed
    assert installed <= allowed, installed - allowed
    script = (
        "import herald, herald.webhooks\n"
        "client = herald.Herald(api_key='hk_x')\n"
        "print(herald.__version__, type(client.messages).__name__)\n"
        "import sys; assert 'litestar' not in sys.modules and 'herald_service' not in sys.modules"
    )
    check = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == [herald.__version__, "Messages"]
    assert time.monotonic() - started < 240


def test_a_user_program_type_checks_strictly() -> None:
    example = ROOT / "sdk" / "examples" / "usage.py"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"MYPYPATH": str(ROOT / "sdk" / "src"), "PATH": "/usr/bin:/bin"},
        cwd=ROOT / "sdk",
    )
    assert result.returncode == 0, result.stdout + result.stderr
