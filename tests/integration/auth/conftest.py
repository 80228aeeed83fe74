"""The local HTTPS issuer as a fixture, and providers that trust its CA."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chaos.stack.issuer import ALGORITHMS, LocalIssuer
from fraiseql.auth import JWTProvider


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        yield running


@pytest.fixture(autouse=True)
def healthy_issuer(issuer: LocalIssuer) -> None:
    issuer.healthy()


@pytest.fixture
async def make_provider(issuer: LocalIssuer) -> AsyncIterator[Callable[..., Any]]:
    """``await make_provider(**JWTProvider options)``: started, closed after the test."""
    started: list[JWTProvider] = []

    async def make(**options: Any) -> JWTProvider:
        options.setdefault("algorithms", tuple(a for a in ALGORITHMS if not a.startswith("HS")))
        provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, ca_file=issuer.ca_file, **options)
        await provider.start()
        started.append(provider)
        return provider

    yield make
    for provider in started:
        await provider.close()
