"""Auth faults: the identity provider misbehaves, or the tokens coming in are bad.

- ``jwks_outage``: the local HTTPS issuer answers its JWKS with a status (500, 503, ...),
  with malformed JSON, or late. (The issuer's proxy taken down or black-holed is a
  network fault on target ``jwks``.) Evidence: the app fetched during the outage.
- ``key_rotation``: the issuer gets a new signing key (the old one stays published unless
  ``retire_previous``) and side traffic signs in with tokens of the new key, as clients
  of a provider that rotated would. Checks: new-key tokens accepted once the app refetched.
- ``token_flood``: side traffic with bad tokens (expired, forged in several ways, random
  ``kid`` values, another issuer or audience) or tokens from a skewed clock. Checks: no
  bad token was ever accepted, each refused with its code; random kids cost at most the
  JWKS fetches the scenario allows.

The scenario's own load keeps using good tokens; its expectations say whether legitimate
traffic held up. Every kind of token below is minted for real by the issuer's keys.

Example (scenario YAML)::

    - type: token_flood
      kind: random_kid
      rate_per_s: 100
      max_jwks_fetches_per_s: 0.5
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field

from chaos.errors import FaultError
from chaos.faults.base import Check, Evidence, Fault, FaultContext, FaultParams, register, register_cleaner
from chaos.faults.traffic import SideTraffic, graphql_body

ME = "{ me { id } }"
FloodKind = Literal["expired", "forged", "random_kid", "wrong_issuer", "wrong_audience", "skewed"]
EXPECTED_CODES: dict[str, tuple[str, ...]] = {
    "expired": ("TOKEN_EXPIRED",),
    "forged": ("INVALID_SIGNATURE", "MALFORMED_TOKEN", "UNSUPPORTED_ALGORITHM", "UNKNOWN_KEY",
               "UNSUPPORTED_CRITICAL_HEADER"),
    "random_kid": ("UNKNOWN_KEY",),
    "wrong_issuer": ("INVALID_ISSUER",),
    "wrong_audience": ("INVALID_AUDIENCE",),
    "skewed": ("TOKEN_NOT_YET_VALID", "TOKEN_EXPIRED"),
}


def _issuer(ctx: FaultContext) -> Any:
    issuer = getattr(ctx.stack, "issuer", None)
    if issuer is None or issuer.keyring is None:
        raise FaultError("auth faults need the stack's local issuer (target.auth: true)")
    return issuer


def _accepted(n: int, status: int | None, body: Any) -> str:
    """How one ``{ me { id } }`` answer came back: accepted, refused, or something else."""
    if (status == 200 and isinstance(body, dict) and not body.get("errors")
            and "me" in (body.get("data") or {})):
        return "accepted"  # the token was let in (``me`` may be null: no such user)
    if status in (401, 403):
        return "refused"
    return "other"


# --- jwks_outage ------------------------------------------------------------------------

class JwksOutageParams(FaultParams):
    type: Literal["jwks_outage"] = "jwks_outage"
    mode: Literal["status", "malformed", "slow"] = "status"
    status: int = Field(500, ge=400, le=599)
    delay_ms: float = Field(0, ge=0, le=60_000, description="for mode slow (and added to the others)")


@register
class JwksOutage(Fault):
    """The issuer's JWKS endpoint fails in the way ``mode`` says, until reverted."""

    type = "jwks_outage"
    Params = JwksOutageParams

    def __init__(self, params: JwksOutageParams) -> None:
        super().__init__(params)
        self._before: int | None = None
        self._during = 0

    async def apply(self, ctx: FaultContext) -> None:
        issuer, p = _issuer(ctx), self.params
        self._before = issuer.jwks_requests
        if p.mode == "status":
            issuer.fail(p.status)
        elif p.mode == "malformed":
            issuer.malformed()
        issuer.slow(p.delay_ms / 1000)

    async def revert(self, ctx: FaultContext) -> None:
        issuer = getattr(ctx.stack, "issuer", None)
        if issuer is None or self._before is None:
            return
        self._during = issuer.jwks_requests - self._before
        issuer.healthy()
        self._before = None

    async def evidence(self, ctx: FaultContext) -> Evidence:
        issuer = _issuer(ctx)
        fetched = issuer.jwks_requests - self._before if self._before is not None else self._during
        return Evidence(fired=fetched > 0, details={
            "mode": self.params.mode, "status": self.params.status, "delay_ms": self.params.delay_ms,
            "jwks_requests_during_outage": fetched,
            "note": "fired means the app asked for keys while the endpoint was failing"})


# --- key_rotation -----------------------------------------------------------------------

class KeyRotationParams(FaultParams):
    type: Literal["key_rotation"] = "key_rotation"
    alg: Literal["RS256", "ES256", "PS256", "EdDSA"] = "RS256"
    retire_previous: bool = False
    rate_per_s: float = Field(20, gt=0, le=2_000, description="sign-ins with new-key tokens")
    accept_within_s: float = Field(5, ge=0, description="new-key tokens must be accepted after this")


