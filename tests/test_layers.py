"""The layout of bot/: subpackages import one way, and no modules import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# What each subpackage may import from the rest of bot/ (itself always).
MAY_IMPORT = {
    "documents": set(),
    "ask": {"documents", "plumbing"},
    "office": {"documents", "ask", "plumbing"},
}
ABOVE = {"core", "cli", "library", "scheduler", "__main__"}  # the top: nothing imports these


def module_name(path: Path) -> str:
    """bot/ask/engine.py -> bot.ask.engine; bot/office/__init__.py -> bot.office."""
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """The bot modules `path` imports when it runs (imports for type checking only left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("bot."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bot":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                path = BOT.parent / Path(*candidate.split("."))
                is_module = path.with_suffix(".py").exists() or (path / "__init__.py").exists()
                found.add(candidate if is_module else str(node.module))
    return found


GRAPH = {module_name(path): imports(path) for path in sorted(BOT.rglob("*.py"))}


def layer(module: str) -> str:
    """The subpackage a module belongs to; "plumbing" for the rest below the top (store/ too)."""
    parts = [*module.split("."), ""]
    if parts[1] in MAY_IMPORT:
        return parts[1]
    return "top" if parts[1] in ABOVE else "plumbing"


def test_the_graph_sees_every_module_and_its_imports() -> None:
    # A guard on the guard: a parser that saw no imports would make every test below pass.
    assert {"bot.ask.engine", "bot.office.notes", "bot.documents.plan", "bot.core"} <= set(GRAPH)
    assert "bot.documents.plan" in GRAPH["bot.ask.engine"]
    assert "bot.store" in GRAPH["bot.office.notes"]


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_subpackage_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if layer(module) == package
        for target in targets
        if layer(target) not in MAY_IMPORT[package] | {package}
    }
    assert not wrong


def test_the_plumbing_imports_no_subpackage_but_documents() -> None:
    wrong = {
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if layer(module) == "plumbing"
        for target in targets
        if layer(target) in {"ask", "office", "top"}
    }
    assert not wrong


def test_no_modules_import_each_other_in_a_circle() -> None:
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            walk(module, [module])
    assert not circles


# Imported by bot/ or handlers/ though no dependency of the project's names them, and why.
BESIDES = {
    "httpx": "python-telegram-bot's own HTTP client, installed with it",
    "pypinyin": "only `python -m bot.ask.text`, which rewrites the sound table: a dev step",
}


def test_what_the_bot_imports_is_installed_without_the_dev_extras() -> None:
    # `pip install .` (the Docker image) has only the project's dependencies: a package that
    # bot/ or handlers/ imports, even late, must be one of them, not of the dev extras.
    import importlib.metadata
    import re
    import sys
    import tomllib

    root = BOT.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {re.split(r"[\[<>=~!; ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    missing = set()
    for path in [*BOT.rglob("*.py"), *(root / "handlers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("bot", "handlers", *BESIDES):
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
                if not dists & {w.replace("_", "-") for w in wanted}:
                    missing.add(f"{path.relative_to(root)}: {top}")
    assert not missing, sorted(missing)
