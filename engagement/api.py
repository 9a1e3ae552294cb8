"""Each API endpoint declared once: the same stacked declaration validates its input, shapes its answer
and is what the OpenAPI document is built from (``engagement.openapi``), so the two cannot drift.

The shape is flask-smorest's, without the package (the decision and its measurement: docs/architecture.md)::

    @bp.get("/comments")
    @doc("A page of a thread's comments", tags=TAGS, errors=(404,))
    @arguments(ListCommentsQuery, location="query")
    @response(200, CommentPageSchema)
    @alt_response(304)
    def list_comments(args, site): ...

``@arguments`` loads through ``engagement.http`` (the same screening, memo and errors as every request)
and passes what it loaded to the view as a positional argument, outermost declaration first. The view
returns a value (dumped with the schema declared for its status), ``(value, status)``, ``(value, status,
headers)``, or a ready ``Response``, which passes through untouched (304s, cached bytes, SVG, CSV, pages).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from flask import Response, current_app
from marshmallow import Schema

from engagement.http import load_body, load_body_or_form, load_query, shared_schema

F = TypeVar("F", bound=Callable[..., Any])

STAFF_SECURITY = "staffToken"
EDIT_SECURITY = "editToken"

# A response's content: a schema (its JSON body), a media type ("image/svg+xml"), or None (no body).
Content = type[Schema] | Schema | str | None
_LOADERS = {"json": load_body, "json_or_form": load_body_or_form, "query": load_query}
Location = Literal["json", "json_or_form", "query"]


@dataclass(frozen=True)
class Argument:
    schema: type[Schema]
    location: Location
    load: Callable[[type[Schema]], Any]


@dataclass(frozen=True)
class Answer:
    content: Content
    description: str | None
    # The instance a value is dumped with (None unless the content is a schema).
    dumper: Schema | None
    # The view answers the schema's shape already (a presenter built it to the last string): encoded as it
    # is, not dumped again. The schema still declares it; a test holds the two equal.
    presented: bool = False


@dataclass
class Declaration:
    """What a view declares: read by its wrapper on every request and by ``build_spec`` once."""

    summary: str = ""
    tags: list[str] = field(default_factory=list)
    security: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    arguments: list[Argument] = field(default_factory=list)
    responses: dict[int, Answer] = field(default_factory=dict)
    status: int | None = None  # the one ``@response`` declares: what a plain value is answered with

    def answer(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        status, headers = self.status, None
        if isinstance(result, tuple):
            result, status, *rest = result
            headers = rest[0] if rest else None
        declared = self.responses.get(status)  # type: ignore[arg-type]
        if declared is None:
            raise LookupError(f"status {status} is not declared (declared: {sorted(self.responses)})")
        if declared.presented:
            response = current_app.json.response(result)
        elif declared.dumper is not None:
            response = current_app.json.response(declared.dumper.dump(result))
        elif isinstance(declared.content, str):
            response = Response(result, mimetype=declared.content)
        else:
            response = Response()
        response.status_code = status  # type: ignore[assignment]
        if headers:
            response.headers.update(headers)
        return response


def declaration_of(view: Callable[..., Any] | None) -> Declaration | None:
    return getattr(view, "__declaration__", None)


def _declared(view: F, record: Callable[[Declaration], None]) -> F:
    """The view wrapped once, however many declarations stack on it; ``record`` adds one of them."""
    declaration = declaration_of(view)
    if declaration is None:
        declaration = Declaration()
        view = _wrap(view, declaration)
    record(declaration)
    return view


def _wrap(view: F, declaration: Declaration) -> F:
    arguments = declaration.arguments  # the list itself: declarations stacked later land in it

    @functools.wraps(view)
    def endpoint(*args: Any, **kwargs: Any) -> Response:
        loaded = [argument.load(argument.schema) for argument in arguments]
        return declaration.answer(view(*loaded, *args, **kwargs))

    endpoint.__declaration__ = declaration  # type: ignore[attr-defined]
    return endpoint  # type: ignore[return-value]


def doc(
    summary: str,
    *,
    tags: list[str],
    security: str | None = None,
    headers: dict[str, str] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[F], F]:
    """The operation's summary and tags; ``security`` a scheme above; ``headers`` request headers it
    reads (name: description); ``errors`` the error statuses its rules answer (those its arguments and
    security imply, and 429/503, are added)."""

    def record(declaration: Declaration) -> None:
        declaration.summary, declaration.tags, declaration.security = summary, tags, security
        declaration.headers, declaration.errors = headers or {}, errors

    return lambda view: _declared(view, record)


def staff_doc(summary: str, *, tags: list[str], errors: tuple[int, ...] = ()) -> Callable[[F], F]:
    """``doc`` of a staff route: a staff bearer token (401 without one, 403 out of its scope)."""
    return doc(summary, tags=tags, security=STAFF_SECURITY, errors=errors)


def arguments(schema: type[Schema], *, location: Location = "json") -> Callable[[F], F]:
    """Validate the JSON body or the query string with ``schema``; the view gets the loaded value.
    ``json_or_form`` also takes the body as an HTML form's fields (``engagement.http.load_body_or_form``)."""
    argument = Argument(schema=schema, location=location, load=_LOADERS[location])
    # Decorators apply bottom up; the view's positional arguments follow them top down.
    return lambda view: _declared(view, lambda declaration: declaration.arguments.insert(0, argument))


def response(
    status: int, content: Content = None, *, description: str | None = None, presented: bool = False
) -> Callable[[F], F]:
    """The answer to a plain value the view returns: dumped with ``content`` (a schema), as that media
    type's body, or empty (None). ``presented``: the value is the schema's dump already (a big answer whose
    presenter builds every string; dumping it again cost more than reading it), sent as it is."""

    def record(declaration: Declaration) -> None:
        declaration.status = status
        declaration.responses[status] = replace(_answer(content, description), presented=presented)

    return lambda view: _declared(view, record)


def alt_response(status: int, content: Content = None, *, description: str | None = None) -> Callable[[F], F]:
    """Another status the view answers (202 held for moderation, 304, a refused link's page): a view
    picks it by returning ``(value, status)`` or a ready ``Response``."""

    def record(declaration: Declaration) -> None:
        declaration.responses[status] = _answer(content, description)

    return lambda view: _declared(view, record)


def _answer(content: Content, description: str | None) -> Answer:
    if isinstance(content, type):
        dumper: Schema | None = shared_schema(content)
    else:
        dumper = content if isinstance(content, Schema) else None
    return Answer(content=content, description=description, dumper=dumper)
