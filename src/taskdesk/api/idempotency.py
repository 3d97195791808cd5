"""Safe retries: the ``Idempotency-Key`` header on the API's creating requests.

``api_view`` wraps every POST view that answers 201 with :func:`idempotent`, so each create
(tasks, comments, projects, tokens, and any added later) honours the header without code of
its own. A client sends a key of its choosing (a UUID) and sends the same key again when it
retries. Within ``taskdesk.api.idempotency_window``, from the same credential (the same API
token, or the same signed-in session):

* the first request runs; a retry gets its answer again (status, body, ``Location``,
  ``ETag``), with ``Idempotent-Replayed: true``, and nothing is created twice;
* a retry while the first is still running answers 409 ``idempotency_key_in_use``;
* the key reused for another request (method, path or body) answers 422
  ``idempotency_key_reused``; a malformed key answers 400 ``invalid_idempotency_key``.

Only successful answers are kept: a request that failed leaves no trace, and its retry runs.
An answer marked ``Cache-Control: no-store`` (a new token's secret) is kept sealed, with a key
derived from the session secret and the client's key, neither of which is in the database.
The storage rules are :mod:`taskdesk.domain.idempotency`.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.errors import ApiError
from taskdesk.api.rendering import View
from taskdesk.domain import idempotency
from taskdesk.messages import _
from taskdesk.security.policy import Identity, signed_in
from taskdesk.security.secrets import seal, unseal
from taskdesk.settings import settings_of

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
#: The first answer's headers a replay repeats (the others are the server's, set anew).
KEPT_HEADERS = ("Content-Type", "Location", "ETag", "Cache-Control", "Last-Modified")


def credential(identity: Identity) -> str:
    """The credential a key belongs to: the API token, or the signed-in session."""
    if identity.token_id is not None:
        return f"user:{identity.user_id}:token:{identity.token_id}"
    return f"user:{identity.user_id}:session:{identity.session_id}"


def _sealing_key(request: Request, hashed: str, key: str) -> bytes:
    secret = settings_of(request.registry).session_secret.encode()
    return hmac.digest(secret, f"idempotency\n{hashed}\n{key}".encode(), "sha256")


def _answer(request: Request, response: Response, hashed: str, key: str) -> idempotency.Answer:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    body = response.body
    # The raw header: reading webob's cache_control object would rewrite it.
    secret = "no-store" in headers.get("Cache-Control", "").lower()
    if secret:
        body = seal(_sealing_key(request, hashed, key), body)
    return idempotency.Answer(response.status_int, headers, body, secret)


def _replay(request: Request, answer: idempotency.Answer, hashed: str, key: str) -> Response:
    body: bytes | None = answer.body
    if answer.sealed:
        body = unseal(_sealing_key(request, hashed, key), answer.body)
        if body is None:
            raise ApiError(409, "idempotency_key_unreadable", _(
                "The first answer to this Idempotency-Key can no longer be read (the server's "
                "secret changed); check whether it was created, then use a new key."))
    response = Response(body=body, status=answer.status)
    response.headers.update(answer.headers)
    response.headers[REPLAYED] = "true"
    return response


def _key(request: Request) -> str | None:
    key: str | None = request.headers.get(HEADER)
    if key is not None and not idempotency.valid_key(key):
        raise ApiError(
            400, "invalid_idempotency_key",
            _("Invalid Idempotency-Key header."),
            {HEADER: _("1 to ${n} printable ASCII characters, e.g. a UUID.",
                       mapping={"n": idempotency.MAX_KEY_LENGTH})},
        )
    return key


def _body(request: Request) -> Iterator[bytes]:
    """The request body in pieces, read from its seekable copy (WebOb spools a large one to
    a temporary file) and rewound for the view, so an upload never sits in memory whole."""
    stream = request.body_file_seekable
    while piece := stream.read(64 * 1024):
        yield piece
    stream.seek(0)


def idempotent(view: View) -> View:
    """``view`` (a rendered API view creating something), honouring ``Idempotency-Key``."""

    @functools.wraps(view)
    def run(context: Any, request: Request) -> Any:
        key = _key(request)
        if key is None:
            return view(context, request)
        hashed = idempotency.key_hash(credential(signed_in(request)), key)
        window = timedelta(seconds=settings_of(request.registry).api_idempotency_window)
        outcome = idempotency.claim(
            request.dbsession, hashed,
            idempotency.fingerprint(request.method, request.path_qs, _body(request)), window)
        if isinstance(outcome, idempotency.Answer):
            return _replay(request, outcome, hashed, key)
        if outcome is idempotency.Refusal.IN_PROGRESS:
            raise ApiError(409, "idempotency_key_in_use", _(
                "A request with this Idempotency-Key is still in progress; retry it shortly."),
                headers={"Retry-After": "1"})
        if outcome is idempotency.Refusal.DIFFERENT_REQUEST:
            raise ApiError(422, "idempotency_key_reused", _(
                "This Idempotency-Key was used for a different request (method, path or "
                "body); use a new key for a new request."), {HEADER: _("Already used.")})
        response: Response = view(context, request)
        if 200 <= response.status_int < 300:
            idempotency.finish(request.dbsession, outcome,
                               _answer(request, response, hashed, key))
        else:
            idempotency.release(request.dbsession, outcome)
        return response

    return run