@register
class KeyRotation(Fault):
    """A new signing key at the issuer; clients sign in with it (see the module docstring)."""

    type = "key_rotation"
    Params = KeyRotationParams

    def __init__(self, params: KeyRotationParams) -> None:
        super().__init__(params)
        self.kid: str | None = None
        self._tokens: list[str] = []
        self._traffic: SideTraffic | None = None
        self._fetches_before = 0
        self._applied_at = 0.0
        self._late = {"accepted": 0, "sent": 0}

    async def apply(self, ctx: FaultContext) -> None:
        issuer, p = _issuer(ctx), self.params
        self._fetches_before = issuer.jwks_requests
        self.kid = issuer.rotate(p.alg, keep_previous=not p.retire_previous)
        self._tokens = [issuer.mint(alg=p.alg, subject=f"rotated-{i}") for i in range(50)]
        self._applied_at = time.monotonic()

        def request(n: int) -> tuple[dict[str, str], dict[str, Any]]:
            return {"Authorization": f"Bearer {self._tokens[n % len(self._tokens)]}"}, graphql_body(ME)

        def classify(n: int, status: int | None, body: Any) -> str:
            outcome = _accepted(n, status, body)
            if time.monotonic() - self._applied_at >= p.accept_within_s:
                self._late["sent"] += 1
                self._late["accepted"] += outcome == "accepted"
            return outcome

        self._traffic = SideTraffic(ctx.stack.app_url, request, rate_per_s=p.rate_per_s,
                                    concurrency=10, classify=classify)
        self._traffic.start()

    async def revert(self, ctx: FaultContext) -> None:
        if self._traffic is not None:
            await self._traffic.stop()

    async def evidence(self, ctx: FaultContext) -> Evidence:
        issuer = _issuer(ctx)
        stats = self._traffic.stats.as_dict() if self._traffic else {}
        fetched = issuer.jwks_requests - self._fetches_before
        late = self._late
        checks = (Check("new-key tokens accepted", late["sent"] > 0 and late["accepted"] == late["sent"],
                        f"{late['accepted']} of {late['sent']} sign-ins with the new key accepted "
                        f"{self.params.accept_within_s:g} s or more after the rotation"),)
        return Evidence(fired=self.kid is not None and stats.get("sent", 0) > 0,
                        details={"kid": self.kid, "jwks_requests": fetched, "traffic": stats},
                        checks=checks)


# --- token_flood ------------------------------------------------------------------------

class TokenFloodParams(FaultParams):
    type: Literal["token_flood"] = "token_flood"
    kind: FloodKind = "forged"
    rate_per_s: float = Field(50, gt=0, le=5_000)
    concurrency: int = Field(20, ge=1, le=1_000)
    skew_s: float = Field(0, description="kind skewed: the token's clock minus the app's")
    expect: Literal["refused", "accepted"] = Field(
        "refused", description="skewed tokens within the leeway should be accepted")
    max_jwks_fetches_per_s: float | None = Field(
        None, ge=0, description="JWKS fetches per second of flood allowed (regular refreshes included)")


