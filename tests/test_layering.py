"""The store owns every query: no module outside ``etholoop/store/`` builds one.

Walks every module's syntax tree. Outside the store a module may hold a session (and
commit or flush it) and name the store's row classes in annotations, but it may not
import SQLAlchemy's query builders or ``etholoop.store.models``, create rows, or run
statements through a session.
"""

import ast
from pathlib import Path

import etholoop

PACKAGE = Path(etholoop.__file__).parent
STORE = PACKAGE / "store"
ALLOWED_SQLALCHEMY = {("sqlalchemy.orm", "Session")}
ROW_CLASSES = {
    "BehaviorLabel",
    "Cycle",
    "Frame",
    "InstanceRow",
    "ModelRun",
    "SplitMember",
    "Video",
}
STATEMENT_METHODS = {
    "add",
    "add_all",
    "delete",
    "execute",
    "get",
    "merge",
    "query",
    "scalar",
    "scalars",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str | None, level: int, here: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = here.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith(
            "TYPE_CHECKING"
        ):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def layering_violations(path: Path) -> list[str]:
    """Where the module at ``path`` reaches past the store's functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path)
    typing_only = _type_checking_nodes(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (
                    alias.name.startswith("sqlalchemy")
                    or alias.name == "etholoop.store.models"
                ):
                    found.append(f"{where} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(
                node.module, node.level, here, path.name == "__init__.py"
            )
            for alias in node.names:
                if module.startswith("sqlalchemy"):
                    if (module, alias.name) not in ALLOWED_SQLALCHEMY:
                        found.append(f"{where} imports {module}.{alias.name}")
                elif module == "etholoop.store.models" or (
                    module == "etholoop.store" and alias.name == "models"
                ):
                    found.append(f"{where} imports etholoop.store.models")
                elif (
                    module == "etholoop.store"
                    and alias.name in ROW_CLASSES
                    and id(node) not in typing_only
                ):
                    found.append(
                        f"{where} imports the row class {alias.name} at run time"
                    )
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in STATEMENT_METHODS
                and "session" in ast.unparse(func.value).lower()
            ):
                found.append(f"{where} runs {ast.unparse(func)}()")
    return found


def test_the_walk_finds_a_query_built_outside_the_store(tmp_path: Path) -> None:
    module = PACKAGE / "sampling" / "_layering_probe.py"
    module.write_text(
        "from sqlalchemy import select\n"
        "from ..store.models import Frame\n"
        "from etholoop.store import Video\n"
        "def frames(session):\n"
        "    return session.scalars(select(Frame)).all()\n"
    )
    try:
        found = layering_violations(module)
    finally:
        module.unlink()
    assert len(found) == 4, found


def test_no_module_outside_the_store_builds_a_query() -> None:
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if STORE not in p.parents]
    assert modules
    found = [v for path in modules for v in layering_violations(path)]
    assert not found, "\n".join(found)
