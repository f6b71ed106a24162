"""Bearer tokens: JWTs signed with a shared secret (HS256) or a key pair (RS256: a public key, a
JWKS file, or the identity provider's JWKS URL), carrying scopes ``read``, ``submit``, ``review``, ``admin``. ``bx token`` issues development
tokens. Anonymous ``read`` is off unless configured.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from fastapi import Request

SCOPES = ("read", "submit", "review", "admin")
PERSONAL_DATA_SCOPES = frozenset({"review", "admin"})
JWKS_CACHE_SECONDS = 300
JWKS_FETCH_TIMEOUT_SECONDS = 5
VERIFIED_TOKEN_SECONDS = 60
VERIFIED_TOKENS_KEPT = 10_000
MIN_SECRET_BYTES = 32  # an HS256 secret shorter than its 256-bit hash can be guessed
DEFAULT_MAX_TOKEN_HOURS = 24.0 * 7


class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_personal_data(self) -> bool:
        return bool(self.scopes & PERSONAL_DATA_SCOPES)


ANONYMOUS = Principal("anonymous", frozenset({"read"}))


@dataclass(frozen=True)
class AuthSettings:
    secret: str | None = None  # HS256 shared secret
    public_key_file: Path | None = None  # RS256 PEM public key
    jwks_file: Path | None = None  # RS256 keys as a JWKS document
    jwks_url: str | None = None  # RS256 keys from the identity provider's JWKS endpoint (cached)
    anonymous_read: bool = False
    audience: str = "business-index"
    # a token valid for longer than this (from iat, or from now) is refused
    max_token_hours: float = DEFAULT_MAX_TOKEN_HOURS

    def __post_init__(self) -> None:
        if self.secret is not None and len(self.secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(f"BX_JWT_SECRET is {len(self.secret.encode('utf-8'))} bytes; HS256 needs at least "
                             f"{MIN_SECRET_BYTES} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")

    @property
    def configured(self) -> bool:
        """Whether any secret or key is set, so that tokens can be checked at all."""
        return bool(self.secret or self.public_key_file or self.jwks_file or self.jwks_url)

    def keys(self, token: str) -> tuple[object, list[str]]:
        if self.jwks_url is not None:
            try:
                return _jwks_client(self.jwks_url).get_signing_key_from_jwt(token).key, ["RS256"]
            except jwt.PyJWKClientError as exc:
                raise AuthError(401, f"no signing key for this token: {exc}") from None
            except jwt.PyJWTError as exc:
                raise AuthError(401, f"invalid token: {exc}") from None
        if self.jwks_file is not None:
            return _key_from_jwks_file(self.jwks_file, token), ["RS256"]
        if self.public_key_file is not None:
            return self.public_key_file.read_text(), ["RS256"]
        if self.secret:
            return self.secret, ["HS256"]
        raise AuthError(401, "this server accepts no tokens: no secret or key is configured")


def _key_from_jwks_file(path: Path, token: str) -> object:
    """The signing key a token names (``kid``) in a JWKS document, among its RS256 signature keys:
    a key for another algorithm or for encryption is never used, and a token that names no key is
    accepted only when the set holds exactly one signing key."""
    try:
        header = jwt.get_unverified_header(token)
        keys = jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8")).keys
    except jwt.PyJWTError as exc:
        raise AuthError(401, f"invalid token: {exc}") from None
    signing = [k for k in keys if k.public_key_use in (None, "sig") and k.algorithm_name in ("RS256", None)
               and k.key_type == "RSA"]
    kid = header.get("kid")
    chosen = [k for k in signing if k.key_id == kid] if kid is not None else signing
    if len(chosen) != 1:
        raise AuthError(401, "unknown signing key" if kid is not None else "the token names no key (kid)")
    return chosen[0].key


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # one client per URL for the process: it caches the keys and refetches on an unknown kid
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_FETCH_TIMEOUT_SECONDS)


def issue_token(secret: str, subject: str, scopes: list[str], hours: float = 12,
                audience: str = "business-index", max_hours: float = DEFAULT_MAX_TOKEN_HOURS) -> str:
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}: use {', '.join(SCOPES)}")
    if not subject.strip():
        raise ValueError("a token must name who it is for (--sub)")
    if not 0 < hours <= max_hours:
        raise ValueError(f"--hours must be more than 0 and at most {max_hours:g} (the longest a server accepts)")
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValueError(f"the secret is {len(secret.encode('utf-8'))} bytes; HS256 needs at least {MIN_SECRET_BYTES}")
    now = int(time.time())
    claims = {"sub": subject, "scope": " ".join(scopes), "aud": audience, "iat": now, "exp": now + int(hours * 3600)}
    return jwt.encode(claims, secret, algorithm="HS256")


def authenticate(request: Request, settings: AuthSettings) -> Principal | None:
    """The caller, from the Authorization header; None when there is no header."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "use an Authorization: Bearer token")
    return _VERIFIED.get(settings, token) or _verify(settings, token)


def verify_token(settings: AuthSettings, token: str) -> Principal:
    """The principal a token names; ``AuthError`` when it is not valid (the sign-in page's check)."""
    if not token:
        raise AuthError(401, "no token")
    return _VERIFIED.get(settings, token) or _verify(settings, token)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _verify(settings: AuthSettings, token: str) -> Principal:
    key, algorithms = settings.keys(token)
    try:
        claims = jwt.decode(token, key, algorithms=algorithms, audience=settings.audience,  # type: ignore[arg-type]
                            options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise AuthError(401, f"invalid token: {exc}") from None
    expires, issued = _number(claims.get("exp")), _number(claims.get("iat"))
    if expires is None:
        raise AuthError(401, "invalid token: exp must be a number of seconds")
    if expires - (issued if issued is not None else time.time()) > settings.max_token_hours * 3600:
        raise AuthError(401, f"invalid token: valid for longer than {settings.max_token_hours:g} hours")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise AuthError(401, "invalid token: sub must name who the token is for")
    principal = Principal(subject, frozenset(str(claims.get("scope", "")).split()))
    _VERIFIED.put(settings, token, principal, expires)
    return principal


class _VerifiedTokens:
    """Tokens already verified, so a client reusing its token is not checked from scratch on every
    request. Keyed by the whole token (signature included) and the server's settings; an entry
    lasts until the token expires or VERIFIED_TOKEN_SECONDS pass, whichever is first, so a rotated
    key or JWKS takes effect within that time."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[AuthSettings, str], tuple[Principal, float]] = OrderedDict()

    def get(self, settings: AuthSettings, token: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get((settings, token))
            if entry is None:
                return None
            if time.time() >= entry[1]:
                del self._entries[(settings, token)]
                return None
            self._entries.move_to_end((settings, token))
            return entry[0]

    def put(self, settings: AuthSettings, token: str, principal: Principal, expires: float) -> None:
        until = time.time() + VERIFIED_TOKEN_SECONDS
        with self._lock:
            self._entries[(settings, token)] = (principal, min(until, expires))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_VERIFIED = _VerifiedTokens(VERIFIED_TOKENS_KEPT)


def require(request: Request, settings: AuthSettings, *scopes: str) -> Principal:
    """The caller, who must hold one of ``scopes`` (``admin`` holds every scope)."""
    principal = authenticate(request, settings)
    if principal is None:
        if "read" in scopes and settings.anonymous_read:
            return ANONYMOUS
        raise AuthError(401, "a bearer token is required")
    if not principal.scopes & {*scopes, "admin"}:
        raise AuthError(403, f"this needs the {' or '.join(repr(s) for s in scopes)} scope")
    return principal