@register
class TokenFlood(Fault):
    """Side traffic signing in with one kind of bad (or skewed) token."""

    type = "token_flood"
    Params = TokenFloodParams

    def __init__(self, params: TokenFloodParams) -> None:
        super().__init__(params)
        self._traffic: SideTraffic | None = None
        self._fetches_before = 0
        self._started = 0.0

    async def apply(self, ctx: FaultContext) -> None:
        issuer, p = _issuer(ctx), self.params
        self._fetches_before = issuer.jwks_requests
        self._started = time.monotonic()
        mint = _minter(issuer, p)

        def request(n: int) -> tuple[dict[str, str], dict[str, Any]]:
            return {"Authorization": f"Bearer {mint(n)}"}, graphql_body(ME)

        self._traffic = SideTraffic(ctx.stack.app_url, request, rate_per_s=p.rate_per_s,
                                    concurrency=p.concurrency, classify=_accepted)
        self._traffic.start()

    async def revert(self, ctx: FaultContext) -> None:
        if self._traffic is not None:
            await self._traffic.stop()

    async def evidence(self, ctx: FaultContext) -> Evidence:
        issuer, p = _issuer(ctx), self.params
        stats = self._traffic.stats if self._traffic else None
        if stats is None:
            return Evidence(fired=False, details={"error": "the flood never started"})
        fetched = issuer.jwks_requests - self._fetches_before
        accepted, refused = stats.labels["accepted"], stats.labels["refused"]
        checks = []
        if p.expect == "refused":
            checks.append(Check("no bad token accepted", accepted == 0,
                                f"{accepted} of {stats.answered} {p.kind} tokens accepted"))
            wrong = {code: n for code, n in stats.by_code.items()
                     if code not in EXPECTED_CODES[p.kind]}
            checks.append(Check("refused with the right code", not wrong and refused > 0,
                                f"{refused} refused; codes {dict(stats.by_code)} "
                                f"(expected {', '.join(EXPECTED_CODES[p.kind])})"))
        else:
            checks.append(Check("tokens accepted", stats.answered > 0 and accepted == stats.answered,
                                f"{accepted} of {stats.answered} {p.kind} tokens "
                                f"(skew {p.skew_s:g} s) accepted"))
        if p.max_jwks_fetches_per_s is not None:
            window_s = max(1e-3, time.monotonic() - self._started)
            limit = p.max_jwks_fetches_per_s * window_s + 1  # +1: a fetch may start at the edge
            checks.append(Check("JWKS fetches bounded", fetched <= limit,
                                f"{fetched} JWKS fetches in {window_s:.1f} s of flood "
                                f"(limit {limit:.1f}: {p.max_jwks_fetches_per_s:g}/s)"))
        return Evidence(fired=stats.answered > 0,
                        details={"kind": p.kind, "jwks_requests": fetched, "traffic": stats.as_dict()},
                        checks=tuple(checks))


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HMAC-signed by hand: PyJWT refuses a PEM key as an HMAC secret, an attacker does not."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _minter(issuer: Any, p: TokenFloodParams) -> Callable[[int], str]:
    """The n-th token of the flood (a few are minted up front and reused where the kind
    allows: a flood's cost should be the app's, not the harness's signing)."""
    keyring = issuer.keyring
    now = int(time.time())
    if p.kind == "expired":
        pool = [keyring.mint(subject=f"expired-{i}", iat=now - 3600, exp=now - 600) for i in range(64)]
        return lambda n: pool[n % len(pool)]
    if p.kind == "wrong_issuer":
        pool = [keyring.mint(subject=f"x-{i}", iss="https://evil.example/") for i in range(64)]
        return lambda n: pool[n % len(pool)]
    if p.kind == "wrong_audience":
        pool = [keyring.mint(subject=f"x-{i}", aud="https://other.example") for i in range(64)]
        return lambda n: pool[n % len(pool)]
    if p.kind == "skewed":
        skew = int(p.skew_s)
        pool = [keyring.mint(subject=f"skewed-{i}", iat=now + skew, nbf=now + skew,
                             exp=now + skew + 3600) for i in range(64)]
        return lambda n: pool[n % len(pool)]
    if p.kind == "random_kid":
        # A real signature with the current key, under a kid nobody published: every token
        # names a kid the app has never seen.
        return lambda n: keyring.mint(subject=f"kid-{n}", kid=f"unknown-{secrets.token_hex(8)}")
    forged = _forged_tokens(keyring)
    return lambda n: forged[n % len(forged)]


def _forged_tokens(keyring: Any) -> list[str]:
    """Tokens an attacker would send, each signed (or not) for real."""
    now = int(time.time())
    claims = {"iss": keyring.issuer, "aud": keyring.audience, "sub": "attacker", "iat": now,
              "exp": now + 3600, "roles": ["admin"]}
    good = keyring.mint(subject="victim")
    head, body, sig = good.split(".")
    key = keyring.key_for("RS256")
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        f"{_b64({'alg': 'NoNe', 'typ': 'JWT'})}.{_b64(claims)}.",
        _hs256({"alg": "HS256", "kid": key.kid}, claims, public_pem),  # HS/RS confusion
        f"{head}.{_b64(claims)}.{sig}",  # tampered payload, original signature
        keyring.sign_raw({"alg": "RS256", "kid": "../../etc/passwd"}, claims),
        keyring.sign_raw({"alg": "RS256", "kid": "x' OR '1'='1"}, claims),
        keyring.sign_raw({"alg": "RS256", "kid": key.kid, "jku": "https://evil.example/jwks"}, claims,
                         key=_attacker_key()),
        keyring.sign_raw({"alg": "RS256", "kid": key.kid, "crit": ["exp-override"], "exp-override": 1},
                         claims),
        f"{head}.{body}",  # a segment missing
        f"{head}.{body}.{sig}.extra",
        "not-a-token",
    ]


_ATTACKER: list[Any] = []


def _attacker_key() -> Any:
    if not _ATTACKER:
        _ATTACKER.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _ATTACKER[0]


@register_cleaner("auth")
async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """An issuer left failing or slow by a killed run answers normally again."""
    issuer = getattr(ctx.stack, "issuer", None)
    if issuer is None or (issuer.mode == "ok" and not issuer.delay_s):
        return []
    mode, delay = issuer.mode, issuer.delay_s
    issuer.healthy()
    return [f"issuer set back to normal (was {mode}, delay {delay:g} s)"]
