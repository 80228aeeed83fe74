"""A local OpenID issuer over real HTTPS, for tests and the resilience harness.

It serves ``/.well-known/jwks.json`` and ``/.well-known/openid-configuration`` on
127.0.0.1 with a certificate from a throwaway ``trustme`` CA (``ca_file`` for clients),
mints tokens for every JWS algorithm FraiseQL verifies, rotates keys, and can be told to
be slow, fail with a status, or serve malformed JSON, from Python or over its control API
(``POST /_control/mode``, ``/_control/rotate``, ``/_control/mint``; ``GET /_control/stats``).

Example::

    with LocalIssuer() as issuer:
        token = issuer.mint(alg="ES256", roles=["admin"])
        provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url,
                               algorithms=("ES256",), ca_file=issuer.ca_file)
        issuer.fail(503)          # the JWKS endpoint now answers 503
        issuer.healthy()
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import trustme
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

FAMILY_OF_ALG = {
    **{f"RS{bits}": "RSA" for bits in (256, 384, 512)},
    **{f"PS{bits}": "RSA" for bits in (256, 384, 512)},
    "ES256": "P-256",
    "ES384": "P-384",
    "EdDSA": "Ed25519",
}
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
ASYMMETRIC_ALGORITHMS = tuple(FAMILY_OF_ALG)
ALGORITHMS = ASYMMETRIC_ALGORITHMS + HMAC_ALGORITHMS


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    family: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if self.family == "RSA":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        elif self.family == "Ed25519":
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
        else:
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
        return {**jwk, "kid": self.kid, "use": "sig"}


def generate_key(family: str) -> SigningKey:
    """A fresh private key of ``family`` with a random kid."""
    if family == "RSA":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif family == "P-256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif family == "P-384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif family == "Ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"unknown key family {family!r}")
    return SigningKey(f"{family.lower()}-{uuid.uuid4().hex[:12]}", family, key)


class Keyring:
    """The issuer's signing keys: one current key per family, plus published old ones."""

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.hmac_secret = secrets.token_bytes(64)
        self.current: dict[str, SigningKey] = {}
        self.published: list[SigningKey] = []
        self._lock = threading.Lock()

    def key_for(self, alg: str) -> SigningKey:
        family = FAMILY_OF_ALG[alg]
        with self._lock:
            if family not in self.current:
                key = generate_key(family)
                self.current[family] = key
                self.published.append(key)
            return self.current[family]

    def rotate(self, alg: str = "RS256", keep_previous: bool = True) -> str:
        """A new current key for ``alg``'s family; returns its kid."""
        family = FAMILY_OF_ALG[alg]
        key = generate_key(family)
        with self._lock:
            old = self.current.get(family)
            if old is not None and not keep_previous:
                self.published = [k for k in self.published if k.kid != old.kid]
            self.current[family] = key
            self.published.append(key)
        return key.kid

    def retire(self, kid: str) -> None:
        """Stop publishing ``kid`` (its tokens then fail to verify)."""
        with self._lock:
            self.published = [k for k in self.published if k.kid != kid]

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": [k.public_jwk() for k in self.published]}

    def mint(
        self,
        *,
        alg: str = "RS256",
        subject: str = "user-1",
        roles: list[str] | tuple[str, ...] = (),
        permissions: list[str] | tuple[str, ...] = (),
        ttl_s: float = 300,
        kid: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed token. ``claims`` override the defaults (``iss``, ``aud``, ``exp``, ...)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_s,
            "roles": list(roles),
            "permissions": list(permissions),
            **claims,
        }
        if alg in HMAC_ALGORITHMS:
            return jwt.encode(payload, self.hmac_secret, algorithm=alg, headers=headers)
        key = self.key_for(alg)
        header = {"kid": kid or key.kid, **(headers or {})}
        return jwt.encode(payload, key.private_key, algorithm=alg, headers=header)


    def sign_raw(
        self,
        header: dict[str, Any] | bytes,
        payload: dict[str, Any] | bytes,
        *,
        alg: str = "RS256",
        key: Any = None,
    ) -> str:
        """Sign exactly these header and payload bytes with ``alg`` and ``key`` (default:
        this keyring's key for ``alg``), whatever the header claims: forged tokens for the
        attack suite and the harness."""
        raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
        raw_payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signing_input = f"{b64url(raw_header)}.{b64url(raw_payload)}"
        algorithm = jwt.algorithms.get_default_algorithms()[alg]
        if key is None:
            key = self.hmac_secret if alg in HMAC_ALGORITHMS else self.key_for(alg).private_key
        signature = algorithm.sign(signing_input.encode(), algorithm.prepare_key(key))
        return f"{signing_input}.{b64url(signature)}"


