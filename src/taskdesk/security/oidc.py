"""OpenID Connect sign-in (authorization code flow with PKCE), with Authlib as the client.

* Discovery: the provider's document is read from ``<issuer>/.well-known/openid-configuration``
  and kept for an hour; its ``issuer`` must be the configured one.
* A sign-in under way is an :class:`OidcSignIn` row (nonce, PKCE verifier, target) found by
  the hash of its ``state``; the browser's signed session holds the state itself, so a
  callback from another browser (login CSRF) or a second use of the same callback (replay)
  finds nothing.
* The ID token is checked here, not trusted from the token endpoint: signature by a key of
  the provider's JWKS (kept, and fetched again when a token names an unknown ``kid``, at
  most every :data:`JWKS_MIN_REFRESH` seconds), an asymmetric algorithm only (``none`` and
  HS* with the public key as secret are refused), issuer, audience, expiry and nonce.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete
from sqlalchemy.orm import Session

from taskdesk.domain.directory import DirectoryProfile
from taskdesk.models import OidcSignIn
from taskdesk.models.meta import utcnow
from taskdesk.settings import TaskdeskSettings

#: Signature algorithms an ID token may use: public-key ones only.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "ES512", "EdDSA")
#: How long a started sign-in may take before its callback is refused.
SIGN_IN_TIMEOUT = timedelta(minutes=10)
#: Seconds the discovery document is kept.
DISCOVERY_TTL = 3600
#: Fewest seconds between two fetches of the JWKS (an unknown ``kid`` cannot make every
#: request fetch it again).
JWKS_MIN_REFRESH = 10
#: Seconds after a failed discovery before the provider is asked again (a provider that is
#: down does not make every sign-in page wait for the timeout).
DISCOVERY_RETRY = 30
#: Seconds of clock difference with the provider accepted on ``exp``, ``iat`` and ``nbf``.
LEEWAY = 60


class OidcError(Exception):
    """The provider could not be asked, or its answer failed a check; the message is for
    the log, not for people."""


@dataclass(frozen=True)
class Started:
    url: str
    state: str


@dataclass(frozen=True)
class Pending:
    nonce: str
    code_verifier: str
    target: str


class _Cache:
    """Discovery documents and key sets by URL: plain values, shared by threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.documents: dict[str, tuple[float, dict[str, Any]]] = {}
        self.keys: dict[str, tuple[float, KeySet]] = {}
        self.failed: dict[str, float] = {}


_cache = _Cache()


def _get_json(url: str, timeout: int) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False,
                                headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise OidcError(f"GET {url}: {error}") from error
    if not isinstance(document, dict):
        raise OidcError(f"GET {url}: not a JSON object")
    return document


def discovery(settings: TaskdeskSettings) -> dict[str, Any]:
    """The provider's metadata (cached for :data:`DISCOVERY_TTL` seconds)."""
    issuer = settings.oidc_issuer
    with _cache.lock:
        cached = _cache.documents.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    if time.monotonic() - _cache.failed.get(issuer, -DISCOVERY_RETRY) < DISCOVERY_RETRY:
        raise OidcError("discovery failed moments ago")
    try:
        document = _get_json(f"{issuer}/.well-known/openid-configuration",
                             settings.oidc_timeout)
        if document.get("issuer") != issuer:
            raise OidcError(f"the discovery document names issuer {document.get('issuer')!r}")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise OidcError(f"the discovery document has no {key}")
    except OidcError:
        with _cache.lock:
            _cache.failed[issuer] = time.monotonic()
        raise
    with _cache.lock:
        _cache.documents[issuer] = (time.monotonic(), document)
        _cache.failed.pop(issuer, None)
    return document


def form_origins(settings: TaskdeskSettings) -> tuple[str, ...]:
    """Where the "Sign in with ..." form leads: the issuer's origin and the authorization
    endpoint's (from discovery; just the issuer's while the provider cannot be asked)."""
    urls = [settings.oidc_issuer]
    with contextlib.suppress(OidcError):
        urls.append(discovery(settings)["authorization_endpoint"])
    origins = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _key_set(settings: TaskdeskSettings, uri: str, *, refresh: bool) -> KeySet:
    with _cache.lock:
        cached = _cache.keys.get(uri)
    if cached is not None and (not refresh or time.monotonic() - cached[0] < JWKS_MIN_REFRESH):
        return cached[1]
    try:
        keys = KeySet.import_key_set(_get_json(uri, settings.oidc_timeout))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as error:
        raise OidcError(f"the provider's keys cannot be read: {error}") from error
    with _cache.lock:
        _cache.keys[uri] = (time.monotonic(), keys)
    return keys


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def start(dbsession: Session, settings: TaskdeskSettings, redirect_uri: str,
          target: str) -> Started:
    """Begin a sign-in: remember its nonce and verifier, and return where to send the
    browser and the state its session must keep. Sign-ins older than
    :data:`SIGN_IN_TIMEOUT` are deleted on the way."""
    metadata = discovery(settings)
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    dbsession.execute(delete(OidcSignIn).where(OidcSignIn.created_at < utcnow()
                                               - SIGN_IN_TIMEOUT))
    dbsession.add(OidcSignIn(state_hash=_digest(state), nonce=nonce, code_verifier=verifier,
                             target=target[:2000]))
    client = OAuth2Session(settings.oidc_client_id, scope=" ".join(settings.oidc_scopes),
                           redirect_uri=redirect_uri, code_challenge_method="S256")
    url, _state = client.create_authorization_url(
        metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier)
    return Started(url, state)


