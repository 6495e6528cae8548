"""What every resource shares: its client, path building and request construction.

A resource module describes each endpoint once, as a function returning the
:class:`~herald._base_client.RequestOptions` of a call; its blocking and asyncio classes only
hand those to their client's ``request`` (or ``paginate``). Adding a resource is one module
with such functions and two thin classes, plus one property on each client.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, ForwardRef, Required, get_origin
from urllib.parse import quote

import msgspec

from herald._base_client import AsyncAPIClient, CallOptions, RequestOptions, SyncAPIClient

__all__ = ["AsyncResource", "SyncResource", "check_keywords", "make_options", "path", "query"]


class SyncResource:
    """A group of endpoints used through a blocking client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncResource:
    """A group of endpoints used through an asyncio client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


def path(template: str, **ids: str) -> str:
    """``template`` with each ``{name}`` replaced by its id, percent-encoded.

    Raises ``ValueError`` naming the argument when an id is empty or not a string.
    """
    for name, value in ids.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return template.format(**{name: quote(value, safe="") for name, value in ids.items()})


QueryValue = str | int | bool | datetime | Sequence[str] | None


def query(**values: QueryValue) -> dict[str, str | Sequence[str]]:
    """Query parameters without the unset ones; lists repeat, datetimes are ISO 8601."""
    params: dict[str, str | Sequence[str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone (e.g. datetime.now(UTC))")
            params[name] = value.isoformat()
        elif isinstance(value, str | int):
            params[name] = str(value)
        else:
            params[name] = list(value)
    return params


@cache
def _keywords(spec: type) -> tuple[frozenset[str], frozenset[str]]:
    """The required and the accepted keyword names of a TypedDict of call arguments.

    ``Required[...]`` is read from the annotations themselves: with postponed evaluation
    (PEP 563) Python 3.11 keeps them as forward references and leaves such keys out of
    ``__required_keys__``.
    """
    annotations: dict[str, Any] = dict(getattr(spec, "__annotations__", {}))
    required = set(getattr(spec, "__required_keys__", ()))
    for name, hint in annotations.items():
        text = hint.__forward_arg__ if isinstance(hint, ForwardRef) else hint
        if get_origin(hint) is Required or (
            isinstance(text, str) and text.startswith(("Required[", "typing.Required["))
        ):
            required.add(name)
    return frozenset(required), frozenset(annotations)


def check_keywords(spec: type, given: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` naming every keyword argument ``given`` that ``spec`` (a
    TypedDict) does not accept and every required one it lacks, as Python does for an
    ordinary signature; a misspelled name is never silently dropped."""
    required, accepted = _keywords(spec)
    problems = []
    for name in given:
        if name in accepted:
            continue
        problem = f"unexpected keyword argument {name!r}"
        if keyword.iskeyword(name) and f"{name}_" in accepted:
            problem += f" (write {name}_=...: {name!r} is a Python keyword)"
        elif close := difflib.get_close_matches(name, accepted, n=1):
            problem += f" (did you mean {close[0]!r}?)"
        problems.append(problem)
    missing = sorted(required - set(given))
    problems += [f"missing required keyword argument {name!r}" for name in missing]
    if problems:
        raise TypeError(f"{spec.__name__}: {'; '.join(problems)}")


def make_options(
    method: str,
    url_path: str,
    options: CallOptions | Mapping[str, Any],
    *,
    body: msgspec.Struct | None = None,
    params: Mapping[str, str | Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    accepts: type = CallOptions,
) -> RequestOptions:
    """The request of one call: ``options`` carries the caller's per-call overrides, the
    keyword arguments of the call, which must all be names ``accepts`` (a TypedDict) has."""
    check_keywords(accepts, options)
    return RequestOptions(
        method=method,
        path=url_path,
        body=None if body is None else msgspec.json.encode(body),
        params=params or {},
        headers=headers or {},
        max_retries=options.get("max_retries"),
        timeout=options.get("timeout"),
    )