class LocalIssuer:
    """The HTTPS server around a ``Keyring``. Context manager; ``start``/``stop``."""

    def __init__(self, audience: str = "https://api.fraiseql.test") -> None:
        self.audience = audience
        self.port = 0
        self.keyring: Keyring | None = None
        self.jwks_requests = 0
        self.mode = "ok"
        self.fail_status = 503
        self.delay_s = 0.0
        self.max_age_s = 3600  # Cache-Control max-age of the JWKS answer
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- addresses -----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    @property
    def ca_file(self) -> str:
        assert self._tmp is not None, "start() the issuer first"
        return str(Path(self._tmp.name) / "ca.pem")

    # -- control -------------------------------------------------------------------
    def healthy(self) -> None:
        self.mode, self.delay_s = "ok", 0.0

    def fail(self, status: int = 503) -> None:
        self.mode, self.fail_status = "fail", status

    def malformed(self) -> None:
        self.mode = "malformed"

    def slow(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def mint(self, **options: Any) -> str:
        assert self.keyring is not None, "start() the issuer first"
        return self.keyring.mint(**options)

    def rotate(self, alg: str = "RS256", keep_previous: bool = True) -> str:
        assert self.keyring is not None, "start() the issuer first"
        return self.keyring.rotate(alg, keep_previous)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> LocalIssuer:
        self._tmp = tempfile.TemporaryDirectory(prefix="fraiseql-issuer-")
        folder = Path(self._tmp.name)
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        leaf.private_key_pem.write_to_path(str(folder / "key.pem"))
        leaf.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.keyring = Keyring(self.issuer, self.audience)
        config = uvicorn.Config(
            self._app,
            ssl_certfile=str(folder / "cert.pem"),
            ssl_keyfile=str(folder / "key.pem"),
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local issuer did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the ASGI app ----------------------------------------------------------------
    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/.well-known/jwks.json" and method == "GET":
            self.jwks_requests += 1
            await self._serve_jwks(send)
        elif path == "/.well-known/openid-configuration" and method == "GET":
            document = {"issuer": self.issuer, "jwks_uri": self.jwks_url, "id_token_signing_alg_values_supported": list(ALGORITHMS)}
            await _respond(send, 200, json.dumps(document).encode())
        elif path.startswith("/_control/"):
            await self._control(path.removeprefix("/_control/"), method, await _read_body(receive), send)
        else:
            await _respond(send, 404, b'{"error":"not found"}')

    async def _serve_jwks(self, send: Any) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        assert self.keyring is not None
        if self.mode == "fail":
            await _respond(send, self.fail_status, b'{"error":"injected failure"}')
        elif self.mode == "malformed":
            await _respond(send, 200, b'{"keys": [{"kty": "RSA", "n": ')
        else:
            body = json.dumps(self.keyring.jwks()).encode()
            await _respond(send, 200, body, extra=[(b"cache-control", f"public, max-age={self.max_age_s}".encode())])

    async def _control(self, action: str, method: str, body: bytes, send: Any) -> None:
        options = json.loads(body or b"{}")
        if action == "stats" and method == "GET":
            stats = {"jwks_requests": self.jwks_requests, "mode": self.mode, "delay_s": self.delay_s}
            await _respond(send, 200, json.dumps(stats).encode())
        elif action == "mode" and method == "POST":
            self.mode = options.get("mode", "ok")
            self.fail_status = int(options.get("status", self.fail_status))
            self.delay_s = float(options.get("delay_s", 0.0))
            await _respond(send, 200, b'{"ok":true}')
        elif action == "rotate" and method == "POST":
            kid = self.rotate(options.get("alg", "RS256"), bool(options.get("keep_previous", True)))
            await _respond(send, 200, json.dumps({"kid": kid}).encode())
        elif action == "mint" and method == "POST":
            await _respond(send, 200, json.dumps({"token": self.mint(**options)}).encode())
        else:
            await _respond(send, 404, b'{"error":"unknown control action"}')


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _respond(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