def claim(dbsession: Session, state: str, expected: str | None) -> Pending | None:
    """The sign-in ``state`` belongs to, if this browser started it (``expected``, from its
    session) within :data:`SIGN_IN_TIMEOUT`; its row is deleted, so it is used once."""
    if not state or not expected or not secrets.compare_digest(state, expected):
        return None
    row = dbsession.execute(
        delete(OidcSignIn).where(OidcSignIn.state_hash == _digest(state),
                                 OidcSignIn.created_at >= utcnow() - SIGN_IN_TIMEOUT)
        .returning(OidcSignIn.nonce, OidcSignIn.code_verifier, OidcSignIn.target)
    ).first()
    return Pending(row.nonce, row.code_verifier, row.target) if row is not None else None


def finish(settings: TaskdeskSettings, redirect_uri: str, code: str,
           pending: Pending) -> dict[str, Any]:
    """Trade ``code`` for tokens, check the ID token and return its claims, completed by
    the userinfo endpoint's (which must be about the same ``sub``)."""
    metadata = discovery(settings)
    client = OAuth2Session(
        settings.oidc_client_id, settings.oidc_client_secret or None,
        token_endpoint_auth_method=(
            "client_secret_basic" if settings.oidc_client_secret else "none"),
        redirect_uri=redirect_uri, default_timeout=settings.oidc_timeout,
    )
    try:
        token = client.fetch_token(metadata["token_endpoint"], code=code,
                                   code_verifier=pending.code_verifier,
                                   grant_type="authorization_code")
    except Exception as error:  # Authlib raises its own and requests' errors
        raise OidcError(f"the token endpoint refused the code: {error}") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("the token answer has no ID token")
    claims = validate_id_token(settings, metadata, id_token, pending.nonce)
    userinfo_url = metadata.get("userinfo_endpoint")
    if isinstance(userinfo_url, str):
        try:
            response = client.get(userinfo_url, timeout=settings.oidc_timeout)
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as error:
            raise OidcError(f"userinfo: {error}") from error
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise OidcError("userinfo is about someone else")
        claims = {**info, **claims}
    return claims


def validate_id_token(settings: TaskdeskSettings, metadata: dict[str, Any], id_token: str,
                      nonce: str) -> dict[str, Any]:
    """The claims of ``id_token`` once signature, algorithm, issuer, audience, times and
    nonce are right; :class:`OidcError` otherwise."""
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in ALGORITHMS if alg in offered]
    keys = _key_set(settings, metadata["jwks_uri"], refresh=False)
    try:
        try:
            decoded = jwt.decode(id_token, keys, algorithms=algorithms)
        except InvalidKeyIdError:  # a key the provider added since (rotation)
            keys = _key_set(settings, metadata["jwks_uri"], refresh=True)
            decoded = jwt.decode(id_token, keys, algorithms=algorithms)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": settings.oidc_issuer},
            sub={"essential": True},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise OidcError(f"ID token refused: {error!r}") from error
    claims = dict(decoded.claims)
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 \
            and claims.get("azp") != settings.oidc_client_id:
        raise OidcError("ID token refused: several audiences and azp is not this client")
    return claims


def profile(settings: TaskdeskSettings, claims: dict[str, Any]) -> DirectoryProfile:
    """The person the provider vouched for, as ``taskdesk.domain.directory`` takes them.
    An address counts only when the provider says it verified it."""
    def text(name: str) -> str:
        value = claims.get(name)
        return value.strip() if isinstance(value, str) else ""

    verified = claims.get("email_verified") is True
    email = text("email") if verified else ""
    groups: tuple[str, ...] | None = None
    if settings.oidc_groups_claim:
        value = claims.get(settings.oidc_groups_claim)
        groups = tuple(g for g in value if isinstance(g, str)) if isinstance(value, list) \
            else ()
    return DirectoryProfile(
        provider=settings.oidc_issuer, subject=str(claims["sub"]),
        username=text("preferred_username") or email or str(claims["sub"]),
        display_name=text("name") or text("preferred_username"),
        email=email, email_verified=verified, locale=text("locale") or None, groups=groups,
    )
