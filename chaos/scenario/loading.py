"""Reading scenario files: YAML -> validated, profile-scaled :class:`Scenario`.

Every problem leaves as a :class:`chaos.errors.ScenarioError` naming the file, the field
path (``phases[1].faults[0].latency_ms``) and the reason.

Example::

    scenario = load_scenario("scenarios/network/latency.yaml", profile="quick")
    suite = load_scenarios(["scenarios/"], tags={"network"})
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from chaos.errors import ScenarioError
from chaos.scenario.checks import cross_field_problems
from chaos.scenario.faults import fault_union, known_faults
from chaos.scenario.models import Scenario
from chaos.scenario.profiles import scale

SUFFIXES = (".yaml", ".yml")


def scenario_model(faults: Mapping[str, type[BaseModel]] | None = None) -> type[Scenario]:
    """``Scenario`` with its fault specs typed by the registered faults (or ``faults``)."""
    return Scenario[fault_union(known_faults() if faults is None else faults)]  # type: ignore[misc]


def parse_scenario(text: str, path: str | os.PathLike[str] = "<string>", profile: str = "full",
                   faults: Mapping[str, type[BaseModel]] | None = None) -> Scenario:
    """Validate scenario YAML ``text`` (``path`` names it in errors) and scale it by ``profile``."""
    path = str(path)
    document = _yaml(text, path)
    registry = known_faults() if faults is None else dict(faults)
    try:
        scenario = scenario_model(registry).model_validate({**document, "path": path})
    except ValidationError as error:
        field, reason = _first_problem(error, document, registry)
        raise ScenarioError(path, field, reason) from None
    problems = cross_field_problems(scenario)
    if problems:
        raise ScenarioError(path, *problems[0])
    factors = scenario.profile_factors()
    if profile not in factors:
        raise ScenarioError(path, "profile", f"unknown profile {profile!r} (known: {', '.join(factors)})")
    return scale(scenario, factors[profile]).model_copy(update={"profile": profile})


def load_scenario(path: str | os.PathLike[str], profile: str = "full",
                  faults: Mapping[str, type[BaseModel]] | None = None) -> Scenario:
    """Read and validate one scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(str(path), "", f"cannot read the file: {error}") from None
    return parse_scenario(text, path, profile, faults)


def scenario_paths(paths_or_dirs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The scenario files named, folders searched recursively, sorted within each folder."""
    found: list[Path] = []
    for entry in map(Path, paths_or_dirs):
        if entry.is_dir():
            found.extend(sorted(p for p in entry.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        else:
            found.append(entry)
    return found


def load_scenarios(paths_or_dirs: Iterable[str | os.PathLike[str]], tags: Iterable[str] | None = None,
                   profile: str = "full") -> list[Scenario]:
    """Every scenario under ``paths_or_dirs``; with ``tags``, those carrying one of them."""
    wanted = None if tags is None else set(tags)
    faults = known_faults()
    scenarios = [load_scenario(path, profile, faults) for path in scenario_paths(paths_or_dirs)]
    return [s for s in scenarios if wanted is None or wanted & set(s.tags)]


def _yaml(text: str, path: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(path, "", f"invalid YAML{where}: {problem}") from None
    if not isinstance(document, dict):
        raise ScenarioError(path, "", f"a scenario is a mapping of fields, not {type(document).__name__}")
    if "profile" in document or "path" in document:
        field = "profile" if "profile" in document else "path"
        raise ScenarioError(path, field, "set by the loader, not by the file")
    return document


def _first_problem(error: ValidationError, document: Any,
                   registry: Mapping[str, type[BaseModel]]) -> tuple[str, str]:
    detail = error.errors(include_url=False)[0]
    field = _field_path(detail["loc"], document)
    known = ", ".join(registry) or "none registered"
    kind = detail["type"]
    if kind == "union_tag_invalid":
        tag = detail.get("ctx", {}).get("tag")
        return f"{field}.type", f"unknown fault type {tag!r} (known: {known})"
    if kind == "union_tag_not_found":
        return f"{field}.type", f"missing (known fault types: {known})"
    if kind == "literal_error" and field.endswith(".type") and ".faults[" in field:
        return field, f"unknown fault type {detail.get('input')!r} (known: {known})"
    if kind == "extra_forbidden":
        return field, "unknown field"
    return field, detail["msg"]


def _field_path(loc: tuple[Any, ...], document: Any) -> str:
    """``('phases', 1, 'faults', 0, 'latency', 'latency_ms')`` -> ``phases[1].faults[0].latency_ms``.

    pydantic puts the union member's tag into the location; it is dropped by walking the
    document alongside, so only keys that exist in the file are kept.
    """
    parts: list[str] = []
    node = document
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and item < len(node) else None
        elif item == "[key]":
            continue
        elif isinstance(node, dict) and item not in node and isinstance(node.get("type"), str) \
                and item == node["type"]:
            continue  # the discriminator's tag, not a field
        else:
            parts.append(f".{item}" if parts else str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)
