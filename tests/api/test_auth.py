"""Every way a server can check tokens: HS256 secret, RS256 public key, JWKS file, JWKS URL (served
here on loopback), and the tokens it must refuse."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs256(scope: str, key=KEY, kid: str = "key-1", **claims: object) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    payload = {"sub": "idp-user", "scope": scope, "aud": "business-index", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def jwks() -> dict[str, object]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "key-1", "use": "sig", "alg": "RS256"}]}


@pytest.fixture
def jwks_url() -> Iterator[str]:
    body = json.dumps(jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def client_for(index: Path, tmp_path: Path, auth: AuthSettings) -> TestClient:
    return TestClient(create_app(index, auth, SubmissionStore(f"sqlite:///{tmp_path / 's.sqlite3'}")))


def status(client: TestClient, token: str) -> int:
    return client.get("/api/v1/establishments", params={"name": "cafe"},
                      headers={"Authorization": f"Bearer {token}"}).status_code


def test_rs256_with_a_public_key_file(small_index: Path, tmp_path: Path) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    client = client_for(small_index, tmp_path, AuthSettings(public_key_file=pem))
    assert status(client, rs256("read")) == 200
    assert status(client, rs256("read", key=OTHER_KEY)) == 401
    assert status(client, issue_token(SECRET, "x", ["read"])) == 401  # an HS256 token is not accepted


def test_rs256_with_a_jwks_file(small_index: Path, tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks()))
    client = client_for(small_index, tmp_path, AuthSettings(jwks_file=keys))
    assert status(client, rs256("read")) == 200
    assert status(client, rs256("read", kid="unknown")) == 401


def test_rs256_with_a_jwks_url(small_index: Path, tmp_path: Path, jwks_url: str) -> None:
    client = client_for(small_index, tmp_path, AuthSettings(jwks_url=jwks_url))
    assert status(client, rs256("read")) == 200
    assert status(client, rs256("submit")) == 403
    assert status(client, rs256("read", key=OTHER_KEY)) == 401
    assert status(client, rs256("read", kid="rotated-away")) == 401


def test_tokens_that_must_be_refused(small_index: Path, tmp_path: Path) -> None:
    client = client_for(small_index, tmp_path, AuthSettings(secret=SECRET))
    now = int(time.time())
    expired = jwt.encode({"sub": "x", "scope": "read", "aud": "business-index", "exp": now - 60}, SECRET, "HS256")
    elsewhere = jwt.encode({"sub": "x", "scope": "read", "aud": "another-api", "exp": now + 60}, SECRET, "HS256")
    unsigned = jwt.encode({"sub": "x", "scope": "read", "aud": "business-index", "exp": now + 60}, None, "none")
    for token in (expired, elsewhere, unsigned):
        assert status(client, token) == 401, token
    assert status(client, issue_token(SECRET, "x", ["read"])) == 200
    assert status(client, issue_token(SECRET, "x", ["admin"])) == 200  # admin holds every scope
    with pytest.raises(ValueError, match="unknown scopes"):
        issue_token(SECRET, "x", ["superuser"])


def test_a_jwks_file_is_read_as_a_key_set(small_index: Path, tmp_path: Path) -> None:
    """Only RS256 signing keys are used; a token with no kid needs a set with one signing key."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    other = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(OTHER_KEY.public_key()))
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [{**public, "kid": "key-1", "use": "enc"},
                                         {**other, "kid": "key-2", "use": "sig", "alg": "RS256"}]}))
    client = client_for(small_index, tmp_path, AuthSettings(jwks_file=keys))
    assert status(client, rs256("read")) == 401  # key-1 is for encryption, not signatures
    assert status(client, rs256("read", key=OTHER_KEY, kid="key-2")) == 200
    no_kid = jwt.encode({"sub": "u", "scope": "read", "aud": "business-index", "exp": int(time.time()) + 60},
                        OTHER_KEY, algorithm="RS256")
    assert status(client, no_kid) == 200  # one signing key in the set: it is that one
    keys.write_text(json.dumps({"keys": [{**public, "kid": "key-1", "use": "sig"},
                                         {**other, "kid": "key-2", "use": "sig"}]}))
    fresh = client_for(small_index, tmp_path, AuthSettings(jwks_file=keys))
    another = jwt.encode({"sub": "v", "scope": "read", "aud": "business-index", "exp": int(time.time()) + 60},
                         OTHER_KEY, algorithm="RS256")  # not one verified before (those are remembered 60 s)
    assert status(fresh, another) == 401  # two: the token must say which
