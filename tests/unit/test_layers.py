"""The import graph of ``src/taskdesk`` reads bottom-up: models, domain, resources and
security, then the feature packages.

Every module belongs to a unit (the longest prefix listed in ``LAYERS``), every unit to a
layer. A module may import its own unit, a leaf, or a unit of a lower layer; never one of
its own layer (feature packages stand alone) nor of a higher one. Imports are read with
``ast``: module level, function level and ``TYPE_CHECKING`` blocks alike.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "taskdesk"

#: Modules any layer may import. A leaf imports no Taskdesk module but other leaves: the
#: vocabulary (permission names, principals), and helpers such as password hashing.
LEAVES = (
    "taskdesk.i18n",
    "taskdesk.logs",
    "taskdesk.messages",
    "taskdesk.security.passwords",
    "taskdesk.security.permissions",
    "taskdesk.security.principals",
    "taskdesk.security.secrets",
    "taskdesk.security.totp",
    "taskdesk.timezones",
)

#: Layers from the bottom up, each a tuple of units.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("settings", ("taskdesk.settings",)),
    # The blob store sits beside the models: the domain writes attachments through both.
    ("models", ("taskdesk.models", "taskdesk.migrations", "taskdesk.storage")),
    ("domain", ("taskdesk.domain",)),
    ("resources", ("taskdesk.resources",)),
    ("security", ("taskdesk.security",)),
    # Request plumbing and services the features share.
    ("core", ("taskdesk.ops", "taskdesk.headers", "taskdesk.guard", "taskdesk.health",
              "taskdesk.downloads", "taskdesk.uploads", "taskdesk.links", "taskdesk.queue",
              "taskdesk.bodies")),
    # Jobs on the core's queue that every installation runs (purge, WAL checkpoint).
    ("housekeeping", ("taskdesk.maintenance",)),
    ("instrumentation", ("taskdesk.metrics",)),
    ("features", ("taskdesk.web", "taskdesk.api", "taskdesk.notify", "taskdesk.graphql",
                  "taskdesk.live")),
    ("tools", ("taskdesk.demo", "taskdesk.generate", "taskdesk.worker")),
    ("application", ("taskdesk", "taskdesk.wsgi", "taskdesk.cli", "taskdesk.pshell")),
    # The servers' adapters: run the built application, set the readiness state.
    ("serving", ("taskdesk.asgi", "taskdesk.waitress_server")),
)

#: Third-party imports a layer must not make: the domain knows no request or response.
FORBIDDEN_THIRD_PARTY = {
    "taskdesk.domain": ("pyramid", "webob", "pyramid_tm"),
    "taskdesk.models": ("pyramid.request", "webob"),
    "taskdesk.settings": ("pyramid", "webob", "sqlalchemy.orm"),
}

def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) of every import in ``path``, relative ones resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from taskdesk.domain import accounts`` imports the module ``accounts``.
            for alias in node.names:
                name = f"{base}.{alias.name}"
                yield (name if _is_module(name) else base), node.lineno


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _unit(module: str) -> str:
    candidates = [u for _, units in LAYERS for u in units if _matches(module, u)]
    candidates += [leaf for leaf in LEAVES if _matches(module, leaf)]
    if not candidates:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS or LEAVES")
    return max(candidates, key=len)


def _rank(unit: str) -> int:
    if unit in LEAVES:
        return -1
    return next(i for i, (_, units) in enumerate(LAYERS) if unit in units)


def _graph() -> list[tuple[str, str, str, int]]:
    """(importer, imported, file, line) of every import between Taskdesk modules."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for imported, line in _imports(path):
            if _matches(imported, "taskdesk"):
                edges.append((importer, imported, str(path.relative_to(SRC)), line))
    return edges


def test_every_module_has_a_layer():
    for path in sorted(PACKAGE.rglob("*.py")):
        _unit(_module_name(path))


def _violation(importer: str, imported: str) -> str | None:
    """Why importing ``imported`` from ``importer`` breaks the layering, or None."""
    source, target = _unit(importer), _unit(imported)
    if source == target:
        return None
    if source in LEAVES:
        return None if target in LEAVES else "a leaf imports a non-leaf"
    if target in LEAVES or _rank(target) < _rank(source):
        return None
    return "same layer" if _rank(target) == _rank(source) else "upwards"


def test_imports_point_down_and_features_stand_alone():
    wrong = []
    for importer, imported, file, line in _graph():
        reason = _violation(importer, imported)
        if reason:
            wrong.append(f"{file}:{line} {importer} -> {imported} ({reason})")
    assert not wrong, "\n".join(wrong)


def test_the_units_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for importer, imported, _file, _line in _graph():
        source, target = _unit(importer), _unit(imported)
        if source != target:
            graph.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(unit: str, path: list[str]) -> None:
        if unit in path:
            cycle = [*path[path.index(unit):], unit]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if unit in done:
            return
        for target in sorted(graph.get(unit, ())):
            visit(target, [*path, unit])
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, [])


def test_lower_layers_make_no_request_machinery_imports():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for layer, forbidden in FORBIDDEN_THIRD_PARTY.items():
            if not _matches(importer, layer):
                continue
            wrong += [f"{path.relative_to(SRC)}:{line} imports {imported}"
                      for imported, line in _imports(path)
                      if any(_matches(imported, name) for name in forbidden)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("importer", "imported", "reason"), [
    ("taskdesk.models.tables", "taskdesk.domain.tasks", "upwards"),
    ("taskdesk.domain.tasks", "taskdesk.web.forms", "upwards"),
    ("taskdesk.domain.accounts", "taskdesk.security.policy", "upwards"),
    ("taskdesk.settings", "taskdesk.resources", "upwards"),
    ("taskdesk.web.views.tasks", "taskdesk.api.paging", "same layer"),
    ("taskdesk.api.views.tasks", "taskdesk.web.helpers", "same layer"),
    ("taskdesk.security.permissions", "taskdesk.settings", "a leaf imports a non-leaf"),
    ("taskdesk.domain.accounts", "taskdesk.security.passwords", None),
    ("taskdesk.settings", "taskdesk.security.permissions", None),
    ("taskdesk.web.views.tasks", "taskdesk.domain.tasks", None),
])
def test_the_rules_refuse_what_the_issue_names(importer, imported, reason):
    assert _violation(importer, imported) == reason
