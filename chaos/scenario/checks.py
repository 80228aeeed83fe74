"""Rules across fields that a single field's type cannot say, each naming its field.

Example::

    for field, reason in cross_field_problems(scenario):
        raise ScenarioError(path, field, reason)
"""

from __future__ import annotations

from chaos.scenario.models import Scenario


def cross_field_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, reason) of every broken rule, in file order."""
    problems: list[tuple[str, str]] = []
    first_index: dict[str, int] = {}
    for index, phase in enumerate(scenario.phases):
        if phase.name in first_index:
            problems.append((f"phases[{index}].name",
                             f"duplicate phase name {phase.name!r} (also phases[{first_index[phase.name]}])"))
        first_index.setdefault(phase.name, index)
        problems.extend(_fault_window_problems(index, phase))
    for name in scenario.expectations:
        if name not in first_index:
            known = ", ".join(first_index)
            problems.append((f"expectations.{name}", f"no phase named {name!r} (phases: {known})"))
    if scenario.load.mix.get("me", 0) > 0 and not scenario.target.auth:
        problems.append(("load.mix.me", "the 'me' query needs tokens: set target.auth: true"))
    if scenario.load.authenticated_share > 0 and not scenario.target.auth:
        problems.append(("load.authenticated_share", "authenticated requests need target.auth: true"))
    if scenario.load.distinct_tokens and not scenario.target.auth:
        problems.append(("load.distinct_tokens", "tokens need target.auth: true"))
    problems.extend(target_config_problems(scenario))
    return problems


def _fault_window_problems(index: int, phase) -> list[tuple[str, str]]:
    problems = []
    for position, fault in enumerate(phase.faults):
        where = f"phases[{index}].faults[{position}]"
        at_s, duration_s = fault.at_s, fault.duration_s
        if at_s < 0:
            problems.append((f"{where}.at_s", f"offset {at_s:g} s is negative"))
        elif at_s >= phase.duration_s:
            problems.append((f"{where}.at_s", f"offset {at_s:g} s is past the end of phase "
                                              f"{phase.name!r} ({phase.duration_s:g} s)"))
        elif duration_s is not None and at_s + duration_s > phase.duration_s:
            problems.append((f"{where}.duration_s",
                             f"the fault ends at {at_s + duration_s:g} s, past the end of phase "
                             f"{phase.name!r} ({phase.duration_s:g} s)"))
    return problems


def target_config_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """``target.config`` names FraiseQLConfig fields, each with a value of the field's type."""
    from dataclasses import fields

    from fraiseql.config import FraiseQLConfig

    defaults = {f.name: f.default for f in fields(FraiseQLConfig)}
    problems = []
    for name, value in scenario.target.config.items():
        where = f"target.config.{name}"
        if name not in defaults:
            problems.append((where, f"not a FraiseQLConfig field (known: {', '.join(sorted(defaults))})"))
            continue
        expected = type(defaults[name])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if type(value) is not expected:
            problems.append((where, f"expects {expected.__name__}, got {type(value).__name__} {value!r}"))
    return problems
