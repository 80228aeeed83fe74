"""What a plain ``pip install .`` (plus extras) must contain for the CLI and the harness."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from fraiseql.db import local
from fraiseql.db.local import LocalPostgres, LocalPostgresError

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL_HELPERS = ("port_for", "pytest_postgresql")


def requirement_names(extra: str) -> set[str]:
    specs = PYPROJECT["project"]["optional-dependencies"][extra]
    return {re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in specs}


def top_level_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def module_level_imports(path: Path) -> set[str]:
    """Imports that run when the module is imported (not those inside functions)."""
    tree = ast.parse(path.read_text())
    statements = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.Try, ast.If))]
    return top_level_imports(ast.Module(body=statements, type_ignores=[]))


def test_the_local_extra_declares_every_package_db_local_imports() -> None:
    distributions = packages_distributions()
    wanted = {
        dist.lower().replace("_", "-")
        for module in top_level_imports(ast.parse(Path(local.__file__).read_text())) & set(LOCAL_HELPERS)
        for dist in distributions.get(module, [module])
    }
    assert wanted == {"port-for", "pytest-postgresql"}
    assert wanted <= requirement_names("local")
    assert "fraiseql" in requirement_names("chaos")  # chaos pulls in fraiseql[local]
    assert any(spec.startswith("fraiseql[local") for spec in PYPROJECT["project"]["optional-dependencies"]["chaos"])


def test_the_runtime_never_imports_the_local_helpers_at_import_time() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "fraiseql").rglob("*.py"))
        if module_level_imports(path) & set(LOCAL_HELPERS)
    ]
    assert offenders == []


def test_a_missing_helper_is_a_clear_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pytest_postgresql.executors", None)  # as if not installed
    with pytest.raises(LocalPostgresError, match=r"pip install 'fraiseql\[local\]'"):
        LocalPostgres()


def test_the_wheel_ships_the_packages_the_cli_loads() -> None:
    shipped = set(PYPROJECT["tool"]["maturin"]["python-packages"]) | {"fraiseql"}
    cli = (ROOT / "fraiseql" / "cli.py").read_text()
    first_party = {name for name in top_level_imports(ast.parse(cli)) if (ROOT / name).is_dir()}
    first_party |= {target.split(".")[0] for target in re.findall(r'"([a-z_.]+):[a-z_]+"', cli)}
    assert "examples" in first_party  # db init --example blog, demo
    assert first_party <= shipped
    for data_file in ("schema.sql", "rbac.sql"):  # read by init_database at run time
        assert (ROOT / "examples" / "blog" / data_file).is_file()
