"""The staff console under /console: server-rendered pages, outside the API and its OpenAPI document.

Every page but the signed-out ones needs a live session (else: to the sign-in page, then back); every
state-changing request needs the session's CSRF token; permissions are ``engagement.staff.access``'s,
applied to ``auth.current_principal()``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from engagement.console import auth, authors, queue, schemas, service
from engagement.console.blueprint import bp, load_form, page, sign_in_limit, wants_json
from engagement.errors import Unauthorized, ValidationFailed
from engagement.http import conditional

# --- signing in --------------------------------------------------------------------------------------


@bp.get("/sign-in")
def sign_in_page() -> Response:
    after = schemas.safe_next(request.args.get("next"))
    if auth.current_session() is not None:
        return redirect(after, 303)
    return _sign_in_form(after=after)


@bp.post("/sign-in")
@sign_in_limit
def sign_in() -> Response:
    after = schemas.safe_next(request.form.get("next"))
    typed = {name: value for name, value in request.form.items() if value.strip()}
    try:
        form = schemas.SignInForm().load(typed)
    except ValidationError as error:
        return _sign_in_form(after=after, errors=error.messages, status=422)
    if form["token"]:
        try:
            signed_in = service.sign_in_with_token(secret=form["token"].strip(), browser=_browser())
        except Unauthorized as error:
            return _sign_in_form(after=after, errors={"token": [error.message]}, status=401)
        return auth.start_session(redirect(after, 303), signed_in)
    service.request_sign_in_link(email=form["email"])
    return _sign_in_form(after=after, sent=True)


@bp.get("/link/<token>")
def link_page(token: str) -> Response:
    # Shows a button and nothing else: mail scanners fetch links, and must not use them up.
    return page("console/link.html")


@bp.post("/link/<token>")
@sign_in_limit
def follow_link(token: str) -> Response:
    signed_in = service.sign_in_with_link(secret=token, browser=_browser())
    return auth.start_session(redirect(schemas.HOME, 303), signed_in)


# --- signed in ---------------------------------------------------------------------------------------


@bp.get("")
def home() -> Response:
    session = auth.current_session()
    assert session is not None  # require_session_and_csrf
    return page(
        "console/home.html",
        principal=auth.current_principal(),
        session=session,
        sessions=service.sessions_of(session),
    )


@bp.post("/sessions/<int:session_id>/revoke")
def revoke_session(session_id: int) -> Response:
    session = auth.current_session()
    assert session is not None
    service.revoke_session(current=session, session_id=session_id)
    if session_id == session.id:
        return auth.end_session(redirect(url_for("console.sign_in_page"), 303))
    return redirect(url_for("console.home"), 303)


@bp.post("/sign-out")
def sign_out() -> Response:
    session = auth.current_session()
    assert session is not None
    service.sign_out(current=session)
    return auth.end_session(redirect(url_for("console.sign_in_page"), 303))


@bp.get("/queue")
def queue_page() -> Response:
    shown = queue.load_queue(principal=auth.current_principal(), args=request.args.to_dict())
    # The notice is a comment id, never text from the URL: a link cannot put words on a staff page.
    stale = request.args.get("stale", type=int)
    done = request.args.get("done", type=int)
    notice = queue.stale_notice(stale) if stale is not None else None
    if done is not None:
        notice = queue.bulk_notice(done, request.args.get("action"))
    return page(
        "console/queue.html",
        queue=shown,
        notice=notice,
        tabs=queue.TABS,
        labels=queue.TAB_LABELS,
        report_labels=queue.REPORT_LABELS,
        ban_kinds=authors.GUEST_KIND_LABELS,  # a signed-in reader's user id: on the author's ban page
        ban_expiries=authors.EXPIRY_LABELS,
    )


@bp.post("/comments/<int:comment_id>/decision")
def decide(comment_id: int) -> Response | dict[str, Any]:
    form = load_form(queue.DecisionForm())
    decision = queue.decide(principal=auth.current_principal(), comment_id=comment_id, **form)
    if wants_json():
        # queue.js's fetch: a plain dict, which Flask sends as JSON (console routes are not in the
        # OpenAPI document, so there is no @response declaration to dump through).
        return decision.answer()
    back = _back()
    if decision.stale:
        back["stale"] = str(decision.comment_id)
    return redirect(url_for("console.queue_page", **back), 303)


@bp.post("/comments/bulk")
def bulk() -> Response | dict[str, Any]:
    # The ids are the checked cards' boxes (several fields of one name): the form posts them as a list.
    typed = {**request.form.to_dict(), "ids": request.form.getlist("ids")}
    try:
        form = queue.BulkForm().load(typed)
    except ValidationError as error:
        raise ValidationFailed(
            error.messages, "Nothing was changed: " + queue.describe(error.messages)
        ) from None
    answer = queue.bulk_decide(principal=auth.current_principal(), **form)
    if wants_json():
        return answer
    back = {**_back(), "done": str(len(answer["updated"])), "action": form["action"]}
    return redirect(url_for("console.queue_page", **back), 303)


@bp.get("/counts")
def counts() -> Response:
    """The tabs' counts as JSON for queue.js's refresh; 304 while they have not changed."""
    site = request.args.get("site") or None
    body = json.dumps(queue.tab_counts(principal=auth.current_principal(), site=site), sort_keys=True)
    etag = hashlib.sha256(body.encode()).hexdigest()[:24]
    # The blueprint stores nothing (no-store): the script keeps the ETag and sends If-None-Match itself.
    return conditional(etag, body, mimetype="application/json", cache_control="no-store")


@bp.get("/comments/<int:comment_id>/edit")
def edit_page(comment_id: int) -> Response:
    # Without the script, Edit is this page; with it, the card's inline form posts to the same URL.
    comment = queue.comment_to_edit(principal=auth.current_principal(), comment_id=comment_id)
    return page("console/edit.html", comment=comment, typed={"body": comment.body}, errors={})


@bp.post("/comments/<int:comment_id>/edit")
def edit(comment_id: int) -> Response | dict[str, Any]:
    principal = auth.current_principal()
    try:
        form = queue.EditForm().load(request.form.to_dict())
    except ValidationError as error:
        if wants_json():
            raise ValidationFailed(error.messages) from None
        comment = queue.comment_to_edit(principal=principal, comment_id=comment_id)
        typed = {name: request.form.get(name, "") for name in ("body", "reason")}
        return page("console/edit.html", status=422, comment=comment, typed=typed, errors=error.messages)
    return _card_answer(comment_id, queue.edit_body(principal=principal, comment_id=comment_id, **form))


@bp.post("/comments/<int:comment_id>/pin")
def pin(comment_id: int) -> Response | dict[str, Any]:
    answer = queue.pin(
        principal=auth.current_principal(), comment_id=comment_id, **load_form(queue.PinForm())
    )
    return _card_answer(comment_id, answer)


# --- helpers -----------------------------------------------------------------------------------------


def _sign_in_form(
    *, after: str, errors: dict[str, Any] | None = None, sent: bool = False, status: int = 200
) -> Response:
    return page("console/sign_in.html", status=status, after=after, errors=errors or {}, sent=sent)


def _card_answer(comment_id: int, answer: dict[str, Any]) -> Response | dict[str, Any]:
    """queue.js's fetch gets ``answer`` as JSON; a plain form goes back to the card in the same view."""
    if wants_json():
        return answer
    return redirect(url_for("console.queue_page", **_back()) + f"#card-{comment_id}", 303)


def _back() -> dict[str, str]:
    """The queue's tab and filters a card's form carried, to return to the same view."""
    return {name: request.form[name] for name in ("tab", *queue.FILTERS) if request.form.get(name)}


def _browser() -> service.Browser:
    return service.Browser(ip=request.remote_addr, user_agent=request.user_agent.string)
