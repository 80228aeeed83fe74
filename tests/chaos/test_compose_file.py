"""docker-compose.chaos.yml: the services and addresses the compose backend relies on.

No Docker engine runs here, so the file is checked as data: what the harness's compose
backend and its documentation say must be in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.chaos.yml").read_text())


def test_it_defines_the_four_services() -> None:
    assert set(compose()["services"]) == {"postgres", "toxiproxy", "app", "otel-collector"}


def test_the_app_reaches_postgres_only_through_toxiproxy() -> None:
    env = compose()["services"]["app"]["environment"]
    assert "@toxiproxy:" in env["DATABASE_URL"] and "@toxiproxy:" in env["CACHE_DATABASE_URL"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://otel-collector:")


def test_toxiproxy_has_the_proxies_the_backend_checks_for() -> None:
    config = json.loads(compose()["configs"]["toxiproxy_proxies"]["content"])
    assert {proxy["name"] for proxy in config} >= {"postgres", "cache"}


def test_the_app_image_can_be_built_from_the_repository() -> None:
    build = compose()["services"]["app"]["build"]
    dockerfile = ROOT / build["context"] / build["dockerfile"]
    assert dockerfile.is_file() and "maturin build" in dockerfile.read_text()


def test_every_published_port_is_loopback_only() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
