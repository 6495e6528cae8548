"""Compile and render templates in a Jinja2 sandbox, bounded in output, loops and time.

A template is code written by a caller, so it runs in ``SandboxedEnvironment`` (no
``__class__``, ``__globals__``, ``mro`` and the like) with ``StrictUndefined`` (a
missing variable is an error naming it, not an empty string). The HTML part is
autoescaped; the subject and text parts are not (they are not HTML). Every ``{% for %}``
iterable is wrapped at parse time, so loops count against one budget per render whatever
they iterate over, and the render stops once its time is up.
"""

from __future__ import annotations

import contextvars
import operator
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

import msgspec
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from herald_service.core import template_limits as limits
from herald_service.core.link_tracking import UNSUBSCRIBE_VARIABLE
from herald_service.errors import FieldError, InvalidRequest


class Rendered(msgspec.Struct, frozen=True):
    """A rendered template: the subject and whichever of HTML and text it has."""

    subject: str
    html: str | None
    text: str | None


class LimitExceeded(Exception):
    """A render went over one of its limits (``core/template_limits.py``)."""


class _Budget:
    """What one render has used so far."""

    def __init__(self) -> None:
        self.iterations = 0
        self.output = 0
        self.deadline = time.monotonic() + limits.MAX_RENDER_SECONDS

    def tick(self, count: int = 1) -> None:
        self.iterations += count
        if self.iterations > limits.MAX_LOOP_ITERATIONS:
            raise LimitExceeded(
                f"the template loops more than {limits.MAX_LOOP_ITERATIONS} times in all"
            )
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"the template took longer than {limits.MAX_RENDER_SECONDS} s to render"
            )


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def bounded(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` iterable goes through here (see ``_BoundedEnvironment._parse``)."""
    budget = _BUDGET.get()
    for item in iterable:
        budget.tick()
        yield item


def _range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > limits.MAX_LOOP_ITERATIONS:
        raise LimitExceeded(
            f"range() of {len(rng)} items; at most {limits.MAX_LOOP_ITERATIONS} are allowed"
        )
    return rng


class _Missing(StrictUndefined):
    """``StrictUndefined`` that says which ``template_data`` field was missing."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        owner, name = self._undefined_obj, self._undefined_name
        if self._undefined_exception is SecurityError or name is None:
            super()._fail_with_undefined_error(*args, **kwargs)
        if owner is missing:
            path: tuple[str | int, ...] = ()
        elif isinstance(owner, _Data):
            path = owner._herald_path
        else:
            super()._fail_with_undefined_error(*args, **kwargs)
        raise _MissingVariable(limits.data_field((*path, str(name))))


# jinja2 binds its operators (``__str__``, ``__iter__``, ``__add__``...) to the base
# class's method, so they are bound again here to reach the override.
for _name, _value in {**vars(Undefined), **vars(StrictUndefined)}.items():
    if _value is Undefined._fail_with_undefined_error and _name != "_fail_with_undefined_error":
        setattr(_Missing, _name, _Missing._fail_with_undefined_error)


class _MissingVariable(UndefinedError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is missing")
        self.field = field


class _Data(dict[str, Any]):
    """A ``template_data`` object that knows where it sits, for missing-key errors."""

    _herald_path: tuple[str | int, ...] = ()


def _wrap(value: Any, path: tuple[str | int, ...]) -> Any:
    if isinstance(value, dict):
        data = _Data({k: _wrap(v, (*path, k)) for k, v in value.items()})
        data._herald_path = path
        return data
    if isinstance(value, list):
        return [_wrap(v, (*path, i)) for i, v in enumerate(value)]
    return value


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with loops counted, ``range`` capped and ``*``/``**`` pre-checked."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=_Missing, auto_reload=False)
        self.globals["range"] = _range
        del self.globals["lipsum"]  # output sized by its arguments
        for name in ("center", "indent", "format", "wordwrap", "truncate"):
            self.filters[name] = _checked_filter(self.filters[name], formats=name == "format")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(
                nodes.ImportedName(f"{__name__}.bounded"), [loop.iter], [], None, None
            )
        return tree

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "%":
            if isinstance(left, str) and limits.wide_format(left):
                raise LimitExceeded("a format width in the template is too large")
            _check_arguments((right,) if not isinstance(right, tuple) else right)
            return operator.mod(left, right)
        if operator_ == "**":
            if not limits.power_allowed(left, right):
                raise LimitExceeded("a power (**) in the template is too large to compute")
            return operator.pow(left, right)
        for value, times in ((left, right), (right, left)):
            sized = isinstance(times, int) and hasattr(value, "__len__")
            if sized and not limits.repeat_allowed(len(value), times, _BUDGET.get().output):
                raise LimitExceeded(
                    f"the template's output would exceed {limits.MAX_OUTPUT_CHARS} characters"
                )
        return operator.mul(left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _BUDGET.get().tick(0)  # a deadline check at every call
        _check_arguments((*args, *kwargs.values()))
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and limits.wide_format(owner):
            raise LimitExceeded("a format width in the template is too large")
        return super().call(__context, __obj, *args, **kwargs)


def _check_arguments(values: Iterable[Any]) -> None:
    """Refuse arguments that size an output (``'x'.center(10**9)``, ``'%9999999s'``)
    beyond what a render may produce."""
    for value in values:
        if limits.sizes_output_beyond_cap(value):
            raise LimitExceeded(
                f"the template's output would exceed {limits.MAX_OUTPUT_CHARS} characters"
            )


def _checked_filter(function: Callable[..., Any], *, formats: bool) -> Callable[..., Any]:
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_arguments((*args, *kwargs.values()))
        if formats and isinstance(args[0], str) and limits.wide_format(args[0]):
            raise LimitExceeded("a format width in the template is too large")
        return function(*args, **kwargs)

    for flag in ("jinja_pass_arg",):
        if hasattr(function, flag):
            setattr(checked, flag, getattr(function, flag))
    return checked


_HTML = _BoundedEnvironment(autoescape=True)
_PLAIN = _BoundedEnvironment(autoescape=False)


class Compiled(msgspec.Struct, frozen=True):
    """A template version's parts, compiled (``None``: the version has no such part)."""

    subject: Template
    html: Template | None
    text: Template | None


def compile_parts(subject: str, html: str | None, text: str | None) -> Compiled:
    """Each part compiled, or one 422 naming every part with a syntax error, its line
    and the reason."""
    problems: list[FieldError] = []

    def build(part: str, source: str | None, environment: SandboxedEnvironment) -> Any:
        if source is None:
            return None
        try:
            return environment.from_string(source)
        except TemplateSyntaxError as exc:
            problems.append(FieldError(part, f"line {exc.lineno}: {exc.message}"))
        return None

    compiled = (
        build("subject", subject, _PLAIN),
        build("html", html, _HTML),
        build("text", text, _PLAIN),
    )
    if problems:
        parts = ", ".join(p.field for p in problems)
        raise InvalidRequest(f"the template does not compile: {parts}", problems)
    return Compiled(*compiled)


def render(compiled: Compiled, data: Mapping[str, Any]) -> Rendered:
    """The parts rendered with ``data``, or a 422: a missing variable names its
    ``template_data`` field; a sandbox violation or a limit names the part."""
    # ``unsubscribe_url`` renders as the placeholder the send fills in (tracking/service.py).
    context = _wrap({"unsubscribe_url": UNSUBSCRIBE_VARIABLE, **data}, ())
    token = _BUDGET.set(_Budget())
    try:
        subject = _render_part("subject", compiled.subject, context)
        html = _render_part("html", compiled.html, context)
        text = _render_part("text", compiled.text, context)
    finally:
        _BUDGET.reset(token)
    problem = limits.subject_problem(subject or "")
    if problem is not None:
        raise InvalidRequest(problem, [FieldError("subject", problem)])
    return Rendered(subject or "", html, text)


def _render_part(part: str, template: Template | None, context: dict[str, Any]) -> str | None:
    if template is None:
        return None
    budget = _BUDGET.get()
    chunks: list[str] = []
    try:
        for chunk in template.generate(context):
            budget.output += len(chunk)
            if budget.output > limits.MAX_OUTPUT_CHARS:
                raise LimitExceeded(
                    f"the template's output exceeds {limits.MAX_OUTPUT_CHARS} characters"
                )
            chunks.append(chunk)
    except _MissingVariable as exc:
        raise InvalidRequest(
            f"the template needs {exc.field}", [FieldError(exc.field, "missing")]
        ) from None
    except SecurityError as exc:
        message = f"refused by the template sandbox: {exc}"
        raise InvalidRequest(message, [FieldError(part, message)]) from None
    except LimitExceeded as exc:
        raise InvalidRequest(str(exc), [FieldError(part, str(exc))]) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        message = f"the template failed to render: {exc}"
        raise InvalidRequest(message, [FieldError(part, message)]) from None
    return "".join(chunks)
