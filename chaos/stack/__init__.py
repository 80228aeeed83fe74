"""Components of the harness's stack, each with start/stop: PostgreSQL, Toxiproxy, the
local HTTPS issuer, the app in its own process; ``Stack`` composes them."""

from chaos.stack.app import AppProcess
from chaos.stack.base import Component, free_port, wait_until
from chaos.stack.issuer import ALGORITHMS, ASYMMETRIC_ALGORITHMS, Keyring, LocalIssuer
from chaos.stack.postgres import PostgresComponent
from chaos.stack.stack import PROXY_NAMES, Stack, StackOptions
from chaos.stack.toxiproxy import ProxyState, ToxicState, Toxiproxy, ToxiproxyServer, Traffic

__all__ = [
    "ALGORITHMS",
    "ASYMMETRIC_ALGORITHMS",
    "PROXY_NAMES",
    "AppProcess",
    "Component",
    "Keyring",
    "LocalIssuer",
    "PostgresComponent",
    "ProxyState",
    "Stack",
    "StackOptions",
    "ToxicState",
    "Toxiproxy",
    "ToxiproxyServer",
    "Traffic",
    "free_port",
    "wait_until",
]
