"""The job contract between the API and the workers: a job enqueued by name always finds
a function that takes what it carries, so a rename cannot orphan jobs waiting in Redis."""

from __future__ import annotations

import importlib
import inspect
import typing

import pytest

from herald_service.core.jobs import (
    DELIVER_MESSAGE,
    DELIVER_MESSAGES,
    JOBS,
    SEND_WEBHOOK,
    JobContract,
    job_message_ids,
)


@pytest.mark.parametrize(
    ("job", "name"),
    [
        (DELIVER_MESSAGES, "herald_queue.jobs.deliver_messages"),
        (DELIVER_MESSAGE, "herald_queue.jobs.deliver_message"),
        (SEND_WEBHOOK, "herald_queue.jobs.send_webhook"),
    ],
)
def test_job_names_stay_those_of_jobs_already_queued(job: JobContract, name: str) -> None:
    assert job.name == name


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_every_job_resolves_to_a_function_with_its_parameters(job: JobContract) -> None:
    module_name, _, attribute = job.name.rpartition(".")
    assert module_name == "herald_queue.jobs"
    function = getattr(importlib.import_module(module_name), attribute)
    assert callable(function)
    hints = typing.get_type_hints(function)
    parameters = inspect.signature(function).parameters.values()
    assert [(p.name, hints[p.name]) for p in parameters] == list(job.parameters)
    assert all(p.default is inspect.Parameter.empty for p in parameters)


def test_every_job_function_is_named_in_the_contract() -> None:
    module = importlib.import_module("herald_queue.jobs")
    defined = {
        f"{module.__name__}.{name}"
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    }
    assert defined == {job.name for job in JOBS}


@pytest.mark.parametrize(
    ("func_name", "args", "expected"),
    [
        (DELIVER_MESSAGES.name, (["a", "b"],), ["a", "b"]),
        (DELIVER_MESSAGES.name, ([],), []),
        (DELIVER_MESSAGE.name, ("a",), ["a"]),
        (DELIVER_MESSAGES.name, (), []),
        (DELIVER_MESSAGE.name, (), []),
        (SEND_WEBHOOK.name, ("delivery", "token"), []),
        ("somewhere.else", (["a"],), []),
    ],
)
def test_delivery_jobs_give_their_message_ids(
    func_name: str, args: tuple[object, ...], expected: list[str]
) -> None:
    assert job_message_ids(func_name, args) == expected
