"""A small OpenID provider for tests, served by a real WSGI server on a free loopback port.

It serves discovery, JWKS, authorize, token and userinfo the way a provider does: codes are
single use and bound to the client, the redirect URI and the PKCE challenge (checked with
Authlib's server-side S256 function); ID tokens are RS256-signed with joserfc. There is no
login page: ``authorize`` signs in ``provider.user`` at once, as an already signed-in
browser would see it.

``provider.tamper`` makes the next ID tokens wrong in one way (wrong audience, expired,
``alg: none``, HS256 signed with the public key, another nonce), so the relying party's
checks can be tested against a real exchange; ``rotate()`` signs with a new key from then
on, published in the JWKS beside the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "taskdesk-test"
CLIENT_SECRET = "client-secret-" + "c" * 30


@dataclass
class Person:
    sub: str
    preferred_username: str
    name: str
    email: str
    email_verified: bool = True
    locale: str = "en"
    groups: list[str] = field(default_factory=list)

    def claims(self) -> dict[str, Any]:
        return {"sub": self.sub, "preferred_username": self.preferred_username,
                "name": self.name, "email": self.email, "email_verified": self.email_verified,
                "locale": self.locale, "groups": list(self.groups)}


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    person: Person


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    def __init__(self) -> None:
        self.issuer = ""
        self.keys: list[RSAKey] = [RSAKey.generate_key(2048, parameters={"kid": "key-1"})]
        self.user = Person("sub-ada", "ada", "Ada Lovelace", "ada@example.com")
        #: None, or one of "audience", "expired", "none", "hs256", "nonce".
        self.tamper: str | None = None
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, Person] = {}
        self.token_requests = 0
        self.lock = threading.Lock()

    # -- control -----------------------------------------------------------------------
    def rotate(self) -> None:
        self.keys.append(RSAKey.generate_key(2048, parameters={"kid": f"key-{len(self.keys) + 1}"}))

    def reset(self) -> None:
        self.tamper = None
        self.user = Person("sub-ada", "ada", "Ada Lovelace", "ada@example.com")

    # -- WSGI ----------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
        }
        handler = routes.get(path)
        if handler is None:
            return self._json(start_response, {"error": "not_found"}, "404 Not Found")
        return handler(environ, start_response)

    def _json(self, start_response: Any, body: Any, status: str = "200 OK",
              headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data))), *(headers or [])])
        return [data]

    def discovery(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return self._json(start_response, {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        })

    def jwks(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return self._json(start_response, KeySet(list(self.keys)).as_dict(private=False))

    def authorize(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if (query.get("client_id") != CLIENT_ID or query.get("response_type") != "code"
                or query.get("code_challenge_method") != "S256"
                or not query.get("code_challenge") or "openid" not in query.get("scope", "")):
            return self._json(start_response, {"error": "invalid_request"}, "400 Bad Request")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.grants[code] = _Grant(CLIENT_ID, query["redirect_uri"], query["code_challenge"],
                                       query.get("nonce", ""), self.user)
        location = query["redirect_uri"] + "?" + urlencode(
            {"code": code, "state": query.get("state", "")})
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]

    def token(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.token_requests += 1
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        auth = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if not hmac.compare_digest(auth, expected):
            return self._json(start_response, {"error": "invalid_client"}, "401 Unauthorized")
        with self.lock:
            grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        if (grant is None or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant.redirect_uri
                or create_s256_code_challenge(form.get("code_verifier", "")) != grant.challenge):
            return self._json(start_response, {"error": "invalid_grant"}, "400 Bad Request")
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access] = grant.person
        return self._json(start_response, {
            "access_token": access, "token_type": "Bearer", "expires_in": 300,
            "id_token": self.id_token(grant),
        }, headers=[("Cache-Control", "no-store")])

    def id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": grant.person.sub, "aud": grant.client_id,
            "iat": now, "exp": now + 300, "nonce": grant.nonce, **grant.person.claims(),
        }
        key = self.keys[-1]
        header = {"alg": "RS256", "kid": key.kid}
        if self.tamper == "audience":
            claims["aud"] = "another-client"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.tamper == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.tamper == "none":
            return (_b64(json.dumps({"alg": "none", "kid": key.kid}).encode()) + "."
                    + _b64(json.dumps(claims).encode()) + ".")
        elif self.tamper == "hs256":
            signing_input = (_b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode()) + "."
                             + _b64(json.dumps(claims).encode()))
            public = key.as_pem(private=False)
            signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
            return signing_input + "." + _b64(signature)
        return jwt.encode(header, claims, key)

    def userinfo(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        person = self.tokens.get(value) if scheme == "Bearer" else None
        if person is None:
            return self._json(start_response, {"error": "invalid_token"}, "401 Unauthorized")
        return self._json(start_response, person.claims())


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per connection: a browser's idle pre-opened connection must not hold up
    the next request."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def openid_provider() -> Iterator[Provider]:
    """The provider on 127.0.0.1 (a free port) in a thread, stopped afterwards."""
    provider = Provider()
    server: WSGIServer = make_server("127.0.0.1", 0, provider, server_class=_ThreadingServer,
                                     handler_class=_QuietHandler)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def follow_to_callback(location: str) -> str:
    """Ask the provider's authorize URL (as the browser's redirect would) and return the
    path and query of the callback it sends the browser back to."""
    import requests

    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"
